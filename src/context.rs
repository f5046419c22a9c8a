//! What the services read: the database, the clock, the keys, the public links, the settings
//! and the e-mail templates. Built without HTTP or SMTP, so the CLI and the scheduler can have
//! it alone; the delivery engine and the web layer each hold one beside their own parts.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::{
    clock::Clock,
    config::Settings,
    mail::{Links, Templates},
    signing::{AddressHasher, Keyring},
    store::{self, Database, StoreError},
};

/// The services' context; cheap to clone.
#[derive(Clone)]
pub struct Context {
    /// Database pool.
    pub db: Database,
    /// The connection write transactions take turns on (see `store::connect_writer`).
    pub writer: Database,
    /// The connection bulk imports write through (see `store::connect_bulk`).
    pub bulk_db: Database,
    /// Parsed settings.
    pub settings: Arc<Settings>,
    /// Link signing keys.
    pub keyring: Arc<Keyring>,
    /// Keyed hash of addresses, the key of suppressions.
    pub address_hasher: Arc<AddressHasher>,
    /// Time source.
    pub clock: Clock,
    /// Builds the absolute URLs that e-mails and pages link to.
    pub links: Links,
    /// The system e-mail templates, with the stored overrides applied.
    pub templates: Arc<Templates>,
    /// Wakes the delivery worker when mail was enqueued.
    pub outbox: Arc<Notify>,
}

impl Context {
    /// Applies the stored template overrides if their revision changed since the last look:
    /// one read of the revision counter per call, a reload only after a save or revert on
    /// this or another instance.
    ///
    /// # Errors
    /// Store failure (the templates in use stay as they were).
    pub async fn refresh_templates(&self) -> Result<(), StoreError> {
        // The revision is read before the overrides: a save in between makes the next look
        // reload again, never keep an old set under a new number.
        let revision = store::templates::revision(&self.db).await?;
        if self.templates.revision() == Some(revision) {
            return Ok(());
        }
        let overrides: Vec<(String, String)> = store::templates::all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.path, o.source))
            .collect();
        for (path, error) in self.templates.apply(revision, &overrides) {
            tracing::error!(
                template.path = %path,
                %error,
                "a stored e-mail template override does not work; the built-in is used instead"
            );
        }
        Ok(())
    }
}
