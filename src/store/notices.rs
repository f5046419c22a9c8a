//! Queries on `notices`, `notice_mailings` and `notice_recipients`, and the outbox rows of a
//! notice mailing (written at once for the resolved audience, so the generic fan-out, which
//! targets whole lists, never runs for a notice).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, OnConflict},
};

use super::{
    StoreError, corrupt,
    entities::{deliveries, notice_mailings, notice_recipients as recipients, notices as table},
};
use crate::domain::{
    AckStatus, CampaignId, DeliveryId, DeliveryStatus, MessageKind, Notice, NoticeFields, NoticeId,
    NoticeKind, NoticeNumber, NoticeRecipient, NoticeRecipientId, SubscriberId, SubscriptionId,
};

impl TryFrom<table::Model> for Notice {
    type Error = StoreError;

    fn try_from(m: table::Model) -> Result<Self, StoreError> {
        let fields: NoticeFields = serde_json::from_value(known_languages_only(
            serde_json::from_str(&m.fields).map_err(corrupt)?,
        ))
        .map_err(corrupt)?;
        Ok(Notice {
            id: NoticeId::from_uuid(m.id),
            campaign_id: CampaignId::from_uuid(m.campaign_id),
            kind: NoticeKind::parse(&m.kind).map_err(corrupt)?,
            number: NoticeNumber::parse(&m.number).map_err(corrupt)?,
            revision: u32::try_from(m.revision).map_err(corrupt)?,
            fields,
            supersedes: m.supersedes_id.map(NoticeId::from_uuid),
            published_at: m.published_at,
            created_at: m.created_at,
        })
    }
}

/// Stores a new notice.
///
/// # Errors
/// `Conflict` when its number and revision are taken.
pub async fn insert(conn: &impl ConnectionTrait, n: &Notice) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        id: Set(n.id.as_uuid()),
        campaign_id: Set(n.campaign_id.as_uuid()),
        kind: Set(n.kind.as_str().to_owned()),
        number: Set(n.number.as_str().to_owned()),
        revision: Set(i32::try_from(n.revision).map_err(corrupt)?),
        fields: Set(serde_json::to_string(&n.fields).map_err(corrupt)?),
        supersedes_id: Set(n.supersedes.map(|s| s.as_uuid())),
        ack_deadline: Set(n.fields.ack_deadline),
        published_at: Set(n.published_at),
        created_at: Set(n.created_at),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// One notice by id.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn find(conn: &impl ConnectionTrait, id: NoticeId) -> Result<Notice, StoreError> {
    table::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// Every notice, newest first.
///
/// # Errors
/// Database failure.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<Notice>, StoreError> {
    table::Entity::find()
        .order_by_desc(table::Column::CreatedAt)
        .order_by_desc(table::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(Notice::try_from)
        .collect()
}

/// Up to `limit` notices older than the notice `before`, newest first (keyset on creation
/// time and id; `NotFound` for an unknown cursor).
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn page(
    conn: &impl ConnectionTrait,
    before: Option<NoticeId>,
    limit: u64,
) -> Result<Vec<Notice>, StoreError> {
    use sea_orm::Condition;
    let mut query = table::Entity::find();
    if let Some(before) = before {
        let cursor = table::Entity::find_by_id(before.as_uuid())
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        query = query.filter(
            Condition::any()
                .add(table::Column::CreatedAt.lt(cursor.created_at))
                .add(
                    Condition::all()
                        .add(table::Column::CreatedAt.eq(cursor.created_at))
                        .add(table::Column::Id.lt(cursor.id)),
                ),
        );
    }
    query
        .order_by_desc(table::Column::CreatedAt)
        .order_by_desc(table::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(Notice::try_from)
        .collect()
}

/// Every revision of a number, oldest first.
///
/// # Errors
/// Database failure.
pub async fn revisions(
    conn: &impl ConnectionTrait,
    number: &NoticeNumber,
) -> Result<Vec<Notice>, StoreError> {
    table::Entity::find()
        .filter(table::Column::Number.eq(number.as_str()))
        .order_by_asc(table::Column::Revision)
        .all(conn)
        .await?
        .into_iter()
        .map(Notice::try_from)
        .collect()
}

/// How many notice numbers start with `prefix` (for automatic numbering).
///
/// # Errors
/// Database failure.
pub async fn count_numbers_like(
    conn: &impl ConnectionTrait,
    prefix: &str,
) -> Result<u64, StoreError> {
    Ok(table::Entity::find()
        .filter(table::Column::Number.starts_with(prefix))
        .filter(table::Column::Revision.eq(1))
        .count(conn)
        .await?)
}

/// Writes the fields (and the acknowledgement deadline they hold) of a notice.
///
/// # Errors
/// Database failure.
pub async fn update_fields(conn: &impl ConnectionTrait, n: &Notice) -> Result<(), StoreError> {
    table::Entity::update_many()
        .col_expr(
            table::Column::Fields,
            Expr::value(serde_json::to_string(&n.fields).map_err(corrupt)?),
        )
        .col_expr(
            table::Column::AckDeadline,
            Expr::value(n.fields.ack_deadline),
        )
        .filter(table::Column::Id.eq(n.id.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes a notice and the record of the mailings that carry it (its campaign stays for
/// the caller to delete).
///
/// # Errors
/// Database failure.
pub async fn delete(conn: &impl ConnectionTrait, id: NoticeId) -> Result<(), StoreError> {
    notice_mailings::Entity::delete_many()
        .filter(notice_mailings::Column::NoticeId.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    table::Entity::delete_many()
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Stamps the publication time.
///
/// # Errors
/// Database failure.
pub async fn set_published(
    conn: &impl ConnectionTrait,
    id: NoticeId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    table::Entity::update_many()
        .col_expr(table::Column::PublishedAt, Expr::value(Some(now)))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}

/// What a notice mailing carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailingPurpose {
    /// The notice itself.
    Notice,
    /// A reminder to acknowledge it.
    Reminder,
}

impl MailingPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Notice => "notice",
            Self::Reminder => "reminder",
        }
    }
}

/// Records that `campaign` carries `notice` (or a reminder of it).
///
/// # Errors
/// Database failure.
pub async fn insert_mailing(
    conn: &impl ConnectionTrait,
    campaign: CampaignId,
    notice: NoticeId,
    purpose: MailingPurpose,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = notice_mailings::ActiveModel {
        campaign_id: Set(campaign.as_uuid()),
        notice_id: Set(notice.as_uuid()),
        purpose: Set(purpose.as_str().to_owned()),
        created_at: Set(now),
    };
    notice_mailings::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// How many people objected by the links of `notice`'s e-mails (the notice or a reminder).
///
/// # Errors
/// Database failure.
pub async fn objections(conn: &impl ConnectionTrait, notice: NoticeId) -> Result<u64, StoreError> {
    use sea_orm::sea_query::{Func, Query};

    use super::entities::consent_events as events;
    let mailings = Query::select()
        .column(notice_mailings::Column::CampaignId)
        .from(notice_mailings::Entity)
        .and_where(notice_mailings::Column::NoticeId.eq(notice.as_uuid()))
        .to_owned();
    let n: i64 = events::Entity::find()
        .select_only()
        .column_as(
            Expr::expr(Func::count_distinct(Expr::col(
                events::Column::SubscriberId,
            ))),
            "n",
        )
        .filter(events::Column::CampaignId.in_subquery(mailings))
        .filter(events::Column::Action.eq(crate::domain::ConsentAction::Objected.as_str()))
        .into_tuple()
        .one(conn)
        .await?
        .unwrap_or(0);
    u64::try_from(n).map_err(corrupt)
}

/// The notice a campaign carries and for what, if it carries one.
///
/// # Errors
/// Database failure.
pub async fn mailing_of(
    conn: &impl ConnectionTrait,
    campaign: CampaignId,
) -> Result<Option<(NoticeId, MailingPurpose)>, StoreError> {
    let Some(row) = notice_mailings::Entity::find_by_id(campaign.as_uuid())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let purpose = match row.purpose.as_str() {
        "notice" => MailingPurpose::Notice,
        "reminder" => MailingPurpose::Reminder,
        other => return Err(corrupt(format!("mailing purpose {other:?}"))),
    };
    Ok(Some((NoticeId::from_uuid(row.notice_id), purpose)))
}

impl TryFrom<recipients::Model> for NoticeRecipient {
    type Error = StoreError;

    fn try_from(m: recipients::Model) -> Result<Self, StoreError> {
        Ok(NoticeRecipient {
            id: NoticeRecipientId::from_uuid(m.id),
            notice_id: NoticeId::from_uuid(m.notice_id),
            subscriber_id: SubscriberId::from_uuid(m.subscriber_id),
            subscription_id: SubscriptionId::from_uuid(m.subscription_id),
            first_notice: m.first_notice,
            ack_status: m
                .ack_status
                .as_deref()
                .map(AckStatus::parse)
                .transpose()
                .map_err(corrupt)?,
            ack_comment: m.ack_comment,
            ack_at: m.ack_at,
            ack_source: m.ack_source,
            reminders_sent: u32::try_from(m.reminders_sent).map_err(corrupt)?,
            created_at: m.created_at,
        })
    }
}

/// Stores the recipients of a notice; existing (notice, subscriber) pairs stay.
///
/// # Errors
/// Database failure.
pub async fn insert_recipients(
    conn: &impl ConnectionTrait,
    list: &[NoticeRecipient],
) -> Result<(), StoreError> {
    for chunk in list.chunks(500) {
        let rows = chunk.iter().map(|r| recipients::ActiveModel {
            id: Set(r.id.as_uuid()),
            notice_id: Set(r.notice_id.as_uuid()),
            subscriber_id: Set(r.subscriber_id.as_uuid()),
            subscription_id: Set(r.subscription_id.as_uuid()),
            first_notice: Set(r.first_notice),
            ack_status: Set(r.ack_status.map(|s| s.as_str().to_owned())),
            ack_comment: Set(r.ack_comment.clone()),
            ack_at: Set(r.ack_at),
            ack_source: Set(r.ack_source.clone()),
            reminders_sent: Set(i32::try_from(r.reminders_sent).unwrap_or(i32::MAX)),
            created_at: Set(r.created_at),
        });
        recipients::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    recipients::Column::NoticeId,
                    recipients::Column::SubscriberId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The recipients of a notice, in the order they were written.
///
/// # Errors
/// Database failure.
pub async fn recipients_of(
    conn: &impl ConnectionTrait,
    notice: NoticeId,
) -> Result<Vec<NoticeRecipient>, StoreError> {
    recipients::Entity::find()
        .filter(recipients::Column::NoticeId.eq(notice.as_uuid()))
        .order_by_asc(recipients::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(NoticeRecipient::try_from)
        .collect()
}

/// One recipient by id.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn find_recipient(
    conn: &impl ConnectionTrait,
    id: NoticeRecipientId,
) -> Result<NoticeRecipient, StoreError> {
    recipients::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// Writes a recipient's acknowledgement and reminder count if its status is still
/// `expected`; returns whether it was written (false: a concurrent answer won).
///
/// # Errors
/// Database failure.
pub async fn update_ack(
    conn: &impl ConnectionTrait,
    r: &NoticeRecipient,
    expected: Option<AckStatus>,
) -> Result<bool, StoreError> {
    let mut update = recipients::Entity::update_many()
        .col_expr(
            recipients::Column::AckStatus,
            Expr::value(r.ack_status.map(|s| s.as_str().to_owned())),
        )
        .col_expr(
            recipients::Column::AckComment,
            Expr::value(r.ack_comment.clone()),
        )
        .col_expr(recipients::Column::AckAt, Expr::value(r.ack_at))
        .col_expr(
            recipients::Column::AckSource,
            Expr::value(r.ack_source.clone()),
        )
        .col_expr(
            recipients::Column::RemindersSent,
            Expr::value(i32::try_from(r.reminders_sent).unwrap_or(i32::MAX)),
        )
        .filter(recipients::Column::Id.eq(r.id.as_uuid()));
    update = match expected {
        Some(status) => update.filter(recipients::Column::AckStatus.eq(status.as_str())),
        None => update.filter(recipients::Column::AckStatus.is_null()),
    };
    Ok(update.exec(conn).await?.rows_affected == 1)
}

/// The subscribers among `ids` who were sent a notice before.
///
/// # Errors
/// Database failure.
pub async fn previously_notified(
    conn: &impl ConnectionTrait,
    ids: &[SubscriberId],
) -> Result<HashSet<SubscriberId>, StoreError> {
    let mut found = HashSet::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<uuid::Uuid> = recipients::Entity::find()
            .select_only()
            .column(recipients::Column::SubscriberId)
            .filter(recipients::Column::SubscriberId.is_in(chunk.iter().map(SubscriberId::as_uuid)))
            .into_tuple()
            .all(conn)
            .await?;
        found.extend(rows.into_iter().map(SubscriberId::from_uuid));
    }
    Ok(found)
}

/// Writes one queued outbox row per (subscriber, subscription) for `campaign`, unique on
/// (campaign, subscriber): writing again is a no-op.
///
/// # Errors
/// Database failure.
pub async fn enqueue_mailing(
    conn: &impl ConnectionTrait,
    campaign: CampaignId,
    to: &[(SubscriberId, SubscriptionId)],
    message_domain: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in to.chunks(500) {
        let rows = chunk
            .iter()
            .map(|(subscriber, subscription)| deliveries::ActiveModel {
                id: Set(DeliveryId::new().as_uuid()),
                kind: Set(MessageKind::Campaign.as_str().to_owned()),
                campaign_id: Set(Some(campaign.as_uuid())),
                subscriber_id: Set(subscriber.as_uuid()),
                subscription_id: Set(Some(subscription.as_uuid())),
                status: Set(DeliveryStatus::Queued.as_str().to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                lease_until: Set(None),
                last_error: Set(None),
                message_id: Set(format!("notice.{}@{message_domain}", uuid::Uuid::now_v7())),
                sent_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                bounce: Set(None),
            });
        deliveries::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    deliveries::Column::CampaignId,
                    deliveries::Column::SubscriberId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Stored fields without the translations in a language the operator has since removed (its
/// folder), which would no longer parse.
fn known_languages_only(mut fields: serde_json::Value) -> serde_json::Value {
    if let Some(translations) = fields
        .get_mut("translations")
        .and_then(serde_json::Value::as_object_mut)
    {
        translations.retain(|tag, _| crate::domain::Locale::parse(tag).is_ok());
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_in_a_removed_language_is_left_out() {
        let stored = serde_json::json!({
            "title": "T",
            "translations": {"de": {"title": "D"}, "ko": {"title": "K"}},
        });
        let kept = known_languages_only(stored);
        assert_eq!(
            kept["translations"],
            serde_json::json!({"de": {"title": "D"}})
        );
        assert_eq!(kept["title"], "T");
    }
}
