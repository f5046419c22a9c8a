//! `/api/v1/lists`: create and list mailing lists.

use crate::web::error::ErrorBody;
use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{LegalBasis, ListKind, ListSlug, ListVisibility, MailingList, NewList, OptIn},
    services::lists::{self, CreateListError},
    startup::AppState,
    web::{
        error::ApiError,
        extract::{ApiCaller, ApiJson},
    },
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateListRequest {
    slug: String,
    name: String,
    #[serde(default)]
    description: String,
    #[schema(value_type = String)]
    kind: ListKind,
    #[schema(value_type = String)]
    legal_basis: LegalBasis,
    #[schema(value_type = String)]
    opt_in: OptIn,
    #[serde(default)]
    #[schema(value_type = String)]
    visibility: ListVisibility,
    consent_text: Option<String>,
    welcome_message: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ListResponse {
    id: String,
    slug: String,
    name: String,
    description: String,
    #[schema(value_type = String)]
    kind: ListKind,
    #[schema(value_type = String)]
    legal_basis: LegalBasis,
    #[schema(value_type = String)]
    opt_in: OptIn,
    #[schema(value_type = String)]
    visibility: ListVisibility,
    consent_text: Option<String>,
    welcome_message: Option<String>,
}

impl From<MailingList> for ListResponse {
    fn from(l: MailingList) -> Self {
        let d = l.def;
        Self {
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
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ListsResponse {
    lists: Vec<ListResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/lists", tag = "lists", security(("bearer" = [])), request_body = CreateListRequest, responses((status = 201, body = ListResponse), (status = 400, description = "malformed body", body = ErrorBody), (status = 401, description = "no or bad token", body = ErrorBody), (status = 403, description = "the role may not do this", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "invalid field", body = ErrorBody)))]
/// `POST /api/v1/lists` → 201 with the list.
pub(super) async fn create(
    State(state): State<AppState>,
    _caller: ApiCaller,
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
    };
    match lists::create(&state, def).await {
        Ok(list) => Ok((StatusCode::CREATED, Json(list.into()))),
        Err(CreateListError::Invalid(e)) => Err(ApiError::invalid(e.to_string())),
        Err(e @ CreateListError::SlugTaken(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "slug_taken",
            e.to_string(),
        )),
        Err(CreateListError::Store(e)) => Err(e.into()),
    }
}

#[utoipa::path(get, path = "/api/v1/lists", tag = "lists", security(("bearer" = [])), params(("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 500, default 100")), responses((status = 200, body = ListsResponse), (status = 400, description = "malformed body", body = ErrorBody), (status = 401, description = "no or bad token", body = ErrorBody), (status = 403, description = "the role may not do this", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "invalid field", body = ErrorBody)))]
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
    let (lists, next) = lists::page(&state, after.as_ref(), page.limit()).await?;
    Ok(Json(ListsResponse {
        lists: lists.into_iter().map(ListResponse::from).collect(),
        next_cursor: next.map(|s| s.as_str().to_owned()),
    }))
}
