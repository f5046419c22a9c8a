//! The audit log of admin changes: who did what to which record, and when.

use crate::{
    startup::AppState,
    store::{self, StoreError, audit::AuditEntry},
};

/// Appends an entry for a change `actor` made now.
///
/// # Errors
/// Store failure.
pub async fn record(
    state: &AppState,
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
        occurred_at: state.clock.now(),
    };
    store::audit::append(&state.db, &entry).await
}

/// The latest entries, newest first.
///
/// # Errors
/// Store failure.
pub async fn recent(state: &AppState, limit: u64) -> Result<Vec<AuditEntry>, StoreError> {
    store::audit::recent(&state.db, limit).await
}

/// A page of entries older than the entry `before`, newest first, and the next cursor.
///
/// # Errors
/// Store failure.
pub async fn page(
    state: &AppState,
    before: Option<uuid::Uuid>,
    limit: u64,
) -> Result<(Vec<(uuid::Uuid, AuditEntry)>, Option<uuid::Uuid>), StoreError> {
    use super::paging;
    let found = store::audit::page(&state.db, before, paging::fetch_size(limit)).await?;
    Ok(paging::split(found, limit, |(id, _)| *id))
}
