//! Queries of the retention policy: due subscribers in keyset pages, one subscriber locked for
//! its purge, and the deletes and updates of a purge or an erasure. It decides nothing;
//! `domain::retention` does.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, Query, SelectStatement},
};
use uuid::Uuid;

use super::{
    StoreError,
    entities::{consent_events, subscribers, subscriptions, suppressions},
};
use crate::domain::{
    SubscriberId, SubscriberStatus, Subscription, SubscriptionId, SubscriptionStatus,
    retention::{RetentionCutoffs, RetentionSubject},
};

/// The columns of `subscribers` the rules need (never the address or the name).
type SubjectRow = (
    Uuid,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    String,
);

const SUBJECT_COLUMNS: [subscribers::Column; 5] = [
    subscribers::Column::Id,
    subscribers::Column::CreatedAt,
    subscribers::Column::LastActivityAt,
    subscribers::Column::ReviewFlaggedAt,
    subscribers::Column::Status,
];

/// Up to `limit` subscribers after `after` (in id order) that may be due under `cutoffs`: a
/// stale pending request, no pending or confirmed subscription and quiet since before
/// `lapsed_before`, or quiet since before `review_before` and not flagged since. A superset
/// of what the rules act on; they decide.
///
/// # Errors
/// Database failure, or a stored status that is not valid.
pub async fn due_page(
    conn: &impl ConnectionTrait,
    cutoffs: &RetentionCutoffs,
    after: Option<SubscriberId>,
    limit: u64,
) -> Result<Vec<RetentionSubject>, StoreError> {
    let mut query = subscribers::Entity::find()
        .select_only()
        .columns(SUBJECT_COLUMNS)
        .filter(due(cutoffs));
    if let Some(after) = after {
        query = query.filter(subscribers::Column::Id.gt(after.as_uuid()));
    }
    let rows: Vec<SubjectRow> = query
        .order_by_asc(subscribers::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.0).collect();
    let mut subscriptions = subscriptions_of(conn, &ids, false).await?;
    let latest = latest_ledger_entries(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| subject(row, &mut subscriptions, &latest))
        .collect())
}

fn due(cutoffs: &RetentionCutoffs) -> Condition {
    let stale_request = Condition::all()
        .add(
            Expr::col((subscriptions::Entity, subscriptions::Column::Status))
                .eq(SubscriptionStatus::Pending.as_str()),
        )
        .add(
            Condition::any()
                .add(
                    Expr::col((subscriptions::Entity, subscriptions::Column::RequestedAt))
                        .lt(cutoffs.pending_before),
                )
                .add(
                    Expr::col((subscriptions::Entity, subscriptions::Column::RequestedAt))
                        .is_null(),
                ),
        );
    let holding = Expr::col((subscriptions::Entity, subscriptions::Column::Status)).is_in([
        SubscriptionStatus::Pending.as_str(),
        SubscriptionStatus::Confirmed.as_str(),
    ]);
    let lapsed = Condition::all()
        .add(subscribers::Column::LastActivityAt.lt(cutoffs.lapsed_before))
        .add(Expr::exists(subscriptions_where(holding)).not());
    let mut inactive =
        Condition::all().add(subscribers::Column::LastActivityAt.lt(cutoffs.review_before));
    if !cutoffs.flagged_are_due {
        inactive = inactive.add(
            Condition::any()
                .add(subscribers::Column::ReviewFlaggedAt.is_null())
                .add(
                    Expr::col((subscribers::Entity, subscribers::Column::ReviewFlaggedAt)).lt(
                        Expr::col((subscribers::Entity, subscribers::Column::LastActivityAt)),
                    ),
                ),
        );
    }
    Condition::any()
        .add(Expr::exists(subscriptions_where(stale_request)))
        .add(lapsed)
        .add(inactive)
}

/// `SELECT 1 FROM subscriptions WHERE <the outer subscriber's> AND condition`.
fn subscriptions_where(condition: impl Into<Condition>) -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(subscriptions::Entity)
        .and_where(
            Expr::col((subscriptions::Entity, subscriptions::Column::SubscriberId))
                .equals((subscribers::Entity, subscribers::Column::Id)),
        )
        .cond_where(condition)
        .to_owned()
}

fn subject(
    (id, created_at, last_activity_at, review_flagged_at, status): SubjectRow,
    subscriptions: &mut HashMap<Uuid, Vec<Subscription>>,
    latest: &HashMap<Uuid, DateTime<Utc>>,
) -> RetentionSubject {
    RetentionSubject {
        id: SubscriberId::from_uuid(id),
        created_at,
        last_activity_at,
        review_flagged_at,
        last_ledger_at: latest.get(&id).copied(),
        subscriptions: subscriptions.remove(&id).unwrap_or_default(),
        restricted: status == SubscriberStatus::Restricted.as_str(),
    }
}

/// The subscriptions of these subscribers, by subscriber; `lock` takes them for update.
async fn subscriptions_of(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
    lock: bool,
) -> Result<HashMap<Uuid, Vec<Subscription>>, StoreError> {
    let mut by_subscriber: HashMap<Uuid, Vec<Subscription>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_subscriber);
    }
    let mut query = subscriptions::Entity::find()
        .filter(subscriptions::Column::SubscriberId.is_in(ids.iter().copied()))
        .order_by_asc(subscriptions::Column::Id);
    if lock {
        query = query.lock_exclusive();
    }
    for row in query.all(conn).await? {
        let subscription = Subscription::try_from(row)?;
        by_subscriber
            .entry(subscription.subscriber_id.as_uuid())
            .or_default()
            .push(subscription);
    }
    Ok(by_subscriber)
}

/// The time of the latest ledger entry of each of these subscribers.
async fn latest_ledger_entries(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, DateTime<Utc>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, Option<DateTime<Utc>>)> = consent_events::Entity::find()
        .select_only()
        .column(consent_events::Column::SubscriberId)
        .column_as(
            Expr::col(consent_events::Column::OccurredAt).max(),
            "latest",
        )
        .filter(consent_events::Column::SubscriberId.is_in(ids.iter().copied()))
        .group_by(consent_events::Column::SubscriberId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, latest)| Some((id, latest?)))
        .collect())
}

/// One subscriber as the rules see them, with their subscriptions and then their own row
/// locked for the rest of the transaction (PostgreSQL; SQLite's write transaction already
/// excludes other writers). Subscriptions come first, in the order a confirmation takes
/// them, so the two never deadlock. `None` when the subscriber no longer exists.
///
/// # Errors
/// Database failure, or a stored status that is not valid.
pub async fn lock_subject(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
) -> Result<Option<RetentionSubject>, StoreError> {
    let ids = [id.as_uuid()];
    let mut subscriptions = subscriptions_of(conn, &ids, true).await?;
    let row: Option<SubjectRow> = subscribers::Entity::find_by_id(id.as_uuid())
        .select_only()
        .columns(SUBJECT_COLUMNS)
        .lock_exclusive()
        .into_tuple()
        .one(conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let latest = latest_ledger_entries(conn, &ids).await?;
    Ok(Some(subject(row, &mut subscriptions, &latest)))
}

/// Deletes a subscription; its outbox rows go with it (ON DELETE CASCADE).
///
/// # Errors
/// Database failure.
pub async fn delete_subscription(
    conn: &impl ConnectionTrait,
    id: SubscriptionId,
) -> Result<(), StoreError> {
    subscriptions::Entity::delete_by_id(id.as_uuid())
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes a subscriber; their subscriptions and outbox rows go with them (ON DELETE
/// CASCADE). The ledger has no foreign key and stays, pseudonymised first.
///
/// # Errors
/// Database failure.
pub async fn delete_subscriber(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
) -> Result<(), StoreError> {
    subscribers::Entity::delete_by_id(id.as_uuid())
        .exec(conn)
        .await?;
    Ok(())
}

/// Flags a subscriber for review.
///
/// # Errors
/// Database failure.
pub async fn flag_for_review(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    subscribers::Entity::update_many()
        .col_expr(subscribers::Column::ReviewFlaggedAt, Expr::value(now))
        .filter(subscribers::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Pseudonymises a subscriber's ledger: clears network and user agent, and records the keyed
/// hash of the address. Action, list, legal basis, consent text hash, evidence and time stay
/// (GDPR Art. 7(1) and 17(3)(e): consent must remain provable). Returns the events changed.
///
/// # Errors
/// Database failure.
pub async fn pseudonymise_ledger(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
    subject_hash: &str,
) -> Result<u64, StoreError> {
    let none = Option::<String>::None;
    let result = consent_events::Entity::update_many()
        .col_expr(consent_events::Column::IpAnon, Expr::value(none.clone()))
        .col_expr(consent_events::Column::UserAgent, Expr::value(none))
        .col_expr(
            consent_events::Column::SubjectHash,
            Expr::value(subject_hash),
        )
        .filter(consent_events::Column::SubscriberId.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// Clears the free-text detail of a suppression (a bounce message may quote the address) and
/// the person it names; the hash and the reason stay.
///
/// # Errors
/// Database failure.
pub async fn forget_suppression_detail(
    conn: &impl ConnectionTrait,
    address_hash: &str,
) -> Result<(), StoreError> {
    suppressions::Entity::update_many()
        .col_expr(
            suppressions::Column::Detail,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            suppressions::Column::SubscriberId,
            Expr::value(Option::<uuid::Uuid>::None),
        )
        .filter(suppressions::Column::AddressHash.eq(address_hash))
        .exec(conn)
        .await?;
    Ok(())
}
