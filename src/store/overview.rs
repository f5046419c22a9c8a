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
    entities::{subscribers, subscriptions},
};
use crate::domain::{ListId, Subscriber, SubscriberId, SubscriptionStatus};

/// What to look for among subscribers.
#[derive(Debug, Clone, Default)]
pub struct SubscriberFilter {
    /// With `@`: an address prefix; otherwise an address prefix or a part of the name.
    pub query: Option<String>,
    /// Only people with a subscription to this list.
    pub list: Option<ListId>,
    /// Only people with a subscription in this state (on `list`, if given).
    pub status: Option<SubscriptionStatus>,
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
    if let Some(before) = before {
        query = query.filter(subscribers::Column::Id.lt(before.as_uuid()));
    }
    query
        .order_by_desc(subscribers::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(Subscriber::try_from)
        .collect()
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
