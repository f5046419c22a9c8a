//! Queries on `transactional_templates` and `transactional_messages`.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::{
    StoreError,
    entities::{transactional_messages as messages, transactional_templates as templates},
};
use crate::domain::{
    DeliveryId, SubscriberId, TransactionalMessage, TransactionalTemplate, TransactionalTemplateId,
};

fn template(m: templates::Model) -> TransactionalTemplate {
    TransactionalTemplate {
        id: TransactionalTemplateId::from_uuid(m.id),
        name: m.name,
        subject: m.subject,
        body_markdown: m.body_markdown,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn message(m: messages::Model) -> TransactionalMessage {
    TransactionalMessage {
        id: DeliveryId::from_uuid(m.id),
        template: m.template,
        subscriber_id: SubscriberId::from_uuid(m.subscriber_id),
        subject: m.subject,
        text_body: m.text_body,
        html_body: m.html_body,
        requested_by: m.requested_by,
        created_at: m.created_at,
    }
}

/// Stores a new template.
///
/// # Errors
/// `Conflict` when the name is taken, or a database failure.
pub async fn insert_template(
    conn: &impl ConnectionTrait,
    t: &TransactionalTemplate,
) -> Result<(), StoreError> {
    let row = templates::ActiveModel {
        id: Set(t.id.as_uuid()),
        name: Set(t.name.clone()),
        subject: Set(t.subject.clone()),
        body_markdown: Set(t.body_markdown.clone()),
        created_at: Set(t.created_at),
        updated_at: Set(t.updated_at),
    };
    templates::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Replaces a template's subject and body.
///
/// # Errors
/// `NotFound`, or a database failure.
pub async fn update_template(
    conn: &impl ConnectionTrait,
    t: &TransactionalTemplate,
) -> Result<(), StoreError> {
    let result = templates::Entity::update_many()
        .col_expr(templates::Column::Subject, t.subject.clone().into())
        .col_expr(
            templates::Column::BodyMarkdown,
            t.body_markdown.clone().into(),
        )
        .col_expr(templates::Column::UpdatedAt, t.updated_at.into())
        .filter(templates::Column::Id.eq(t.id.as_uuid()))
        .exec(conn)
        .await?;
    match result.rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Deletes a template; the messages sent with it keep its name.
///
/// # Errors
/// `NotFound`, or a database failure.
pub async fn delete_template(
    conn: &impl ConnectionTrait,
    id: TransactionalTemplateId,
) -> Result<(), StoreError> {
    let result = templates::Entity::delete_by_id(id.as_uuid())
        .exec(conn)
        .await?;
    match result.rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// The template named `name`, or with the id `name` spells.
///
/// # Errors
/// `NotFound`, or a database failure.
pub async fn find_template(
    conn: &impl ConnectionTrait,
    name_or_id: &str,
) -> Result<TransactionalTemplate, StoreError> {
    let mut query = templates::Entity::find().filter(templates::Column::Name.eq(name_or_id));
    if let Ok(id) = uuid::Uuid::parse_str(name_or_id) {
        query = templates::Entity::find().filter(
            Condition::any()
                .add(templates::Column::Name.eq(name_or_id))
                .add(templates::Column::Id.eq(id)),
        );
    }
    query
        .one(conn)
        .await?
        .map(template)
        .ok_or(StoreError::NotFound)
}

/// Every template, by name.
///
/// # Errors
/// Database failure.
pub async fn templates(
    conn: &impl ConnectionTrait,
) -> Result<Vec<TransactionalTemplate>, StoreError> {
    Ok(templates::Entity::find()
        .order_by_asc(templates::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(template)
        .collect())
}

/// Stores a rendered message (its outbox row is enqueued beside it, with the same id).
///
/// # Errors
/// Database failure.
pub async fn insert_message(
    conn: &impl ConnectionTrait,
    m: &TransactionalMessage,
) -> Result<(), StoreError> {
    let row = messages::ActiveModel {
        id: Set(m.id.as_uuid()),
        template: Set(m.template.clone()),
        subscriber_id: Set(m.subscriber_id.as_uuid()),
        subject: Set(m.subject.clone()),
        text_body: Set(m.text_body.clone()),
        html_body: Set(m.html_body.clone()),
        requested_by: Set(m.requested_by.clone()),
        created_at: Set(m.created_at),
    };
    messages::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// One message, if it is still stored.
///
/// # Errors
/// Database failure.
pub async fn find_message(
    conn: &impl ConnectionTrait,
    id: DeliveryId,
) -> Result<Option<TransactionalMessage>, StoreError> {
    Ok(messages::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .map(message))
}

/// Deletes a person's messages (erasure: their content is personal data).
///
/// # Errors
/// Database failure.
pub async fn delete_messages_of(
    conn: &impl ConnectionTrait,
    subscriber: SubscriberId,
) -> Result<(), StoreError> {
    messages::Entity::delete_many()
        .filter(messages::Column::SubscriberId.eq(subscriber.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}
