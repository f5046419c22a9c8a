//! Outgoing webhooks: the endpoints, their outbox (one row per endpoint and event, with its
//! retries and lease) and the log of attempts. A row is claimed by a conditional update of
//! its lease, so several instances on one database never send it twice at once; it is due
//! only when no earlier event for the same person waits for the same endpoint (per-person
//! order).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Alias, Expr, Query},
};

use super::{
    StoreError, corrupt,
    entities::{hook_attempts as attempts, hook_deliveries as outbox, hook_endpoints as table},
    events::Event,
};
use crate::domain::{EventType, HookEndpointId, NewEvent, SubscriberId};

const PENDING: &str = "pending";
const DELIVERED: &str = "delivered";

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Its id.
    pub id: HookEndpointId,
    /// Where events are posted.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<EventType>,
    /// The signing secret, `whsec_…` (never shown after creation).
    pub secret: String,
    /// Whether events are queued for it and sent.
    pub enabled: bool,
    /// Since when its deliveries have failed without a success between.
    pub failing_since: Option<DateTime<Utc>>,
    /// When it was disabled for failing, if it was.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

fn read(m: table::Model) -> Result<Endpoint, StoreError> {
    let names: Vec<String> = serde_json::from_str(&m.events).map_err(corrupt)?;
    let events = names
        .iter()
        .map(|n| EventType::parse(n))
        .collect::<Result<_, _>>()
        .map_err(corrupt)?;
    Ok(Endpoint {
        id: HookEndpointId::from_uuid(m.id),
        url: m.url,
        events,
        secret: m.secret,
        enabled: m.enabled,
        failing_since: m.failing_since,
        disabled_at: m.disabled_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn events_text(events: &[EventType]) -> String {
    serde_json::Value::from(events.iter().map(|e| e.as_str()).collect::<Vec<_>>()).to_string()
}

/// Stores a new endpoint.
///
/// # Errors
/// Database failure.
pub async fn insert(conn: &impl ConnectionTrait, e: &Endpoint) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        id: Set(e.id.as_uuid()),
        url: Set(e.url.clone()),
        events: Set(events_text(&e.events)),
        secret: Set(e.secret.clone()),
        enabled: Set(e.enabled),
        failing_since: Set(e.failing_since),
        disabled_at: Set(e.disabled_at),
        created_at: Set(e.created_at),
        updated_at: Set(e.updated_at),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Writes an endpoint's URL, events and state (not its secret).
///
/// # Errors
/// `NotFound`, or a database failure.
pub async fn update(conn: &impl ConnectionTrait, e: &Endpoint) -> Result<(), StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::Url, Expr::value(e.url.clone()))
        .col_expr(table::Column::Events, Expr::value(events_text(&e.events)))
        .col_expr(table::Column::Enabled, Expr::value(e.enabled))
        .col_expr(table::Column::FailingSince, Expr::value(e.failing_since))
        .col_expr(table::Column::DisabledAt, Expr::value(e.disabled_at))
        .col_expr(table::Column::UpdatedAt, Expr::value(e.updated_at))
        .filter(table::Column::Id.eq(e.id.as_uuid()))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes an endpoint with its outbox and attempts.
///
/// # Errors
/// `NotFound`, or a database failure.
pub async fn delete(conn: &impl ConnectionTrait, id: HookEndpointId) -> Result<(), StoreError> {
    outbox::Entity::delete_many()
        .filter(outbox::Column::EndpointId.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    attempts::Entity::delete_many()
        .filter(attempts::Column::EndpointId.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    let result = table::Entity::delete_by_id(id.as_uuid()).exec(conn).await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// One endpoint.
///
/// # Errors
/// `NotFound`, or a database failure.
pub async fn find(conn: &impl ConnectionTrait, id: HookEndpointId) -> Result<Endpoint, StoreError> {
    table::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(read)
}

/// Every endpoint, oldest first.
///
/// # Errors
/// Database failure.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<Endpoint>, StoreError> {
    table::Entity::find()
        .order_by_asc(table::Column::CreatedAt)
        .order_by_asc(table::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(read)
        .collect()
}

/// Queues event `seq` for every enabled endpoint that asked for its type.
///
/// # Errors
/// Database failure.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    seq: i64,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let endpoints = table::Entity::find()
        .filter(table::Column::Enabled.eq(true))
        .all(conn)
        .await?;
    for endpoint in endpoints.into_iter().map(read) {
        let endpoint = endpoint?;
        if !endpoint.events.contains(&event.event_type) {
            continue;
        }
        let row = outbox::ActiveModel {
            endpoint_id: Set(endpoint.id.as_uuid()),
            event_seq: Set(seq),
            subscriber_id: Set(event.subscriber_id.map(|s| s.as_uuid())),
            status: Set(PENDING.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            lease_until: Set(None),
            delivered_at: Set(None),
            ..Default::default()
        };
        outbox::Entity::insert(row)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// A claimed outbox row: the event, where it goes, and the attempts made so far.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The outbox row.
    pub id: i64,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The event.
    pub event: Event,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// Claims up to `limit` due rows until `lease_until`: pending, their time come, not leased
/// (or the lease lapsed), their endpoint enabled, and no earlier pending event for the same
/// person and endpoint.
///
/// # Errors
/// Database failure.
pub async fn claim_due(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Claimed>, StoreError> {
    let earlier = Alias::new("earlier");
    let blocked = Query::select()
        .expr(Expr::val(1))
        .from_as(outbox::Entity, earlier.clone())
        .and_where(
            Expr::col((earlier.clone(), outbox::Column::EndpointId))
                .equals((outbox::Entity, outbox::Column::EndpointId)),
        )
        .and_where(
            Expr::col((earlier.clone(), outbox::Column::SubscriberId))
                .equals((outbox::Entity, outbox::Column::SubscriberId)),
        )
        .and_where(Expr::col((earlier.clone(), outbox::Column::Status)).eq(PENDING))
        .and_where(
            Expr::col((earlier, outbox::Column::EventSeq))
                .lt(Expr::col((outbox::Entity, outbox::Column::EventSeq))),
        )
        .to_owned();
    let enabled = Query::select()
        .column(table::Column::Id)
        .from(table::Entity)
        .and_where(table::Column::Enabled.eq(true))
        .to_owned();
    let candidates = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(PENDING))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .filter(free(now))
        .filter(outbox::Column::EndpointId.in_subquery(enabled))
        .filter(Expr::exists(blocked).not())
        .order_by_asc(outbox::Column::EventSeq)
        .limit(limit)
        .all(conn)
        .await?;
    let mut claimed = Vec::new();
    for row in candidates {
        let taken = outbox::Entity::update_many()
            .col_expr(outbox::Column::LeaseUntil, Expr::value(Some(lease_until)))
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::Status.eq(PENDING))
            .filter(free(now))
            .exec(conn)
            .await?;
        if taken.rows_affected == 1 {
            claimed.push(row);
        }
    }
    let seqs: Vec<i64> = claimed.iter().map(|r| r.event_seq).collect();
    let events = super::events::by_seq(conn, &seqs).await?;
    let mut out = Vec::with_capacity(claimed.len());
    for row in claimed {
        let Some(event) = events.iter().find(|e| e.seq == row.event_seq) else {
            return Err(StoreError::Corrupt(format!(
                "event {} is missing",
                row.event_seq
            )));
        };
        out.push(Claimed {
            id: row.id,
            endpoint: find(conn, HookEndpointId::from_uuid(row.endpoint_id)).await?,
            event: event.clone(),
            attempts: u32::try_from(row.attempts).map_err(corrupt)?,
        });
    }
    Ok(out)
}

/// Not leased, or the lease lapsed.
fn free(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(outbox::Column::LeaseUntil.is_null())
        .add(outbox::Column::LeaseUntil.lt(now))
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    /// The HTTP status the endpoint answered, if it answered.
    pub status_code: Option<u16>,
    /// What went wrong, if it did.
    pub error: Option<String>,
}

impl AttemptOutcome {
    /// Whether the endpoint took the event (a 2xx).
    pub fn is_success(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Records an attempt on a claimed row: delivered, or due again at `retry_at`.
///
/// # Errors
/// Database failure.
pub async fn record_attempt(
    conn: &impl ConnectionTrait,
    claimed: &Claimed,
    outcome: &AttemptOutcome,
    retry_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let attempt = i32::try_from(claimed.attempts + 1).map_err(corrupt)?;
    let row = attempts::ActiveModel {
        endpoint_id: Set(claimed.endpoint.id.as_uuid()),
        event_seq: Set(claimed.event.seq),
        attempt: Set(attempt),
        status_code: Set(outcome.status_code.map(i32::from)),
        error: Set(outcome.error.clone()),
        attempted_at: Set(now),
        ..Default::default()
    };
    attempts::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::Attempts, Expr::value(attempt))
        .col_expr(
            outbox::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        );
    update = match outcome.is_success() {
        true => update
            .col_expr(outbox::Column::Status, Expr::value(DELIVERED))
            .col_expr(outbox::Column::DeliveredAt, Expr::value(Some(now))),
        false => update.col_expr(outbox::Column::NextAttemptAt, Expr::value(retry_at)),
    };
    update
        .filter(outbox::Column::Id.eq(claimed.id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Makes every pending row of an endpoint due now (when it is enabled again).
///
/// # Errors
/// Database failure.
pub async fn retry_now(
    conn: &impl ConnectionTrait,
    id: HookEndpointId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .filter(outbox::Column::EndpointId.eq(id.as_uuid()))
        .filter(outbox::Column::Status.eq(PENDING))
        .exec(conn)
        .await?;
    Ok(())
}

/// One delivery attempt, as the API and the admin UI show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// The attempt's number in the feed of attempts (the cursor).
    pub id: i64,
    /// The event's id (its `webhook-id`).
    pub event_id: uuid::Uuid,
    /// The event's type.
    pub event_type: EventType,
    /// Whom the event concerns.
    pub subscriber_id: Option<SubscriberId>,
    /// 1 for the first try of this event at this endpoint.
    pub attempt: u32,
    /// The HTTP status answered, if any.
    pub status_code: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// When.
    pub attempted_at: DateTime<Utc>,
}

/// The newest attempts at an endpoint, up to `limit`, before attempt `before` when given.
///
/// # Errors
/// Database failure.
pub async fn attempts(
    conn: &impl ConnectionTrait,
    id: HookEndpointId,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<Attempt>, StoreError> {
    let mut query = attempts::Entity::find().filter(attempts::Column::EndpointId.eq(id.as_uuid()));
    if let Some(before) = before {
        query = query.filter(attempts::Column::Id.lt(before));
    }
    let rows = query
        .order_by_desc(attempts::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let seqs: Vec<i64> = rows.iter().map(|r| r.event_seq).collect();
    let events = super::events::by_seq(conn, &seqs).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let Some(event) = events.iter().find(|e| e.seq == r.event_seq) else {
            continue;
        };
        out.push(Attempt {
            id: r.id,
            event_id: event.id,
            event_type: event.event_type,
            subscriber_id: event.subscriber_id,
            attempt: u32::try_from(r.attempt).map_err(corrupt)?,
            status_code: r.status_code.and_then(|s| u16::try_from(s).ok()),
            error: r.error,
            attempted_at: r.attempted_at,
        });
    }
    Ok(out)
}
