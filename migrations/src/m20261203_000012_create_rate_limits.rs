//! Rate-limit windows kept in the database, so that a limit survives a restart and every
//! instance counts against the same window: one row per limit and keyed hash of what is
//! counted (a client network, an address, an account), with the window in Unix seconds.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateLimits::Table)
                    .col(string_len(RateLimits::Scope, 40))
                    .col(string_len(RateLimits::KeyHash, 64))
                    .col(big_integer(RateLimits::WindowStart))
                    .col(big_integer(RateLimits::WindowEnd))
                    .col(integer(RateLimits::Hits))
                    .primary_key(
                        Index::create()
                            .col(RateLimits::Scope)
                            .col(RateLimits::KeyHash),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rate_limits_window_end")
                    .table(RateLimits::Table)
                    .col(RateLimits::WindowEnd)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RateLimits::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Scope,
    KeyHash,
    WindowStart,
    WindowEnd,
    Hits,
}
