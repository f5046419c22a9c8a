//! What the retention policy needs: `consent_events.subject_hash` (the keyed hash of an
//! erased person's address, so their pseudonymised history can still be found by address),
//! `subscribers.review_flagged_at`, and an index to look a pseudonymised history up by hash.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(ConsentEvents::Table)
                    .add_column(string_len_null(ConsentEvents::SubjectHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Subscribers::Table)
                    .add_column(timestamp_with_time_zone_null(Subscribers::ReviewFlaggedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(SUBJECT_INDEX)
                    .table(ConsentEvents::Table)
                    .col(ConsentEvents::SubjectHash)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The index first: SQLite refuses to drop an indexed column.
        manager
            .drop_index(
                Index::drop()
                    .name(SUBJECT_INDEX)
                    .table(ConsentEvents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Subscribers::Table)
                    .drop_column(Subscribers::ReviewFlaggedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ConsentEvents::Table)
                    .drop_column(ConsentEvents::SubjectHash)
                    .to_owned(),
            )
            .await
    }
}

const SUBJECT_INDEX: &str = "ix_consent_events_subject_hash";

#[derive(DeriveIden)]
enum ConsentEvents {
    Table,
    SubjectHash,
}

#[derive(DeriveIden)]
enum Subscribers {
    Table,
    ReviewFlaggedAt,
}
