//! sea-orm entities: one file per table, data only.

pub mod address_changes;
pub mod api_tokens;
pub mod audit_log;
pub mod campaign_lists;
pub mod campaigns;
pub mod consent_events;
pub mod consent_texts;
pub mod customer_products;
pub mod customers;
pub mod deliveries;
pub mod job_locks;
pub mod job_runs;
pub mod lists;
pub mod notice_mailings;
pub mod notice_recipients;
pub mod notices;
pub mod privacy_requests;
pub mod products;
pub mod rate_limits;
pub mod sessions;
pub mod subscribers;
pub mod subscriptions;
pub mod suppressions;
pub mod template_overrides;
pub mod template_revision;
pub mod users;
