//! The outbox: enqueue, claim with a lease, and record outcomes. A batch is claimed by one
//! conditional UPDATE (with `FOR UPDATE SKIP LOCKED` on PostgreSQL), so two workers (or
//! instances) never hold the same row at once. A campaign's counts per status are read from
//! `campaign_delivery_counts`, which triggers keep in step with every change to the rows.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, LockBehavior, LockType, OnConflict, Query},
};

use super::{
    StoreError, corrupt,
    entities::{campaign_delivery_counts as counts, campaigns, deliveries as table, subscriptions},
};
use crate::domain::{
    Bounce, CampaignId, CampaignStatus, Delivery, DeliveryId, DeliveryStatus, Filter, ListId,
    MessageKind, SubscriberId, SubscriptionId, SubscriptionStatus,
};

impl TryFrom<table::Model> for Delivery {
    type Error = StoreError;

    fn try_from(m: table::Model) -> Result<Self, StoreError> {
        Ok(Delivery {
            id: DeliveryId::from_uuid(m.id),
            kind: MessageKind::parse(&m.kind).map_err(corrupt)?,
            campaign_id: m.campaign_id.map(CampaignId::from_uuid),
            subscriber_id: SubscriberId::from_uuid(m.subscriber_id),
            subscription_id: m.subscription_id.map(SubscriptionId::from_uuid),
            status: DeliveryStatus::parse(&m.status).map_err(corrupt)?,
            attempts: u32::try_from(m.attempts).map_err(corrupt)?,
            lease_until: m.lease_until,
            message_id: m.message_id,
            created_at: m.created_at,
        })
    }
}

/// A message to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// What kind.
    pub kind: MessageKind,
    /// To whom.
    pub subscriber_id: SubscriberId,
    /// For which subscription.
    pub subscription_id: Option<SubscriptionId>,
    /// The Message-ID it will carry.
    pub message_id: String,
}

/// Puts a message in the outbox, due now.
///
/// # Errors
/// Database failure.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    d: &NewDelivery,
    now: DateTime<Utc>,
) -> Result<DeliveryId, StoreError> {
    let id = DeliveryId::new();
    let row = table::ActiveModel {
        id: Set(id.as_uuid()),
        kind: Set(d.kind.as_str().to_owned()),
        campaign_id: Set(None),
        subscriber_id: Set(d.subscriber_id.as_uuid()),
        subscription_id: Set(d.subscription_id.map(|s| s.as_uuid())),
        status: Set(DeliveryStatus::Queued.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        last_error: Set(None),
        message_id: Set(d.message_id.clone()),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        bounce: Set(None),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(id)
}

/// Rows that may be claimed now: due queued/deferred rows, and rows whose claim lapsed
/// (a worker died mid-send); campaign rows only while their campaign is sending.
fn claimable(now: DateTime<Utc>) -> Condition {
    let due = due_ways(now)
        .into_iter()
        .fold(Condition::any(), |any, way| any.add(way));
    Condition::all().add(due).add(campaign_running())
}

/// System mail, or a campaign that is sending.
fn campaign_running() -> Condition {
    let sending_campaigns = Query::select()
        .column(campaigns::Column::Id)
        .from(campaigns::Entity)
        .and_where(Expr::col(campaigns::Column::Status).eq(CampaignStatus::Sending.as_str()))
        .to_owned();
    Condition::any()
        .add(table::Column::CampaignId.is_null())
        .add(table::Column::CampaignId.in_subquery(sending_campaigns))
}

/// Claims up to `limit` due rows until `lease_until`, counting an attempt on each.
///
/// # Errors
/// Database failure.
pub async fn claim_due(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Delivery>, StoreError> {
    // Each way a row can be due (queued, deferred, lapsed claim) is its own scan in index
    // order that stops after `limit` rows. With the three joined by `OR`, both databases
    // walked and sorted every due row for each batch: a campaign's claims were quadratic.
    let branches = due_ways(now).map(|due| {
        Query::select()
            .column(table::Column::Id)
            .column(table::Column::NextAttemptAt)
            .from(table::Entity)
            .cond_where(due.add(campaign_running()))
            .order_by(table::Column::NextAttemptAt, sea_orm::Order::Asc)
            .limit(limit)
            .to_owned()
    });
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        return claim_due_postgres(conn, branches, now, lease_until, limit).await;
    }
    claim_due_sqlite(conn, branches, lease_until, now, limit).await
}

/// The three ways a row is due: queued or deferred and its time has come, or claimed by a
/// worker whose lease lapsed.
fn due_ways(now: DateTime<Utc>) -> [Condition; 3] {
    let waiting = |status: DeliveryStatus| {
        Condition::all()
            .add(table::Column::Status.eq(status.as_str()))
            .add(table::Column::NextAttemptAt.lte(now))
    };
    let lapsed = Condition::all()
        .add(table::Column::Status.eq(DeliveryStatus::Sending.as_str()))
        .add(table::Column::LeaseUntil.lt(now));
    [
        waiting(DeliveryStatus::Queued),
        waiting(DeliveryStatus::Deferred),
        lapsed,
    ]
}

/// SQLite has one writer: one statement claims the batch atomically, updating the chosen
/// rows by id.
async fn claim_due_sqlite(
    conn: &impl ConnectionTrait,
    branches: [sea_orm::sea_query::SelectStatement; 3],
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Delivery>, StoreError> {
    let mut values: Vec<sea_orm::Value> = vec![
        DeliveryStatus::Sending.as_str().into(),
        lease_until.into(),
        now.into(),
    ];
    let mut selects = Vec::new();
    for branch in branches {
        // SQLite takes no parenthesised members in a compound select: each ordered, limited
        // branch becomes a subquery, and its `?` placeholders keep their order.
        let (sql, branch_values) = branch.build(sea_orm::sea_query::SqliteQueryBuilder);
        selects.push(format!("SELECT id, next_attempt_at FROM ({sql})"));
        values.extend(branch_values.0);
    }
    values.push(limit.into());
    let sql = format!(
        "UPDATE deliveries SET status = ?, lease_until = ?, attempts = attempts + 1, \
         updated_at = ? WHERE id IN (SELECT id FROM ({}) ORDER BY next_attempt_at LIMIT ?) \
         RETURNING *",
        selects.join(" UNION ALL ")
    );
    let statement =
        sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Sqlite, sql, values);
    let rows = table::Entity::find()
        .from_raw_sql(statement)
        .all(conn)
        .await?;
    rows.into_iter().map(Delivery::try_from).collect()
}

/// PostgreSQL: several instances claim side by side, each skipping the rows another is
/// claiming (`FOR UPDATE SKIP LOCKED`, in each index-ordered branch and again in the final
/// select). The candidates come from the branches (twice the batch); the locking select
/// checks each candidate again, so a row another instance claimed meanwhile is not
/// taken. It is a CTE, which PostgreSQL runs exactly once: as an `IN (subquery)` the planner
/// may re-run it per row and claim far more than the batch.
async fn claim_due_postgres(
    conn: &impl ConnectionTrait,
    branches: [sea_orm::sea_query::SelectStatement; 3],
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Delivery>, StoreError> {
    let mut members = branches.into_iter().enumerate().map(|(i, mut branch)| {
        // Each scan skips the rows another instance is claiming right now, so a claim never
        // comes back empty just because its first candidates were momentarily locked.
        branch.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        Query::select()
            .column(sea_orm::sea_query::Asterisk)
            .from_subquery(branch, sea_orm::sea_query::Alias::new(format!("b{i}")))
            .to_owned()
    });
    let mut union = members.next().unwrap_or_else(Query::select);
    for member in members {
        union.union(sea_orm::sea_query::UnionType::All, member);
    }
    let candidates = Query::select()
        .column(table::Column::Id)
        .from_subquery(union, sea_orm::sea_query::Alias::new("candidates"))
        .order_by(table::Column::NextAttemptAt, sea_orm::Order::Asc)
        .limit(limit * 2)
        .to_owned();
    let mut due = Query::select()
        .column(table::Column::Id)
        .from(table::Entity)
        .and_where(Expr::col(table::Column::Id).in_subquery(candidates))
        .cond_where(claimable(now))
        .limit(limit)
        .to_owned();
    due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    let (select, mut values) = due.build(sea_orm::sea_query::PostgresQueryBuilder);
    let first = values.0.len() + 1;
    values.0.push(DeliveryStatus::Sending.as_str().into());
    values.0.push(lease_until.into());
    values.0.push(now.into());
    let sql = format!(
        "WITH due AS ({select}) UPDATE deliveries AS d SET status = ${first}, lease_until = ${}, \
         attempts = d.attempts + 1, updated_at = ${} FROM due WHERE d.id = due.id RETURNING d.*",
        first + 1,
        first + 2,
    );
    let statement =
        sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, values);
    let rows = table::Entity::find()
        .from_raw_sql(statement)
        .all(conn)
        .await?;
    rows.into_iter().map(Delivery::try_from).collect()
}

/// The final or interim outcome of one attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Accepted by the relay.
    Sent,
    /// Retry at this time.
    Deferred {
        /// When to try again.
        next_attempt_at: DateTime<Utc>,
        /// Why it failed.
        error: String,
    },
    /// Given up.
    Failed {
        /// Why.
        error: String,
    },
    /// Not sent because the recipient is no longer eligible.
    Suppressed {
        /// Why.
        reason: String,
    },
    /// Not attempted after all (its campaign was paused mid-batch): back in the queue, the
    /// claim's attempt not counted.
    Released,
}

/// Records the outcome of a claimed row, if the claim is still ours (`lease_until` unchanged).
/// Returns whether it was recorded.
///
/// # Errors
/// Database failure.
pub async fn record(
    conn: &impl ConnectionTrait,
    claimed: &Delivery,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (status, error, next, sent_at) = match outcome {
        Outcome::Sent => (DeliveryStatus::Sent, None, None, Some(now)),
        Outcome::Deferred {
            next_attempt_at,
            error,
        } => (
            DeliveryStatus::Deferred,
            Some(error.clone()),
            Some(*next_attempt_at),
            None,
        ),
        Outcome::Failed { error } => (DeliveryStatus::Failed, Some(error.clone()), None, None),
        Outcome::Suppressed { reason } => {
            (DeliveryStatus::Suppressed, Some(reason.clone()), None, None)
        }
        Outcome::Released => (DeliveryStatus::Deferred, None, Some(now), None),
    };
    let mut update = table::Entity::update_many()
        .col_expr(table::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            table::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            table::Column::LastError,
            Expr::value(error.map(|e| truncate(&e, 1000))),
        )
        .col_expr(table::Column::SentAt, Expr::value(sent_at))
        .col_expr(table::Column::UpdatedAt, Expr::value(now));
    if let Some(next) = next {
        update = update.col_expr(table::Column::NextAttemptAt, Expr::value(next));
    }
    if matches!(outcome, Outcome::Released) {
        update = update.col_expr(
            table::Column::Attempts,
            Expr::col(table::Column::Attempts).sub(1),
        );
    }
    let result = update
        .filter(table::Column::Id.eq(claimed.id.as_uuid()))
        .filter(table::Column::Status.eq(DeliveryStatus::Sending.as_str()))
        .filter(table::Column::LeaseUntil.eq(claimed.lease_until))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// The outbox rows of a subscriber, oldest first.
///
/// # Errors
/// Database failure.
pub async fn of_subscriber(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
) -> Result<Vec<Delivery>, StoreError> {
    table::Entity::find()
        .filter(table::Column::SubscriberId.eq(id.as_uuid()))
        .order_by_asc(table::Column::CreatedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(Delivery::try_from)
        .collect()
}

/// What one fan-out chunk did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOutChunk {
    /// Recipients found in this chunk (rows already present are not written twice).
    pub recipients: usize,
    /// The last subscriber id of the chunk: where the next chunk starts.
    pub last: Option<uuid::Uuid>,
}

/// Whom a campaign's fan-out writes rows for.
#[derive(Debug, Clone, Copy)]
pub struct FanOutTarget<'a> {
    /// The campaign the rows belong to.
    pub campaign: CampaignId,
    /// Its lists: a confirmed subscription to one of them makes a recipient.
    pub lists: &'a [ListId],
    /// Its segment, if any: only the members it selects.
    pub segment: Option<&'a Filter>,
    /// The domain of the Message-IDs written.
    pub message_domain: &'a str,
}

/// Writes one outbox row per subscriber (after `after`, in id order, at most `limit`) whom
/// `target` reaches. Unique on (campaign, subscriber): re-running writes nothing twice.
///
/// # Errors
/// Database failure.
pub async fn fan_out_chunk(
    conn: &impl ConnectionTrait,
    target: FanOutTarget<'_>,
    after: Option<uuid::Uuid>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<FanOutChunk, StoreError> {
    let FanOutTarget {
        campaign,
        lists,
        segment,
        message_domain,
    } = target;
    let list_ids = lists.iter().map(|l| sea_orm::Value::from(l.as_uuid()));
    let confirmed = SubscriptionStatus::Confirmed.as_str();
    let query = subscriptions::Entity::find()
        .select_only()
        .column(subscriptions::Column::SubscriberId)
        .column(subscriptions::Column::Id);
    let mut query = if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        // Keyset order: walk the subscriber index from `after`. Left to itself SQLite takes
        // the list index and sorts every remaining subscription for each chunk, which made
        // fan-out quadratic; the unary `+` keeps it off that index.
        let marks = vec!["?"; lists.len()].join(", ");
        query
            .filter(Expr::cust_with_values(
                format!("+list_id IN ({marks})"),
                list_ids,
            ))
            .filter(Expr::cust_with_values("+status = ?", [confirmed]))
    } else {
        query
            .filter(Expr::col(subscriptions::Column::ListId).is_in(list_ids))
            .filter(subscriptions::Column::Status.eq(confirmed))
    };
    if let Some(after) = after {
        query = query.filter(subscriptions::Column::SubscriberId.gt(after));
    }
    if let Some(filter) = segment {
        let backend = conn.get_database_backend();
        let condition = super::segments::Condition::of(filter, backend);
        query = query.filter(Expr::cust_with_values(
            format!(
                "EXISTS (SELECT 1 FROM subscribers p WHERE p.id = subscriptions.subscriber_id \
                 AND {})",
                condition.numbered(backend, 1)
            ),
            condition.values,
        ));
    }
    let pairs: Vec<(uuid::Uuid, uuid::Uuid)> = query
        .order_by_asc(subscriptions::Column::SubscriberId)
        .order_by_asc(subscriptions::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    let last = pairs.last().map(|(subscriber, _)| *subscriber);
    let mut rows = Vec::with_capacity(pairs.len());
    let mut previous = None;
    for (subscriber, subscription) in pairs {
        // Someone on several target lists gets one message, through the first subscription.
        if previous == Some(subscriber) {
            continue;
        }
        previous = Some(subscriber);
        rows.push(campaign_row(
            campaign,
            subscriber,
            subscription,
            message_domain,
            now,
        ));
    }
    let recipients = rows.len();
    if !rows.is_empty() {
        table::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([table::Column::CampaignId, table::Column::SubscriberId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(FanOutChunk { recipients, last })
}

fn campaign_row(
    campaign: CampaignId,
    subscriber: uuid::Uuid,
    subscription: uuid::Uuid,
    message_domain: &str,
    now: DateTime<Utc>,
) -> table::ActiveModel {
    table::ActiveModel {
        id: Set(DeliveryId::new().as_uuid()),
        kind: Set(MessageKind::Campaign.as_str().to_owned()),
        campaign_id: Set(Some(campaign.as_uuid())),
        subscriber_id: Set(subscriber),
        subscription_id: Set(Some(subscription)),
        status: Set(DeliveryStatus::Queued.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        last_error: Set(None),
        message_id: Set(format!(
            "campaign.{}@{message_domain}",
            uuid::Uuid::now_v7()
        )),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        bounce: Set(None),
    }
}

/// The sum of a count's slots: `campaign_delivery_counts` holds a count in parts.
fn total() -> sea_orm::sea_query::SimpleExpr {
    Expr::cust("CAST(SUM(\"campaign_delivery_counts\".\"n\") AS BIGINT)")
}

/// Leaves out the counts that have come back to zero.
fn not_zero() -> sea_orm::sea_query::SimpleExpr {
    Expr::cust("SUM(\"campaign_delivery_counts\".\"n\") <> 0")
}

/// Rows of a campaign per status.
///
/// # Errors
/// Database failure.
pub async fn campaign_counts(
    conn: &impl ConnectionTrait,
    campaign: CampaignId,
) -> Result<Vec<(DeliveryStatus, u64)>, StoreError> {
    let rows: Vec<(String, i64)> = counts::Entity::find()
        .select_only()
        .column(counts::Column::Status)
        .column_as(total(), "total")
        .filter(counts::Column::CampaignId.eq(campaign.as_uuid()))
        .group_by(counts::Column::Status)
        .having(not_zero())
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(status, n)| {
            Ok((
                DeliveryStatus::parse(&status).map_err(corrupt)?,
                u64::try_from(n).map_err(corrupt)?,
            ))
        })
        .collect()
}

/// Rows of each of `campaigns` per status and bounce, from the kept counts in one indexed read.
///
/// Each item is (campaign, status, bounce, count).
///
/// # Errors
/// Database failure, or a row that cannot be read.
pub async fn counts_of_campaigns(
    conn: &impl ConnectionTrait,
    campaigns: &[CampaignId],
) -> Result<Vec<(CampaignId, DeliveryStatus, Option<String>, u64)>, StoreError> {
    if campaigns.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(uuid::Uuid, String, String, i64)> = counts::Entity::find()
        .select_only()
        .column(counts::Column::CampaignId)
        .column(counts::Column::Status)
        .column(counts::Column::Bounce)
        .column_as(total(), "total")
        .filter(counts::Column::CampaignId.is_in(campaigns.iter().map(|c| c.as_uuid())))
        .group_by(counts::Column::CampaignId)
        .group_by(counts::Column::Status)
        .group_by(counts::Column::Bounce)
        .having(not_zero())
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(campaign, status, bounce, n)| {
            Ok((
                CampaignId::from_uuid(campaign),
                DeliveryStatus::parse(&status).map_err(corrupt)?,
                Some(bounce).filter(|b| !b.is_empty()),
                u64::try_from(n).map_err(corrupt)?,
            ))
        })
        .collect()
}

/// A campaign's deliveries by what came back for them (`hard`, `soft`, `blocked`,
/// `complaint`).
///
/// # Errors
/// Database failure.
pub async fn campaign_bounce_counts(
    conn: &impl ConnectionTrait,
    campaign: CampaignId,
) -> Result<Vec<(String, u64)>, StoreError> {
    let rows: Vec<(String, i64)> = counts::Entity::find()
        .select_only()
        .column(counts::Column::Bounce)
        .column_as(total(), "total")
        .filter(counts::Column::CampaignId.eq(campaign.as_uuid()))
        .filter(counts::Column::Bounce.ne(""))
        .group_by(counts::Column::Bounce)
        .having(not_zero())
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(bounce, n)| Ok((bounce, u64::try_from(n).map_err(corrupt)?)))
        .collect()
}

/// One delivery by id, if it exists.
///
/// # Errors
/// Database failure, or a row that cannot be read.
pub async fn find(
    conn: &impl ConnectionTrait,
    id: DeliveryId,
) -> Result<Option<Delivery>, StoreError> {
    table::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .map(Delivery::try_from)
        .transpose()
}

/// The last delivery sent to a person since `since`: what a provider's report naming only
/// the address is taken to be about.
///
/// # Errors
/// Database failure.
pub async fn last_sent_to(
    conn: &impl ConnectionTrait,
    subscriber: SubscriberId,
    since: DateTime<Utc>,
) -> Result<Option<Delivery>, StoreError> {
    table::Entity::find()
        .filter(table::Column::SubscriberId.eq(subscriber.as_uuid()))
        .filter(table::Column::SentAt.gte(since))
        .order_by_desc(table::Column::SentAt)
        // Ids are UUIDv7, in the order they were made: the later of two sent at once.
        .order_by_desc(table::Column::Id)
        .one(conn)
        .await?
        .map(Delivery::try_from)
        .transpose()
}

/// `status = 'sending'`, written for SQLite as `+status` so that its planner looks the rows
/// up by id: it prefers the status index over a list of ids, and walked every claimed row
/// for each write. PostgreSQL plans by its statistics and gets the plain comparison.
fn still_sending(backend: sea_orm::DbBackend) -> sea_orm::sea_query::SimpleExpr {
    match backend {
        sea_orm::DbBackend::Sqlite => Expr::cust("+status = 'sending'"),
        _ => table::Column::Status.eq(DeliveryStatus::Sending.as_str()),
    }
}

/// Extends the lease of a claimed row that is still ours (still `sending` under the lease
/// `held`) to `until`; `false` when another worker has claimed it since.
///
/// # Errors
/// Database failure.
pub async fn renew_lease(
    conn: &impl ConnectionTrait,
    id: DeliveryId,
    held: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::LeaseUntil, Expr::value(Some(until)))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .filter(table::Column::Status.eq(DeliveryStatus::Sending.as_str()))
        .filter(table::Column::LeaseUntil.eq(held))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records the outcomes of a claimed batch: the sent rows in one UPDATE per claim, the
/// others one by one; only rows whose claim is still ours are written. Returns rows written.
///
/// # Errors
/// Database failure.
pub async fn record_batch(
    conn: &impl ConnectionTrait,
    results: &[(&Delivery, &Outcome)],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut written = 0;
    let mut sent: std::collections::HashMap<Option<DateTime<Utc>>, Vec<uuid::Uuid>> =
        Default::default();
    for &(delivery, outcome) in results {
        match outcome {
            Outcome::Sent => sent
                .entry(delivery.lease_until)
                .or_default()
                .push(delivery.id.as_uuid()),
            other => written += u64::from(record(conn, delivery, other, now).await?),
        }
    }
    for (lease, ids) in sent {
        for chunk in ids.chunks(500) {
            let result = table::Entity::update_many()
                .col_expr(
                    table::Column::Status,
                    Expr::value(DeliveryStatus::Sent.as_str()),
                )
                .col_expr(
                    table::Column::LeaseUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(
                    table::Column::LastError,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(table::Column::SentAt, Expr::value(Some(now)))
                .col_expr(table::Column::UpdatedAt, Expr::value(now))
                .filter(table::Column::Id.is_in(chunk.iter().copied()))
                .filter(still_sending(conn.get_database_backend()))
                .filter(table::Column::LeaseUntil.eq(lease))
                .exec(conn)
                .await?;
            written += result.rows_affected;
        }
    }
    Ok(written)
}

/// Records what came back for a delivery: `hard`, `soft` or `blocked` (what a refusal said
/// about the address), or `complaint`.
///
/// # Errors
/// Database failure.
pub async fn mark_bounce(
    conn: &impl ConnectionTrait,
    id: DeliveryId,
    bounce: &str,
) -> Result<(), StoreError> {
    table::Entity::update_many()
        .col_expr(table::Column::Bounce, Expr::value(bounce))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}

/// How many of a subscriber's latest final deliveries since `since` were soft bounces, up to
/// the last one that was sent.
///
/// # Errors
/// Database failure.
pub async fn soft_bounces_in_a_row(
    conn: &impl ConnectionTrait,
    subscriber: SubscriberId,
    since: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let rows: Vec<(String, Option<String>)> = table::Entity::find()
        .select_only()
        .column(table::Column::Status)
        .column(table::Column::Bounce)
        .filter(table::Column::SubscriberId.eq(subscriber.as_uuid()))
        .filter(table::Column::UpdatedAt.gte(since))
        .filter(table::Column::Status.is_in([
            DeliveryStatus::Sent.as_str(),
            DeliveryStatus::Failed.as_str(),
        ]))
        .order_by_desc(table::Column::UpdatedAt)
        // Rows are created in time order (UUIDv7): the later of two written at once first.
        .order_by_desc(table::Column::Id)
        .limit(100)
        .into_tuple()
        .all(conn)
        .await?;
    let soft = rows
        .iter()
        .take_while(|(status, _)| status != DeliveryStatus::Sent.as_str())
        .filter(|(_, bounce)| bounce.as_deref() == Some(Bounce::Soft.as_str()))
        .count();
    Ok(u32::try_from(soft).unwrap_or(u32::MAX))
}

/// A campaign's delivered messages (accepted by the relay), complaints and hard bounces:
/// what its self-pause looks at.
///
/// # Errors
/// Database failure.
pub async fn campaign_rates(
    conn: &impl ConnectionTrait,
    campaign: CampaignId,
) -> Result<(u64, u64, u64), StoreError> {
    let (mut delivered, mut complaints, mut hard) = (0, 0, 0);
    for (status, n) in campaign_counts(conn, campaign).await? {
        if status == DeliveryStatus::Sent {
            delivered += n;
        }
    }
    for (came_back, n) in campaign_bounce_counts(conn, campaign).await? {
        match came_back.as_str() {
            "complaint" => complaints += n,
            "hard" => hard += n,
            _ => {}
        }
    }
    // A hard bounce at the relay fails the row; a later one follows a delivery.
    Ok((delivered, complaints, hard))
}

/// Records a bounce of `delivery`: marks it, and suppresses its address (`hash`, when the
/// person still exists) as `bounce::suppression_for` says, the soft bounces in a row counted
/// since `soft.0` against the limit `soft.1`. The one place both the worker (refusals at the
/// relay) and the inbound reports record bounces.
///
/// # Errors
/// Database failure.
pub async fn record_bounce(
    conn: &impl ConnectionTrait,
    delivery: &Delivery,
    (bounce, hash, detail): (Bounce, Option<&str>, &str),
    soft: (DateTime<Utc>, u32),
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    mark_bounce(conn, delivery.id, bounce.as_str()).await?;
    let in_a_row = match bounce {
        Bounce::Soft => soft_bounces_in_a_row(conn, delivery.subscriber_id, soft.0).await?,
        Bounce::Hard | Bounce::Blocked => 0,
    };
    if let (Some(reason), Some(hash)) = (
        crate::domain::bounce::suppression_for(bounce, in_a_row, soft.1),
        hash,
    ) {
        let why = (reason, Some(detail));
        super::suppressions::add(conn, hash, why, Some(delivery.subscriber_id), now).await?;
    }
    Ok(())
}

/// Makes the campaign's deferred messages due at `now` (a person resumed it: the relay is
/// back, and waiting out each message's backoff would only delay the send). Returns how many.
///
/// # Errors
/// Database failure.
pub async fn retry_deferred_now(
    conn: &impl ConnectionTrait,
    campaign: CampaignId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::NextAttemptAt, Expr::value(now))
        .col_expr(table::Column::UpdatedAt, Expr::value(now))
        .filter(table::Column::CampaignId.eq(campaign.as_uuid()))
        .filter(table::Column::Status.eq(DeliveryStatus::Deferred.as_str()))
        .filter(table::Column::NextAttemptAt.gt(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// Where one outbox row stands, as an API caller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct Progress {
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Where the row `id` stands, if it exists.
///
/// # Errors
/// A stored status that does not parse, or a database failure.
pub async fn progress(
    conn: &impl ConnectionTrait,
    id: DeliveryId,
) -> Result<Option<Progress>, StoreError> {
    let Some(row) = table::Entity::find_by_id(id.as_uuid()).one(conn).await? else {
        return Ok(None);
    };
    Ok(Some(Progress {
        status: DeliveryStatus::parse(&row.status).map_err(super::corrupt)?,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        last_error: row.last_error,
        next_attempt_at: row.next_attempt_at,
        sent_at: row.sent_at,
    }))
}
