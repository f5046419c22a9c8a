//! The events feed: `append` records an event in the caller's transaction and owes it to
//! every enabled webhook endpoint that asked for its type (the webhook outbox); `after`
//! reads the feed in order.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{StoreError, corrupt, entities::events as table};
use crate::domain::{EventType, NewEvent, SubscriberId};

/// A recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Its place in the feed (the cursor).
    pub seq: i64,
    /// Its id: the `webhook-id` of every delivery of it.
    pub id: Uuid,
    /// What happened.
    pub event_type: EventType,
    /// Whom it concerns, if anyone.
    pub subscriber_id: Option<SubscriberId>,
    /// Its ids, as JSON.
    pub data: serde_json::Value,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

impl TryFrom<table::Model> for Event {
    type Error = StoreError;

    fn try_from(m: table::Model) -> Result<Self, StoreError> {
        Ok(Event {
            seq: m.seq,
            id: m.id,
            event_type: EventType::parse(&m.event_type).map_err(corrupt)?,
            subscriber_id: m.subscriber_id.map(SubscriberId::from_uuid),
            data: serde_json::from_str(&m.payload).map_err(corrupt)?,
            created_at: m.created_at,
        })
    }
}

/// Records `event` on `conn` (the transaction of the change it reports) and queues it for
/// the endpoints that asked for its type.
///
/// On PostgreSQL the writers of events take turns (a transaction-scoped advisory lock), so
/// that sequence numbers become visible in order and a poller past `n` never misses an
/// event that commits later with a smaller number. SQLite has one writer anyway.
///
/// # Errors
/// Database failure.
pub async fn append(
    conn: &impl ConnectionTrait,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared("SELECT pg_advisory_xact_lock(7242001)")
            .await?;
    }
    let row = table::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_type: Set(event.event_type.as_str().to_owned()),
        subscriber_id: Set(event.subscriber_id.map(|s| s.as_uuid())),
        payload: Set(event.data.to_string()),
        created_at: Set(now),
        ..Default::default()
    };
    let seq = table::Entity::insert(row).exec(conn).await?.last_insert_id;
    super::hooks::enqueue(conn, seq, event, now).await
}

/// Up to `limit` events after `after` (from the start when `None`), in order.
///
/// # Errors
/// A stored event that no longer reads, or a database failure.
pub async fn after(
    conn: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<Event>, StoreError> {
    let mut query = table::Entity::find();
    if let Some(after) = after {
        query = query.filter(table::Column::Seq.gt(after));
    }
    query
        .order_by_asc(table::Column::Seq)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(Event::try_from)
        .collect()
}

/// The events numbered `seqs`, in order.
///
/// # Errors
/// A stored event that no longer reads, or a database failure.
pub async fn by_seq(conn: &impl ConnectionTrait, seqs: &[i64]) -> Result<Vec<Event>, StoreError> {
    table::Entity::find()
        .filter(table::Column::Seq.is_in(seqs.iter().copied()))
        .order_by_asc(table::Column::Seq)
        .all(conn)
        .await?
        .into_iter()
        .map(Event::try_from)
        .collect()
}
