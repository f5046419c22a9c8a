//! Admin users: `users` (argon2id password hashes, a role), `sessions` (server-side, keyed by
//! a hash of the cookie secret, with their CSRF token), `audit_log` (every admin change), and
//! an owning user for API tokens (`api_tokens.user_id`, nullable: older tokens have none),
//! and `lists.archived_at` (an archived list takes no signups and no new campaigns).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(users()).await?;
        manager.create_table(sessions()).await?;
        manager.create_table(audit_log()).await?;
        manager
            .create_index(
                Index::create()
                    .name(SESSIONS_USER_INDEX)
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(AUDIT_TIME_INDEX)
                    .table(AuditLog::Table)
                    .col(AuditLog::OccurredAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiTokens::Table)
                    .add_column(uuid_null(ApiTokens::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Lists::Table)
                    .add_column(timestamp_with_time_zone_null(Lists::ArchivedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Lists::Table)
                    .drop_column(Lists::ArchivedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiTokens::Table)
                    .drop_column(ApiTokens::UserId)
                    .to_owned(),
            )
            .await?;
        for table in [
            AuditLog::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

const SESSIONS_USER_INDEX: &str = "ix_sessions_user";
const AUDIT_TIME_INDEX: &str = "ix_audit_log_occurred_at";

#[derive(DeriveIden)]
enum Lists {
    Table,
    ArchivedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    UserId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Role,
    PasswordHash,
    CreatedAt,
    PasswordChangedAt,
}

fn users() -> TableCreateStatement {
    Table::create()
        .table(Users::Table)
        .col(pk_uuid(Users::Id))
        .col(string_len_uniq(Users::Email, 254))
        .col(string_len(Users::Role, 16))
        .col(string_len(Users::PasswordHash, 200))
        .col(timestamp_with_time_zone(Users::CreatedAt))
        .col(timestamp_with_time_zone(Users::PasswordChangedAt))
        .to_owned()
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
}

fn sessions() -> TableCreateStatement {
    // `id` is the SHA-256 of the cookie secret: a database leak yields no usable session.
    Table::create()
        .table(Sessions::Table)
        .col(string_len(Sessions::Id, 64).primary_key())
        .col(uuid(Sessions::UserId))
        .col(string_len(Sessions::CsrfToken, 64))
        .col(timestamp_with_time_zone(Sessions::CreatedAt))
        .col(timestamp_with_time_zone(Sessions::ExpiresAt))
        .foreign_key(
            ForeignKey::create()
                .name("fk_sessions_user")
                .from(Sessions::Table, Sessions::UserId)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    Actor,
    Action,
    Target,
    Detail,
    OccurredAt,
}

fn audit_log() -> TableCreateStatement {
    // No foreign key to users: the log outlives the accounts it names.
    Table::create()
        .table(AuditLog::Table)
        .col(pk_uuid(AuditLog::Id))
        .col(string_len(AuditLog::Actor, 300))
        .col(string_len(AuditLog::Action, 64))
        .col(string_len_null(AuditLog::Target, 200))
        .col(string_len_null(AuditLog::Detail, 2000))
        .col(timestamp_with_time_zone(AuditLog::OccurredAt))
        .to_owned()
}
