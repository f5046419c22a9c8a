//! The audit log of admin changes: who did what to which record, and when.

use crate::{
    context::Context,
    store::{self, StoreError, audit::AuditEntry},
};

/// Appends an entry for a change `actor` made now.
///
/// # Errors
/// Store failure.
pub async fn record(
    ctx: &Context,
    actor: &str,
    action: &str,
    target: Option<String>,
    detail: Option<String>,
) -> Result<(), StoreError> {
    let entry = AuditEntry {
        actor: actor.to_owned(),
        action: action.to_owned(),
        target,
        detail,
        occurred_at: ctx.clock.now(),
    };
    store::audit::append(&ctx.db, &entry).await
}

/// The latest entries, newest first.
///
/// # Errors
/// Store failure.
pub async fn recent(ctx: &Context, limit: u64) -> Result<Vec<AuditEntry>, StoreError> {
    store::audit::recent(&ctx.db, limit).await
}

/// A page of entries older than the entry `before`, newest first, and the next cursor.
///
/// # Errors
/// Store failure.
pub async fn page(
    ctx: &Context,
    before: Option<uuid::Uuid>,
    limit: u64,
) -> Result<(Vec<(uuid::Uuid, AuditEntry)>, Option<uuid::Uuid>), StoreError> {
    use super::paging;
    let found = store::audit::page(&ctx.db, before, paging::fetch_size(limit)).await?;
    Ok(paging::split(found, limit, |(id, _)| *id))
}
