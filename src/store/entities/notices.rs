//! The `notices` table.

use sea_orm::entity::prelude::*;

/// One row of `notices`: the typed fields of one revision of a notice.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub campaign_id: Uuid,
    pub kind: String,
    pub number: String,
    pub revision: i32,
    pub fields: String,
    pub supersedes_id: Option<Uuid>,
    pub ack_deadline: Option<DateTimeUtc>,
    pub published_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through sea-orm; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
