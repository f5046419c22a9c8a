//! Queries on `unsubscribe_reasons`: the reasons people gave when they left, by campaign.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{StoreError, corrupt, entities::unsubscribe_reasons as table};
use crate::domain::{CampaignId, ListId, UnsubscribeReason};

/// Stores one reason (and its comment) for leaving `list` by `campaign`'s link, if any.
///
/// # Errors
/// Database failure.
pub async fn insert(
    conn: &impl ConnectionTrait,
    (campaign, list): (Option<CampaignId>, ListId),
    reason: UnsubscribeReason,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        campaign_id: Set(campaign.map(|c| c.as_uuid())),
        list_id: Set(list.as_uuid()),
        reason: Set(reason.as_str().to_owned()),
        comment: Set(comment.map(str::to_owned)),
        created_at: Set(now),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// How many people gave each reason when leaving by `campaign`'s link, in one grouped query.
///
/// # Errors
/// Database failure, or a stored reason that is not valid.
pub async fn counts(
    conn: &impl ConnectionTrait,
    campaign: CampaignId,
) -> Result<Vec<(UnsubscribeReason, u64)>, StoreError> {
    let rows: Vec<(String, i64)> = table::Entity::find()
        .select_only()
        .column(table::Column::Reason)
        .column_as(table::Column::Id.count(), "n")
        .filter(table::Column::CampaignId.eq(campaign.as_uuid()))
        .group_by(table::Column::Reason)
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(reason, n)| {
            Ok((
                UnsubscribeReason::parse(&reason).map_err(corrupt)?,
                u64::try_from(n).map_err(corrupt)?,
            ))
        })
        .collect()
}

/// The newest `limit` comments of people who left by `campaign`'s link, with their reason.
///
/// # Errors
/// Database failure, or a stored reason that is not valid.
pub async fn comments(
    conn: &impl ConnectionTrait,
    campaign: CampaignId,
    limit: u64,
) -> Result<Vec<(UnsubscribeReason, String, DateTime<Utc>)>, StoreError> {
    let rows = table::Entity::find()
        .filter(table::Column::CampaignId.eq(campaign.as_uuid()))
        .filter(table::Column::Comment.is_not_null())
        .order_by_desc(table::Column::CreatedAt)
        .limit(limit)
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|m| {
            Ok((
                UnsubscribeReason::parse(&m.reason).map_err(corrupt)?,
                m.comment.unwrap_or_default(),
                m.created_at,
            ))
        })
        .collect()
}
