//! The audit log of operators' changes: who did what to which record, and when. Each
//! service writes its entry in the transaction of the change, so a change is never kept
//! without its entry, nor an entry without its change.

use chrono::{DateTime, Utc};

use super::paging::Page;
use crate::{
    context::Context,
    domain::{Action, Actor, Forbidden},
    store::{self, StoreError, audit::AuditEntry},
};

/// A change to record: the action (`list.create`), the record it touched, and what changed.
#[derive(Debug, Clone)]
pub struct Change {
    /// The action, `area.verb`.
    pub action: &'static str,
    /// The id (or path) of the record changed.
    pub target: Option<String>,
    /// What changed, in words; never a subscriber's address.
    pub detail: Option<String>,
}

impl Change {
    /// A change of the record `target`.
    pub fn of(action: &'static str, target: impl ToString) -> Self {
        Self {
            action,
            target: Some(target.to_string()),
            detail: None,
        }
    }

    /// The same change, with what changed.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Appends the entry of `change`, made by `actor` at `now`, on `conn`: the change's own
/// transaction.
///
/// # Errors
/// Store failure (the transaction must then not commit).
pub async fn append(
    conn: &impl store::Connection,
    actor: &Actor,
    change: Change,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let entry = AuditEntry {
        actor: actor.name(),
        action: change.action.to_owned(),
        target: change.target,
        detail: change.detail,
        occurred_at: now,
    };
    store::audit::append(conn, &entry).await
}

/// Records a change that has no transaction of its own (a login, a logout, a test send).
///
/// # Errors
/// Store failure.
pub async fn record(ctx: &Context, actor: &Actor, change: Change) -> Result<(), StoreError> {
    append(&ctx.db, actor, change, ctx.clock.now()).await
}

/// The audit log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The actor may not read it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The latest entries, newest first.
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn recent(
    ctx: &Context,
    actor: &Actor,
    limit: u64,
) -> Result<Vec<AuditEntry>, AuditError> {
    actor.authorize(Action::ReadAudit)?;
    Ok(store::audit::recent(&ctx.db, limit).await?)
}

/// A page of entries older than the entry `before`, newest first, and the next cursor.
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn page(
    ctx: &Context,
    actor: &Actor,
    before: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Page<(uuid::Uuid, AuditEntry), uuid::Uuid>, AuditError> {
    use super::paging;
    actor.authorize(Action::ReadAudit)?;
    let found = store::audit::page(&ctx.db, before, paging::fetch_size(limit)).await?;
    Ok(Page::cut(found, limit, |(id, _)| *id))
}
