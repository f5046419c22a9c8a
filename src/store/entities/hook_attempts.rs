//! The `hook_attempts` table.

use sea_orm::entity::prelude::*;

/// One row of `hook_attempts`: one try at delivering an event to an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hook_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub endpoint_id: Uuid,
    pub event_seq: i64,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub attempted_at: DateTimeUtc,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
