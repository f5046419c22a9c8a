//! The `suppressions` table.

use sea_orm::entity::prelude::*;

/// One row of `suppressions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "suppressions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub address_hash: String,
    pub reason: String,
    pub detail: Option<String>,
    pub created_at: DateTimeUtc,
    pub subscriber_id: Option<Uuid>,
}

/// No relations are navigated through sea-orm; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
