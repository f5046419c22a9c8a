//! Queries on `api_tokens`: tokens are stored as SHA-256 hashes only.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};

use super::{
    StoreError, corrupt,
    entities::{api_tokens as table, users},
};
use crate::domain::{ApiTokenId, Role, UserId};

/// A stored, unrevoked API token (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct ApiToken {
    pub id: ApiTokenId,
    /// The name given at creation.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The user who owns it, if any.
    pub user_id: Option<UserId>,
}

/// Stores a new token by the hash of its secret.
///
/// # Errors
/// Database failure.
pub async fn insert(
    conn: &impl ConnectionTrait,
    token: &ApiToken,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        id: Set(token.id.as_uuid()),
        name: Set(token.name.clone()),
        role: Set(token.role.as_str().to_owned()),
        token_hash: Set(token_hash.to_owned()),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
        user_id: Set(token.user_id.map(|u| u.as_uuid())),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The unrevoked token with this hash, if any, as its owner may use it now: refused while the
/// owner is disabled, and never with more rights than the owner's current role. Marks it used
/// (at most once a minute, so that API calls do not each write).
///
/// # Errors
/// Database failure.
pub async fn find_active(
    conn: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<ApiToken>, StoreError> {
    let Some(row) = table::Entity::find()
        .filter(table::Column::TokenHash.eq(token_hash))
        .filter(table::Column::RevokedAt.is_null())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let owner = match row.user_id {
        Some(id) => Some(users::Entity::find_by_id(id).one(conn).await?),
        None => None,
    };
    let Some(role) = acting_role(&row, owner.as_ref().map(Option::as_ref))? else {
        return Ok(None);
    };
    if row
        .last_used_at
        .is_none_or(|used| now - used >= chrono::TimeDelta::minutes(1))
    {
        table::Entity::update_many()
            .col_expr(table::Column::LastUsedAt, Expr::value(now))
            .filter(table::Column::Id.eq(row.id))
            .exec(conn)
            .await?;
    }
    Ok(Some(ApiToken {
        id: ApiTokenId::from_uuid(row.id),
        name: row.name,
        role,
        user_id: row.user_id.map(UserId::from_uuid),
    }))
}

/// What the token of `row` may do now: its role capped by its owner's current one; `None`
/// while the owner is disabled or gone. `owner` is `None` for a token without owner, and
/// `Some(None)` when the owner's row is missing.
fn acting_role(
    row: &table::Model,
    owner: Option<Option<&users::Model>>,
) -> Result<Option<Role>, StoreError> {
    let role = Role::parse(&row.role).map_err(corrupt)?;
    match owner {
        None => Ok(Some(role)),
        Some(Some(o)) if o.disabled_at.is_none() => {
            Ok(Some(role.at_most(Role::parse(&o.role).map_err(corrupt)?)))
        }
        Some(_) => Ok(None),
    }
}

/// A token as the admin UI lists it.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct TokenListing {
    pub token: ApiToken,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// The owner's address, if it has an owner.
    pub owner_email: Option<String>,
    /// What it may do now: its role capped by its owner's; `None` while the owner is disabled.
    pub effective_role: Option<Role>,
}

/// Every unrevoked token, newest first.
///
/// # Errors
/// Database failure.
pub async fn active(conn: &impl ConnectionTrait) -> Result<Vec<TokenListing>, StoreError> {
    use sea_orm::QueryOrder;
    let rows = table::Entity::find()
        .filter(table::Column::RevokedAt.is_null())
        .order_by_desc(table::Column::CreatedAt)
        .all(conn)
        .await?;
    listings(conn, rows).await
}

/// Up to `limit` unrevoked tokens older than the token `before` (by id, a UUID v7, so
/// newest first).
///
/// # Errors
/// Database failure.
pub async fn active_page(
    conn: &impl ConnectionTrait,
    before: Option<ApiTokenId>,
    limit: u64,
) -> Result<Vec<TokenListing>, StoreError> {
    use sea_orm::{QueryOrder, QuerySelect};
    let mut query = table::Entity::find().filter(table::Column::RevokedAt.is_null());
    if let Some(before) = before {
        query = query.filter(table::Column::Id.lt(before.as_uuid()));
    }
    let rows = query
        .order_by_desc(table::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    listings(conn, rows).await
}

/// The listings of `rows`, with their owners (one query for all of them).
async fn listings(
    conn: &impl ConnectionTrait,
    rows: Vec<table::Model>,
) -> Result<Vec<TokenListing>, StoreError> {
    let owner_ids: Vec<uuid::Uuid> = rows.iter().filter_map(|r| r.user_id).collect();
    let owners: std::collections::HashMap<uuid::Uuid, users::Model> = if owner_ids.is_empty() {
        std::collections::HashMap::new()
    } else {
        users::Entity::find()
            .filter(users::Column::Id.is_in(owner_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect()
    };
    rows.into_iter()
        .map(|row| {
            let role = Role::parse(&row.role).map_err(corrupt)?;
            let owner = row.user_id.map(|id| owners.get(&id));
            let effective_role = acting_role(&row, owner)?;
            let owner = owner.flatten();
            Ok(TokenListing {
                token: ApiToken {
                    id: ApiTokenId::from_uuid(row.id),
                    name: row.name,
                    role,
                    user_id: row.user_id.map(UserId::from_uuid),
                },
                created_at: row.created_at,
                last_used_at: row.last_used_at,
                owner_email: owner.map(|o| o.email.clone()),
                effective_role,
            })
        })
        .collect()
}

/// Revokes a token; `NotFound` when it does not exist or is already revoked.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn revoke(
    conn: &impl ConnectionTrait,
    id: ApiTokenId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::RevokedAt, Expr::value(now))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .filter(table::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    match result.rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}
