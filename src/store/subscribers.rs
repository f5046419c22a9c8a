//! Queries on `subscribers`.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{StoreError, corrupt, entities::subscribers as table};
use crate::domain::{
    Attributes, EmailAddress, Locale, Subscriber, SubscriberId, SubscriberName, SubscriberStatus,
};

impl TryFrom<table::Model> for Subscriber {
    type Error = StoreError;

    fn try_from(m: table::Model) -> Result<Self, StoreError> {
        Ok(Subscriber {
            id: SubscriberId::from_uuid(m.id),
            email: EmailAddress::parse(&m.email).map_err(corrupt)?,
            name: SubscriberName::parse(&m.name).map_err(corrupt)?,
            // A language the operator has since removed (its folder) reads as English.
            locale: Locale::parse(&m.locale).unwrap_or_default(),
            status: SubscriberStatus::parse(&m.status).map_err(corrupt)?,
            created_at: m.created_at,
            attributes: Attributes::from_json(&m.attributes).map_err(corrupt)?,
        })
    }
}

/// The subscriber with this address, if any.
///
/// # Errors
/// Database failure.
pub async fn find_by_email(
    conn: &impl ConnectionTrait,
    email: &EmailAddress,
) -> Result<Option<Subscriber>, StoreError> {
    table::Entity::find()
        .filter(table::Column::Email.eq(email.as_str()))
        .one(conn)
        .await?
        .map(Subscriber::try_from)
        .transpose()
}

/// The subscriber with this address, if any, its row locked until the transaction ends
/// (PostgreSQL; SQLite's write transaction holds the whole database): signups for one
/// address take turns.
///
/// # Errors
/// Database failure.
pub async fn find_by_email_for_update(
    conn: &impl ConnectionTrait,
    email: &EmailAddress,
) -> Result<Option<Subscriber>, StoreError> {
    use sea_orm::QuerySelect;
    table::Entity::find()
        .filter(table::Column::Email.eq(email.as_str()))
        .lock_exclusive()
        .one(conn)
        .await?
        .map(Subscriber::try_from)
        .transpose()
}

/// One subscriber by id.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn find(conn: &impl ConnectionTrait, id: SubscriberId) -> Result<Subscriber, StoreError> {
    table::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// Stores a new subscriber.
///
/// # Errors
/// `Conflict` when the address is taken (a concurrent signup).
pub async fn insert(
    conn: &impl ConnectionTrait,
    s: &Subscriber,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    table::Entity::insert(active_model(s, now))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The row of a new subscriber.
fn active_model(s: &Subscriber, now: DateTime<Utc>) -> table::ActiveModel {
    table::ActiveModel {
        id: Set(s.id.as_uuid()),
        email: Set(s.email.as_str().to_owned()),
        name: Set(s.name.as_str().to_owned()),
        locale: Set(s.locale.as_str().to_owned()),
        status: Set(s.status.as_str().to_owned()),
        attributes: Set(s.attributes.to_json()),
        created_at: Set(s.created_at),
        updated_at: Set(now),
        last_activity_at: Set(now),
        review_flagged_at: Set(None),
    }
}

/// Records that the person acted (used by the retention policy).
///
/// # Errors
/// Database failure.
pub async fn touch(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    table::Entity::update_many()
        .col_expr(
            table::Column::LastActivityAt,
            sea_orm::sea_query::Expr::value(now),
        )
        // Acting again answers a review flag of the retention policy.
        .col_expr(
            table::Column::ReviewFlaggedAt,
            sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}

/// The subscribers with these ids (unknown ids are simply absent).
///
/// # Errors
/// Database failure.
pub async fn find_many(
    conn: &impl ConnectionTrait,
    ids: &[SubscriberId],
) -> Result<Vec<Subscriber>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows = table::Entity::find()
            .filter(table::Column::Id.is_in(chunk.iter().map(SubscriberId::as_uuid)))
            .all(conn)
            .await?;
        for row in rows {
            found.push(Subscriber::try_from(row)?);
        }
    }
    Ok(found)
}

/// Up to `limit` subscribers' ids and addresses after the id `after`, by id.
///
/// # Errors
/// Database failure, or a stored address that is not valid.
pub async fn addresses_page(
    conn: &impl ConnectionTrait,
    after: Option<SubscriberId>,
    limit: u64,
) -> Result<Vec<(SubscriberId, EmailAddress)>, StoreError> {
    use sea_orm::{QueryOrder, QuerySelect};
    let mut query = table::Entity::find()
        .select_only()
        .column(table::Column::Id)
        .column(table::Column::Email);
    if let Some(after) = after {
        query = query.filter(table::Column::Id.gt(after.as_uuid()));
    }
    let rows: Vec<(uuid::Uuid, String)> = query
        .order_by_asc(table::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(id, email)| {
            Ok((
                SubscriberId::from_uuid(id),
                EmailAddress::parse(&email).map_err(corrupt)?,
            ))
        })
        .collect()
}
