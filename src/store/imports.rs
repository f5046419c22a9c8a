//! Set-based queries of bulk imports: look a whole batch of addresses up at once and write it
//! with multi-row inserts, plus the per-import scratch table that spots repeated addresses.
//! Every statement is chunked below the bind-parameter limits of SQLite and PostgreSQL.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Alias, ColumnDef, Expr, ExprTrait, OnConflict, Query, Table},
};
use uuid::Uuid;

use super::{
    StoreError, consent_events, corrupt,
    entities::{consent_events as events, subscribers, subscriptions},
};
use crate::domain::{
    ConsentEvent, ListId, Subscriber, SubscriberId, SubscriberStatus, Subscription, SubscriptionId,
    SubscriptionStatus,
};

/// SQLite takes 32,766 bind parameters per statement, PostgreSQL 65,535: stay below both.
const MAX_PARAMS: usize = 30_000;

/// How many rows of `columns` values fit into one statement.
fn rows_per_statement(columns: usize) -> usize {
    (MAX_PARAMS / columns.max(1)).max(1)
}

/// A stored subscriber, as far as an import needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownSubscriber {
    /// Its id.
    pub id: SubscriberId,
    /// Its normalised address.
    pub email: String,
    /// Whether it may be processed.
    pub status: SubscriberStatus,
}

/// The subscribers with these addresses (normalised), in no particular order.
///
/// # Errors
/// Database failure, or a stored status that is not valid.
pub async fn subscribers_by_email(
    conn: &impl ConnectionTrait,
    emails: &[&str],
) -> Result<Vec<KnownSubscriber>, StoreError> {
    let mut found = Vec::new();
    for chunk in emails.chunks(MAX_PARAMS) {
        let rows: Vec<(Uuid, String, String)> = subscribers::Entity::find()
            .select_only()
            .columns([
                subscribers::Column::Id,
                subscribers::Column::Email,
                subscribers::Column::Status,
            ])
            .filter(subscribers::Column::Email.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        for (id, email, status) in rows {
            found.push(KnownSubscriber {
                id: SubscriberId::from_uuid(id),
                email,
                status: SubscriberStatus::parse(&status).map_err(corrupt)?,
            });
        }
    }
    Ok(found)
}

/// The subscriptions of these subscribers to one list: subscriber → (subscription, status).
///
/// # Errors
/// Database failure, or a stored status that is not valid.
pub async fn subscriptions_to_list(
    conn: &impl ConnectionTrait,
    list: ListId,
    subscribers: &[SubscriberId],
) -> Result<HashMap<SubscriberId, (SubscriptionId, SubscriptionStatus)>, StoreError> {
    let mut found = HashMap::new();
    for chunk in subscribers.chunks(MAX_PARAMS) {
        let rows: Vec<(Uuid, Uuid, String)> = subscriptions::Entity::find()
            .select_only()
            .columns([
                subscriptions::Column::SubscriberId,
                subscriptions::Column::Id,
                subscriptions::Column::Status,
            ])
            .filter(subscriptions::Column::ListId.eq(list.as_uuid()))
            .filter(subscriptions::Column::SubscriberId.is_in(chunk.iter().map(|s| s.as_uuid())))
            .into_tuple()
            .all(conn)
            .await?;
        for (subscriber, id, status) in rows {
            let status = SubscriptionStatus::parse(&status).map_err(corrupt)?;
            found.insert(
                SubscriberId::from_uuid(subscriber),
                (SubscriptionId::from_uuid(id), status),
            );
        }
    }
    Ok(found)
}

/// Stores new subscribers with multi-row inserts.
///
/// # Errors
/// `Conflict` when an address is taken (a concurrent signup), or database failure.
pub async fn insert_subscribers(
    conn: &impl ConnectionTrait,
    rows: &[Subscriber],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(rows_per_statement(9)) {
        subscribers::Entity::insert_many(
            chunk
                .iter()
                .map(|s| super::subscribers::active_model(s, now)),
        )
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Stores new subscriptions with multi-row inserts.
///
/// # Errors
/// `Conflict` when a subscriber already has one for the list, or database failure.
pub async fn insert_subscriptions(
    conn: &impl ConnectionTrait,
    rows: &[Subscription],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(rows_per_statement(12)) {
        let models = chunk.iter().map(|s| {
            let mut row = super::subscriptions::active_model(s, now);
            row.created_at = Set(now);
            row
        });
        subscriptions::Entity::insert_many(models)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Confirms these subscriptions if they are still pending; the caller appends the events.
///
/// # Errors
/// Database failure.
pub async fn confirm_pending(
    conn: &impl ConnectionTrait,
    ids: &[SubscriptionId],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(MAX_PARAMS) {
        subscriptions::Entity::update_many()
            .col_expr(
                subscriptions::Column::Status,
                Expr::value(SubscriptionStatus::Confirmed.as_str()),
            )
            .col_expr(subscriptions::Column::ConfirmedAt, Expr::value(now))
            .col_expr(subscriptions::Column::UpdatedAt, Expr::value(now))
            .filter(subscriptions::Column::Id.is_in(chunk.iter().map(|s| s.as_uuid())))
            .filter(subscriptions::Column::Status.eq(SubscriptionStatus::Pending.as_str()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Appends ledger events with multi-row inserts. Events are never updated.
///
/// # Errors
/// Database failure.
pub async fn append_events(
    conn: &impl ConnectionTrait,
    rows: &[ConsentEvent],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(rows_per_statement(12)) {
        events::Entity::insert_many(chunk.iter().map(consent_events::active_model))
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

const SEEN: &str = "import_seen";
const SEEN_KEY: &str = "hash_key";
const SEEN_CHECK: &str = "hash_check";
const SEEN_LINE: &str = "line";

/// An address hash (64 hex digits) as two 64-bit integers: the first keys the scratch table
/// (an integer key is far cheaper than text), the second tells the rare collision apart.
fn seen_key(hash: &str) -> Result<(i64, i64), StoreError> {
    let half = |range: std::ops::Range<usize>| {
        hash.get(range)
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .map(|v| i64::from_ne_bytes(v.to_ne_bytes()))
            .ok_or_else(|| StoreError::Corrupt("an address hash is not hex".into()))
    };
    Ok((half(0..16)?, half(16..32)?))
}

/// Creates the import's scratch table of address hashes already met, with their line. It is
/// temporary (this connection only) and, being made inside the import's transaction, gone
/// with a rollback; `close_seen` drops it before the commit.
///
/// # Errors
/// Database failure.
pub async fn open_seen(conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    let column = |name: &str| {
        ColumnDef::new(Alias::new(name))
            .big_integer()
            .not_null()
            .to_owned()
    };
    let create = Table::create()
        .table(Alias::new(SEEN))
        .temporary()
        .col(column(SEEN_KEY).primary_key())
        .col(column(SEEN_CHECK))
        .col(column(SEEN_LINE))
        .to_owned();
    conn.execute(&create).await?;
    Ok(())
}

/// Drops the scratch table of `open_seen`.
///
/// # Errors
/// Database failure.
pub async fn close_seen(conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    conn.execute(&Table::drop().table(Alias::new(SEEN)).to_owned())
        .await?;
    Ok(())
}

/// The hashes among `hashes` already met in this import, with the line they were met on.
///
/// # Errors
/// Database failure, or a hash that is not hex.
pub async fn seen_lines(
    conn: &impl ConnectionTrait,
    hashes: &[&str],
) -> Result<HashMap<String, u64>, StoreError> {
    let mut wanted = HashMap::with_capacity(hashes.len());
    for hash in hashes {
        wanted.insert(seen_key(hash)?, *hash);
    }
    let keys: Vec<i64> = wanted.keys().map(|(key, _)| *key).collect();
    let mut found = HashMap::new();
    for chunk in keys.chunks(MAX_PARAMS) {
        let select = Query::select()
            .columns([
                Alias::new(SEEN_KEY),
                Alias::new(SEEN_CHECK),
                Alias::new(SEEN_LINE),
            ])
            .from(Alias::new(SEEN))
            .and_where(Expr::col(Alias::new(SEEN_KEY)).is_in(chunk.iter().copied()))
            .to_owned();
        for row in conn.query_all(&select).await? {
            let key: (i64, i64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
            let line: i64 = row.try_get_by_index(2)?;
            if let Some(hash) = wanted.get(&key) {
                found.insert((*hash).to_owned(), u64::try_from(line).map_err(corrupt)?);
            }
        }
    }
    Ok(found)
}

/// Records hashes as met on their lines (each hash once, not yet recorded; a hash whose key
/// collides with an earlier one is not recorded).
///
/// # Errors
/// Database failure, or a hash that is not hex.
pub async fn mark_seen(
    conn: &impl ConnectionTrait,
    rows: &[(&str, u64)],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(rows_per_statement(3)) {
        let mut insert = Query::insert()
            .into_table(Alias::new(SEEN))
            .columns([
                Alias::new(SEEN_KEY),
                Alias::new(SEEN_CHECK),
                Alias::new(SEEN_LINE),
            ])
            .on_conflict(
                OnConflict::column(Alias::new(SEEN_KEY))
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        for (hash, line) in chunk {
            let (key, check) = seen_key(hash)?;
            let line = i64::try_from(*line).map_err(corrupt)?;
            insert
                .values([key.into(), check.into(), line.into()])
                .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        if !chunk.is_empty() {
            conn.execute(&insert).await?;
        }
    }
    Ok(())
}

/// Lets SQLite keep up to 64 MiB of pages in memory during an import, so that a large
/// transaction does not spill pages to the WAL and read them back; a no-op on PostgreSQL.
///
/// # Errors
/// Database failure.
pub async fn widen_cache(conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        conn.execute_unprepared("PRAGMA cache_size = -65536")
            .await?;
    }
    Ok(())
}

/// Gives SQLite's page cache back its default size (after `widen_cache`).
///
/// # Errors
/// Database failure.
pub async fn narrow_cache(conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        conn.execute_unprepared("PRAGMA cache_size = -2000").await?;
    }
    Ok(())
}
