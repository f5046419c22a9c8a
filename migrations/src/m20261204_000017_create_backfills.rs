//! The one-time data repairs that have run: one row per repair, by name, so that a repair
//! which needs the application's keys (and so cannot be a migration) runs once and is then
//! skipped for the price of one look-up.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Backfills::Table)
                    .col(string_len(Backfills::Name, 64).primary_key())
                    .col(timestamp_with_time_zone(Backfills::DoneAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Backfills::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Backfills {
    Table,
    Name,
    DoneAt,
}
