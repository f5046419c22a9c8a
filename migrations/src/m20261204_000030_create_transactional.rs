//! Transactional mail: the operator's templates, and each message an integrator asked for,
//! rendered when it was asked for (its outbox row in `deliveries` has the same id).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TransactionalTemplates::Table)
                    .if_not_exists()
                    .col(uuid(TransactionalTemplates::Id).primary_key())
                    .col(string_len_uniq(TransactionalTemplates::Name, 64))
                    .col(text(TransactionalTemplates::Subject))
                    .col(text(TransactionalTemplates::BodyMarkdown))
                    .col(timestamp_with_time_zone(TransactionalTemplates::CreatedAt))
                    .col(timestamp_with_time_zone(TransactionalTemplates::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TransactionalMessages::Table)
                    .if_not_exists()
                    .col(uuid(TransactionalMessages::Id).primary_key())
                    .col(string_len(TransactionalMessages::Template, 64))
                    .col(uuid(TransactionalMessages::SubscriberId))
                    .col(text(TransactionalMessages::Subject))
                    .col(text(TransactionalMessages::TextBody))
                    .col(text(TransactionalMessages::HtmlBody))
                    .col(string_len(TransactionalMessages::RequestedBy, 200))
                    .col(timestamp_with_time_zone(TransactionalMessages::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_transactional_messages_subscriber")
                    .table(TransactionalMessages::Table)
                    .col(TransactionalMessages::SubscriberId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TransactionalMessages::Table).to_owned())
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(TransactionalTemplates::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum TransactionalTemplates {
    Table,
    Id,
    Name,
    Subject,
    BodyMarkdown,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TransactionalMessages {
    Table,
    Id,
    Template,
    SubscriberId,
    Subject,
    TextBody,
    HtmlBody,
    RequestedBy,
    CreatedAt,
}
