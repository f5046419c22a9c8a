//! Queries on `lists`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::{StoreError, corrupt, entities::lists as table};
use crate::domain::{
    EmailAddress, LegalBasis, ListId, ListKind, ListRef, ListSlug, ListVisibility, MailingList,
    NewList, OptIn,
};

impl TryFrom<table::Model> for MailingList {
    type Error = StoreError;

    fn try_from(m: table::Model) -> Result<Self, StoreError> {
        Ok(MailingList {
            id: ListId::from_uuid(m.id),
            def: NewList {
                slug: ListSlug::parse(&m.slug).map_err(corrupt)?,
                name: m.name,
                description: m.description,
                kind: ListKind::parse(&m.kind).map_err(corrupt)?,
                legal_basis: LegalBasis::parse(&m.legal_basis).map_err(corrupt)?,
                opt_in: OptIn::parse(&m.opt_in).map_err(corrupt)?,
                visibility: ListVisibility::parse(&m.visibility).map_err(corrupt)?,
                consent_text: m.consent_text,
                welcome_message: m.welcome_message,
                reply_to: m
                    .reply_to
                    .as_deref()
                    .map(EmailAddress::parse)
                    .transpose()
                    .map_err(corrupt)?,
            },
            archived_at: m.archived_at,
        })
    }
}

/// Stores a new list.
///
/// # Errors
/// `Conflict` when the slug is taken.
pub async fn insert(
    conn: &impl ConnectionTrait,
    list: &MailingList,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    table::Entity::insert(model_of(list, now))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

fn model_of(list: &MailingList, now: DateTime<Utc>) -> table::ActiveModel {
    let d = &list.def;
    table::ActiveModel {
        id: Set(list.id.as_uuid()),
        slug: Set(d.slug.as_str().to_owned()),
        name: Set(d.name.clone()),
        description: Set(d.description.clone()),
        kind: Set(d.kind.as_str().to_owned()),
        legal_basis: Set(d.legal_basis.as_str().to_owned()),
        opt_in: Set(d.opt_in.as_str().to_owned()),
        visibility: Set(d.visibility.as_str().to_owned()),
        consent_text: Set(d.consent_text.clone()),
        welcome_message: Set(d.welcome_message.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(list.archived_at),
        reply_to: Set(reply_to_of(d)),
    }
}

fn reply_to_of(d: &NewList) -> Option<String> {
    d.reply_to.as_ref().map(|a| a.as_str().to_owned())
}

/// Writes the editable fields of a list (name, description, visibility, texts, reply-to) and
/// its archive time; slug, kind, legal basis and opt-in never change after creation.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn update(
    conn: &impl ConnectionTrait,
    list: &MailingList,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    use sea_orm::sea_query::Expr;
    let d = &list.def;
    let result = table::Entity::update_many()
        .col_expr(table::Column::Name, Expr::value(d.name.clone()))
        .col_expr(
            table::Column::Description,
            Expr::value(d.description.clone()),
        )
        .col_expr(
            table::Column::Visibility,
            Expr::value(d.visibility.as_str()),
        )
        .col_expr(
            table::Column::ConsentText,
            Expr::value(d.consent_text.clone()),
        )
        .col_expr(
            table::Column::WelcomeMessage,
            Expr::value(d.welcome_message.clone()),
        )
        .col_expr(table::Column::ReplyTo, Expr::value(reply_to_of(d)))
        .col_expr(table::Column::ArchivedAt, Expr::value(list.archived_at))
        .col_expr(table::Column::UpdatedAt, Expr::value(now))
        .filter(table::Column::Id.eq(list.id.as_uuid()))
        .exec(conn)
        .await?;
    match result.rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Up to `limit` lists after the slug `after`, by slug.
///
/// # Errors
/// Database failure.
pub async fn page(
    conn: &impl ConnectionTrait,
    after: Option<&ListSlug>,
    limit: u64,
) -> Result<Vec<MailingList>, StoreError> {
    let mut query = table::Entity::find();
    if let Some(after) = after {
        query = query.filter(table::Column::Slug.gt(after.as_str()));
    }
    sea_orm::QuerySelect::limit(query.order_by_asc(table::Column::Slug), limit)
        .all(conn)
        .await?
        .into_iter()
        .map(MailingList::try_from)
        .collect()
}

/// Every list, by slug.
///
/// # Errors
/// Database failure.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<MailingList>, StoreError> {
    table::Entity::find()
        .order_by_asc(table::Column::Slug)
        .all(conn)
        .await?
        .into_iter()
        .map(MailingList::try_from)
        .collect()
}

/// The lists with these slugs (unknown slugs are simply absent).
///
/// # Errors
/// Database failure.
pub async fn find_by_slugs(
    conn: &impl ConnectionTrait,
    slugs: &[ListSlug],
) -> Result<Vec<MailingList>, StoreError> {
    table::Entity::find()
        .filter(table::Column::Slug.is_in(slugs.iter().map(ListSlug::as_str)))
        .order_by_asc(table::Column::Slug)
        .all(conn)
        .await?
        .into_iter()
        .map(MailingList::try_from)
        .collect()
}

/// The lists named by `refs` (slug or id), by slug.
///
/// # Errors
/// Database failure.
pub async fn find_by_refs(
    conn: &impl ConnectionTrait,
    refs: &[ListRef],
) -> Result<Vec<MailingList>, StoreError> {
    let slugs = refs.iter().filter_map(ListRef::slug).map(ListSlug::as_str);
    let ids = refs.iter().filter_map(ListRef::id).map(|id| id.as_uuid());
    table::Entity::find()
        .filter(
            Condition::any()
                .add(table::Column::Slug.is_in(slugs))
                .add(table::Column::Id.is_in(ids)),
        )
        .order_by_asc(table::Column::Slug)
        .all(conn)
        .await?
        .into_iter()
        .map(MailingList::try_from)
        .collect()
}

/// One list by id.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn find(conn: &impl ConnectionTrait, id: ListId) -> Result<MailingList, StoreError> {
    table::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}
