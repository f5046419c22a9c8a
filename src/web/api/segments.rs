//! `/api/v1/segments`: named filters over people that narrow a campaign's audience; their
//! count, and the count of a filter before it is saved.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    domain::SegmentId,
    services::segments::{self, SegmentsError},
    store::segments::Segment,
    web::AppState,
    web::{
        error::{ApiError, ApiErrors},
        extract::{ApiCaller, ApiJson},
    },
};

impl From<SegmentsError> for ApiError {
    fn from(e: SegmentsError) -> Self {
        match e {
            SegmentsError::Forbidden(e) => e.into(),
            SegmentsError::Invalid(e) => {
                let code = if e.path == "name" {
                    "invalid"
                } else {
                    "invalid_filter"
                };
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
            }
            e @ SegmentsError::NameTaken(_) => {
                ApiError::new(StatusCode::CONFLICT, "name_taken", e.to_string())
            }
            e @ SegmentsError::InUse(_) => {
                ApiError::new(StatusCode::CONFLICT, "in_use", e.to_string())
            }
            SegmentsError::NotFound => ApiError::not_found("segment"),
            SegmentsError::Store(e) => e.into(),
        }
    }
}

/// A filter: `{"all"|"any": [CONDITION, …]}`, `{"not": CONDITION}`, or one condition:
/// `{"attribute": KEY, "op": "eq"|"ne"|"contains"|"gt"|"lt"|"exists", "value": …}`,
/// `{"locale": "de"}`, `{"list": SLUG_OR_ID}`, `{"subscribed_before"|"subscribed_after":
/// DATE, "list"?: SLUG_OR_ID}`, `{"received": CAMPAIGN_ID}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateSegmentRequest {
    /// Unique, 1 to 100 characters.
    #[schema(example = "German customers on the pro plan")]
    name: String,
    #[schema(value_type = Object, example = json!({"all": [{"attribute": "plan", "op": "eq", "value": "pro"}, {"locale": "de"}]}))]
    filter: Value,
}

/// `PATCH /api/v1/segments/{id}`: the fields to change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateSegmentRequest {
    name: Option<String>,
    #[schema(value_type = Option<Object>)]
    filter: Option<Value>,
}

/// A filter to count without saving it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CountFilterRequest {
    #[schema(value_type = Object, example = json!({"locale": "de"}))]
    filter: Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SegmentResponse {
    id: String,
    name: String,
    /// The filter, lists by slug.
    #[schema(value_type = Object)]
    filter: Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SegmentsResponse {
    segments: Vec<SegmentResponse>,
}

/// How many people a segment selects.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CountResponse {
    /// People who may be mailed now (active, not suppressed) whom the filter selects.
    total: u64,
}

async fn response(state: &AppState, s: Segment) -> Result<SegmentResponse, ApiError> {
    Ok(SegmentResponse {
        id: s.id.to_string(),
        filter: segments::filter_json(&state.ctx, &s.filter).await?,
        name: s.name,
        created_at: s.created_at,
        updated_at: s.updated_at,
    })
}

fn segment_id(raw: &str) -> Result<SegmentId, ApiError> {
    uuid::Uuid::parse_str(raw)
        .map(SegmentId::from_uuid)
        .map_err(|_| ApiError::not_found("segment"))
}

#[utoipa::path(post, path = "/api/v1/segments", tag = "segments", security(("bearer" = [])), request_body = CreateSegmentRequest, responses((status = 201, body = SegmentResponse), ApiErrors))]
/// `POST /api/v1/segments` → 201; a filter that does not parse, or names an unknown list or
/// campaign, is 422 `invalid_filter` naming the part (`filter.all[1].op: …`).
pub(super) async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<CreateSegmentRequest>,
) -> Result<(StatusCode, Json<SegmentResponse>), ApiError> {
    let saved = segments::create(&state.ctx, &caller.actor(), &req.name, &req.filter).await?;
    Ok((StatusCode::CREATED, Json(response(&state, saved).await?)))
}

#[utoipa::path(get, path = "/api/v1/segments", tag = "segments", security(("bearer" = [])), responses((status = 200, body = SegmentsResponse), ApiErrors))]
/// `GET /api/v1/segments` → every segment, by name.
pub(super) async fn all(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<SegmentsResponse>, ApiError> {
    let mut out = Vec::new();
    for s in segments::all(&state.ctx, &caller.actor()).await? {
        out.push(response(&state, s).await?);
    }
    Ok(Json(SegmentsResponse { segments: out }))
}

#[utoipa::path(get, path = "/api/v1/segments/{id}", tag = "segments", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, body = SegmentResponse), ApiErrors))]
/// `GET /api/v1/segments/{id}`.
pub(super) async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<SegmentResponse>, ApiError> {
    let s = segments::find(&state.ctx, &caller.actor(), segment_id(&id)?).await?;
    Ok(Json(response(&state, s).await?))
}

#[utoipa::path(patch, path = "/api/v1/segments/{id}", tag = "segments", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), request_body = UpdateSegmentRequest, responses((status = 200, body = SegmentResponse), ApiErrors))]
/// `PATCH /api/v1/segments/{id}` → 200: a new name, filter or both; campaigns not yet
/// started that use it follow the new filter.
pub(super) async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateSegmentRequest>,
) -> Result<Json<SegmentResponse>, ApiError> {
    let s = segments::update(
        &state.ctx,
        &caller.actor(),
        segment_id(&id)?,
        req.name.as_deref(),
        req.filter.as_ref(),
    )
    .await?;
    Ok(Json(response(&state, s).await?))
}

#[utoipa::path(delete, path = "/api/v1/segments/{id}", tag = "segments", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 204, description = "deleted"), ApiErrors))]
/// `DELETE /api/v1/segments/{id}` → 204; 409 `in_use` while an unsent campaign uses it.
pub(super) async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    segments::delete(&state.ctx, &caller.actor(), segment_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/segments/{id}/count", tag = "segments", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, body = CountResponse), ApiErrors))]
/// `GET /api/v1/segments/{id}/count` → `{"total"}`: people who may be mailed now whom it
/// selects (a campaign's audience is further narrowed to its lists' members).
pub(super) async fn count(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<CountResponse>, ApiError> {
    let actor = caller.actor();
    let s = segments::find(&state.ctx, &actor, segment_id(&id)?).await?;
    let total = segments::count(&state.ctx, &actor, &s.filter).await?;
    Ok(Json(CountResponse { total }))
}

#[utoipa::path(post, path = "/api/v1/segments/count", tag = "segments", security(("bearer" = [])), request_body = CountFilterRequest, responses((status = 200, body = CountResponse), ApiErrors))]
/// `POST /api/v1/segments/count` → `{"total"}` of a filter that is not saved (a form that
/// shows the count as one builds the filter); changes nothing.
pub(super) async fn count_filter(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<CountFilterRequest>,
) -> Result<Json<CountResponse>, ApiError> {
    let filter = segments::parse_filter(&state.ctx, &req.filter).await?;
    let total = segments::count(&state.ctx, &caller.actor(), &filter).await?;
    Ok(Json(CountResponse { total }))
}
