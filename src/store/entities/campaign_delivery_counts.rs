//! The `campaign_delivery_counts` table: kept by triggers on `deliveries`, read-only here.

use sea_orm::entity::prelude::*;

/// One part of a campaign's count of outbox rows with a status and what came back (`""` for
/// nothing); the count is the sum of its slots.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_delivery_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub status: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub bounce: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: i32,
    pub n: i64,
}

/// No relations are navigated through sea-orm; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
