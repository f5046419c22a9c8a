//! Outgoing webhooks: the endpoints integrators registered, the outbox of one row per
//! (endpoint, event) with its retries and lease, and the log of every delivery attempt.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HookEndpoints::Table)
                    .if_not_exists()
                    .col(uuid(HookEndpoints::Id).primary_key())
                    .col(text(HookEndpoints::Url))
                    .col(text(HookEndpoints::Events))
                    .col(text(HookEndpoints::Secret))
                    .col(boolean(HookEndpoints::Enabled))
                    .col(timestamp_with_time_zone_null(HookEndpoints::FailingSince))
                    .col(timestamp_with_time_zone_null(HookEndpoints::DisabledAt))
                    .col(timestamp_with_time_zone(HookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone(HookEndpoints::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HookDeliveries::Table)
                    .if_not_exists()
                    .col(big_pk_auto(HookDeliveries::Id))
                    .col(uuid(HookDeliveries::EndpointId))
                    .col(big_integer(HookDeliveries::EventSeq))
                    .col(uuid_null(HookDeliveries::SubscriberId))
                    .col(string_len(HookDeliveries::Status, 16))
                    .col(integer(HookDeliveries::Attempts))
                    .col(timestamp_with_time_zone(HookDeliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(HookDeliveries::LeaseUntil))
                    .col(timestamp_with_time_zone_null(HookDeliveries::DeliveredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(HookDeliveries::Table, HookDeliveries::EndpointId)
                            .to(HookEndpoints::Table, HookEndpoints::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("hook_deliveries_endpoint_event")
                    .table(HookDeliveries::Table)
                    .col(HookDeliveries::EndpointId)
                    .col(HookDeliveries::EventSeq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("hook_deliveries_due")
                    .table(HookDeliveries::Table)
                    .col(HookDeliveries::Status)
                    .col(HookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HookAttempts::Table)
                    .if_not_exists()
                    .col(big_pk_auto(HookAttempts::Id))
                    .col(uuid(HookAttempts::EndpointId))
                    .col(big_integer(HookAttempts::EventSeq))
                    .col(integer(HookAttempts::Attempt))
                    .col(integer_null(HookAttempts::StatusCode))
                    .col(text_null(HookAttempts::Error))
                    .col(timestamp_with_time_zone(HookAttempts::AttemptedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(HookAttempts::Table, HookAttempts::EndpointId)
                            .to(HookEndpoints::Table, HookEndpoints::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("hook_attempts_endpoint")
                    .table(HookAttempts::Table)
                    .col(HookAttempts::EndpointId)
                    .col(HookAttempts::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            HookAttempts::Table.into_iden(),
            HookDeliveries::Table.into_iden(),
            HookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum HookEndpoints {
    Table,
    Id,
    Url,
    Events,
    Secret,
    Enabled,
    FailingSince,
    DisabledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum HookDeliveries {
    Table,
    Id,
    EndpointId,
    EventSeq,
    SubscriberId,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum HookAttempts {
    Table,
    Id,
    EndpointId,
    EventSeq,
    Attempt,
    StatusCode,
    Error,
    AttemptedAt,
}
