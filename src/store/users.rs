//! Queries on `users` and `sessions`. Sessions are keyed by a hash of the cookie secret.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait,
    QueryFilter, QueryOrder, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    StoreError, corrupt,
    entities::{sessions, users as table},
};
use crate::domain::{EmailAddress, Role, User, UserId};

impl TryFrom<table::Model> for User {
    type Error = StoreError;

    fn try_from(m: table::Model) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId::from_uuid(m.id),
            email: EmailAddress::parse(&m.email).map_err(corrupt)?,
            role: Role::parse(&m.role).map_err(corrupt)?,
            disabled_at: m.disabled_at,
            two_factor: m.totp_secret.is_some(),
            time_zone: crate::domain::parse_time_zone(&m.time_zone).map_err(corrupt)?,
            // A language the operator has since removed (its folder) reads as English.
            locale: crate::domain::Locale::parse(&m.locale).unwrap_or_default(),
        })
    }
}

/// How many users exist.
///
/// # Errors
/// Database failure.
pub async fn count(conn: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(table::Entity::find().count(conn).await?)
}

/// Stores a new user with its password hash.
///
/// # Errors
/// `Conflict` when the address is taken.
pub async fn insert(
    conn: &impl ConnectionTrait,
    user: &User,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        id: Set(user.id.as_uuid()),
        email: Set(user.email.as_str().to_owned()),
        role: Set(user.role.as_str().to_owned()),
        password_hash: Set(password_hash.to_owned()),
        created_at: Set(now),
        password_changed_at: Set(now),
        disabled_at: Set(user.disabled_at),
        totp_secret: Set(None),
        totp_pending: Set(None),
        totp_last_step: Set(None),
        time_zone: Set(user.time_zone.name().to_owned()),
        locale: Set(user.locale.as_str().to_owned()),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The user with this address and their password hash, if any.
///
/// # Errors
/// Database failure.
pub async fn find_by_email(
    conn: &impl ConnectionTrait,
    email: &EmailAddress,
) -> Result<Option<(User, String)>, StoreError> {
    let Some(row) = table::Entity::find()
        .filter(table::Column::Email.eq(email.as_str()))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let hash = row.password_hash.clone();
    Ok(Some((User::try_from(row)?, hash)))
}

/// One user and their password hash.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn find(conn: &impl ConnectionTrait, id: UserId) -> Result<(User, String), StoreError> {
    let row = table::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let hash = row.password_hash.clone();
    Ok((User::try_from(row)?, hash))
}

/// Every user, by address.
///
/// # Errors
/// Database failure.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<User>, StoreError> {
    table::Entity::find()
        .order_by_asc(table::Column::Email)
        .all(conn)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect()
}

/// Up to `limit` users whose address sorts after `after`, by address.
///
/// # Errors
/// Database failure.
pub async fn page(
    conn: &impl ConnectionTrait,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<User>, StoreError> {
    use sea_orm::QuerySelect;
    let mut query = table::Entity::find();
    if let Some(after) = after {
        query = query.filter(table::Column::Email.gt(after));
    }
    query
        .order_by_asc(table::Column::Email)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect()
}

/// Replaces a user's password hash.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn set_password(
    conn: &impl ConnectionTrait,
    id: UserId,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(table::Column::PasswordChangedAt, Expr::value(now))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    match result.rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Sets the zone the admin UI uses for user `id`.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn set_time_zone(
    conn: &impl ConnectionTrait,
    id: UserId,
    zone: chrono_tz::Tz,
) -> Result<(), StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::TimeZone, Expr::value(zone.name()))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    match result.rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Sets the language the admin UI speaks to user `id`.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn set_locale(
    conn: &impl ConnectionTrait,
    id: UserId,
    locale: crate::domain::Locale,
) -> Result<(), StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::Locale, Expr::value(locale.as_str()))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    match result.rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// One user, its row locked until the transaction ends (PostgreSQL; SQLite's write
/// transaction holds the whole database).
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn find_for_update(conn: &impl ConnectionTrait, id: UserId) -> Result<User, StoreError> {
    use sea_orm::QuerySelect;
    table::Entity::find_by_id(id.as_uuid())
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(User::try_from)
}

/// The ids of the active admins, their rows locked until the transaction ends, so that two
/// admins taking each other's rights at once cannot both succeed.
///
/// # Errors
/// Database failure.
pub async fn active_admins_for_update(
    conn: &impl ConnectionTrait,
) -> Result<Vec<UserId>, StoreError> {
    use sea_orm::QuerySelect;
    Ok(table::Entity::find()
        .filter(table::Column::Role.eq(Role::Admin.as_str()))
        .filter(table::Column::DisabledAt.is_null())
        .order_by_asc(table::Column::Id)
        .lock_exclusive()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| UserId::from_uuid(row.id))
        .collect())
}

/// Sets a user's role and whether (since when) they are disabled.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn set_access(
    conn: &impl ConnectionTrait,
    id: UserId,
    role: Role,
    disabled_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::Role, Expr::value(role.as_str()))
        .col_expr(table::Column::DisabledAt, Expr::value(disabled_at))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    match result.rows_affected {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// A stored session.
#[derive(Debug, Clone)]
pub struct StoredSession {
    /// Whose session.
    pub user: User,
    /// The session's CSRF token.
    pub csrf_token: String,
}

/// Stores a session under the hash of its secret.
///
/// # Errors
/// Database failure.
pub async fn insert_session(
    conn: &impl ConnectionTrait,
    id_hash: &str,
    user: UserId,
    csrf_token: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = sessions::ActiveModel {
        id: Set(id_hash.to_owned()),
        user_id: Set(user.as_uuid()),
        csrf_token: Set(csrf_token.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
    };
    sessions::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The unexpired session with this hash and its user, if the user is active.
///
/// # Errors
/// Database failure.
pub async fn find_session(
    conn: &impl ConnectionTrait,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<StoredSession>, StoreError> {
    let Some(session) = sessions::Entity::find_by_id(id_hash.to_owned())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let Some(user) = table::Entity::find_by_id(session.user_id)
        .filter(table::Column::DisabledAt.is_null())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(StoredSession {
        user: user.try_into()?,
        csrf_token: session.csrf_token,
    }))
}

/// Deletes one session.
///
/// # Errors
/// Database failure.
pub async fn delete_session(conn: &impl ConnectionTrait, id_hash: &str) -> Result<(), StoreError> {
    sessions::Entity::delete_by_id(id_hash.to_owned())
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes every session of a user, and expired sessions of anyone.
///
/// # Errors
/// Database failure.
pub async fn delete_sessions_of(
    conn: &impl ConnectionTrait,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let user: Uuid = user.as_uuid();
    sessions::Entity::delete_many()
        .filter(
            sessions::Column::UserId
                .eq(user)
                .or(sessions::Column::ExpiresAt.lte(now)),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// A user's one-time-code secrets (base32): the confirmed one and one being set up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TotpSecrets {
    /// The secret codes are checked against, once set up.
    pub secret: Option<String>,
    /// A secret shown for setting up, until a code of it confirms it.
    pub pending: Option<String>,
}

/// The one-time-code secrets of a user.
///
/// # Errors
/// `NotFound`, or database failure.
pub async fn totp_secrets(
    conn: &impl ConnectionTrait,
    id: UserId,
) -> Result<TotpSecrets, StoreError> {
    let row = table::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(TotpSecrets {
        secret: row.totp_secret,
        pending: row.totp_pending,
    })
}

/// Sets (or clears) the secret being set up.
///
/// # Errors
/// Database failure.
pub async fn set_totp_pending(
    conn: &impl ConnectionTrait,
    id: UserId,
    pending: Option<&str>,
) -> Result<(), StoreError> {
    table::Entity::update_many()
        .col_expr(
            table::Column::TotpPending,
            Expr::value(pending.map(str::to_owned)),
        )
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Makes `secret` the user's (or removes it with `None`), clearing the pending one; `step`
/// is the time step of the code that confirmed it.
///
/// # Errors
/// Database failure.
pub async fn set_totp(
    conn: &impl ConnectionTrait,
    id: UserId,
    secret: Option<&str>,
    step: Option<i64>,
) -> Result<(), StoreError> {
    table::Entity::update_many()
        .col_expr(
            table::Column::TotpSecret,
            Expr::value(secret.map(str::to_owned)),
        )
        .col_expr(
            table::Column::TotpPending,
            Expr::value(Option::<String>::None),
        )
        .col_expr(table::Column::TotpLastStep, Expr::value(step))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records that a code of time step `step` was used, unless one of that step or a later
/// one was used before: `false` then (the code is spent). One statement, so two logins
/// racing with the same code cannot both win.
///
/// # Errors
/// Database failure.
pub async fn use_totp_step(
    conn: &impl ConnectionTrait,
    id: UserId,
    step: i64,
) -> Result<bool, StoreError> {
    let result = table::Entity::update_many()
        .col_expr(table::Column::TotpLastStep, Expr::value(step))
        .filter(table::Column::Id.eq(id.as_uuid()))
        .filter(
            table::Column::TotpLastStep
                .is_null()
                .or(table::Column::TotpLastStep.lt(step)),
        )
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
