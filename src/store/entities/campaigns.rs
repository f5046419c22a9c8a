//! The `campaigns` table.

use sea_orm::entity::prelude::*;

/// One row of `campaigns`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub subject: String,
    pub body_markdown: String,
    pub from_header: Option<String>,
    pub status: String,
    pub send_at: Option<DateTimeUtc>,
    pub paused_reason: Option<String>,
    pub fan_out_cursor: Option<Uuid>,
    pub fanned_out_at: Option<DateTimeUtc>,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Where replies go (`Reply-To`), if not where the list's go.
    pub reply_to: Option<String>,
    /// The layout: `standard` or `letter`.
    pub layout: String,
    /// JSON text: subject and body per language (`{"de": {"subject", "body_markdown"}}`).
    pub translations: String,
    /// The segment narrowing the lists' members, if any.
    pub segment_id: Option<Uuid>,
    /// Whether, once sent, it is published in the public archive.
    pub archive: bool,
}

/// No relations are navigated through sea-orm; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
