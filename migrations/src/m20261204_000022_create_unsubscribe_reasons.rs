//! Why people left: the optional reason given on the unsubscribe page, by campaign and list.
//! Nothing in a row names the person (the free text is theirs to fill, and is kept apart
//! from them).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UnsubscribeReasons::Table)
                    .if_not_exists()
                    .col(uuid(UnsubscribeReasons::Id).primary_key())
                    .col(uuid_null(UnsubscribeReasons::CampaignId))
                    .col(uuid(UnsubscribeReasons::ListId))
                    .col(string_len(UnsubscribeReasons::Reason, 32))
                    .col(text_null(UnsubscribeReasons::Comment))
                    .col(timestamp_with_time_zone(UnsubscribeReasons::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_unsubscribe_reasons_campaign")
                    .table(UnsubscribeReasons::Table)
                    .col(UnsubscribeReasons::CampaignId)
                    .col(UnsubscribeReasons::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UnsubscribeReasons::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum UnsubscribeReasons {
    Table,
    Id,
    CampaignId,
    ListId,
    Reason,
    Comment,
    CreatedAt,
}
