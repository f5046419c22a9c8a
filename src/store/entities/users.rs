//! The `users` table.

use sea_orm::entity::prelude::*;

/// One row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub role: String,
    pub password_hash: String,
    pub created_at: DateTimeUtc,
    pub password_changed_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
    pub totp_secret: Option<String>,
    pub totp_pending: Option<String>,
    pub totp_last_step: Option<i64>,
    /// IANA name of the zone the admin UI uses for this user.
    pub time_zone: String,
    /// The language the admin UI speaks to this user (`en`, `de`).
    pub locale: String,
}

/// No relations are navigated through sea-orm; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
