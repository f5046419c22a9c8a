//! `/api/v1/users` and `/api/v1/tokens` (admin tokens only): the users with their roles,
//! adding a user, changing a user's role, disabling and enabling them, and the API tokens:
//! list, create (the secret is shown once), revoke.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{PageQuery, path_id};
use crate::services::paging::Page;
use crate::{
    domain::{Action, ApiTokenId, EmailAddress, Password, Role, User, UserId},
    services::{
        api_tokens::{self, TokenError},
        users::{self, AccessChange, UsersError},
    },
    store::{StoreError, api_tokens::TokenListing},
    web::AppState,
    web::{
        error::{ApiError, ApiErrors},
        extract::{ApiCaller, ApiJson},
    },
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct UserResponse {
    id: String,
    email: String,
    /// `admin`, `marketer` or `viewer`.
    role: String,
    /// Since when the user may not log in or use their tokens; `null` while active.
    disabled_at: Option<DateTime<Utc>>,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.as_str().to_owned(),
            role: u.role.as_str().to_owned(),
            disabled_at: u.disabled_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct UsersResponse {
    users: Vec<UserResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = UsersResponse), ApiErrors))]
/// `GET /api/v1/users[?cursor=C][&limit=N]` → users by address, a page at a time.
pub(super) async fn all(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<UsersResponse>, ApiError> {
    let page = PageQuery::parse(raw.as_deref())?;
    let after = page.cursor(|c| EmailAddress::parse(c).ok())?;
    let Page { items: found, next } = users::page(
        &state.ctx,
        &caller.actor(),
        after.as_ref().map(EmailAddress::as_str),
        page.limit(),
    )
    .await?;
    Ok(Json(UsersResponse {
        users: found.into_iter().map(UserResponse::from).collect(),
        next_cursor: next,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateUserRequest {
    #[schema(format = Email, max_length = 254, example = "ada@example.com")]
    email: String,
    /// `admin`, `marketer` or `viewer`.
    #[schema(value_type = crate::domain::Role, example = "viewer")]
    role: String,
    /// The initial password: 12 to 1,024 characters.
    #[schema(
        min_length = 12,
        max_length = 1024,
        example = "correct horse battery staple"
    )]
    password: String,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = CreateUserRequest, responses((status = 201, body = UserResponse), ApiErrors))]
/// `POST /api/v1/users` → 201 with the user; 409 `email_taken`.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserResponse>), ApiError> {
    caller.actor().authorize(Action::ManageAccess)?;
    let email =
        EmailAddress::parse(&req.email).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    let role = Role::parse(&req.role).map_err(|e| ApiError::invalid(format!("role: {e}")))?;
    let password =
        Password::parse(&req.password).map_err(|e| ApiError::invalid(format!("password: {e}")))?;
    let user = users::create(&state.ctx, &caller.actor(), email, role, &password).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

impl From<UsersError> for ApiError {
    fn from(e: UsersError) -> Self {
        users_error(e)
    }
}

/// The answer to a refused change of a user, as an API error.
fn users_error(e: UsersError) -> ApiError {
    match e {
        UsersError::Forbidden(e) => e.into(),
        UsersError::UnknownUser => ApiError::not_found("user"),
        e @ UsersError::LastAdmin => {
            ApiError::new(StatusCode::CONFLICT, "last_admin", e.to_string())
        }
        e @ UsersError::NotAllowed => {
            ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
        }
        e @ UsersError::EmailTaken => {
            ApiError::new(StatusCode::CONFLICT, "email_taken", e.to_string())
        }
        UsersError::Store(e) => e.into(),
        e => ApiError::internal(&e),
    }
}

/// Makes `change` of the user `id` for `caller`.
async fn change_access(
    state: &AppState,
    caller: &ApiCaller,
    id: &str,
    change: AccessChange,
) -> Result<Json<UserResponse>, ApiError> {
    let id = path_id(id, "user", UserId::from_uuid)?;
    let user = users::change_access(&state.ctx, &caller.actor(), id, change).await?;
    Ok(Json(user.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RoleRequest {
    /// `admin`, `marketer` or `viewer`.
    #[schema(value_type = crate::domain::Role, example = "marketer")]
    role: String,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/role", tag = "users", security(("bearer" = [])), params(("id" = String, Path, description = "the user id")), request_body = RoleRequest, responses((status = 200, body = UserResponse), ApiErrors))]
/// `POST /api/v1/users/{id}/role` → the user with the new role, effective at once for their
/// sessions and tokens; 409 `last_admin` when it would leave no active admin.
pub(super) async fn set_role(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RoleRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    caller.actor().authorize(Action::ManageAccess)?;
    let role = Role::parse(&req.role).map_err(|e| ApiError::invalid(format!("role: {e}")))?;
    change_access(&state, &caller, &id, AccessChange::role(role)).await
}

#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", security(("bearer" = [])), params(("id" = String, Path, description = "the user id")), responses((status = 200, body = UserResponse), ApiErrors))]
/// `POST /api/v1/users/{id}/disable` → the user can no longer log in, their sessions end and
/// their tokens are refused; 409 `last_admin` for the last active admin.
pub(super) async fn disable(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<UserResponse>, ApiError> {
    change_access(&state, &caller, &id, AccessChange::disabled(true)).await
}

#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "users", security(("bearer" = [])), params(("id" = String, Path, description = "the user id")), responses((status = 200, body = UserResponse), ApiErrors))]
/// `POST /api/v1/users/{id}/enable` → the user may log in again and their tokens work again.
pub(super) async fn enable(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<UserResponse>, ApiError> {
    change_access(&state, &caller, &id, AccessChange::disabled(false)).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TokenResponse {
    id: String,
    name: String,
    /// `admin`, `marketer` or `viewer`.
    role: String,
    /// The user who owns it, if any.
    user_id: Option<String>,
    /// What it may do now: its role capped by its owner's current role; `null` while the
    /// owner is disabled (the token is refused).
    effective_role: Option<String>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

impl From<TokenListing> for TokenResponse {
    fn from(t: TokenListing) -> Self {
        Self {
            id: t.token.id.to_string(),
            name: t.token.name,
            role: t.token.role.as_str().to_owned(),
            user_id: t.token.user_id.map(|u| u.to_string()),
            effective_role: t.effective_role.map(|r| r.as_str().to_owned()),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TokensResponse {
    tokens: Vec<TokenResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", operation_id = "tokens_all", security(("bearer" = [])), params(("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = TokensResponse), ApiErrors))]
/// `GET /api/v1/tokens[?cursor=C][&limit=N]` → unrevoked tokens, newest first, never their
/// secrets.
pub(super) async fn tokens(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<TokensResponse>, ApiError> {
    let page = PageQuery::parse(raw.as_deref())?;
    let before = page.cursor(|c| c.parse().ok().map(ApiTokenId::from_uuid))?;
    let Page { items: found, next } =
        api_tokens::page(&state.ctx, &caller.actor(), before, page.limit()).await?;
    Ok(Json(TokensResponse {
        tokens: found.into_iter().map(TokenResponse::from).collect(),
        next_cursor: next.map(|id| id.to_string()),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateTokenRequest {
    /// 1 to 100 characters; shown in the audit log as `api:NAME`.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "\\S",
        example = "newsletter sync"
    )]
    name: String,
    /// `admin`, `marketer` or `viewer`.
    #[schema(value_type = crate::domain::Role, example = "viewer")]
    role: String,
    /// The user who owns the token; when left out, the owner of the token making the request
    /// (none only when that token has none either).
    #[schema(format = Uuid)]
    user_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CreatedTokenResponse {
    id: String,
    name: String,
    role: String,
    /// The bearer secret: shown this once, stored only hashed.
    secret: String,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", operation_id = "tokens_create", security(("bearer" = [])), request_body = CreateTokenRequest, responses((status = 201, body = CreatedTokenResponse), ApiErrors))]
/// `POST /api/v1/tokens` → 201 with the token and its secret (shown once).
pub(super) async fn create_token(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenResponse>), ApiError> {
    caller.actor().authorize(Action::ManageAccess)?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name: 1 to 100 characters"));
    }
    let role = Role::parse(&req.role).map_err(|e| ApiError::invalid(format!("role: {e}")))?;
    let owner = req
        .user_id
        .as_deref()
        .map(|u| u.parse().map(UserId::from_uuid))
        .transpose()
        .map_err(|_| ApiError::invalid("user_id: not a user id"))?
        // A user's token mints tokens of that user, so disabling them stops those too.
        .or(caller.0.user_id);
    let (made, secret) = api_tokens::issue(&state.ctx, &caller.actor(), name, role, owner).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenResponse {
            id: made.id.to_string(),
            name: made.name,
            role: made.role.as_str().to_owned(),
            secret,
        }),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct RevokedResponse {
    id: String,
    revoked: bool,
}

#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "tokens", operation_id = "tokens_revoke", security(("bearer" = [])), params(("id" = String, Path, description = "the token id")), responses((status = 200, body = RevokedResponse), ApiErrors))]
/// `POST /api/v1/tokens/{id}/revoke` → the token stops working at once; 404 when unknown
/// or already revoked.
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<RevokedResponse>, ApiError> {
    caller.actor().authorize(Action::ManageAccess)?;
    let id = path_id(&id, "token", ApiTokenId::from_uuid)?;
    match api_tokens::revoke(&state.ctx, &caller.actor(), id).await {
        Ok(()) => Ok(Json(RevokedResponse {
            id: id.to_string(),
            revoked: true,
        })),
        Err(TokenError::Store(StoreError::NotFound)) => Err(ApiError::not_found("token")),
        Err(e) => Err(e.into()),
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Forbidden(e) => e.into(),
            TokenError::UnknownOwner | TokenError::Store(StoreError::Conflict(_)) => {
                ApiError::invalid("user_id: there is no such user")
            }
            e @ TokenError::OwnerDisabled => ApiError::invalid(format!("user_id: {e}")),
            e @ TokenError::AboveOwner { .. } => ApiError::invalid(format!("role: {e}")),
            TokenError::Store(e) => e.into(),
        }
    }
}
