//! Domain services: one pub fn per use case, each owning its transaction. Mail is only
//! enqueued here (inside the transaction); the delivery worker sends it.

pub mod api_tokens;
pub mod archive;
pub mod audit;
pub mod campaigns;
pub mod csv_export;
pub mod customers;
pub mod dashboard;
pub mod health;
pub mod hooks;
pub mod idempotency;
pub mod imports;
pub mod inbound;
pub mod jobs;
pub mod lists;
pub mod notices;
pub mod paging;
pub mod privacy;
pub mod products;
pub mod rate_limit;
pub mod retention;
pub mod segments;
pub mod subscribers;
pub mod subscriptions;
pub mod suppressions;
pub mod templates;
pub mod transactional;
pub mod two_factor;
pub mod users;
pub mod webhooks;

use std::net::IpAddr;

use crate::domain::{Locale, privacy::anonymise_ip};

/// Who made a request and how, as the consent ledger records it.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    /// Client address (anonymised before storage).
    pub ip: Option<IpAddr>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Negotiated language.
    pub locale: Locale,
}

/// Whether `err` comes from a busy database: nothing was changed and the request may be
/// repeated shortly (the web layer answers 503 with `Retry-After`).
pub fn database_busy(err: &(dyn std::error::Error + 'static)) -> bool {
    crate::store::is_busy(err)
}

/// Seconds a client is asked to wait when the database was busy.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

impl Requester {
    /// The network of the client, never the full address.
    pub fn ip_anon(&self) -> Option<String> {
        self.ip.map(anonymise_ip)
    }

    /// The user agent, cut to what the ledger keeps.
    pub fn user_agent(&self) -> Option<String> {
        self.user_agent
            .as_ref()
            .map(|ua| ua.chars().take(512).collect())
    }
}
