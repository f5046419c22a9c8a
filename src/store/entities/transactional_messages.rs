//! The `transactional_messages` table.

use sea_orm::entity::prelude::*;

/// One row of `transactional_messages`: a message as rendered when it was asked for; its
/// outbox row in `deliveries` has the same id.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transactional_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub template: String,
    pub subscriber_id: Uuid,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub requested_by: String,
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
