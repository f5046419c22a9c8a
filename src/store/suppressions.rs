//! The suppression list: keyed hashes of addresses that must never be mailed again.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};

use super::{StoreError, entities::suppressions as table};
use crate::domain::{SubscriberId, SuppressionReason};

/// Adds a hash (a no-op when it is already suppressed).
///
/// # Errors
/// Database failure.
pub async fn add(
    conn: &impl ConnectionTrait,
    address_hash: &str,
    (reason, detail): (SuppressionReason, Option<&str>),
    subscriber: Option<SubscriberId>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        address_hash: Set(address_hash.to_owned()),
        reason: Set(reason.as_str().to_owned()),
        detail: Set(detail.map(|d| d.chars().take(1000).collect())),
        created_at: Set(now),
        subscriber_id: Set(subscriber.map(|s| s.as_uuid())),
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

/// One suppression as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSuppression {
    /// The keyed hash of the address (the suppression's id).
    pub address_hash: String,
    /// Why.
    pub reason: SuppressionReason,
    /// The status line, the note, or what else was recorded.
    pub detail: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The person it was made for, if known and not erased.
    pub subscriber_id: Option<SubscriberId>,
}

impl TryFrom<table::Model> for StoredSuppression {
    type Error = StoreError;

    fn try_from(m: table::Model) -> Result<Self, StoreError> {
        Ok(Self {
            reason: SuppressionReason::parse(&m.reason).map_err(super::corrupt)?,
            address_hash: m.address_hash,
            detail: m.detail,
            created_at: m.created_at,
            subscriber_id: m.subscriber_id.map(SubscriberId::from_uuid),
        })
    }
}

/// Up to `limit` suppressions whose hash sorts after `after`, by hash, of one reason or all.
///
/// # Errors
/// Database failure.
pub async fn page(
    conn: &impl ConnectionTrait,
    reason: Option<SuppressionReason>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<StoredSuppression>, StoreError> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut query = table::Entity::find();
    if let Some(reason) = reason {
        query = query.filter(table::Column::Reason.eq(reason.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(table::Column::AddressHash.gt(after));
    }
    query
        .order_by_asc(table::Column::AddressHash)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(StoredSuppression::try_from)
        .collect()
}

/// The suppression of a hash, if any.
///
/// # Errors
/// Database failure.
pub async fn find(
    conn: &impl ConnectionTrait,
    address_hash: &str,
) -> Result<Option<StoredSuppression>, StoreError> {
    table::Entity::find_by_id(address_hash.to_owned())
        .one(conn)
        .await?
        .map(StoredSuppression::try_from)
        .transpose()
}

/// Lifts the suppression of a hash; `false` when there was none.
///
/// # Errors
/// Database failure.
pub async fn remove(conn: &impl ConnectionTrait, address_hash: &str) -> Result<bool, StoreError> {
    let result = table::Entity::delete_by_id(address_hash.to_owned())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
