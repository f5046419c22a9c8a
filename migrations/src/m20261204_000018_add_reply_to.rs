//! Where replies go: a nullable `reply_to` address on `lists` and on `campaigns` (the
//! `Reply-To` header; the campaign's wins over its list's, the list's over `mail.reply_to`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// RFC 5321 §4.5.3.1.3: an address is at most 254 octets.
const ADDRESS_LEN: u32 = 254;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One statement per table: SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Lists::Table)
                    .add_column(string_len_null(Lists::ReplyTo, ADDRESS_LEN))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Campaigns::Table)
                    .add_column(string_len_null(Campaigns::ReplyTo, ADDRESS_LEN))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Campaigns::Table)
                    .drop_column(Campaigns::ReplyTo)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Lists::Table)
                    .drop_column(Lists::ReplyTo)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Lists {
    Table,
    ReplyTo,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    ReplyTo,
}
