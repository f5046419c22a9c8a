//! The `notice_recipients` table.

use sea_orm::entity::prelude::*;

/// One row of `notice_recipients`: one recipient of a notice and their acknowledgement.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notice_recipients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub notice_id: Uuid,
    pub subscriber_id: Uuid,
    pub subscription_id: Uuid,
    pub first_notice: bool,
    pub ack_status: Option<String>,
    pub ack_comment: Option<String>,
    pub ack_at: Option<DateTimeUtc>,
    pub ack_source: Option<String>,
    pub reminders_sent: i32,
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through sea-orm; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
