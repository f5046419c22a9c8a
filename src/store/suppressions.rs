//! The suppression list: keyed hashes of addresses that must never be mailed again.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};

use super::{StoreError, entities::suppressions as table};
use crate::domain::SuppressionReason;

/// Adds a hash (a no-op when it is already suppressed).
///
/// # Errors
/// Database failure.
pub async fn add(
    conn: &impl ConnectionTrait,
    address_hash: &str,
    reason: SuppressionReason,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        address_hash: Set(address_hash.to_owned()),
        reason: Set(reason.as_str().to_owned()),
        detail: Set(detail.map(|d| d.chars().take(1000).collect())),
        created_at: Set(now),
    };
    table::Entity::insert(row)
        .on_conflict(
            OnConflict::column(table::Column::AddressHash)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Whether a hash is suppressed.
///
/// # Errors
/// Database failure.
pub async fn contains(conn: &impl ConnectionTrait, address_hash: &str) -> Result<bool, StoreError> {
    Ok(table::Entity::find_by_id(address_hash.to_owned())
        .one(conn)
        .await?
        .is_some())
}

/// The suppressed hashes among `hashes`, looked up many per statement with the hashes as one
/// JSON parameter (not one bind parameter each).
///
/// # Errors
/// Database failure.
pub async fn among(
    conn: &impl ConnectionTrait,
    hashes: &[impl AsRef<str>],
) -> Result<HashSet<String>, StoreError> {
    let hashes: Vec<&str> = hashes.iter().map(AsRef::as_ref).collect();
    super::imports::held_text(conn, "suppressions", "address_hash", &hashes).await
}
