//! Integration tests: each starts the real server on a random port with its own database
//! (SQLite, or PostgreSQL when BULLETIN_TEST_DATABASE_URL is set) and a real SMTP listener.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

mod accessibility;
mod admin;
mod admin_attributes;
mod admin_campaign_figures;
mod admin_campaigns;
mod admin_dashboard;
mod admin_language;
mod admin_login;
mod admin_notices;
mod admin_retention;
mod admin_segments;
mod admin_templates;
mod admin_time_zone;
mod admin_transactional;
mod admin_watching;
mod api;
mod api_errors;
mod api_subscriptions;
mod archive;
mod attributes;
mod bounces;
mod browser;
mod campaigns;
mod conditional_requests;
mod confirm;
mod customers;

mod delivery;
mod delivery_counts;
mod dkim;
mod headers;
mod html_validity;
mod idempotency;
mod import;
mod keys;
mod layouts;
mod leaving_reasons;
mod locale_files;
mod mail_bombing;
mod mailto;
mod migrations;
mod notice_translations;
mod notices;
mod nul;
mod operations;
mod outgoing_webhooks;
mod privacy;
mod reply_to;
mod resilience;
mod retention;
mod segments;
mod subscribe;
mod suppressions;
mod transactional;
mod translations;
mod unsubscribe;
mod users;
mod webhooks;
