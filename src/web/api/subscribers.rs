//! `/api/v1/subscribers`: add one subscriber, look a subscriber up by address, read their
//! consent ledger.

use crate::web::error::ErrorBody;
use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{ConsentEvent, EmailAddress, ListSlug, Locale, SubscriberId, SubscriberName},
    services::{
        imports::{self, AddSubscriberError, NewSubscriber},
        privacy::{self, Actor},
        subscribers::{self, SubscriberOverview},
    },
    startup::AppState,
    store::StoreError,
    web::{
        error::ApiError,
        extract::{ApiCaller, ApiJson},
    },
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct FindQuery {
    email: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SubscriptionResponse {
    list: String,
    status: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SubscriberResponse {
    id: String,
    email: String,
    name: String,
    locale: String,
    status: String,
    created_at: DateTime<Utc>,
    subscriptions: Vec<SubscriptionResponse>,
}

impl From<SubscriberOverview> for SubscriberResponse {
    fn from(found: SubscriberOverview) -> Self {
        let s = found.subscriber;
        Self {
            id: s.id.to_string(),
            email: s.email.as_str().to_owned(),
            name: s.name.as_str().to_owned(),
            locale: s.locale.as_str().to_owned(),
            status: s.status.as_str().to_owned(),
            created_at: s.created_at,
            subscriptions: found
                .subscriptions
                .into_iter()
                .map(|(slug, status)| SubscriptionResponse {
                    list: slug.as_str().to_owned(),
                    status: status.as_str().to_owned(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateSubscriberRequest {
    email: String,
    #[serde(default)]
    name: String,
    locale: Option<String>,
    lists: Vec<String>,
    consent_at: Option<String>,
    consent_source: Option<String>,
    consent_text: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ConsentEventsResponse {
    subscriber_id: String,
    #[schema(value_type = Vec<Object>)]
    events: Vec<ConsentEvent>,
}

#[utoipa::path(get, path = "/api/v1/subscribers", tag = "subscribers", security(("bearer" = [])), params(("email" = String, Query)), responses((status = 200, body = SubscriberResponse), (status = 400, description = "malformed body", body = ErrorBody), (status = 401, description = "no or bad token", body = ErrorBody), (status = 403, description = "the role may not do this", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "invalid field", body = ErrorBody)))]
/// `GET /api/v1/subscribers?email=ADDR` → the subscriber and their subscriptions.
pub(super) async fn find(
    State(state): State<AppState>,
    _caller: ApiCaller,
    RawQuery(query): RawQuery,
) -> Result<Json<SubscriberResponse>, ApiError> {
    let query: FindQuery = serde_html_form::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    let raw = query
        .email
        .ok_or_else(|| ApiError::invalid("email: the query parameter is required"))?;
    let email = EmailAddress::parse(&raw).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    let found = subscribers::find_by_email(&state, &email)
        .await?
        .ok_or_else(|| ApiError::not_found("subscriber"))?;
    Ok(Json(found.into()))
}

#[utoipa::path(post, path = "/api/v1/subscribers", tag = "subscribers", security(("bearer" = [])), request_body = CreateSubscriberRequest, responses((status = 201, body = SubscriberResponse), (status = 200, description = "nothing changed", body = SubscriberResponse), (status = 400, description = "malformed body", body = ErrorBody), (status = 401, description = "no or bad token", body = ErrorBody), (status = 403, description = "the role may not do this", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "invalid field", body = ErrorBody)))]
/// `POST /api/v1/subscribers` → 201 with the subscriber (200 when nothing changed): the
/// rules of one import row, for each list named.
pub(super) async fn create(
    State(state): State<AppState>,
    ApiCaller(token): ApiCaller,
    ApiJson(req): ApiJson<CreateSubscriberRequest>,
) -> Result<(StatusCode, Json<SubscriberResponse>), ApiError> {
    let email =
        EmailAddress::parse(&req.email).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    let name =
        SubscriberName::parse(&req.name).map_err(|e| ApiError::invalid(format!("name: {e}")))?;
    let lists = req
        .lists
        .iter()
        .map(|s| ListSlug::parse(s).map_err(|_| no_list(s)))
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewSubscriber {
        email,
        name,
        locale: req
            .locale
            .as_deref()
            .and_then(Locale::from_tag)
            .unwrap_or_default(),
        lists,
        consent_at: req.consent_at,
        consent_source: req.consent_source,
        consent_text: req.consent_text,
    };
    let actor = super::imports::actor(&token);
    let (found, changed) = imports::add_subscriber(&state, new, &actor).await?;
    let status = if changed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(found.into())))
}

fn no_list(slug: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("there is no list {slug:?}"),
    )
}

impl From<AddSubscriberError> for ApiError {
    fn from(e: AddSubscriberError) -> Self {
        match e {
            AddSubscriberError::UnknownList(slug) => no_list(&slug),
            AddSubscriberError::NoList | AddSubscriberError::Invalid { .. } => {
                Self::invalid(e.to_string())
            }
            AddSubscriberError::Refused { ref issue, .. } => {
                Self::new(StatusCode::CONFLICT, issue.code(), e.to_string())
            }
            AddSubscriberError::Store(e) => e.into(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/subscribers/{id}/consent-events", tag = "subscribers", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, body = ConsentEventsResponse), (status = 400, description = "malformed body", body = ErrorBody), (status = 401, description = "no or bad token", body = ErrorBody), (status = 403, description = "the role may not do this", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "invalid field", body = ErrorBody)))]
/// `GET /api/v1/subscribers/{id}/consent-events` → the person's ledger, oldest first.
pub(super) async fn consent_events(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<ConsentEventsResponse>, ApiError> {
    let id = id
        .parse()
        .map(SubscriberId::from_uuid)
        .map_err(|_| ApiError::not_found("subscriber"))?;
    match subscribers::consent_history(&state, id).await {
        Ok(events) => Ok(Json(ConsentEventsResponse {
            subscriber_id: id.to_string(),
            events,
        })),
        Err(StoreError::NotFound) => Err(ApiError::not_found("subscriber")),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct BlockResponse {
    /// The subscriber's status afterwards: `blocked`, or `active`/`restricted` after unblocking.
    status: String,
}

#[utoipa::path(post, path = "/api/v1/subscribers/{id}/block", tag = "subscribers", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, body = BlockResponse), (status = 400, description = "malformed body", body = ErrorBody), (status = 401, description = "no or bad token", body = ErrorBody), (status = 403, description = "the role may not do this", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "invalid field", body = ErrorBody)))]
/// `POST /api/v1/subscribers/{id}/block` → `{"status":"blocked"}`: nothing is sent to the
/// person and nothing adds them until the block is lifted (idempotent).
pub(super) async fn block(
    State(state): State<AppState>,
    ApiCaller(token): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<BlockResponse>, ApiError> {
    set_block(&state, &token, &id, true).await
}

#[utoipa::path(post, path = "/api/v1/subscribers/{id}/unblock", tag = "subscribers", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, body = BlockResponse), (status = 400, description = "malformed body", body = ErrorBody), (status = 401, description = "no or bad token", body = ErrorBody), (status = 403, description = "the role may not do this", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "invalid field", body = ErrorBody)))]
/// `POST /api/v1/subscribers/{id}/unblock` → the status before the block (`active`, or
/// `restricted` when the person's restriction still stands); idempotent.
pub(super) async fn unblock(
    State(state): State<AppState>,
    ApiCaller(token): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<BlockResponse>, ApiError> {
    set_block(&state, &token, &id, false).await
}

async fn set_block(
    state: &AppState,
    token: &crate::store::api_tokens::ApiToken,
    id: &str,
    blocked: bool,
) -> Result<Json<BlockResponse>, ApiError> {
    let id = id
        .parse()
        .map(SubscriberId::from_uuid)
        .map_err(|_| ApiError::not_found("subscriber"))?;
    let actor = Actor::operator(&token.name, None);
    let status = privacy::block(state, id, blocked, &actor).await?;
    Ok(Json(BlockResponse {
        status: status.as_str().to_owned(),
    }))
}
