//! The original evidence of consent on ledger events: a nullable JSON text column
//! `consent_events.evidence` (e.g. `{"consent_at":…,"consent_source":…}` for imports).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ConsentEvents::Table)
                    .add_column(text_null(ConsentEvents::Evidence))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ConsentEvents::Table)
                    .drop_column(ConsentEvents::Evidence)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ConsentEvents {
    Table,
    Evidence,
}
