//! `/api/v1/lists`: create and list mailing lists.

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateListRequest {
    slug: String,
    name: String,
    #[serde(default)]
    description: String,
    kind: ListKind,
    legal_basis: LegalBasis,
    opt_in: OptIn,
    #[serde(default)]
    visibility: ListVisibility,
    consent_text: Option<String>,
    welcome_message: Option<String>,
}

#[derive(Debug, Serialize)]
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

#[derive(Debug, Serialize)]
pub(super) struct ListsResponse {
    lists: Vec<ListResponse>,
}

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

/// `GET /api/v1/lists` → every list.
pub(super) async fn all(
    State(state): State<AppState>,
    _caller: ApiCaller,
) -> Result<Json<ListsResponse>, ApiError> {
    let lists = lists::all(&state).await?;
    Ok(Json(ListsResponse {
        lists: lists.into_iter().map(ListResponse::from).collect(),
    }))
}
