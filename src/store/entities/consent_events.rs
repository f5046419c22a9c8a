//! The `consent_events` table.

use sea_orm::entity::prelude::*;

/// One row of `consent_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub subscriber_id: Uuid,
    pub list_id: Option<Uuid>,
    pub action: String,
    pub legal_basis: String,
    pub consent_text_hash: Option<String>,
    pub ip_anon: Option<String>,
    pub user_agent: Option<String>,
    pub actor: String,
    pub source: String,
    pub occurred_at: DateTimeUtc,
    /// JSON text: the original evidence of consent (imports), if any.
    pub evidence: Option<String>,
    /// After erasure: the keyed hash of the person's address.
    pub subject_hash: Option<String>,
    /// The campaign whose unsubscribe link the person left by.
    pub campaign_id: Option<Uuid>,
}

/// No relations are navigated through sea-orm; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
