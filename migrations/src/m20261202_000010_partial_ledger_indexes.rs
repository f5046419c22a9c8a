//! The ledger's indexes on `subject_hash` and `campaign_id` cover only the rows that have one:
//! most events have neither (every imported subscription writes one), and an index entry for
//! each of them cost a bulk import two B-tree inserts per row for nothing. Every query that
//! uses these indexes asks for a value (`= ?`), which implies `IS NOT NULL`, so both databases
//! still use them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SUBJECT_INDEX: &str = "ix_consent_events_subject_hash";
const CAMPAIGN_INDEX: &str = "consent_events_campaign_idx";

/// The two indexes, each either over every row or only over the rows with a value.
fn indexes(partial: bool) -> [IndexCreateStatement; 2] {
    let mut subject = Index::create()
        .name(SUBJECT_INDEX)
        .table(ConsentEvents::Table)
        .col(ConsentEvents::SubjectHash)
        .to_owned();
    let mut campaign = Index::create()
        .name(CAMPAIGN_INDEX)
        .table(ConsentEvents::Table)
        .col(ConsentEvents::CampaignId)
        .col(ConsentEvents::OccurredAt)
        .to_owned();
    if partial {
        subject.and_where(Expr::col(ConsentEvents::SubjectHash).is_not_null());
        campaign.and_where(Expr::col(ConsentEvents::CampaignId).is_not_null());
    }
    [subject, campaign]
}

async fn replace(manager: &SchemaManager<'_>, partial: bool) -> Result<(), DbErr> {
    for name in [SUBJECT_INDEX, CAMPAIGN_INDEX] {
        manager
            .drop_index(
                Index::drop()
                    .name(name)
                    .table(ConsentEvents::Table)
                    .to_owned(),
            )
            .await?;
    }
    for index in indexes(partial) {
        manager.create_index(index).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too: all or nothing, and on one connection, whose view of the
    /// schema sees its own drop (on another pooled connection, `CREATE INDEX` could still see
    /// the index and fail).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace(manager, false).await
    }
}

#[derive(DeriveIden)]
enum ConsentEvents {
    Table,
    SubjectHash,
    CampaignId,
    OccurredAt,
}
