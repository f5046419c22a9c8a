//! `/api/v1/lists`: create, list, read, edit (the consent text is versioned) and archive
//! mailing lists.

use crate::services::paging::Page;
use crate::web::error::ApiErrors;
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{LegalBasis, ListId, ListKind, ListSlug, ListVisibility, MailingList, NewList, OptIn},
    services::lists::{self, ListEdit, ListPatch, ListsError},
    store::StoreError,
    web::AppState,
    web::{
        error::ApiError,
        extract::{ApiCaller, ApiJson},
    },
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateListRequest {
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[a-z0-9][a-z0-9-]{0,63}$",
        example = "news"
    )]
    slug: String,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S", example = "News")]
    name: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    description: String,
    #[schema(example = "newsletter")]
    kind: ListKind,
    #[schema(example = "consent")]
    legal_basis: LegalBasis,
    #[schema(example = "double")]
    opt_in: OptIn,
    #[serde(default)]
    visibility: ListVisibility,
    #[schema(max_length = 10000)]
    consent_text: Option<String>,
    #[schema(max_length = 10000)]
    welcome_message: Option<String>,
    /// Where replies to the list's mail go (`Reply-To`), at any domain; `null` or empty:
    /// `mail.reply_to`, if set. A campaign's own `reply_to` wins.
    #[schema(format = Email, max_length = 254)]
    reply_to: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ListResponse {
    id: String,
    slug: String,
    name: String,
    description: String,
    kind: ListKind,
    legal_basis: LegalBasis,
    opt_in: OptIn,
    visibility: ListVisibility,
    consent_text: Option<String>,
    welcome_message: Option<String>,
    /// Where replies to the list's mail go; `null`: `mail.reply_to`, if set.
    reply_to: Option<String>,
    /// When the list was archived (no signups, no new campaigns); `null` when it is not.
    archived_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<MailingList> for ListResponse {
    fn from(l: MailingList) -> Self {
        let d = l.def;
        Self {
            archived_at: l.archived_at,
            id: l.id.to_string(),
            slug: d.slug.as_str().to_owned(),
            name: d.name,
            description: d.description,
            kind: d.kind,
            legal_basis: d.legal_basis,
            opt_in: d.opt_in,
            visibility: d.visibility,
            consent_text: d.consent_text,
            welcome_message: d.welcome_message,
            reply_to: d.reply_to.map(String::from),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ListsResponse {
    lists: Vec<ListResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/lists", tag = "lists", security(("bearer" = [])), request_body = CreateListRequest, responses((status = 201, body = ListResponse), ApiErrors))]
/// `POST /api/v1/lists` → 201 with the list.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<CreateListRequest>,
) -> Result<(StatusCode, Json<ListResponse>), ApiError> {
    let slug = ListSlug::parse(&req.slug).map_err(|e| ApiError::invalid(format!("slug: {e}")))?;
    let def = NewList {
        slug,
        name: req.name.trim().to_owned(),
        description: req.description,
        kind: req.kind,
        legal_basis: req.legal_basis,
        opt_in: req.opt_in,
        visibility: req.visibility,
        consent_text: req.consent_text.filter(|t| !t.trim().is_empty()),
        welcome_message: req.welcome_message.filter(|t| !t.trim().is_empty()),
        reply_to: super::reply_to(req.reply_to.as_deref())?,
    };
    let list = lists::create(&state.ctx, &caller.actor(), def).await?;
    Ok((StatusCode::CREATED, Json(list.into())))
}

impl From<ListsError> for ApiError {
    fn from(e: ListsError) -> Self {
        match e {
            ListsError::Forbidden(e) => e.into(),
            ListsError::Invalid(e) => ApiError::invalid(e.to_string()),
            e @ ListsError::SlugTaken(_) => {
                ApiError::new(StatusCode::CONFLICT, "slug_taken", e.to_string())
            }
            ListsError::Store(e) => found(e),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/lists", tag = "lists", security(("bearer" = [])), params(("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = ListsResponse), ApiErrors))]
/// `GET /api/v1/lists[?cursor=C][&limit=N]` → lists by slug, a page at a time.
pub(super) async fn all(
    State(state): State<AppState>,
    _caller: ApiCaller,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Json<ListsResponse>, ApiError> {
    let page: super::PageQuery = serde_html_form::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    let after = match page.cursor.as_deref() {
        Some(c) => Some(ListSlug::parse(c).map_err(|_| ApiError::invalid("cursor: not a cursor"))?),
        None => None,
    };
    let Page { items: lists, next } = lists::page(&state.ctx, after.as_ref(), page.limit()).await?;
    Ok(Json(ListsResponse {
        lists: lists.into_iter().map(ListResponse::from).collect(),
        next_cursor: next.map(|s| s.as_str().to_owned()),
    }))
}

/// The list a path names, by slug or id (404 when none).
async fn list_id(state: &AppState, raw: &str) -> Result<ListId, ApiError> {
    super::named_list(state, raw)
        .await?
        .map(|l| l.id)
        .ok_or_else(|| ApiError::not_found("list"))
}

fn found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("list"),
        other => other.into(),
    }
}

#[utoipa::path(get, path = "/api/v1/lists/{id}", tag = "lists", security(("bearer" = [])), params(("id" = String, Path, description = "the list id")), responses((status = 200, body = ListResponse), ApiErrors))]
/// `GET /api/v1/lists/{id}` → the list.
pub(super) async fn get(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<ListResponse>, ApiError> {
    let list = lists::find(&state.ctx, list_id(&state, &id).await?)
        .await
        .map_err(found)?;
    Ok(Json(list.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateListRequest {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S", example = "News")]
    name: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    description: String,
    visibility: ListVisibility,
    /// `null` or empty: the default wording. A change is a new version; the ledger keeps
    /// which version each person saw.
    #[schema(max_length = 10000)]
    consent_text: Option<String>,
    /// Where replies to the list's mail go, at any domain; absent, `null` or empty:
    /// `mail.reply_to`, if set.
    #[schema(format = Email, max_length = 254)]
    reply_to: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/lists/{id}", tag = "lists", security(("bearer" = [])), params(("id" = String, Path, description = "the list id")), request_body = UpdateListRequest, responses((status = 200, body = ListResponse), ApiErrors))]
/// `PUT /api/v1/lists/{id}` → the list with its new name, description, visibility, consent
/// text and reply-to address (slug, kind, legal basis and opt-in stay; the same rules as at creation).
pub(super) async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateListRequest>,
) -> Result<Json<ListResponse>, ApiError> {
    let edit = ListEdit {
        name: req.name.trim().to_owned(),
        description: req.description.trim().to_owned(),
        visibility: req.visibility,
        consent_text: req
            .consent_text
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
        reply_to: super::reply_to(req.reply_to.as_deref())?,
    };
    let list = lists::update(
        &state.ctx,
        &caller.actor(),
        list_id(&state, &id).await?,
        edit,
    )
    .await?;
    Ok(Json(list.into()))
}

/// `PATCH /api/v1/lists/{id}`: the fields to change; absent ones stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PatchListRequest {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S", example = "News")]
    name: Option<String>,
    #[schema(max_length = 10000)]
    description: Option<String>,
    visibility: Option<ListVisibility>,
    /// `null` or empty: the default wording. A change is a new version.
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    consent_text: Option<Option<String>>,
    /// `null` or empty: none (`mail.reply_to`, if set).
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    reply_to: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/lists/{id}", tag = "lists", security(("bearer" = [])), params(("id" = String, Path, description = "the list id")), request_body = PatchListRequest, responses((status = 200, body = ListResponse), ApiErrors))]
/// `PATCH /api/v1/lists/{id}` → the list with the fields named changed and the others as
/// they were (the same rules as at creation).
pub(super) async fn patch(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PatchListRequest>,
) -> Result<Json<ListResponse>, ApiError> {
    let reply_to = match req.reply_to {
        None => None,
        Some(raw) => Some(super::reply_to(raw.as_deref())?),
    };
    let patch = ListPatch {
        name: req.name.map(|n| n.trim().to_owned()),
        description: req.description.map(|d| d.trim().to_owned()),
        visibility: req.visibility,
        consent_text: req
            .consent_text
            .map(|t| t.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())),
        reply_to,
    };
    let list = lists::patch_list(
        &state.ctx,
        &caller.actor(),
        list_id(&state, &id).await?,
        patch,
    )
    .await?;
    Ok(Json(list.into()))
}

#[utoipa::path(post, path = "/api/v1/lists/{id}/archive", tag = "lists", security(("bearer" = [])), params(("id" = String, Path, description = "the list id")), responses((status = 200, body = ListResponse), ApiErrors))]
/// `POST /api/v1/lists/{id}/archive` → the list, archived (idempotent): no signups and no
/// new campaigns; subscriptions and history stay.
pub(super) async fn archive(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<ListResponse>, ApiError> {
    let list = lists::set_archived(
        &state.ctx,
        &caller.actor(),
        list_id(&state, &id).await?,
        true,
    )
    .await?;
    Ok(Json(list.into()))
}

#[utoipa::path(post, path = "/api/v1/lists/{id}/unarchive", tag = "lists", security(("bearer" = [])), params(("id" = String, Path, description = "the list id")), responses((status = 200, body = ListResponse), ApiErrors))]
/// `POST /api/v1/lists/{id}/unarchive` → the list, back from the archive (idempotent).
pub(super) async fn unarchive(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<ListResponse>, ApiError> {
    let list = lists::set_archived(
        &state.ctx,
        &caller.actor(),
        list_id(&state, &id).await?,
        false,
    )
    .await?;
    Ok(Json(list.into()))
}
