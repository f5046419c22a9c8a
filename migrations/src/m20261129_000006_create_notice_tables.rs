//! Product notices: `products`, `customers` (the customer side of a subscriber) and
//! `customer_products` (the targeting base), `notices` (the typed fields of a notice
//! campaign, one row per revision), `notice_mailings` (which campaign carries a notice or one
//! of its reminders) and `notice_recipients` (who was sent a notice, and their acknowledgement).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(products()).await?;
        manager.create_table(customers()).await?;
        manager.create_table(customer_products()).await?;
        manager.create_table(notices()).await?;
        manager.create_table(notice_mailings()).await?;
        manager.create_table(notice_recipients()).await?;
        manager
            .create_index(
                Index::create()
                    .name(NUMBER_INDEX)
                    .table(Notices::Table)
                    .col(Notices::Number)
                    .col(Notices::Revision)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(RECIPIENT_INDEX)
                    .table(NoticeRecipients::Table)
                    .col(NoticeRecipients::NoticeId)
                    .col(NoticeRecipients::SubscriberId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(PRODUCT_INDEX)
                    .table(CustomerProducts::Table)
                    .col(CustomerProducts::ProductId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            NoticeRecipients::Table.into_iden(),
            NoticeMailings::Table.into_iden(),
            Notices::Table.into_iden(),
            CustomerProducts::Table.into_iden(),
            Customers::Table.into_iden(),
            Products::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

const NUMBER_INDEX: &str = "ux_notices_number_revision";
const RECIPIENT_INDEX: &str = "ux_notice_recipients_notice_subscriber";
const PRODUCT_INDEX: &str = "ix_customer_products_product";

#[derive(DeriveIden)]
enum Subscribers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    PartNumber,
    Name,
    ProductLine,
    CreatedAt,
    UpdatedAt,
}

fn products() -> TableCreateStatement {
    Table::create()
        .table(Products::Table)
        .col(pk_uuid(Products::Id))
        .col(string_len_uniq(Products::PartNumber, 100))
        .col(string_len(Products::Name, 200))
        .col(string_len(Products::ProductLine, 100))
        .col(timestamp_with_time_zone(Products::CreatedAt))
        .col(timestamp_with_time_zone(Products::UpdatedAt))
        .to_owned()
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    SubscriberId,
    Company,
    Source,
    CreatedAt,
    UpdatedAt,
}

fn customers() -> TableCreateStatement {
    Table::create()
        .table(Customers::Table)
        .col(pk_uuid(Customers::SubscriberId))
        .col(string_len_null(Customers::Company, 200))
        .col(string_len(Customers::Source, 200))
        .col(timestamp_with_time_zone(Customers::CreatedAt))
        .col(timestamp_with_time_zone(Customers::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .name("fk_customers_subscriber")
                .from(Customers::Table, Customers::SubscriberId)
                .to(Subscribers::Table, Subscribers::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum CustomerProducts {
    Table,
    SubscriberId,
    ProductId,
    Source,
    CreatedAt,
}

fn customer_products() -> TableCreateStatement {
    Table::create()
        .table(CustomerProducts::Table)
        .col(uuid(CustomerProducts::SubscriberId))
        .col(uuid(CustomerProducts::ProductId))
        .col(string_len(CustomerProducts::Source, 200))
        .col(timestamp_with_time_zone(CustomerProducts::CreatedAt))
        .primary_key(
            Index::create()
                .col(CustomerProducts::SubscriberId)
                .col(CustomerProducts::ProductId),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_customer_products_customer")
                .from(CustomerProducts::Table, CustomerProducts::SubscriberId)
                .to(Customers::Table, Customers::SubscriberId)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_customer_products_product")
                .from(CustomerProducts::Table, CustomerProducts::ProductId)
                .to(Products::Table, Products::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum Notices {
    Table,
    Id,
    CampaignId,
    Kind,
    Number,
    Revision,
    Fields,
    SupersedesId,
    AckDeadline,
    PublishedAt,
    CreatedAt,
}

fn notices() -> TableCreateStatement {
    Table::create()
        .table(Notices::Table)
        .col(pk_uuid(Notices::Id))
        .col(uuid_uniq(Notices::CampaignId))
        .col(string_len(Notices::Kind, 16))
        .col(string_len(Notices::Number, 64))
        .col(integer(Notices::Revision))
        .col(text(Notices::Fields))
        .col(uuid_null(Notices::SupersedesId))
        .col(timestamp_with_time_zone_null(Notices::AckDeadline))
        .col(timestamp_with_time_zone_null(Notices::PublishedAt))
        .col(timestamp_with_time_zone(Notices::CreatedAt))
        .foreign_key(
            ForeignKey::create()
                .name("fk_notices_campaign")
                .from(Notices::Table, Notices::CampaignId)
                .to(Campaigns::Table, Campaigns::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum NoticeMailings {
    Table,
    CampaignId,
    NoticeId,
    Purpose,
    CreatedAt,
}

fn notice_mailings() -> TableCreateStatement {
    Table::create()
        .table(NoticeMailings::Table)
        .col(pk_uuid(NoticeMailings::CampaignId))
        .col(uuid(NoticeMailings::NoticeId))
        .col(string_len(NoticeMailings::Purpose, 16))
        .col(timestamp_with_time_zone(NoticeMailings::CreatedAt))
        .foreign_key(
            ForeignKey::create()
                .name("fk_notice_mailings_campaign")
                .from(NoticeMailings::Table, NoticeMailings::CampaignId)
                .to(Campaigns::Table, Campaigns::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_notice_mailings_notice")
                .from(NoticeMailings::Table, NoticeMailings::NoticeId)
                .to(Notices::Table, Notices::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum NoticeRecipients {
    Table,
    Id,
    NoticeId,
    SubscriberId,
    SubscriptionId,
    FirstNotice,
    AckStatus,
    AckComment,
    AckAt,
    AckSource,
    RemindersSent,
    CreatedAt,
}

fn notice_recipients() -> TableCreateStatement {
    Table::create()
        .table(NoticeRecipients::Table)
        .col(pk_uuid(NoticeRecipients::Id))
        .col(uuid(NoticeRecipients::NoticeId))
        .col(uuid(NoticeRecipients::SubscriberId))
        .col(uuid(NoticeRecipients::SubscriptionId))
        .col(boolean(NoticeRecipients::FirstNotice))
        .col(string_len_null(NoticeRecipients::AckStatus, 32))
        .col(string_len_null(NoticeRecipients::AckComment, 2000))
        .col(timestamp_with_time_zone_null(NoticeRecipients::AckAt))
        .col(string_len_null(NoticeRecipients::AckSource, 32))
        .col(integer(NoticeRecipients::RemindersSent))
        .col(timestamp_with_time_zone(NoticeRecipients::CreatedAt))
        .foreign_key(
            ForeignKey::create()
                .name("fk_notice_recipients_notice")
                .from(NoticeRecipients::Table, NoticeRecipients::NoticeId)
                .to(Notices::Table, Notices::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_notice_recipients_subscriber")
                .from(NoticeRecipients::Table, NoticeRecipients::SubscriberId)
                .to(Subscribers::Table, Subscribers::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}
