//! The suppression list: keyed hashes of addresses that must never be mailed again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, OnConflict},
};

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
    // A suppression the person can lift by opting in again (a complaint, an erasure) gives
    // way to one they cannot (a bounce, an operator's): otherwise a later opt-in would lift
    // the stronger block too. Any other existing suppression stays as it is.
    let liftable = [SuppressionReason::Complaint, SuppressionReason::Erased].map(|r| r.as_str());
    let mut on_conflict = OnConflict::column(table::Column::AddressHash);
    if reason.is_lifted_by_opt_in() {
        on_conflict.do_nothing();
    } else {
        on_conflict
            .update_columns([
                table::Column::Reason,
                table::Column::Detail,
                table::Column::CreatedAt,
            ])
            .action_and_where(Expr::col((table::Entity, table::Column::Reason)).is_in(liftable));
    }
    let written = table::Entity::insert(row)
        .on_conflict(on_conflict)
        .exec_without_returning(conn)
        .await?;
    if written > 0 {
        let mut data = serde_json::json!({ "reason": reason.as_str() });
        if let Some(subscriber) = subscriber {
            data["subscriber_id"] = serde_json::json!(subscriber);
        }
        let event = crate::domain::NewEvent {
            event_type: crate::domain::EventType::SuppressionAdded,
            subscriber_id: subscriber,
            data,
        };
        super::events::append(conn, &event, now).await?;
    }
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

/// The suppressed hashes among `hashes`, each with its reason, looked up many per statement
/// with the hashes as one JSON parameter (not one bind parameter each).
///
/// # Errors
/// Database failure, or a stored reason that is not valid.
pub async fn among(
    conn: &impl ConnectionTrait,
    hashes: &[impl AsRef<str>],
) -> Result<HashMap<String, SuppressionReason>, StoreError> {
    let hashes: Vec<&str> = hashes.iter().map(AsRef::as_ref).collect();
    let pairs =
        super::imports::held_text_pairs(conn, "suppressions", ("address_hash", "reason"), &hashes)
            .await?;
    pairs
        .into_iter()
        .map(|(hash, reason)| {
            Ok((
                hash,
                SuppressionReason::parse(&reason).map_err(super::corrupt)?,
            ))
        })
        .collect()
}

/// Names `subscriber` as the person of the suppression of `address_hash`, unless it names
/// someone already (a no-op when the hash is not suppressed). Returns whether it changed.
///
/// # Errors
/// Database failure.
pub async fn link(
    conn: &impl ConnectionTrait,
    address_hash: &str,
    subscriber: SubscriberId,
) -> Result<bool, StoreError> {
    let result = table::Entity::update_many()
        .col_expr(
            table::Column::SubscriberId,
            Expr::value(subscriber.as_uuid()),
        )
        .filter(table::Column::AddressHash.eq(address_hash))
        .filter(table::Column::SubscriberId.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// After `subscriber`'s address changed to the one of `address_hash`: the suppression of
/// their old address no longer names them, and that of the new one does, if it names nobody.
///
/// # Errors
/// Database failure.
pub async fn relink(
    conn: &impl ConnectionTrait,
    subscriber: SubscriberId,
    address_hash: &str,
) -> Result<(), StoreError> {
    table::Entity::update_many()
        .col_expr(
            table::Column::SubscriberId,
            Expr::value(Option::<uuid::Uuid>::None),
        )
        .filter(table::Column::SubscriberId.eq(subscriber.as_uuid()))
        .filter(table::Column::AddressHash.ne(address_hash))
        .exec(conn)
        .await?;
    link(conn, address_hash, subscriber).await?;
    Ok(())
}

/// The hashes among `hashes` (at most a few thousand) that are suppressed without naming a
/// person, erasures left out (an erasure names no one until its owner opts in again).
///
/// # Errors
/// Database failure.
pub async fn unlinked_among(
    conn: &impl ConnectionTrait,
    hashes: &[String],
) -> Result<Vec<String>, StoreError> {
    Ok(table::Entity::find()
        .select_only()
        .column(table::Column::AddressHash)
        .filter(table::Column::AddressHash.is_in(hashes.iter().map(String::as_str)))
        .filter(table::Column::SubscriberId.is_null())
        .filter(table::Column::Reason.ne(SuppressionReason::Erased.as_str()))
        .into_tuple()
        .all(conn)
        .await?)
}

/// Whether any suppression of another reason than an erasure names no person: the rows from
/// before suppressions named their person may wait for the backfill (an erasure never names
/// one).
///
/// # Errors
/// Database failure.
pub async fn any_unlinked(conn: &impl ConnectionTrait) -> Result<bool, StoreError> {
    Ok(table::Entity::find()
        .select_only()
        .column(table::Column::AddressHash)
        .filter(table::Column::SubscriberId.is_null())
        .filter(table::Column::Reason.ne(SuppressionReason::Erased.as_str()))
        .limit(1)
        .into_tuple::<String>()
        .one(conn)
        .await?
        .is_some())
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
    use sea_orm::QueryOrder;
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
