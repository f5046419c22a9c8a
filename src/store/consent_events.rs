//! The consent ledger: append and read only (erasure, later, pseudonymises). Also keeps
//! each consent text once, by hash, so the exact wording shown can be proven.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};

use super::{
    StoreError, corrupt,
    entities::{consent_events as table, consent_texts},
};
use crate::domain::{
    ConsentAction, ConsentEvent, ConsentEventId, ConsentText, LegalBasis, ListId, SubscriberId,
};

impl TryFrom<table::Model> for ConsentEvent {
    type Error = StoreError;

    fn try_from(m: table::Model) -> Result<Self, StoreError> {
        Ok(ConsentEvent {
            id: ConsentEventId::from_uuid(m.id),
            subscriber_id: SubscriberId::from_uuid(m.subscriber_id),
            list_id: m.list_id.map(ListId::from_uuid),
            action: ConsentAction::parse(&m.action).map_err(corrupt)?,
            legal_basis: LegalBasis::parse(&m.legal_basis).map_err(corrupt)?,
            consent_text_hash: m.consent_text_hash,
            ip_anon: m.ip_anon,
            user_agent: m.user_agent,
            actor: m.actor,
            source: m.source,
            occurred_at: m.occurred_at,
            evidence: m
                .evidence
                .map(|text| serde_json::from_str(&text))
                .transpose()
                .map_err(corrupt)?,
            subject_hash: m.subject_hash,
            campaign_id: m.campaign_id.map(crate::domain::CampaignId::from_uuid),
        })
    }
}

/// Appends one event. Events are never updated.
///
/// # Errors
/// Database failure.
pub async fn append(conn: &impl ConnectionTrait, e: &ConsentEvent) -> Result<(), StoreError> {
    table::Entity::insert(active_model(e))
        .exec_without_returning(conn)
        .await?;
    // The events feed and webhooks hear of it in the same transaction: none lost, none
    // invented.
    if let Some(event_type) = crate::domain::EventType::of_consent(e.action) {
        let mut data = serde_json::json!({ "subscriber_id": e.subscriber_id });
        if let Some(list) = e.list_id {
            data["list_id"] = serde_json::json!(list);
        }
        if let Some(campaign) = e.campaign_id {
            data["campaign_id"] = serde_json::json!(campaign);
        }
        let event = crate::domain::NewEvent {
            event_type,
            subscriber_id: Some(e.subscriber_id),
            data,
        };
        super::events::append(conn, &event, e.occurred_at).await?;
    }
    Ok(())
}

/// The row of an event.
fn active_model(e: &ConsentEvent) -> table::ActiveModel {
    table::ActiveModel {
        id: Set(e.id.as_uuid()),
        subscriber_id: Set(e.subscriber_id.as_uuid()),
        list_id: Set(e.list_id.map(|l| l.as_uuid())),
        action: Set(e.action.as_str().to_owned()),
        legal_basis: Set(e.legal_basis.as_str().to_owned()),
        consent_text_hash: Set(e.consent_text_hash.clone()),
        ip_anon: Set(e.ip_anon.clone()),
        user_agent: Set(e.user_agent.clone()),
        actor: Set(e.actor.clone()),
        source: Set(e.source.clone()),
        occurred_at: Set(e.occurred_at),
        evidence: Set(e.evidence.as_ref().map(ToString::to_string)),
        subject_hash: Set(e.subject_hash.clone()),
        campaign_id: Set(e.campaign_id.map(|c| c.as_uuid())),
    }
}

/// A subscriber's ledger, oldest first.
///
/// # Errors
/// Database failure.
pub async fn for_subscriber(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
) -> Result<Vec<ConsentEvent>, StoreError> {
    table::Entity::find()
        .filter(table::Column::SubscriberId.eq(id.as_uuid()))
        .order_by_asc(table::Column::OccurredAt)
        .order_by_asc(table::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(ConsentEvent::try_from)
        .collect()
}

/// Up to `limit` events of a subscriber after the event `after`, oldest first (keyset on
/// time and id; `NotFound` for a cursor that is not this subscriber's event).
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn page_for_subscriber(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
    after: Option<ConsentEventId>,
    limit: u64,
) -> Result<Vec<ConsentEvent>, StoreError> {
    use sea_orm::{Condition, QuerySelect};
    let mut query = table::Entity::find().filter(table::Column::SubscriberId.eq(id.as_uuid()));
    if let Some(after) = after {
        let cursor = table::Entity::find_by_id(after.as_uuid())
            .filter(table::Column::SubscriberId.eq(id.as_uuid()))
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        query = query.filter(
            Condition::any()
                .add(table::Column::OccurredAt.gt(cursor.occurred_at))
                .add(
                    Condition::all()
                        .add(table::Column::OccurredAt.eq(cursor.occurred_at))
                        .add(table::Column::Id.gt(cursor.id)),
                ),
        );
    }
    query
        .order_by_asc(table::Column::OccurredAt)
        .order_by_asc(table::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(ConsentEvent::try_from)
        .collect()
}

/// Keeps a consent text by its hash (a no-op when already kept).
///
/// # Errors
/// Database failure.
pub async fn remember_text(
    conn: &impl ConnectionTrait,
    text: &ConsentText,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = consent_texts::ActiveModel {
        hash: Set(text.hash().to_owned()),
        body: Set(text.body().to_owned()),
        created_at: Set(now),
    };
    consent_texts::Entity::insert(row)
        .on_conflict(
            OnConflict::column(consent_texts::Column::Hash)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The consent text kept under `hash`, if any.
///
/// # Errors
/// Database failure.
pub async fn text_of(
    conn: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<String>, StoreError> {
    Ok(consent_texts::Entity::find_by_id(hash.to_owned())
        .one(conn)
        .await?
        .map(|row| row.body))
}
