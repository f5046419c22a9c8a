//! Idempotency keys of API requests: claimed before the request runs, completed with the
//! answer to give again, released when there is nothing to keep. Decides nothing: what
//! counts as expired or worth keeping is the service's rule.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::Expr,
};

use super::{StoreError, corrupt, entities::idempotency_keys as table};

const IN_PROGRESS: &str = "in_progress";
const DONE: &str = "done";

/// An answer as it was given, to be given again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type`, if the answer had one.
    pub content_type: Option<String>,
    /// `Location`, if the answer had one.
    pub location: Option<String>,
    /// The body's bytes.
    pub body: Vec<u8>,
}

/// A key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A request with this key is running (or died without releasing it).
    InProgress {
        /// When the request claimed the key.
        claimed_at: DateTime<Utc>,
    },
    /// A request with this key has finished with `answer`.
    Done {
        /// The request's fingerprint (hex SHA-256).
        fingerprint: String,
        /// Its answer.
        answer: StoredAnswer,
        /// When the request claimed the key.
        claimed_at: DateTime<Utc>,
    },
}

/// The record of `key` in `scope_hash`, whatever its age.
///
/// # Errors
/// Database failure; `Corrupt` for a row that is neither in progress nor complete.
pub async fn find(
    conn: &impl ConnectionTrait,
    scope_hash: &str,
    key: &str,
) -> Result<Option<Record>, StoreError> {
    let Some(row) = table::Entity::find_by_id((scope_hash.to_owned(), key.to_owned()))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    Record::try_from(row).map(Some)
}

impl TryFrom<table::Model> for Record {
    type Error = StoreError;

    fn try_from(row: table::Model) -> Result<Self, StoreError> {
        match (row.state.as_str(), row.fingerprint, row.status) {
            (IN_PROGRESS, _, _) => Ok(Self::InProgress {
                claimed_at: row.created_at,
            }),
            (DONE, Some(fingerprint), Some(status)) => Ok(Self::Done {
                fingerprint,
                answer: StoredAnswer {
                    status: u16::try_from(status).map_err(corrupt)?,
                    content_type: row.content_type,
                    location: row.location,
                    body: row.body.unwrap_or_default(),
                },
                claimed_at: row.created_at,
            }),
            (state, _, _) => Err(corrupt(format!("idempotency key in state {state:?}"))),
        }
    }
}

/// Claims `key` in `scope_hash` at `now` for a request about to run. A record claimed
/// before `expired_before`, or still in progress since before `abandoned_before`, is
/// replaced.
///
/// # Errors
/// `Conflict` when a live record holds the key (another request got there first);
/// database failure.
pub async fn claim(
    conn: &impl ConnectionTrait,
    scope_hash: &str,
    key: &str,
    now: DateTime<Utc>,
    expired_before: DateTime<Utc>,
    abandoned_before: DateTime<Utc>,
) -> Result<(), StoreError> {
    table::Entity::delete_many()
        .filter(this(scope_hash, key))
        .filter(
            Condition::any()
                .add(table::Column::CreatedAt.lt(expired_before))
                .add(
                    Condition::all()
                        .add(table::Column::State.eq(IN_PROGRESS))
                        .add(table::Column::CreatedAt.lt(abandoned_before)),
                ),
        )
        .exec(conn)
        .await?;
    let row = table::ActiveModel {
        scope_hash: Set(scope_hash.to_owned()),
        key: Set(key.to_owned()),
        fingerprint: Set(None),
        state: Set(IN_PROGRESS.to_owned()),
        status: Set(None),
        content_type: Set(None),
        location: Set(None),
        body: Set(None),
        created_at: Set(now),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Completes the claim of `key` made at `claimed_at` with the request's `fingerprint` and
/// `answer`. Returns whether the claim was still ours (it may have been replaced as
/// abandoned).
///
/// # Errors
/// Database failure.
pub async fn complete(
    conn: &impl ConnectionTrait,
    scope_hash: &str,
    key: &str,
    claimed_at: DateTime<Utc>,
    fingerprint: &str,
    answer: StoredAnswer,
) -> Result<bool, StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::State, Expr::value(DONE))
        .col_expr(table::Column::Fingerprint, Expr::value(fingerprint))
        .col_expr(table::Column::Status, Expr::value(i32::from(answer.status)))
        .col_expr(table::Column::ContentType, Expr::value(answer.content_type))
        .col_expr(table::Column::Location, Expr::value(answer.location))
        .col_expr(table::Column::Body, Expr::value(answer.body))
        .filter(ours(scope_hash, key, claimed_at))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives up the claim of `key` made at `claimed_at`, so that the key can be used again.
///
/// # Errors
/// Database failure.
pub async fn release(
    conn: &impl ConnectionTrait,
    scope_hash: &str,
    key: &str,
    claimed_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    table::Entity::delete_many()
        .filter(ours(scope_hash, key, claimed_at))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes every record claimed before `before`; returns how many.
///
/// # Errors
/// Database failure.
pub async fn delete_claimed_before(
    conn: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = table::Entity::delete_many()
        .filter(table::Column::CreatedAt.lt(before))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

fn this(scope_hash: &str, key: &str) -> Condition {
    Condition::all()
        .add(table::Column::ScopeHash.eq(scope_hash))
        .add(table::Column::Key.eq(key))
}

/// The in-progress record of `key` claimed at `claimed_at`: not one that replaced it.
fn ours(scope_hash: &str, key: &str, claimed_at: DateTime<Utc>) -> Condition {
    this(scope_hash, key)
        .add(table::Column::State.eq(IN_PROGRESS))
        .add(table::Column::CreatedAt.eq(claimed_at))
}
