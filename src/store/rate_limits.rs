//! Rate-limit windows: counted with one upsert, so that instances sharing the database count
//! against the same window without a lost update.

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use super::{StoreError, entities::rate_limits as table};

/// A window as it stands after a hit or a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Hits counted in the window, this one included.
    pub hits: u32,
    /// When the window ends (Unix seconds).
    pub ends: i64,
}

/// Counts one hit of `key_hash` in `scope` at `now`: a window that has ended starts anew at
/// `now` and lasts `window_secs`.
///
/// # Errors
/// Database failure.
pub async fn hit(
    conn: &impl ConnectionTrait,
    scope: &str,
    key_hash: &str,
    window_secs: i64,
    now: i64,
) -> Result<Window, StoreError> {
    let row = table::ActiveModel {
        scope: Set(scope.to_owned()),
        key_hash: Set(key_hash.to_owned()),
        window_start: Set(now),
        window_end: Set(now + window_secs),
        hits: Set(1),
    };
    let current = |column: table::Column| Expr::col((table::Entity, column));
    let lapsed = current(table::Column::WindowEnd).lte(now);
    let on_conflict = OnConflict::columns([table::Column::Scope, table::Column::KeyHash])
        .value(
            table::Column::Hits,
            Expr::case(lapsed.clone(), 1).finally(current(table::Column::Hits).add(1)),
        )
        .value(
            table::Column::WindowStart,
            Expr::case(lapsed.clone(), now).finally(current(table::Column::WindowStart)),
        )
        .value(
            table::Column::WindowEnd,
            Expr::case(lapsed, now + window_secs).finally(current(table::Column::WindowEnd)),
        )
        .to_owned();
    table::Entity::insert(row)
        .on_conflict(on_conflict)
        .exec_without_returning(conn)
        .await?;
    look(conn, scope, key_hash, now)
        .await?
        .ok_or(StoreError::NotFound)
}

/// The window of `key_hash` in `scope` if it is still open at `now`.
///
/// # Errors
/// Database failure.
pub async fn look(
    conn: &impl ConnectionTrait,
    scope: &str,
    key_hash: &str,
    now: i64,
) -> Result<Option<Window>, StoreError> {
    let row = table::Entity::find_by_id((scope.to_owned(), key_hash.to_owned()))
        .one(conn)
        .await?;
    Ok(row.filter(|r| r.window_end > now).map(|r| Window {
        hits: u32::try_from(r.hits).unwrap_or(0),
        ends: r.window_end,
    }))
}

/// Deletes the windows that ended before `now`; returns how many.
///
/// # Errors
/// Database failure.
pub async fn delete_ended(conn: &impl ConnectionTrait, now: i64) -> Result<u64, StoreError> {
    let result = table::Entity::delete_many()
        .filter(table::Column::WindowEnd.lte(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
