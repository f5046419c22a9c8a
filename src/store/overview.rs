//! Read-only queries for the admin UI: subscriber search with keyset pagination, counts per
//! list and status, and new subscribers per day. Nothing here writes.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
    sea_query::{Expr, Query},
};
use uuid::Uuid;

use super::{
    StoreError, corrupt,
    entities::{consent_events, subscribers, subscriptions, suppressions},
};
use crate::domain::{
    CampaignId, ListId, Subscriber, SubscriberId, SubscriberStatus, SubscriptionStatus,
};

/// What to look for among subscribers.
#[derive(Debug, Clone, Default)]
pub struct SubscriberFilter {
    /// With `@`: an address prefix; otherwise an address prefix or a part of the name.
    pub query: Option<String>,
    /// Only people with a subscription to this list.
    pub list: Option<ListId>,
    /// Only people with a subscription in this state (on `list`, if given).
    pub status: Option<SubscriptionStatus>,
    /// Only people whose address is suppressed (`true`) or is not (`false`): a suppression
    /// that names them.
    pub suppressed: Option<bool>,
}

/// One page of subscribers, newest first, after the keyset cursor `before` (an id: ids are
/// UUID v7, so id order is creation order and the primary key serves every page).
///
/// # Errors
/// Database failure.
pub async fn search_subscribers(
    conn: &impl ConnectionTrait,
    filter: &SubscriberFilter,
    before: Option<SubscriberId>,
    limit: u64,
) -> Result<Vec<Subscriber>, StoreError> {
    search_query(conn.get_database_backend(), filter, before, limit)
        .all(conn)
        .await?
        .into_iter()
        .map(Subscriber::try_from)
        .collect()
}

/// How many subscribers the filter finds, on every page together.
///
/// # Errors
/// Database failure.
pub async fn count_subscribers(
    conn: &impl ConnectionTrait,
    filter: &SubscriberFilter,
) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(filtered(filter).count(conn).await?)
}

/// The status of each of these people's subscription to `list`, where they have one.
///
/// # Errors
/// Database failure.
pub async fn statuses_on_list(
    conn: &impl ConnectionTrait,
    list: ListId,
    people: &[SubscriberId],
) -> Result<Vec<(SubscriberId, SubscriptionStatus)>, StoreError> {
    let rows: Vec<(Uuid, String)> = subscriptions::Entity::find()
        .select_only()
        .column(subscriptions::Column::SubscriberId)
        .column(subscriptions::Column::Status)
        .filter(subscriptions::Column::ListId.eq(list.as_uuid()))
        .filter(subscriptions::Column::SubscriberId.is_in(people.iter().map(|p| p.as_uuid())))
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(person, status)| {
            let status = SubscriptionStatus::parse(&status).map_err(corrupt)?;
            Ok((SubscriberId::from_uuid(person), status))
        })
        .collect()
}

fn search_query(
    backend: DbBackend,
    filter: &SubscriberFilter,
    before: Option<SubscriberId>,
    limit: u64,
) -> sea_orm::Select<subscribers::Entity> {
    let query = filtered(filter);
    let by_address = filter.query.as_deref().is_some_and(|q| q.contains('@'));
    if by_address && backend == DbBackend::Sqlite {
        // An address prefix matches few rows: SQLite must take them from the address index
        // and sort them, not walk every id looking for matches. `+id` keeps it off the id
        // index (PostgreSQL decides by its statistics and has no unary + for uuid).
        let query = match before {
            Some(before) => query.filter(Expr::cust_with_values("+\"id\" < ?", [before.as_uuid()])),
            None => query,
        };
        return query.order_by_desc(Expr::cust("+\"id\"")).limit(limit);
    }
    let query = match before {
        Some(before) => query.filter(subscribers::Column::Id.lt(before.as_uuid())),
        None => query,
    };
    query.order_by_desc(subscribers::Column::Id).limit(limit)
}

/// Every subscriber the filter finds, in no order.
fn filtered(filter: &SubscriberFilter) -> sea_orm::Select<subscribers::Entity> {
    let mut query = subscribers::Entity::find();
    if let Some(q) = filter
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
    {
        let lower = q.to_lowercase();
        // Addresses are stored normalised (lower case): a range on the unique index.
        let prefix = subscribers::Column::Email
            .gte(lower.clone())
            .and(subscribers::Column::Email.lt(format!("{lower}\u{10FFFF}")));
        query = match q.contains('@') {
            true => query.filter(prefix),
            false => query.filter(prefix.or(subscribers::Column::Name.contains(q))),
        };
    }
    if filter.list.is_some() || filter.status.is_some() {
        let mut sub = Query::select();
        sub.column(subscriptions::Column::SubscriberId)
            .from(subscriptions::Entity);
        if let Some(list) = filter.list {
            sub.and_where(Expr::col(subscriptions::Column::ListId).eq(list.as_uuid()));
        }
        if let Some(status) = filter.status {
            sub.and_where(Expr::col(subscriptions::Column::Status).eq(status.as_str()));
        }
        query = query.filter(subscribers::Column::Id.in_subquery(sub));
    }
    if let Some(suppressed) = filter.suppressed {
        // One look-up per person on the index of `suppressions.subscriber_id`.
        let mut named = Query::select();
        named
            .expr(Expr::val(1))
            .from(suppressions::Entity)
            .and_where(
                Expr::col((suppressions::Entity, suppressions::Column::SubscriberId))
                    .equals((subscribers::Entity, subscribers::Column::Id)),
            );
        let exists = Expr::exists(named);
        query = query.filter(match suppressed {
            true => exists,
            false => exists.not(),
        });
    }
    query
}

/// Subscriptions per list and state.
///
/// # Errors
/// Database failure.
pub async fn subscription_counts(
    conn: &impl ConnectionTrait,
) -> Result<Vec<(ListId, SubscriptionStatus, u64)>, StoreError> {
    let rows: Vec<(Uuid, String, i64)> = subscriptions::Entity::find()
        .select_only()
        .column(subscriptions::Column::ListId)
        .column(subscriptions::Column::Status)
        .column_as(Expr::col(subscriptions::Column::Id).count(), "n")
        .group_by(subscriptions::Column::ListId)
        .group_by(subscriptions::Column::Status)
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(list, status, n)| {
            Ok((
                ListId::from_uuid(list),
                SubscriptionStatus::parse(&status).map_err(corrupt)?,
                u64::try_from(n).map_err(corrupt)?,
            ))
        })
        .collect()
}

/// Subscribers created before `since`, and those created per UTC day from `since` on.
///
/// # Errors
/// Database failure.
pub async fn subscribers_per_day(
    conn: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<(u64, Vec<(NaiveDate, u64)>), StoreError> {
    let before: i64 = subscribers::Entity::find()
        .select_only()
        .column_as(Expr::col(subscribers::Column::Id).count(), "n")
        .filter(subscribers::Column::CreatedAt.lt(since))
        .into_tuple()
        .one(conn)
        .await?
        .unwrap_or(0);
    let backend = conn.get_database_backend();
    let day = match backend {
        DbBackend::Postgres => "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        // SQLite keeps timestamps as RFC 3339 text in UTC: the day is its first ten characters.
        _ => "substr(created_at, 1, 10)",
    };
    let placeholder = match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!(
        "SELECT {day} AS day, COUNT(*) AS n FROM subscribers WHERE created_at >= {placeholder} \
         GROUP BY {day} ORDER BY day"
    );
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [since.into()]))
        .await?;
    let mut days = Vec::with_capacity(rows.len());
    for row in rows {
        let day: String = row.try_get("", "day")?;
        let n: i64 = row.try_get("", "n")?;
        let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(corrupt)?;
        days.push((day, u64::try_from(n).map_err(corrupt)?));
    }
    Ok((u64::try_from(before).map_err(corrupt)?, days))
}

/// People who receive campaigns: active, with at least one confirmed subscription.
///
/// # Errors
/// Database failure.
pub async fn active_people(conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    let active = Query::select()
        .column(subscribers::Column::Id)
        .from(subscribers::Entity)
        .and_where(subscribers::Column::Status.eq(SubscriberStatus::Active.as_str()))
        .to_owned();
    let n: i64 = subscriptions::Entity::find()
        .select_only()
        .column_as(
            Expr::expr(sea_orm::sea_query::Func::count_distinct(Expr::col(
                subscriptions::Column::SubscriberId,
            ))),
            "n",
        )
        .filter(subscriptions::Column::Status.eq(SubscriptionStatus::Confirmed.as_str()))
        .filter(subscriptions::Column::SubscriberId.in_subquery(active))
        .into_tuple()
        .one(conn)
        .await?
        .unwrap_or(0);
    u64::try_from(n).map_err(corrupt)
}

/// People who joined from `since` on (their first confirmed, imported or enrolled
/// subscription falls in it) and people who left in it (they unsubscribed, objected, were
/// blocked or erased, and receive nothing now): `(joined, left)`, each person once.
///
/// # Errors
/// Database failure.
pub async fn people_joined_and_left_since(
    conn: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<(u64, u64), StoreError> {
    use crate::domain::ConsentAction as A;
    let joining = [A::Confirmed, A::Imported, A::Enrolled].map(A::as_str);
    let leaving = [A::Unsubscribed, A::Objected, A::Blocked, A::Erased].map(A::as_str);
    let joined_before = Query::select()
        .column(consent_events::Column::SubscriberId)
        .from(consent_events::Entity)
        .and_where(consent_events::Column::Action.is_in(joining))
        .and_where(consent_events::Column::OccurredAt.lt(since))
        .to_owned();
    let distinct_people = Expr::expr(sea_orm::sea_query::Func::count_distinct(Expr::col(
        consent_events::Column::SubscriberId,
    )));
    let joined: i64 = consent_events::Entity::find()
        .select_only()
        .column_as(distinct_people.clone(), "n")
        .filter(consent_events::Column::Action.is_in(joining))
        .filter(consent_events::Column::OccurredAt.gte(since))
        .filter(consent_events::Column::SubscriberId.not_in_subquery(joined_before))
        .into_tuple()
        .one(conn)
        .await?
        .unwrap_or(0);
    let active = Query::select()
        .column(subscribers::Column::Id)
        .from(subscribers::Entity)
        .and_where(subscribers::Column::Status.eq(SubscriberStatus::Active.as_str()))
        .to_owned();
    let receiving = Query::select()
        .column(subscriptions::Column::SubscriberId)
        .from(subscriptions::Entity)
        .and_where(subscriptions::Column::Status.eq(SubscriptionStatus::Confirmed.as_str()))
        .and_where(subscriptions::Column::SubscriberId.in_subquery(active))
        .to_owned();
    let left: i64 = consent_events::Entity::find()
        .select_only()
        .column_as(distinct_people, "n")
        .filter(consent_events::Column::Action.is_in(leaving))
        .filter(consent_events::Column::OccurredAt.gte(since))
        .filter(consent_events::Column::SubscriberId.not_in_subquery(receiving))
        .into_tuple()
        .one(conn)
        .await?
        .unwrap_or(0);
    Ok((
        u64::try_from(joined).map_err(corrupt)?,
        u64::try_from(left).map_err(corrupt)?,
    ))
}

/// Consent ledger entries per action from `since` on: (action, count).
///
/// # Errors
/// Database failure.
pub async fn consent_actions_since(
    conn: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<Vec<(String, u64)>, StoreError> {
    let rows: Vec<(String, i64)> = consent_events::Entity::find()
        .select_only()
        .column(consent_events::Column::Action)
        .column_as(Expr::col(consent_events::Column::Id).count(), "n")
        .filter(consent_events::Column::OccurredAt.gte(since))
        .group_by(consent_events::Column::Action)
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(action, n)| Ok((action, u64::try_from(n).map_err(corrupt)?)))
        .collect()
}

/// How many people left a list by the unsubscribe link of each of `campaigns`, in one
/// grouped query; campaigns without any are left out.
///
/// # Errors
/// Database failure.
pub async fn unsubscribed_by_campaigns(
    conn: &impl ConnectionTrait,
    campaigns: &[CampaignId],
) -> Result<Vec<(CampaignId, u64)>, StoreError> {
    if campaigns.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, i64)> = consent_events::Entity::find()
        .select_only()
        .column(consent_events::Column::CampaignId)
        .column_as(Expr::col(consent_events::Column::Id).count(), "n")
        .filter(consent_events::Column::CampaignId.is_in(campaigns.iter().map(|c| c.as_uuid())))
        .group_by(consent_events::Column::CampaignId)
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(campaign, n)| {
            Ok((
                CampaignId::from_uuid(campaign),
                u64::try_from(n).map_err(corrupt)?,
            ))
        })
        .collect()
}

/// What a campaign timeline counts per time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineSeries {
    /// Messages of the campaign accepted by the relay, by `sent_at`.
    Sent,
    /// Unsubscribes by the campaign's links, by `occurred_at`.
    Unsubscribed,
}

/// `series` of `campaign` counted in buckets of `bucket_secs` from `start`: (bucket
/// number from 0, count), buckets without rows left out.
///
/// # Errors
/// Database failure.
pub async fn campaign_timeline(
    conn: &impl ConnectionTrait,
    campaign: CampaignId,
    series: TimelineSeries,
    start: DateTime<Utc>,
    bucket_secs: i64,
) -> Result<Vec<(u64, u64)>, StoreError> {
    let backend = conn.get_database_backend();
    let (table, column, only_sent) = match series {
        TimelineSeries::Sent => ("deliveries", "sent_at", " AND status = 'sent'"),
        TimelineSeries::Unsubscribed => ("consent_events", "occurred_at", ""),
    };
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT FLOOR((EXTRACT(EPOCH FROM {column}) - $1) / $2)::bigint AS b, COUNT(*) AS n \
             FROM {table} WHERE campaign_id = $3 AND {column} >= $4{only_sent} GROUP BY 1"
        ),
        // SQLite keeps timestamps as RFC 3339 text; julianday() reads it (2440587.5: the epoch).
        _ => format!(
            "SELECT CAST(((julianday({column}) - 2440587.5) * 86400.0 - ?) / ? AS INTEGER) AS b, \
             COUNT(*) AS n FROM {table} WHERE campaign_id = ? AND {column} >= ?{only_sent} \
             GROUP BY 1"
        ),
    };
    let values: [sea_orm::Value; 4] = [
        start.timestamp().into(),
        Ord::max(bucket_secs, 1).into(),
        campaign.as_uuid().into(),
        start.into(),
    ];
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let bucket: i64 = row.try_get("", "b")?;
        let n: i64 = row.try_get("", "n")?;
        if let (Ok(bucket), Ok(n)) = (u64::try_from(bucket), u64::try_from(n)) {
            out.push((bucket, n));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryTrait};

    use super::*;

    async fn seeded(rows: u32) -> DatabaseConnection {
        let db = crate::store::connect("sqlite::memory:", 1).await.unwrap();
        crate::store::migrate(&db).await.unwrap();
        let at = "2026-01-01T00:00:00+00:00";
        db.execute_unprepared(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT INTO subscribers (id, email, name, locale, status, attributes, created_at, \
             updated_at, last_activity_at) SELECT randomblob(16), 'user' || i || '@example.com', \
             'Person ' || i, 'en', 'active', '{{}}', '{at}', '{at}', '{at}' FROM n; ANALYZE;"
        ))
        .await
        .unwrap();
        db
    }

    async fn plan(db: &DatabaseConnection, filter: &SubscriberFilter) -> String {
        let before = Some(SubscriberId::new());
        let statement =
            search_query(DbBackend::Sqlite, filter, before, 51).build(DbBackend::Sqlite);
        let explain = sea_orm::Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("EXPLAIN QUERY PLAN {}", statement.sql),
            statement.values.map(|v| v.0).unwrap_or_default(),
        );
        let rows = db.query_all_raw(explain).await.unwrap();
        rows.iter()
            .map(|r| r.try_get::<String>("", "detail").unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn a_search_page_walks_an_index_and_never_sorts_the_whole_table() {
        let db = seeded(20_000).await;
        let list = SubscriberFilter {
            list: Some(ListId::new()),
            status: Some(SubscriptionStatus::Confirmed),
            ..SubscriberFilter::default()
        };
        let suppressed = |yes| SubscriberFilter {
            suppressed: Some(yes),
            ..SubscriberFilter::default()
        };
        for filter in [
            SubscriberFilter::default(),
            list,
            suppressed(true),
            suppressed(false),
        ] {
            let plan = plan(&db, &filter).await;
            // The keyset (`id < ?` newest first) is read along the primary key: a page costs
            // the same on the first and on the millionth row.
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
            assert!(
                plan.contains("USING INDEX") || plan.contains("USING PRIMARY KEY"),
                "{plan}"
            );
        }
        for yes in [true, false] {
            let plan = plan(&db, &suppressed(yes)).await;
            // Whether a person is suppressed is one look-up on the index of the person a
            // suppression names, not a scan of the suppressions.
            assert!(plan.contains("idx_suppressions_subscriber_id"), "{plan}");
        }
        let by_address = SubscriberFilter {
            query: Some("user123@".to_owned()),
            ..SubscriberFilter::default()
        };
        let plan = plan(&db, &by_address).await;
        // An address prefix is a range on the unique address index.
        assert!(
            plan.contains("SEARCH subscribers USING INDEX") && plan.contains("email>"),
            "{plan}"
        );
    }
}
