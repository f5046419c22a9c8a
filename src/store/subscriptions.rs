//! Queries on `subscriptions`. Every status change here must come with a consent event
//! appended in the same transaction (the service's job).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::{StoreError, corrupt, entities::subscriptions as table};
use crate::domain::{ListId, SubscriberId, Subscription, SubscriptionId, SubscriptionStatus};

impl TryFrom<table::Model> for Subscription {
    type Error = StoreError;

    fn try_from(m: table::Model) -> Result<Self, StoreError> {
        Ok(Subscription {
            id: SubscriptionId::from_uuid(m.id),
            subscriber_id: SubscriberId::from_uuid(m.subscriber_id),
            list_id: ListId::from_uuid(m.list_id),
            status: SubscriptionStatus::parse(&m.status).map_err(corrupt)?,
            source: m.source,
            requested_at: m.requested_at,
            confirmed_at: m.confirmed_at,
            unsubscribed_at: m.unsubscribed_at,
            confirmations_sent: u32::try_from(m.confirmations_sent).map_err(corrupt)?,
            last_confirmation_at: m.last_confirmation_at,
        })
    }
}

/// The row of a subscription (`created_at` left unset, for updates).
fn active_model(s: &Subscription, now: DateTime<Utc>) -> table::ActiveModel {
    table::ActiveModel {
        id: Set(s.id.as_uuid()),
        subscriber_id: Set(s.subscriber_id.as_uuid()),
        list_id: Set(s.list_id.as_uuid()),
        status: Set(s.status.as_str().to_owned()),
        source: Set(s.source.clone()),
        requested_at: Set(s.requested_at),
        confirmed_at: Set(s.confirmed_at),
        unsubscribed_at: Set(s.unsubscribed_at),
        confirmations_sent: Set(i32::try_from(s.confirmations_sent).unwrap_or(i32::MAX)),
        last_confirmation_at: Set(s.last_confirmation_at),
        created_at: sea_orm::ActiveValue::NotSet,
        updated_at: Set(now),
    }
}

/// One subscription by id.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn find(
    conn: &impl ConnectionTrait,
    id: SubscriptionId,
) -> Result<Subscription, StoreError> {
    the_one(conn, table::Entity::find_by_id(id.as_uuid())).await
}

/// The one row `query` finds; `NotFound` when none.
async fn the_one(
    conn: &impl ConnectionTrait,
    query: sea_orm::Select<table::Entity>,
) -> Result<Subscription, StoreError> {
    query
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// The subscription of `subscriber` to `list`.
fn of(subscriber: SubscriberId, list: ListId) -> sea_orm::Select<table::Entity> {
    table::Entity::find()
        .filter(table::Column::SubscriberId.eq(subscriber.as_uuid()))
        .filter(table::Column::ListId.eq(list.as_uuid()))
}

/// One subscription, its row locked until the transaction ends (PostgreSQL; SQLite's write
/// transaction holds the whole database), so that two requests on it (a double click on a
/// confirmation link) take turns and the second sees the first's change.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn find_for_update(
    conn: &impl ConnectionTrait,
    id: SubscriptionId,
) -> Result<Subscription, StoreError> {
    use sea_orm::QuerySelect;
    the_one(
        conn,
        table::Entity::find_by_id(id.as_uuid()).lock_exclusive(),
    )
    .await
}

/// The subscription of a subscriber to a list, if any, its row locked until the transaction
/// ends (see `find_for_update`).
///
/// # Errors
/// Database failure.
pub async fn find_for_update_of(
    conn: &impl ConnectionTrait,
    subscriber: SubscriberId,
    list: ListId,
) -> Result<Option<Subscription>, StoreError> {
    use sea_orm::QuerySelect;
    of(subscriber, list)
        .lock_exclusive()
        .one(conn)
        .await?
        .map(Subscription::try_from)
        .transpose()
}

/// The subscription of a subscriber to a list, if any.
///
/// # Errors
/// Database failure.
pub async fn find_for(
    conn: &impl ConnectionTrait,
    subscriber: SubscriberId,
    list: ListId,
) -> Result<Option<Subscription>, StoreError> {
    of(subscriber, list)
        .one(conn)
        .await?
        .map(Subscription::try_from)
        .transpose()
}

/// Every subscription of a subscriber, oldest first.
///
/// # Errors
/// Database failure.
pub async fn of_subscriber(
    conn: &impl ConnectionTrait,
    subscriber: SubscriberId,
) -> Result<Vec<Subscription>, StoreError> {
    table::Entity::find()
        .filter(table::Column::SubscriberId.eq(subscriber.as_uuid()))
        .order_by_asc(table::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(Subscription::try_from)
        .collect()
}

/// The other pending subscriptions of the same request as `sub` (its subscriber's, requested
/// at the same instant, which one signup gives all its lists).
///
/// # Errors
/// Database failure.
pub async fn companions(
    conn: &impl ConnectionTrait,
    sub: &Subscription,
) -> Result<Vec<Subscription>, StoreError> {
    companions_locked(conn, sub, false).await
}

/// `companions`, their rows locked until the transaction ends (see `find_for_update`).
///
/// # Errors
/// Database failure.
pub async fn companions_for_update(
    conn: &impl ConnectionTrait,
    sub: &Subscription,
) -> Result<Vec<Subscription>, StoreError> {
    companions_locked(conn, sub, true).await
}

async fn companions_locked(
    conn: &impl ConnectionTrait,
    sub: &Subscription,
    lock: bool,
) -> Result<Vec<Subscription>, StoreError> {
    use sea_orm::QuerySelect;
    let Some(requested_at) = sub.requested_at else {
        return Ok(Vec::new());
    };
    let mut query = table::Entity::find()
        .filter(table::Column::SubscriberId.eq(sub.subscriber_id.as_uuid()))
        .filter(table::Column::Id.ne(sub.id.as_uuid()))
        .filter(table::Column::Status.eq(SubscriptionStatus::Pending.as_str()))
        .filter(table::Column::RequestedAt.eq(requested_at))
        .order_by_asc(table::Column::Id);
    if lock {
        query = query.lock_exclusive();
    }
    query
        .all(conn)
        .await?
        .into_iter()
        .map(Subscription::try_from)
        .collect()
}

/// Stores a new subscription.
///
/// # Errors
/// `Conflict` when the subscriber already has one for the list.
pub async fn insert(
    conn: &impl ConnectionTrait,
    s: &Subscription,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut row = active_model(s, now);
    row.created_at = Set(now);
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Writes every field of an existing subscription.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn update(
    conn: &impl ConnectionTrait,
    s: &Subscription,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = active_model(s, now);
    match row.update(conn).await {
        Ok(_) => Ok(()),
        Err(sea_orm::DbErr::RecordNotUpdated) => Err(StoreError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// The subscriptions with these ids (unknown ids are simply absent).
///
/// # Errors
/// Database failure.
pub async fn find_many(
    conn: &impl ConnectionTrait,
    ids: &[SubscriptionId],
) -> Result<Vec<Subscription>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows = table::Entity::find()
            .filter(table::Column::Id.is_in(chunk.iter().map(SubscriptionId::as_uuid)))
            .all(conn)
            .await?;
        for row in rows {
            found.push(Subscription::try_from(row)?);
        }
    }
    Ok(found)
}
