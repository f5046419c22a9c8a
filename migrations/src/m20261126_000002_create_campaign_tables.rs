//! Campaigns and their target lists, the suppression list (keyed hashes of addresses), and
//! the scheduler's job runs and locks.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(campaigns()).await?;
        manager.create_table(campaign_lists()).await?;
        manager.create_table(suppressions()).await?;
        manager.create_table(job_runs()).await?;
        manager.create_table(job_locks()).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_deliveries_campaign_status")
                    .table(Deliveries::Table)
                    .col(Deliveries::CampaignId)
                    .col(Deliveries::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_job_runs_job_started")
                    .table(JobRuns::Table)
                    .col(JobRuns::Job)
                    .col(JobRuns::StartedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_deliveries_campaign_status")
                    .table(Deliveries::Table)
                    .to_owned(),
            )
            .await?;
        for table in [
            "job_locks",
            "job_runs",
            "suppressions",
            "campaign_lists",
            "campaigns",
        ] {
            manager
                .drop_table(
                    Table::drop()
                        .table(Alias::new(table))
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    CampaignId,
    Status,
}

#[derive(DeriveIden)]
enum Lists {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    Name,
    Subject,
    BodyMarkdown,
    FromHeader,
    Status,
    SendAt,
    PausedReason,
    FanOutCursor,
    FannedOutAt,
    StartedAt,
    FinishedAt,
    CreatedAt,
    UpdatedAt,
}

fn campaigns() -> TableCreateStatement {
    Table::create()
        .table(Campaigns::Table)
        .col(pk_uuid(Campaigns::Id))
        .col(string_len(Campaigns::Name, 200))
        .col(string_len(Campaigns::Subject, 300))
        .col(text(Campaigns::BodyMarkdown))
        .col(string_len_null(Campaigns::FromHeader, 300))
        .col(string_len(Campaigns::Status, 16))
        .col(timestamp_with_time_zone_null(Campaigns::SendAt))
        .col(text_null(Campaigns::PausedReason))
        .col(uuid_null(Campaigns::FanOutCursor))
        .col(timestamp_with_time_zone_null(Campaigns::FannedOutAt))
        .col(timestamp_with_time_zone_null(Campaigns::StartedAt))
        .col(timestamp_with_time_zone_null(Campaigns::FinishedAt))
        .col(timestamp_with_time_zone(Campaigns::CreatedAt))
        .col(timestamp_with_time_zone(Campaigns::UpdatedAt))
        .to_owned()
}

#[derive(DeriveIden)]
enum CampaignLists {
    Table,
    CampaignId,
    ListId,
}

fn campaign_lists() -> TableCreateStatement {
    Table::create()
        .table(CampaignLists::Table)
        .col(uuid(CampaignLists::CampaignId))
        .col(uuid(CampaignLists::ListId))
        .primary_key(
            Index::create()
                .col(CampaignLists::CampaignId)
                .col(CampaignLists::ListId),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_campaign_lists_campaign")
                .from(CampaignLists::Table, CampaignLists::CampaignId)
                .to(Campaigns::Table, Campaigns::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_campaign_lists_list")
                .from(CampaignLists::Table, CampaignLists::ListId)
                .to(Lists::Table, Lists::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum Suppressions {
    Table,
    AddressHash,
    Reason,
    Detail,
    CreatedAt,
}

fn suppressions() -> TableCreateStatement {
    // Keyed by an HMAC of the normalised address, so an erased person stays unmailed
    // without the address being kept (GDPR Art. 17 with Art. 21(3)).
    Table::create()
        .table(Suppressions::Table)
        .col(string_len(Suppressions::AddressHash, 64).primary_key())
        .col(string_len(Suppressions::Reason, 32))
        .col(text_null(Suppressions::Detail))
        .col(timestamp_with_time_zone(Suppressions::CreatedAt))
        .to_owned()
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Id,
    Job,
    Status,
    Report,
    StartedAt,
    FinishedAt,
}

fn job_runs() -> TableCreateStatement {
    Table::create()
        .table(JobRuns::Table)
        .col(pk_uuid(JobRuns::Id))
        .col(string_len(JobRuns::Job, 64))
        .col(string_len(JobRuns::Status, 16))
        .col(text(JobRuns::Report))
        .col(timestamp_with_time_zone(JobRuns::StartedAt))
        .col(timestamp_with_time_zone(JobRuns::FinishedAt))
        .to_owned()
}

#[derive(DeriveIden)]
enum JobLocks {
    Table,
    Job,
    Holder,
    LockedUntil,
}

fn job_locks() -> TableCreateStatement {
    Table::create()
        .table(JobLocks::Table)
        .col(string_len(JobLocks::Job, 64).primary_key())
        .col(string_len(JobLocks::Holder, 64))
        .col(timestamp_with_time_zone(JobLocks::LockedUntil))
        .to_owned()
}
