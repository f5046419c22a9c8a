//! The `campaign_delivery_counts` table: kept by triggers on `deliveries`, read-only here.

use sea_orm::entity::prelude::*;

/// One slot of a campaign's count of rows with a status and bounce (`""`): counts sum slots.
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
