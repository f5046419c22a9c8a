//! The `privacy_requests` table.

use sea_orm::entity::prelude::*;

/// One row of `privacy_requests`: a data-subject request and its deadline.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "privacy_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub subscriber_id: Option<Uuid>,
    pub kind: String,
    pub channel: String,
    pub status: String,
    pub actor: String,
    pub note: Option<String>,
    pub received_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

/// No relations are navigated through sea-orm; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
