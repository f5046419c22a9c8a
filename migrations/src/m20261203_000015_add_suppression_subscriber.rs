//! The person a suppression was made for, while they exist (`null` once erased or when not
//! known), so that the suppression list can name them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Suppressions::Table)
                    .add_column(uuid_null(Suppressions::SubscriberId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Suppressions::Table)
                    .drop_column(Suppressions::SubscriberId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Suppressions {
    Table,
    SubscriberId,
}
