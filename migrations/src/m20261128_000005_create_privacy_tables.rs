//! Data-subject rights: `address_changes` (a new address waiting for confirmation from that
//! address; goes with its subscriber) and `privacy_requests` (the data-subject-request log with
//! its Art. 12(3) deadlines; no foreign key, so the log outlives an erased profile).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(address_changes()).await?;
        manager.create_table(privacy_requests()).await?;
        manager
            .create_index(
                Index::create()
                    .name(OPEN_INDEX)
                    .table(PrivacyRequests::Table)
                    .col(PrivacyRequests::Status)
                    .col(PrivacyRequests::DueAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(SUBJECT_INDEX)
                    .table(PrivacyRequests::Table)
                    .col(PrivacyRequests::SubscriberId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PrivacyRequests::Table.into_iden(),
            AddressChanges::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

const OPEN_INDEX: &str = "ix_privacy_requests_status_due";
const SUBJECT_INDEX: &str = "ix_privacy_requests_subscriber";

#[derive(DeriveIden)]
enum Subscribers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AddressChanges {
    Table,
    Id,
    SubscriberId,
    NewEmail,
    CreatedAt,
    ExpiresAt,
}

fn address_changes() -> TableCreateStatement {
    // One pending change per person: a new request replaces the old one.
    Table::create()
        .table(AddressChanges::Table)
        .col(pk_uuid(AddressChanges::Id))
        .col(uuid_uniq(AddressChanges::SubscriberId))
        .col(string_len(AddressChanges::NewEmail, 254))
        .col(timestamp_with_time_zone(AddressChanges::CreatedAt))
        .col(timestamp_with_time_zone(AddressChanges::ExpiresAt))
        .foreign_key(
            ForeignKey::create()
                .name("fk_address_changes_subscriber")
                .from(AddressChanges::Table, AddressChanges::SubscriberId)
                .to(Subscribers::Table, Subscribers::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum PrivacyRequests {
    Table,
    Id,
    SubscriberId,
    Kind,
    Channel,
    Status,
    Actor,
    Note,
    ReceivedAt,
    DueAt,
    ClosedAt,
}

fn privacy_requests() -> TableCreateStatement {
    Table::create()
        .table(PrivacyRequests::Table)
        .col(pk_uuid(PrivacyRequests::Id))
        .col(uuid_null(PrivacyRequests::SubscriberId))
        .col(string_len(PrivacyRequests::Kind, 32))
        .col(string_len(PrivacyRequests::Channel, 32))
        .col(string_len(PrivacyRequests::Status, 16))
        .col(string_len(PrivacyRequests::Actor, 200))
        .col(string_len_null(PrivacyRequests::Note, 2000))
        .col(timestamp_with_time_zone(PrivacyRequests::ReceivedAt))
        .col(timestamp_with_time_zone(PrivacyRequests::DueAt))
        .col(timestamp_with_time_zone_null(PrivacyRequests::ClosedAt))
        .to_owned()
}
