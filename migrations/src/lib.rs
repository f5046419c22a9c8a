//! Bulletin's schema migrations: one file per migration, never edited once merged.
//! This crate must not depend on `bulletin` or its entities.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_subscriber_tables;
mod m20261126_000002_create_campaign_tables;
mod m20261127_000003_add_consent_evidence;
mod m20261127_000004_add_retention_columns;
mod m20261128_000005_create_privacy_tables;
mod m20261129_000006_create_notice_tables;
mod m20261130_000007_create_user_tables;
mod m20261201_000008_create_template_overrides;
mod m20261201_000009_add_consent_event_campaign;
mod m20261202_000010_partial_ledger_indexes;
mod m20261203_000011_add_user_disabled_at;
mod m20261203_000012_create_rate_limits;
mod m20261203_000013_add_user_two_factor;
mod m20261203_000014_add_delivery_bounce;
mod m20261203_000015_add_suppression_subscriber;
mod m20261204_000016_index_suppression_subscriber;
mod m20261204_000017_create_backfills;
mod m20261204_000018_add_reply_to;
mod m20261204_000019_add_user_time_zone;
mod m20261204_000020_add_user_locale;
mod m20261204_000021_add_campaign_layout;
mod m20261204_000022_create_unsubscribe_reasons;
mod m20261204_000023_add_campaign_translations;
mod m20261204_000024_create_segments;
mod m20261204_000025_add_campaign_archive;
mod m20261204_000026_create_events;
mod m20261204_000027_create_hook_tables;
mod m20261204_000030_create_transactional;
mod m20261204_000032_create_idempotency_keys;
mod m20261204_000033_create_campaign_delivery_counts;

/// Applies Bulletin's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_subscriber_tables::Migration),
            Box::new(m20261126_000002_create_campaign_tables::Migration),
            Box::new(m20261127_000003_add_consent_evidence::Migration),
            Box::new(m20261127_000004_add_retention_columns::Migration),
            Box::new(m20261128_000005_create_privacy_tables::Migration),
            Box::new(m20261129_000006_create_notice_tables::Migration),
            Box::new(m20261130_000007_create_user_tables::Migration),
            Box::new(m20261201_000008_create_template_overrides::Migration),
            Box::new(m20261201_000009_add_consent_event_campaign::Migration),
            Box::new(m20261202_000010_partial_ledger_indexes::Migration),
            Box::new(m20261203_000011_add_user_disabled_at::Migration),
            Box::new(m20261203_000012_create_rate_limits::Migration),
            Box::new(m20261203_000013_add_user_two_factor::Migration),
            Box::new(m20261203_000014_add_delivery_bounce::Migration),
            Box::new(m20261203_000015_add_suppression_subscriber::Migration),
            Box::new(m20261204_000016_index_suppression_subscriber::Migration),
            Box::new(m20261204_000017_create_backfills::Migration),
            Box::new(m20261204_000018_add_reply_to::Migration),
            Box::new(m20261204_000019_add_user_time_zone::Migration),
            Box::new(m20261204_000020_add_user_locale::Migration),
            Box::new(m20261204_000021_add_campaign_layout::Migration),
            Box::new(m20261204_000022_create_unsubscribe_reasons::Migration),
            Box::new(m20261204_000023_add_campaign_translations::Migration),
            Box::new(m20261204_000024_create_segments::Migration),
            Box::new(m20261204_000025_add_campaign_archive::Migration),
            Box::new(m20261204_000026_create_events::Migration),
            Box::new(m20261204_000027_create_hook_tables::Migration),
            Box::new(m20261204_000030_create_transactional::Migration),
            Box::new(m20261204_000032_create_idempotency_keys::Migration),
            Box::new(m20261204_000033_create_campaign_delivery_counts::Migration),
        ]
    }
}
