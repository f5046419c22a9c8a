//! Queries on `audit_log`: append and read, nothing else.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{StoreError, entities::audit_log as table};

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Who: `user:EMAIL` or `api:TOKEN-NAME`.
    pub actor: String,
    /// What, as `area.verb` (`list.create`).
    pub action: String,
    /// The record acted on, if any.
    pub target: Option<String>,
    /// A short detail (never personal data of subscribers).
    pub detail: Option<String>,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

/// Appends an entry.
///
/// # Errors
/// Database failure.
pub async fn append(conn: &impl ConnectionTrait, e: &AuditEntry) -> Result<(), StoreError> {
    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let row = table::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor: Set(cut(&e.actor, 300)),
        action: Set(cut(&e.action, 64)),
        target: Set(e.target.as_deref().map(|t| cut(t, 200))),
        detail: Set(e.detail.as_deref().map(|d| cut(d, 2000))),
        occurred_at: Set(e.occurred_at),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The latest `limit` entries, newest first.
///
/// # Errors
/// Database failure.
pub async fn recent(
    conn: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<AuditEntry>, StoreError> {
    Ok(table::Entity::find()
        .order_by_desc(table::Column::OccurredAt)
        .order_by_desc(table::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| AuditEntry {
            actor: m.actor,
            action: m.action,
            target: m.target,
            detail: m.detail,
            occurred_at: m.occurred_at,
        })
        .collect())
}

/// Up to `limit` entries older than the entry `before` (by id, which is a UUID v7 and so
/// follows insertion order), newest first, each with its id (the cursor).
///
/// # Errors
/// Database failure.
pub async fn page(
    conn: &impl ConnectionTrait,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<(Uuid, AuditEntry)>, StoreError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut query = table::Entity::find();
    if let Some(before) = before {
        query = query.filter(table::Column::Id.lt(before));
    }
    Ok(query
        .order_by_desc(table::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| {
            let entry = AuditEntry {
                actor: m.actor,
                action: m.action,
                target: m.target,
                detail: m.detail,
                occurred_at: m.occurred_at,
            };
            (m.id, entry)
        })
        .collect())
}
