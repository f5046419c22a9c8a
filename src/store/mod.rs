//! Persistence: sea-orm entities and the queries of each area. The only module (besides
//! `migrations/`) that speaks SQL; it returns domain types and never commits on its own.

pub mod api_tokens;
pub mod audit;
pub mod backfills;
pub mod campaigns;
pub mod consent_events;
pub mod deliveries;
#[expect(
    missing_docs,
    reason = "entity fields mirror the migration columns; sea-orm derives items without docs"
)]
pub mod entities;
pub mod events;
pub mod hooks;
pub mod idempotency;
pub mod imports;
pub mod jobs;
pub mod lists;
pub mod notices;
pub mod overview;
pub mod privacy;
pub mod products;
pub mod rate_limits;
pub mod retention;
pub mod segments;
pub mod subscribers;
pub mod subscriptions;
pub mod suppressions;
pub mod templates;
pub mod transactional;
pub mod unsubscribe_reasons;
pub mod users;

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, DatabaseConnection, DbErr, SqlErr};

pub use sea_orm::{
    ConnectionTrait, DatabaseConnection as Database, DatabaseTransaction, TransactionTrait,
};

/// What can go wrong in the store, in terms a service can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("record not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write (a race or a duplicate).
    #[error("conflicting record: {0}")]
    Conflict(String),
    /// A stored value could not be read back into a domain type.
    #[error("stored value is invalid: {0}")]
    Corrupt(String),
    /// The database is busy (SQLite's write lock held past the busy timeout, no pooled
    /// connection free in time, a PostgreSQL lock or serialization conflict): nothing was
    /// changed, and the same request may succeed a moment later.
    #[error("the database is busy: {0}")]
    Busy(#[source] DbErr),
    /// Any other database error.
    #[error(transparent)]
    Db(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if is_busy_error(&err) {
            return Self::Busy(err);
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(m)) => Self::Conflict(m),
            Some(SqlErr::ForeignKeyConstraintViolation(m)) => Self::Conflict(m),
            _ => Self::Db(err),
        }
    }
}

/// Whether a database error says "busy, try again" rather than "broken".
fn is_busy_error(err: &DbErr) -> bool {
    use sea_orm::{ConnAcquireErr, RuntimeErr, sqlx};
    let sqlx_error = match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx_error.as_ref() {
        sqlx::Error::PoolTimedOut => true,
        // SQLite: BUSY (5) and LOCKED (6) with their extended codes; PostgreSQL:
        // lock_not_available, serialization_failure, deadlock_detected, query_canceled.
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            Some("5" | "6" | "261" | "262" | "517" | "773" | "55P03" | "40001" | "40P01" | "57014")
        ),
        _ => false,
    }
}

/// Whether `err`, or an error it was caused by, is a busy database (`StoreError::Busy`):
/// what the web layer answers with 503 and `Retry-After` instead of 500.
pub fn is_busy(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if matches!(e.downcast_ref::<StoreError>(), Some(StoreError::Busy(_)))
            || e.downcast_ref::<DbErr>().is_some_and(is_busy_error)
        {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Turns a parse failure of a stored value into `StoreError::Corrupt`.
pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Opens the connection pool (SQLite in WAL mode with foreign keys on).
///
/// # Errors
/// The database cannot be reached or opened.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    connect_waiting(url, max_connections, DEFAULT_LOCK_WAIT).await
}

/// How long a statement waits for a lock before the database is called busy, unless
/// `database.busy_timeout_secs` says otherwise.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(10);

/// `connect`, where a statement waits at most `lock_wait` for a lock (SQLite's busy timeout,
/// PostgreSQL's `lock_timeout`) before it fails as `StoreError::Busy`.
///
/// # Errors
/// The database cannot be reached or opened.
pub async fn connect_waiting(
    url: &str,
    max_connections: u32,
    lock_wait: Duration,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(max_connections).min_connections(1);
    if is_sqlite(url) {
        // One writer at a time: keep the pool small so writers queue in the pool, not in
        // SQLite's busy handler.
        options.max_connections(max_connections.min(4));
    }
    sea_orm::Database::connect(with_common(options, false, lock_wait)).await
}

/// Opens the connection that write transactions (`begin_write`) take turns on. On SQLite it
/// is one connection: SQLite lets one writer in at a time, and writers that wait for it in
/// SQLite's busy handler sleep in steps of up to 100 ms (a p99 of 265 ms for signups under
/// load), while writers waiting for this pool's one connection queue in order and start the
/// moment the one before commits; a transaction that waits longer than `wait` fails as busy.
/// On PostgreSQL it is `pool` itself.
///
/// # Errors
/// The database cannot be opened.
pub async fn connect_writer(
    url: &str,
    pool: &DatabaseConnection,
    wait: Duration,
) -> Result<DatabaseConnection, DbErr> {
    if !is_sqlite(url) {
        return Ok(pool.clone());
    }
    single_connection(url, false, wait, wait).await
}

/// Opens the connection that bulk imports write through. On SQLite it is one connection
/// whose commits do not checkpoint: committing a large import would otherwise copy the
/// whole write-ahead log into the database file before the import could answer, and the
/// import runs `checkpoint` after it instead (as SQLite's documentation suggests for large
/// writes). Imports take turns on it, each waiting up to `wait` for the one before. On
/// PostgreSQL it is `pool` itself.
///
/// # Errors
/// The database cannot be opened.
pub async fn connect_bulk(
    url: &str,
    pool: &DatabaseConnection,
    wait: Duration,
) -> Result<DatabaseConnection, DbErr> {
    if !is_sqlite(url) {
        return Ok(pool.clone());
    }
    single_connection(url, true, DEFAULT_LOCK_WAIT, wait).await
}

/// A pool of one SQLite connection that callers take turns on, each waiting up to `turn_wait`
/// for the one before; a `bulk` one (see `with_common`) is closed after a minute unused.
async fn single_connection(
    url: &str,
    bulk: bool,
    lock_wait: Duration,
    turn_wait: Duration,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1);
    if bulk {
        options
            .min_connections(0)
            .idle_timeout(Duration::from_secs(60));
    } else {
        options.min_connections(1);
    }
    let mut options = with_common(options, bulk, lock_wait);
    options.acquire_timeout(turn_wait);
    sea_orm::Database::connect(options).await
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// The options every connection shares; `bulk` turns SQLite's automatic checkpoints off.
fn with_common(mut options: ConnectOptions, bulk: bool, lock_wait: Duration) -> ConnectOptions {
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    if is_sqlite(options.get_url()) {
        options.map_sqlx_sqlite_opts(move |o| {
            let o = o
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(lock_wait)
                .foreign_keys(true)
                // Deleted rows are overwritten with zeros, so an erased person's address and
                // name are not left behind in freed pages (GDPR Art. 17).
                .pragma("secure_delete", "on");
            if bulk {
                o.pragma("wal_autocheckpoint", "0")
            } else {
                o
            }
        });
    } else {
        // Without it a statement would wait for a lock for ever; with it, the request is
        // answered "busy" (503) like on SQLite.
        let lock_timeout = format!("{}ms", lock_wait.as_millis());
        options
            .map_sqlx_postgres_opts(move |o| o.options([("lock_timeout", lock_timeout.clone())]));
    }
    options
}

/// Settles the database after a bulk write (an import): on SQLite, copies what the
/// write-ahead log holds into the database file, as far as readers allow (`PASSIVE`: it waits
/// for no one), and empties the connection's page cache; on PostgreSQL, refreshes the planner's statistics of the tables an import
/// fills, which autovacuum would do only a while later. Without them PostgreSQL took the
/// imported list for a few rows and sorted all of it for every fan-out chunk: 215 s to fan
/// out 1,000,000 recipients right after their import (BENCHMARKS.md).
///
/// # Errors
/// Database failure.
pub async fn settle_bulk_write(db: &DatabaseConnection) -> Result<(), StoreError> {
    let sql = match db.get_database_backend() {
        // `shrink_memory` then hands the pages the import's connection still caches back to
        // the allocator: without it they stayed with the idle connection (an RSS of 105 MiB
        // after importing 100,000 rows through the API, 34 before).
        sea_orm::DbBackend::Sqlite => {
            &["PRAGMA wal_checkpoint(PASSIVE)", "PRAGMA shrink_memory"][..]
        }
        _ => &["ANALYZE subscribers, subscriptions"][..],
    };
    for statement in sql {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

/// A database connection or an open transaction: what every query takes, so that services
/// can run several queries in one transaction without naming sea-orm.
pub trait Connection: ConnectionTrait {}

impl<T: ConnectionTrait> Connection for T {}

/// Starts a read transaction (a dry run that rolls back).
///
/// # Errors
/// Database failure.
pub async fn begin_read(db: &DatabaseConnection) -> Result<DatabaseTransaction, StoreError> {
    Ok(db.begin().await?)
}

/// Rolls a transaction back: nothing of it is kept.
///
/// # Errors
/// Database failure.
pub async fn roll_back(txn: DatabaseTransaction) -> Result<(), StoreError> {
    Ok(txn.rollback().await?)
}

/// Commits a transaction a service began with `begin_write`.
///
/// # Errors
/// Database failure (nothing of the transaction is kept).
pub async fn commit(txn: DatabaseTransaction) -> Result<(), StoreError> {
    Ok(txn.commit().await?)
}

/// Writes a consistent copy of an SQLite database to `path` while others read and write it
/// (`VACUUM INTO`: one read transaction, the copy compacted). PostgreSQL has `pg_dump`.
///
/// # Errors
/// `Conflict` on PostgreSQL or when `path` exists; database or file failure.
pub async fn backup(db: &DatabaseConnection, path: &std::path::Path) -> Result<(), StoreError> {
    if db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return Err(StoreError::Conflict(
            "backup copies SQLite databases; for PostgreSQL use pg_dump".into(),
        ));
    }
    if path.exists() {
        return Err(StoreError::Conflict(format!("{} exists", path.display())));
    }
    let target = path.to_string_lossy();
    let statement = sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Sqlite,
        "VACUUM INTO ?",
        [target.as_ref().into()],
    );
    db.execute_raw(statement).await?;
    Ok(())
}

/// Copies SQLite's write-ahead log into the database file and empties it (`TRUNCATE`), so
/// that nothing deleted lingers in old log frames; waits for readers as the busy timeout
/// allows. A no-op on PostgreSQL.
///
/// # Errors
/// Database failure.
pub async fn truncate_log(db: &DatabaseConnection) -> Result<(), StoreError> {
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    Ok(())
}

/// Applies every pending migration.
///
/// # Errors
/// A migration failed.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether the database answers.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// Starts a write transaction on `db`, the context's `writer` (see `connect_writer`). On
/// SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so a transaction that reads
/// before it writes cannot fail on upgrade.
///
/// # Errors
/// Database failure.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, StoreError> {
    let options = sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    Ok(db.begin_with_options(options).await?)
}
