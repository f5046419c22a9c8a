//! The events feed: one row per thing an integrator may want to hear about (a confirmation,
//! an unsubscribe, an erasure, …), numbered in commit order for `GET /api/v1/events?after=`,
//! with ids only in its payload.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Events::Seq))
                    .col(uuid_uniq(Events::Id))
                    .col(string_len(Events::EventType, 64))
                    .col(uuid_null(Events::SubscriberId))
                    .col(text(Events::Payload))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Events::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
    Id,
    EventType,
    SubscriberId,
    Payload,
    CreatedAt,
}
