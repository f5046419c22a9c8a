//! The subscriber journey's tables: subscribers, lists, subscriptions, the consent ledger,
//! consent texts, the delivery outbox and API tokens.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(subscribers()).await?;
        manager.create_table(lists()).await?;
        manager.create_table(consent_texts()).await?;
        manager.create_table(subscriptions()).await?;
        manager.create_table(consent_events()).await?;
        manager.create_table(deliveries()).await?;
        manager.create_table(api_tokens()).await?;
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Alias::new("api_tokens"),
            Alias::new("deliveries"),
            Alias::new("consent_events"),
            Alias::new("subscriptions"),
            Alias::new("consent_texts"),
            Alias::new("lists"),
            Alias::new("subscribers"),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Subscribers {
    Table,
    Id,
    Email,
    Name,
    Locale,
    Status,
    Attributes,
    CreatedAt,
    UpdatedAt,
    LastActivityAt,
}

fn subscribers() -> TableCreateStatement {
    Table::create()
        .table(Subscribers::Table)
        .col(pk_uuid(Subscribers::Id))
        .col(string_len_uniq(Subscribers::Email, 254))
        .col(string_len(Subscribers::Name, 200))
        .col(string_len(Subscribers::Locale, 16))
        .col(string_len(Subscribers::Status, 16))
        .col(json(Subscribers::Attributes))
        .col(timestamp_with_time_zone(Subscribers::CreatedAt))
        .col(timestamp_with_time_zone(Subscribers::UpdatedAt))
        .col(timestamp_with_time_zone(Subscribers::LastActivityAt))
        .to_owned()
}

#[derive(DeriveIden)]
enum Lists {
    Table,
    Id,
    Slug,
    Name,
    Description,
    Kind,
    LegalBasis,
    OptIn,
    Visibility,
    ConsentText,
    WelcomeMessage,
    CreatedAt,
    UpdatedAt,
}

fn lists() -> TableCreateStatement {
    Table::create()
        .table(Lists::Table)
        .col(pk_uuid(Lists::Id))
        .col(string_len_uniq(Lists::Slug, 64))
        .col(string_len(Lists::Name, 200))
        .col(text(Lists::Description))
        .col(string_len(Lists::Kind, 32))
        .col(string_len(Lists::LegalBasis, 32))
        .col(string_len(Lists::OptIn, 16))
        .col(string_len(Lists::Visibility, 16))
        .col(text_null(Lists::ConsentText))
        .col(text_null(Lists::WelcomeMessage))
        .col(timestamp_with_time_zone(Lists::CreatedAt))
        .col(timestamp_with_time_zone(Lists::UpdatedAt))
        .to_owned()
}

#[derive(DeriveIden)]
enum ConsentTexts {
    Table,
    Hash,
    Body,
    CreatedAt,
}

fn consent_texts() -> TableCreateStatement {
    Table::create()
        .table(ConsentTexts::Table)
        .col(string_len(ConsentTexts::Hash, 64).primary_key())
        .col(text(ConsentTexts::Body))
        .col(timestamp_with_time_zone(ConsentTexts::CreatedAt))
        .to_owned()
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    Id,
    SubscriberId,
    ListId,
    Status,
    Source,
    RequestedAt,
    ConfirmedAt,
    UnsubscribedAt,
    ConfirmationsSent,
    LastConfirmationAt,
    CreatedAt,
    UpdatedAt,
}

fn subscriptions() -> TableCreateStatement {
    Table::create()
        .table(Subscriptions::Table)
        .col(pk_uuid(Subscriptions::Id))
        .col(uuid(Subscriptions::SubscriberId))
        .col(uuid(Subscriptions::ListId))
        .col(string_len(Subscriptions::Status, 16))
        .col(string_len(Subscriptions::Source, 200))
        .col(timestamp_with_time_zone_null(Subscriptions::RequestedAt))
        .col(timestamp_with_time_zone_null(Subscriptions::ConfirmedAt))
        .col(timestamp_with_time_zone_null(Subscriptions::UnsubscribedAt))
        .col(integer(Subscriptions::ConfirmationsSent))
        .col(timestamp_with_time_zone_null(
            Subscriptions::LastConfirmationAt,
        ))
        .col(timestamp_with_time_zone(Subscriptions::CreatedAt))
        .col(timestamp_with_time_zone(Subscriptions::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .name("fk_subscriptions_subscriber")
                .from(Subscriptions::Table, Subscriptions::SubscriberId)
                .to(Subscribers::Table, Subscribers::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_subscriptions_list")
                .from(Subscriptions::Table, Subscriptions::ListId)
                .to(Lists::Table, Lists::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum ConsentEvents {
    Table,
    Id,
    SubscriberId,
    ListId,
    Action,
    LegalBasis,
    ConsentTextHash,
    IpAnon,
    UserAgent,
    Actor,
    Source,
    OccurredAt,
}

fn consent_events() -> TableCreateStatement {
    // No foreign key on the subscriber: the ledger outlives the profile (erasure
    // pseudonymises events instead of deleting them, GDPR Art. 7(1) and 17(3)(e)).
    Table::create()
        .table(ConsentEvents::Table)
        .col(pk_uuid(ConsentEvents::Id))
        .col(uuid(ConsentEvents::SubscriberId))
        .col(uuid_null(ConsentEvents::ListId))
        .col(string_len(ConsentEvents::Action, 32))
        .col(string_len(ConsentEvents::LegalBasis, 32))
        .col(string_len_null(ConsentEvents::ConsentTextHash, 64))
        .col(string_len_null(ConsentEvents::IpAnon, 64))
        .col(string_len_null(ConsentEvents::UserAgent, 512))
        .col(string_len(ConsentEvents::Actor, 200))
        .col(string_len(ConsentEvents::Source, 200))
        .col(timestamp_with_time_zone(ConsentEvents::OccurredAt))
        .to_owned()
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    Kind,
    CampaignId,
    SubscriberId,
    SubscriptionId,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastError,
    MessageId,
    SentAt,
    CreatedAt,
    UpdatedAt,
}

fn deliveries() -> TableCreateStatement {
    Table::create()
        .table(Deliveries::Table)
        .col(pk_uuid(Deliveries::Id))
        .col(string_len(Deliveries::Kind, 32))
        .col(uuid_null(Deliveries::CampaignId))
        .col(uuid(Deliveries::SubscriberId))
        .col(uuid_null(Deliveries::SubscriptionId))
        .col(string_len(Deliveries::Status, 16))
        .col(integer(Deliveries::Attempts))
        .col(timestamp_with_time_zone(Deliveries::NextAttemptAt))
        .col(timestamp_with_time_zone_null(Deliveries::LeaseUntil))
        .col(text_null(Deliveries::LastError))
        .col(string_len(Deliveries::MessageId, 255))
        .col(timestamp_with_time_zone_null(Deliveries::SentAt))
        .col(timestamp_with_time_zone(Deliveries::CreatedAt))
        .col(timestamp_with_time_zone(Deliveries::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .name("fk_deliveries_subscriber")
                .from(Deliveries::Table, Deliveries::SubscriberId)
                .to(Subscribers::Table, Subscribers::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_deliveries_subscription")
                .from(Deliveries::Table, Deliveries::SubscriptionId)
                .to(Subscriptions::Table, Subscriptions::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    Name,
    Role,
    TokenHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

fn api_tokens() -> TableCreateStatement {
    Table::create()
        .table(ApiTokens::Table)
        .col(pk_uuid(ApiTokens::Id))
        .col(string_len(ApiTokens::Name, 200))
        .col(string_len(ApiTokens::Role, 16))
        .col(string_len_uniq(ApiTokens::TokenHash, 64))
        .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
        .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
        .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create()
            .name("ux_subscriptions_subscriber_list")
            .table(Subscriptions::Table)
            .col(Subscriptions::SubscriberId)
            .col(Subscriptions::ListId)
            .unique()
            .to_owned(),
        Index::create()
            .name("ix_subscriptions_list_status")
            .table(Subscriptions::Table)
            .col(Subscriptions::ListId)
            .col(Subscriptions::Status)
            .to_owned(),
        Index::create()
            .name("ix_consent_events_subscriber")
            .table(ConsentEvents::Table)
            .col(ConsentEvents::SubscriberId)
            .col(ConsentEvents::OccurredAt)
            .to_owned(),
        // Fan-out idempotence: one row per campaign and recipient (system mail has no campaign).
        Index::create()
            .name("ux_deliveries_campaign_subscriber")
            .table(Deliveries::Table)
            .col(Deliveries::CampaignId)
            .col(Deliveries::SubscriberId)
            .unique()
            .to_owned(),
        Index::create()
            .name("ix_deliveries_due")
            .table(Deliveries::Table)
            .col(Deliveries::Status)
            .col(Deliveries::NextAttemptAt)
            .to_owned(),
        Index::create()
            .name("ix_deliveries_subscriber")
            .table(Deliveries::Table)
            .col(Deliveries::SubscriberId)
            .to_owned(),
    ]
}
