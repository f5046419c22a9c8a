//! Keeps the e-mail templates of this process in step with the overrides in the database:
//! one read of the revision counter per outbox batch (never per message), and a reload of
//! the overrides only when another save or revert changed it, on this or another instance.

use crate::{
    startup::AppState,
    store::{self, StoreError},
};

/// Applies the stored overrides if their revision changed since the last look.
///
/// # Errors
/// Store failure (the templates in use stay as they were).
pub async fn refresh(state: &AppState) -> Result<(), StoreError> {
    // The revision is read before the overrides: a save in between makes the next look
    // reload again, never keep an old set under a new number.
    let revision = store::templates::revision(&state.db).await?;
    if state.templates.revision() == Some(revision) {
        return Ok(());
    }
    let overrides: Vec<(String, String)> = store::templates::all(&state.db)
        .await?
        .into_iter()
        .map(|o| (o.path, o.source))
        .collect();
    for (path, error) in state.templates.apply(revision, &overrides) {
        tracing::error!(
            template.path = %path,
            %error,
            "a stored e-mail template override does not work; the built-in is used instead"
        );
    }
    Ok(())
}
