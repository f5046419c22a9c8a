//! The `lists` table.

use sea_orm::entity::prelude::*;

/// One row of `lists`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lists")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub legal_basis: String,
    pub opt_in: String,
    pub visibility: String,
    pub consent_text: Option<String>,
    pub welcome_message: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When the list was archived (no signups, no new campaigns), if it is.
    pub archived_at: Option<DateTimeUtc>,
    /// Where replies to the list's mail go (`Reply-To`), if not `mail.reply_to`.
    pub reply_to: Option<String>,
}

/// No relations are navigated through sea-orm; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
