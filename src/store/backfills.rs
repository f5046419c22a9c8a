//! One-time data repairs that need the application (its keys), so cannot be migrations: the
//! record of which have run. Only whether and when; what they did goes to the job's report.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};

use super::{StoreError, entities::backfills as table};

/// Whether the repair `name` has run to its end.
///
/// # Errors
/// Database failure.
pub async fn is_done(conn: &impl ConnectionTrait, name: &str) -> Result<bool, StoreError> {
    Ok(table::Entity::find_by_id(name.to_owned())
        .one(conn)
        .await?
        .is_some())
}

/// Records that the repair `name` has run to its end (a no-op the second time).
///
/// # Errors
/// Database failure.
pub async fn mark_done(
    conn: &impl ConnectionTrait,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        name: Set(name.to_owned()),
        done_at: Set(now),
    };
    table::Entity::insert(row)
        .on_conflict(
            OnConflict::column(table::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}
