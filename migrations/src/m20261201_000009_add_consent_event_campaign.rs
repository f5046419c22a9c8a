//! The campaign whose e-mail link a person left by: a nullable `consent_events.campaign_id`
//! (set on `unsubscribed`/`objected` events from a campaign's unsubscribe link), indexed so
//! a campaign's "unsubscribed because of it" figure is one index range.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "consent_events_campaign_idx";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ConsentEvents::Table)
                    .add_column(uuid_null(ConsentEvents::CampaignId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(ConsentEvents::Table)
                    .col(ConsentEvents::CampaignId)
                    .col(ConsentEvents::OccurredAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(ConsentEvents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ConsentEvents::Table)
                    .drop_column(ConsentEvents::CampaignId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ConsentEvents {
    Table,
    CampaignId,
    OccurredAt,
}
