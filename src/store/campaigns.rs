//! Queries on `campaigns` and `campaign_lists`. Status changes are conditional on the
//! status read before, so two instances never make the same move twice.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, Statement, sea_query::Expr,
};

use super::{
    StoreError, corrupt,
    entities::{campaign_delivery_counts, campaign_lists, campaigns as table, deliveries},
};
use crate::domain::{
    Campaign, CampaignId, CampaignLayout, CampaignStatus, CampaignText, EmailAddress, Filter,
    ListId, Locale, NewCampaign, SegmentId,
};

/// A campaign's translations as stored: JSON text keyed by language tag.
fn translations_text(translations: &BTreeMap<Locale, CampaignText>) -> String {
    let by_tag: BTreeMap<&str, &CampaignText> =
        translations.iter().map(|(l, t)| (l.as_str(), t)).collect();
    serde_json::to_string(&by_tag).unwrap_or_else(|_| "{}".to_owned())
}

/// The stored JSON text as translations; one in a language the operator has since removed
/// (its folder) is left out.
fn translations_of(text: &str) -> Result<BTreeMap<Locale, CampaignText>, StoreError> {
    let by_tag: BTreeMap<String, CampaignText> = serde_json::from_str(text).map_err(corrupt)?;
    Ok(by_tag
        .into_iter()
        .filter_map(|(tag, t)| Some((Locale::parse(&tag).ok()?, t)))
        .collect())
}

fn from_row(m: table::Model, lists: Vec<ListId>) -> Result<Campaign, StoreError> {
    Ok(Campaign {
        id: CampaignId::from_uuid(m.id),
        def: NewCampaign {
            name: m.name,
            subject: m.subject,
            body_markdown: m.body_markdown,
            lists,
            from: m.from_header,
            reply_to: m
                .reply_to
                .as_deref()
                .map(EmailAddress::parse)
                .transpose()
                .map_err(corrupt)?,
            layout: CampaignLayout::parse(&m.layout).map_err(corrupt)?,
            translations: translations_of(&m.translations)?,
            segment: m.segment_id.map(SegmentId::from_uuid),
            archive: m.archive,
        },
        status: CampaignStatus::parse(&m.status).map_err(corrupt)?,
        send_at: m.send_at,
        paused_reason: m.paused_reason,
        started_at: m.started_at,
        fanned_out_at: m.fanned_out_at,
        finished_at: m.finished_at,
        created_at: m.created_at,
    })
}

/// Stores a new campaign and its target lists.
///
/// # Errors
/// Database failure (`Conflict` if a list vanished meanwhile).
pub async fn insert(
    conn: &impl ConnectionTrait,
    c: &Campaign,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        id: Set(c.id.as_uuid()),
        name: Set(c.def.name.clone()),
        subject: Set(c.def.subject.clone()),
        body_markdown: Set(c.def.body_markdown.clone()),
        from_header: Set(c.def.from.clone()),
        reply_to: Set(c.def.reply_to.as_ref().map(|a| a.as_str().to_owned())),
        layout: Set(c.def.layout.as_str().to_owned()),
        translations: Set(translations_text(&c.def.translations)),
        segment_id: Set(c.def.segment.map(|s| s.as_uuid())),
        archive: Set(c.def.archive),
        status: Set(c.status.as_str().to_owned()),
        send_at: Set(c.send_at),
        paused_reason: Set(None),
        fan_out_cursor: Set(None),
        fanned_out_at: Set(None),
        started_at: Set(None),
        finished_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    if c.def.lists.is_empty() {
        return Ok(());
    }
    let links = c.def.lists.iter().map(|l| campaign_lists::ActiveModel {
        campaign_id: Set(c.id.as_uuid()),
        list_id: Set(l.as_uuid()),
    });
    campaign_lists::Entity::insert_many(links)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

async fn lists_of(conn: &impl ConnectionTrait, id: CampaignId) -> Result<Vec<ListId>, StoreError> {
    // List ids are UUID v7: in id order, the lists come in the order they were created, the
    // same on every backend.
    Ok(campaign_lists::Entity::find()
        .filter(campaign_lists::Column::CampaignId.eq(id.as_uuid()))
        .order_by_asc(campaign_lists::Column::ListId)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| ListId::from_uuid(r.list_id))
        .collect())
}

/// One campaign by id.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn find(conn: &impl ConnectionTrait, id: CampaignId) -> Result<Campaign, StoreError> {
    let row = table::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(row, lists_of(conn, id).await?)
}

/// Every campaign, newest first.
///
/// # Errors
/// Database failure.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<Campaign>, StoreError> {
    page(conn, None, None).await
}

/// Up to `limit` (or all) campaigns older than `before`, newest first (ids are UUID v7: id order is
/// creation order, so the primary key is the keyset).
///
/// # Errors
/// Database failure.
pub async fn page(
    conn: &impl ConnectionTrait,
    before: Option<CampaignId>,
    limit: Option<u64>,
) -> Result<Vec<Campaign>, StoreError> {
    let mut query = table::Entity::find();
    if let Some(before) = before {
        query = query.filter(table::Column::Id.lt(before.as_uuid()));
    }
    let rows = sea_orm::QuerySelect::limit(query.order_by_desc(table::Column::Id), limit)
        .all(conn)
        .await?;
    with_lists(conn, rows).await
}

/// The `limit` newest campaigns in `status`, newest first.
///
/// # Errors
/// Database failure.
pub async fn newest_in(
    conn: &impl ConnectionTrait,
    status: CampaignStatus,
    limit: u64,
) -> Result<Vec<Campaign>, StoreError> {
    let query = table::Entity::find()
        .filter(table::Column::Status.eq(status.as_str()))
        .order_by_desc(table::Column::Id);
    let rows = sea_orm::QuerySelect::limit(query, limit).all(conn).await?;
    with_lists(conn, rows).await
}

/// Up to `limit` (or all) sent campaigns marked for the archive that target `list`, the one
/// sent last first.
///
/// # Errors
/// Database failure.
pub async fn archived(
    conn: &impl ConnectionTrait,
    list: ListId,
    limit: Option<u64>,
) -> Result<Vec<Campaign>, StoreError> {
    use sea_orm::sea_query::Query;
    let on_list = Query::select()
        .column(campaign_lists::Column::CampaignId)
        .from(campaign_lists::Entity)
        .and_where(campaign_lists::Column::ListId.eq(list.as_uuid()))
        .to_owned();
    let query = table::Entity::find()
        .filter(table::Column::Archive.eq(true))
        .filter(table::Column::Status.eq(CampaignStatus::Sent.as_str()))
        .filter(table::Column::Id.in_subquery(on_list))
        .order_by_desc(table::Column::StartedAt)
        .order_by_desc(table::Column::Id);
    let rows = sea_orm::QuerySelect::limit(query, limit).all(conn).await?;
    with_lists(conn, rows).await
}

/// Campaigns of `rows` with their lists, read in one query for all of them.
async fn with_lists(
    conn: &impl ConnectionTrait,
    rows: Vec<table::Model>,
) -> Result<Vec<Campaign>, StoreError> {
    let mut lists: std::collections::HashMap<uuid::Uuid, Vec<ListId>> =
        std::collections::HashMap::new();
    if !rows.is_empty() {
        let links = campaign_lists::Entity::find()
            .filter(campaign_lists::Column::CampaignId.is_in(rows.iter().map(|r| r.id)))
            .order_by_asc(campaign_lists::Column::ListId)
            .all(conn)
            .await?;
        for link in links {
            lists
                .entry(link.campaign_id)
                .or_default()
                .push(ListId::from_uuid(link.list_id));
        }
    }
    rows.into_iter()
        .map(|row| {
            let of_row = lists.remove(&row.id).unwrap_or_default();
            from_row(row, of_row)
        })
        .collect()
}

/// The ids of campaigns in `status` whose send time (if any) is at or before `now`.
///
/// # Errors
/// Database failure.
pub async fn ids_in(
    conn: &impl ConnectionTrait,
    status: CampaignStatus,
    due_by: Option<DateTime<Utc>>,
) -> Result<Vec<CampaignId>, StoreError> {
    let mut query = table::Entity::find().filter(table::Column::Status.eq(status.as_str()));
    if let Some(now) = due_by {
        query = query.filter(table::Column::SendAt.lte(now));
    }
    Ok(query
        .order_by_asc(table::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| CampaignId::from_uuid(r.id))
        .collect())
}

/// Writes the state fields of `c` if its stored status is still `expected`; returns whether
/// it was written (false: another instance moved first).
///
/// # Errors
/// Database failure.
pub async fn update_state(
    conn: &impl ConnectionTrait,
    c: &Campaign,
    expected: CampaignStatus,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::Status, Expr::value(c.status.as_str()))
        .col_expr(table::Column::SendAt, Expr::value(c.send_at))
        .col_expr(
            table::Column::PausedReason,
            Expr::value(c.paused_reason.clone()),
        )
        .col_expr(table::Column::StartedAt, Expr::value(c.started_at))
        .col_expr(table::Column::FannedOutAt, Expr::value(c.fanned_out_at))
        .col_expr(table::Column::FinishedAt, Expr::value(c.finished_at))
        .col_expr(table::Column::UpdatedAt, Expr::value(now))
        .filter(table::Column::Id.eq(c.id.as_uuid()))
        .filter(table::Column::Status.eq(expected.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Where the fan-out of a campaign stopped (the last subscriber id written), if anywhere.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn fan_out_cursor(
    conn: &impl ConnectionTrait,
    id: CampaignId,
) -> Result<Option<uuid::Uuid>, StoreError> {
    let row = table::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.fan_out_cursor)
}

/// Records fan-out progress; `done` also stamps `fanned_out_at`.
///
/// # Errors
/// Database failure.
pub async fn record_fan_out(
    conn: &impl ConnectionTrait,
    id: CampaignId,
    cursor: Option<uuid::Uuid>,
    done: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut update = table::Entity::update_many()
        .col_expr(table::Column::FanOutCursor, Expr::value(cursor))
        .col_expr(table::Column::UpdatedAt, Expr::value(now));
    if done {
        update = update.col_expr(table::Column::FannedOutAt, Expr::value(Some(now)));
    }
    update
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Pauses one campaign that is sending, with the reason; `false` when it was not sending.
///
/// # Errors
/// Database failure.
pub async fn pause_sending(
    conn: &impl ConnectionTrait,
    id: CampaignId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = table::Entity::update_many()
        .col_expr(
            table::Column::Status,
            Expr::value(CampaignStatus::Paused.as_str()),
        )
        .col_expr(table::Column::PausedReason, Expr::value(reason))
        .col_expr(table::Column::UpdatedAt, Expr::value(now))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .filter(table::Column::Status.eq(CampaignStatus::Sending.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Pauses a sending campaign whose complaint or hard-bounce rate passed `rates`
/// (`bounce::pause_for_rates`); returns the reason when it paused it now.
///
/// # Errors
/// Database failure.
pub async fn pause_for_rates(
    conn: &impl ConnectionTrait,
    id: CampaignId,
    rates: crate::domain::bounce::PauseRates,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let (delivered, complaints, hard) = super::deliveries::campaign_rates(conn, id).await?;
    match crate::domain::bounce::pause_for_rates(delivered, complaints, hard, rates) {
        Some(reason) if pause_sending(conn, id, &reason, now).await? => Ok(Some(reason)),
        _ => Ok(None),
    }
}

/// Pauses every campaign that is sending, with the reason; returns how many.
///
/// # Errors
/// Database failure.
pub async fn pause_all_sending(
    conn: &impl ConnectionTrait,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = table::Entity::update_many()
        .col_expr(
            table::Column::Status,
            Expr::value(CampaignStatus::Paused.as_str()),
        )
        .col_expr(table::Column::PausedReason, Expr::value(reason))
        .col_expr(table::Column::UpdatedAt, Expr::value(now))
        .filter(table::Column::Status.eq(CampaignStatus::Sending.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// Writes the content and targets of `c` (name, subject, body, From, Reply-To, lists) and its
/// status and send time, if its stored status is still `expected`; returns whether it was
/// written.
///
/// # Errors
/// Database failure (`Conflict` if a list vanished meanwhile).
pub async fn update_content(
    conn: &impl ConnectionTrait,
    c: &Campaign,
    expected: CampaignStatus,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::Name, Expr::value(c.def.name.clone()))
        .col_expr(table::Column::Subject, Expr::value(c.def.subject.clone()))
        .col_expr(
            table::Column::BodyMarkdown,
            Expr::value(c.def.body_markdown.clone()),
        )
        .col_expr(table::Column::FromHeader, Expr::value(c.def.from.clone()))
        .col_expr(
            table::Column::ReplyTo,
            Expr::value(c.def.reply_to.as_ref().map(|a| a.as_str().to_owned())),
        )
        .col_expr(table::Column::Layout, Expr::value(c.def.layout.as_str()))
        .col_expr(
            table::Column::Translations,
            Expr::value(translations_text(&c.def.translations)),
        )
        .col_expr(
            table::Column::SegmentId,
            Expr::value(c.def.segment.map(|s| s.as_uuid())),
        )
        .col_expr(table::Column::Archive, Expr::value(c.def.archive))
        .col_expr(table::Column::Status, Expr::value(c.status.as_str()))
        .col_expr(table::Column::SendAt, Expr::value(c.send_at))
        .col_expr(table::Column::UpdatedAt, Expr::value(now))
        .filter(table::Column::Id.eq(c.id.as_uuid()))
        .filter(table::Column::Status.eq(expected.as_str()))
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        return Ok(false);
    }
    campaign_lists::Entity::delete_many()
        .filter(campaign_lists::Column::CampaignId.eq(c.id.as_uuid()))
        .exec(conn)
        .await?;
    let links = c.def.lists.iter().map(|l| campaign_lists::ActiveModel {
        campaign_id: Set(c.id.as_uuid()),
        list_id: Set(l.as_uuid()),
    });
    campaign_lists::Entity::insert_many(links)
        .exec_without_returning(conn)
        .await?;
    Ok(true)
}

/// Sets whether campaign `id` is published in the public archive.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn set_archive(
    conn: &impl ConnectionTrait,
    id: CampaignId,
    archive: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::Archive, Expr::value(archive))
        .col_expr(table::Column::UpdatedAt, Expr::value(now))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    match result.rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// How many of the campaign's messages the relay accepted.
///
/// # Errors
/// Database failure.
pub async fn sent_count(conn: &impl ConnectionTrait, id: CampaignId) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(deliveries::Entity::find()
        .filter(deliveries::Column::CampaignId.eq(id.as_uuid()))
        .filter(deliveries::Column::SentAt.is_not_null())
        .count(conn)
        .await?)
}

/// Deletes the campaign, its target lists, its outbox rows and their counts, if its stored
/// status is still `expected`; returns whether it was deleted.
///
/// # Errors
/// Database failure.
pub async fn delete(
    conn: &impl ConnectionTrait,
    id: CampaignId,
    expected: CampaignStatus,
) -> Result<bool, StoreError> {
    deliveries::Entity::delete_many()
        .filter(deliveries::Column::CampaignId.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    campaign_lists::Entity::delete_many()
        .filter(campaign_lists::Column::CampaignId.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    // Its rows are gone: what is left of its counts sums to zero.
    campaign_delivery_counts::Entity::delete_many()
        .filter(campaign_delivery_counts::Column::CampaignId.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    let result = table::Entity::delete_many()
        .filter(table::Column::Id.eq(id.as_uuid()))
        .filter(table::Column::Status.eq(expected.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Who a campaign to `lists` would reach now: people with a confirmed subscription to one of
/// them who are active, whose address no suppression names and whom `segment` selects (each
/// person once), and the same per list.
///
/// # Errors
/// Database failure.
pub async fn audience(
    conn: &impl ConnectionTrait,
    lists: &[ListId],
    segment: Option<&Filter>,
) -> Result<(u64, Vec<(ListId, u64)>), StoreError> {
    if lists.is_empty() {
        return Ok((0, Vec::new()));
    }
    let backend = conn.get_database_backend();
    let marks: Vec<String> = (1..=lists.len())
        .map(|i| match backend {
            DbBackend::Postgres => format!("${i}"),
            _ => "?".to_owned(),
        })
        .collect();
    let mut from = format!(
        "FROM subscriptions s JOIN subscribers p ON p.id = s.subscriber_id \
         WHERE s.list_id IN ({}) AND s.status = 'confirmed' AND p.status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.subscriber_id = p.id)",
        marks.join(", ")
    );
    let mut values: Vec<sea_orm::Value> = lists.iter().map(|l| l.as_uuid().into()).collect();
    if let Some(filter) = segment {
        // The segment's own subscription tests use the alias `s` too: they are subqueries
        // and see their own.
        let condition = super::segments::Condition::for_everyone(filter, backend);
        from.push_str(" AND ");
        from.push_str(&condition.numbered(backend, values.len() + 1));
        values.extend(condition.values);
    }
    let total = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT COUNT(DISTINCT s.subscriber_id) AS n {from}"),
            values.clone(),
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT s.list_id AS list, COUNT(*) AS n {from} GROUP BY s.list_id"),
            values,
        ))
        .await?;
    let mut by_list = Vec::with_capacity(rows.len());
    for row in rows {
        let list: uuid::Uuid = row.try_get("", "list")?;
        let n: i64 = row.try_get("", "n")?;
        by_list.push((ListId::from_uuid(list), u64::try_from(n).map_err(corrupt)?));
    }
    Ok((u64::try_from(total).map_err(corrupt)?, by_list))
}

/// The name of a campaign in one of `statuses` that `segment` aims, if any.
///
/// # Errors
/// Database failure.
pub async fn name_using_segment(
    conn: &impl ConnectionTrait,
    segment: SegmentId,
    statuses: &[CampaignStatus],
) -> Result<Option<String>, StoreError> {
    Ok(table::Entity::find()
        .filter(table::Column::SegmentId.eq(segment.as_uuid()))
        .filter(table::Column::Status.is_in(statuses.iter().map(|s| s.as_str())))
        .one(conn)
        .await?
        .map(|m| m.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_version_in_a_removed_language_is_left_out() {
        let stored = r#"{"de": {"subject": "S", "body_markdown": "B"},
                         "ko": {"subject": "S", "body_markdown": "B"}}"#;
        let read = translations_of(stored).unwrap();
        assert_eq!(read.keys().copied().collect::<Vec<_>>(), [Locale::De]);
    }
}
