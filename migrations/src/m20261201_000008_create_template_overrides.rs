//! E-mail template overrides edited in the admin UI: `template_overrides` (one row per
//! overridden file, keyed by its path below `emails/`, e.g. `en/welcome.html`) and
//! `template_revision` (one row, bumped on every save and revert, so every instance sees a
//! change with one cheap read per outbox batch).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TemplateOverrides::Table)
                    .if_not_exists()
                    .col(string_len(TemplateOverrides::Path, 100).primary_key())
                    .col(text(TemplateOverrides::Source))
                    .col(timestamp_with_time_zone(TemplateOverrides::UpdatedAt))
                    .col(string_len(TemplateOverrides::UpdatedBy, 300))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TemplateRevision::Table)
                    .if_not_exists()
                    .col(integer(TemplateRevision::Id).primary_key())
                    .col(big_integer(TemplateRevision::Revision))
                    .to_owned(),
            )
            .await?;
        let row = Query::insert()
            .into_table(TemplateRevision::Table)
            .columns([TemplateRevision::Id, TemplateRevision::Revision])
            .values([1.into(), 0i64.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .to_owned();
        manager.exec_stmt(row).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TemplateRevision::Table.into_iden(),
            TemplateOverrides::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum TemplateOverrides {
    Table,
    Path,
    Source,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum TemplateRevision {
    Table,
    Id,
    Revision,
}
