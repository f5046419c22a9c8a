//! sea-orm entities: one file per table, data only.

pub mod address_changes;
pub mod api_tokens;
pub mod audit_log;
pub mod campaign_lists;
pub mod campaigns;
pub mod consent_events;
pub mod consent_texts;
pub mod deliveries;
pub mod job_locks;
pub mod job_runs;
pub mod lists;
pub mod privacy_requests;
pub mod sessions;
pub mod subscribers;
pub mod subscriptions;
pub mod suppressions;
pub mod users;
