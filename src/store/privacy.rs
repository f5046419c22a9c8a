//! Queries of the data-subject rights: a subscriber's status, profile and address, pending
//! address changes, the data-subject-request log, and when a privacy link was last enqueued.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};

use super::{
    StoreError, corrupt,
    entities::{address_changes, deliveries, privacy_requests, subscribers},
};
use crate::domain::{
    AddressChangeId, EmailAddress, Locale, MessageKind, PrivacyRequestId, SubscriberId,
    SubscriberName, SubscriberStatus,
    privacy::{AddressChange, PrivacyRequest, RequestChannel, RequestKind, RequestStatus},
};

/// Applies `update` to one subscriber, stamping `updated_at`; `NotFound` when there is none.
async fn update_subscriber(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
    update: sea_orm::UpdateMany<subscribers::Entity>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let result = update
        .col_expr(subscribers::Column::UpdatedAt, Expr::value(now))
        .filter(subscribers::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    match result.rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Sets a subscriber's processing status.
///
/// # Errors
/// `NotFound` for an unknown subscriber, or database failure.
pub async fn set_status(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
    status: SubscriberStatus,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let update = subscribers::Entity::update_many()
        .col_expr(subscribers::Column::Status, Expr::value(status.as_str()));
    update_subscriber(conn, id, update, now).await
}

/// Sets a subscriber's name and language.
///
/// # Errors
/// `NotFound` for an unknown subscriber, or database failure.
pub async fn set_profile(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
    name: &SubscriberName,
    locale: Locale,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let update = subscribers::Entity::update_many()
        .col_expr(subscribers::Column::Name, Expr::value(name.as_str()))
        .col_expr(subscribers::Column::Locale, Expr::value(locale.as_str()));
    update_subscriber(conn, id, update, now).await
}

/// Replaces a subscriber's attributes.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn set_attributes(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
    attributes: &crate::domain::Attributes,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let update = subscribers::Entity::update_many().col_expr(
        subscribers::Column::Attributes,
        Expr::value(attributes.to_json()),
    );
    update_subscriber(conn, id, update, now).await
}

/// Sets a subscriber's address.
///
/// # Errors
/// `Conflict` when another subscriber has the address, `NotFound`, or database failure.
pub async fn set_email(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
    email: &EmailAddress,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let update = subscribers::Entity::update_many()
        .col_expr(subscribers::Column::Email, Expr::value(email.as_str()));
    update_subscriber(conn, id, update, now).await
}

impl TryFrom<address_changes::Model> for AddressChange {
    type Error = StoreError;

    fn try_from(m: address_changes::Model) -> Result<Self, StoreError> {
        Ok(AddressChange {
            id: AddressChangeId::from_uuid(m.id),
            subscriber_id: SubscriberId::from_uuid(m.subscriber_id),
            new_email: EmailAddress::parse(&m.new_email).map_err(corrupt)?,
            created_at: m.created_at,
            expires_at: m.expires_at,
        })
    }
}

/// Stores a pending address change, replacing the subscriber's earlier one.
///
/// # Errors
/// Database failure.
pub async fn put_address_change(
    conn: &impl ConnectionTrait,
    change: &AddressChange,
) -> Result<(), StoreError> {
    address_changes::Entity::delete_many()
        .filter(address_changes::Column::SubscriberId.eq(change.subscriber_id.as_uuid()))
        .exec(conn)
        .await?;
    let row = address_changes::ActiveModel {
        id: Set(change.id.as_uuid()),
        subscriber_id: Set(change.subscriber_id.as_uuid()),
        new_email: Set(change.new_email.as_str().to_owned()),
        created_at: Set(change.created_at),
        expires_at: Set(change.expires_at),
    };
    address_changes::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// A pending address change by id.
///
/// # Errors
/// Database failure.
pub async fn find_address_change(
    conn: &impl ConnectionTrait,
    id: AddressChangeId,
) -> Result<Option<AddressChange>, StoreError> {
    address_changes::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .map(AddressChange::try_from)
        .transpose()
}

/// The subscriber's pending address change, if any.
///
/// # Errors
/// Database failure.
pub async fn address_change_of(
    conn: &impl ConnectionTrait,
    subscriber: SubscriberId,
) -> Result<Option<AddressChange>, StoreError> {
    address_changes::Entity::find()
        .filter(address_changes::Column::SubscriberId.eq(subscriber.as_uuid()))
        .one(conn)
        .await?
        .map(AddressChange::try_from)
        .transpose()
}

/// Deletes a pending address change (a no-op when it is gone).
///
/// # Errors
/// Database failure.
pub async fn delete_address_change(
    conn: &impl ConnectionTrait,
    id: AddressChangeId,
) -> Result<(), StoreError> {
    address_changes::Entity::delete_by_id(id.as_uuid())
        .exec(conn)
        .await?;
    Ok(())
}

/// When a privacy link was last enqueued for the subscriber, if ever.
///
/// # Errors
/// Database failure.
pub async fn last_privacy_link_at(
    conn: &impl ConnectionTrait,
    subscriber: SubscriberId,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let latest: Option<DateTime<Utc>> = deliveries::Entity::find()
        .select_only()
        .column(deliveries::Column::CreatedAt)
        .filter(deliveries::Column::SubscriberId.eq(subscriber.as_uuid()))
        .filter(deliveries::Column::Kind.eq(MessageKind::PrivacyLink.as_str()))
        .order_by_desc(deliveries::Column::CreatedAt)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(latest)
}

impl TryFrom<privacy_requests::Model> for PrivacyRequest {
    type Error = StoreError;

    fn try_from(m: privacy_requests::Model) -> Result<Self, StoreError> {
        Ok(PrivacyRequest {
            id: PrivacyRequestId::from_uuid(m.id),
            subscriber_id: m.subscriber_id.map(SubscriberId::from_uuid),
            kind: RequestKind::parse(&m.kind).map_err(corrupt)?,
            channel: RequestChannel::parse(&m.channel).map_err(corrupt)?,
            status: RequestStatus::parse(&m.status).map_err(corrupt)?,
            actor: m.actor,
            note: m.note,
            received_at: m.received_at,
            due_at: m.due_at,
            closed_at: m.closed_at,
        })
    }
}

/// Logs a data-subject request.
///
/// # Errors
/// Database failure.
pub async fn log_request(
    conn: &impl ConnectionTrait,
    r: &PrivacyRequest,
) -> Result<(), StoreError> {
    let row = privacy_requests::ActiveModel {
        id: Set(r.id.as_uuid()),
        subscriber_id: Set(r.subscriber_id.map(|s| s.as_uuid())),
        kind: Set(r.kind.as_str().to_owned()),
        channel: Set(r.channel.as_str().to_owned()),
        status: Set(r.status.as_str().to_owned()),
        actor: Set(r.actor.clone()),
        note: Set(r.note.clone()),
        received_at: Set(r.received_at),
        due_at: Set(r.due_at),
        closed_at: Set(r.closed_at),
    };
    privacy_requests::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    let mut data = serde_json::json!({
        "privacy_request_id": r.id,
        "kind": r.kind.as_str(),
        "channel": r.channel.as_str(),
    });
    if let Some(subscriber) = r.subscriber_id {
        data["subscriber_id"] = serde_json::json!(subscriber);
    }
    let event = crate::domain::NewEvent {
        event_type: crate::domain::EventType::PrivacyRequestCreated,
        subscriber_id: r.subscriber_id,
        data,
    };
    super::events::append(conn, &event, r.received_at).await?;
    Ok(())
}

/// One logged request.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn find_request(
    conn: &impl ConnectionTrait,
    id: PrivacyRequestId,
) -> Result<PrivacyRequest, StoreError> {
    privacy_requests::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// Records the answer to a logged request.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn close_request(
    conn: &impl ConnectionTrait,
    r: &PrivacyRequest,
) -> Result<(), StoreError> {
    let result = privacy_requests::Entity::update_many()
        .col_expr(
            privacy_requests::Column::Status,
            Expr::value(r.status.as_str()),
        )
        .col_expr(privacy_requests::Column::ClosedAt, Expr::value(r.closed_at))
        .col_expr(privacy_requests::Column::Note, Expr::value(r.note.clone()))
        .filter(privacy_requests::Column::Id.eq(r.id.as_uuid()))
        .exec(conn)
        .await?;
    match result.rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Logged requests, the earliest deadline first; only those with `status` when given.
///
/// # Errors
/// Database failure.
pub async fn requests(
    conn: &impl ConnectionTrait,
    status: Option<RequestStatus>,
    subscriber: Option<SubscriberId>,
    limit: u64,
) -> Result<Vec<PrivacyRequest>, StoreError> {
    let mut query = privacy_requests::Entity::find();
    if let Some(status) = status {
        query = query.filter(privacy_requests::Column::Status.eq(status.as_str()));
    }
    if let Some(subscriber) = subscriber {
        query = query.filter(privacy_requests::Column::SubscriberId.eq(subscriber.as_uuid()));
    }
    query
        .order_by_asc(privacy_requests::Column::DueAt)
        .order_by_asc(privacy_requests::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(PrivacyRequest::try_from)
        .collect()
}

/// A page of logged requests, the earliest deadline first (then by id), optionally in one
/// status: the requests after `after` (the previous page's last one).
///
/// # Errors
/// `NotFound` when `after` names no request; database failure.
pub async fn requests_page(
    conn: &impl ConnectionTrait,
    status: Option<RequestStatus>,
    after: Option<PrivacyRequestId>,
    limit: u64,
) -> Result<Vec<PrivacyRequest>, StoreError> {
    let mut query = privacy_requests::Entity::find();
    if let Some(status) = status {
        query = query.filter(privacy_requests::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = after {
        let cursor = privacy_requests::Entity::find_by_id(after.as_uuid())
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        query = query.filter(
            Condition::any()
                .add(privacy_requests::Column::DueAt.gt(cursor.due_at))
                .add(
                    Condition::all()
                        .add(privacy_requests::Column::DueAt.eq(cursor.due_at))
                        .add(privacy_requests::Column::Id.gt(cursor.id)),
                ),
        );
    }
    query
        .order_by_asc(privacy_requests::Column::DueAt)
        .order_by_asc(privacy_requests::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(PrivacyRequest::try_from)
        .collect()
}

/// Clears the operator's notes on an erased person's requests (they may quote the address);
/// kind, channel, dates and outcome stay as the record of how the requests were answered.
///
/// # Errors
/// Database failure.
pub async fn forget_request_notes(
    conn: &impl ConnectionTrait,
    subscriber: SubscriberId,
) -> Result<(), StoreError> {
    privacy_requests::Entity::update_many()
        .col_expr(
            privacy_requests::Column::Note,
            Expr::value(Option::<String>::None),
        )
        .filter(privacy_requests::Column::SubscriberId.eq(subscriber.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}
