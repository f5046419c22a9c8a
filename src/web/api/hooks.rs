//! `/api/v1/webhooks` (admin tokens only): signed outgoing webhooks and their delivery
//! attempts; `/api/v1/events` (admin and marketer tokens): the same events as a feed to poll.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{PageLimit, PageQuery, page_limit};
use crate::{
    domain::HookEndpointId,
    services::hooks::{self, EndpointChange, HooksError},
    store::hooks::{Attempt, Endpoint},
    web::AppState,
    web::{
        error::{ApiError, ApiErrors},
        extract::{ApiCaller, ApiJson},
    },
};

impl From<HooksError> for ApiError {
    fn from(e: HooksError) -> Self {
        match e {
            HooksError::Forbidden(e) => e.into(),
            HooksError::Invalid(message) => ApiError::invalid(message),
            HooksError::NotFound => ApiError::not_found("webhook"),
            HooksError::Store(e) => e.into(),
        }
    }
}

/// `POST /api/v1/webhooks`: where to post and which events.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateWebhookRequest {
    /// An http(s) URL on a public address (unless `webhooks.allow_private_targets`).
    #[schema(example = "https://crm.example.com/bulletin-hook")]
    url: String,
    /// Event types: `subscription.confirmed`, `subscription.unsubscribed`,
    /// `subscriber.erased`, `suppression.added`, `campaign.sent`, `notice.acknowledged`,
    /// `notice.objected`, `privacy_request.created`.
    #[schema(example = json!(["subscription.confirmed", "subscription.unsubscribed"]))]
    events: Vec<String>,
}

/// `PATCH /api/v1/webhooks/{id}`: the fields to change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateWebhookRequest {
    url: Option<String>,
    events: Option<Vec<String>>,
    /// `true` enables again (the failure streak forgotten, waiting events retried now).
    enabled: Option<bool>,
}

/// An endpoint, without its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct WebhookResponse {
    id: String,
    url: String,
    events: Vec<String>,
    enabled: bool,
    /// Since when its deliveries have failed without a success between.
    failing_since: Option<DateTime<Utc>>,
    /// When it was disabled for failing a day, if it was.
    disabled_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A new endpoint, with its signing secret: shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CreatedWebhookResponse {
    #[serde(flatten)]
    endpoint: WebhookResponse,
    /// `whsec_…`: verify each request's `webhook-signature` with it. Not shown again.
    secret: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct WebhooksResponse {
    webhooks: Vec<WebhookResponse>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AttemptResponse {
    /// The event's id: the `webhook-id` of its requests.
    event_id: String,
    event_type: String,
    subscriber_id: Option<String>,
    /// 1 for the first try of this event at this endpoint.
    attempt: u32,
    /// The HTTP status answered; `null` when none was (connection refused, time-out, …).
    status_code: Option<u16>,
    error: Option<String>,
    attempted_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AttemptsResponse {
    /// Newest first.
    attempts: Vec<AttemptResponse>,
    /// Pass as `cursor` for older attempts; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct EventResponse {
    /// The event's id (the `webhook-id` of its webhook requests).
    id: String,
    /// Its place in the feed.
    sequence: i64,
    #[serde(rename = "type")]
    event_type: String,
    subscriber_id: Option<String>,
    /// Ids only, never an address or a name.
    #[schema(value_type = Object)]
    data: Value,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct EventsResponse {
    /// Oldest first.
    events: Vec<EventResponse>,
    /// Pass as `after` for the events that follow (the last one's sequence; the `after`
    /// given when there is nothing new).
    next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct EventsQuery {
    after: Option<String>,
    limit: Option<PageLimit>,
}

fn response(e: Endpoint) -> WebhookResponse {
    WebhookResponse {
        id: e.id.to_string(),
        url: e.url,
        events: e.events.iter().map(|t| t.as_str().to_owned()).collect(),
        enabled: e.enabled,
        failing_since: e.failing_since,
        disabled_at: e.disabled_at,
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

fn attempt_response(a: Attempt) -> AttemptResponse {
    AttemptResponse {
        event_id: a.event_id.to_string(),
        event_type: a.event_type.as_str().to_owned(),
        subscriber_id: a.subscriber_id.map(|s| s.to_string()),
        attempt: a.attempt,
        status_code: a.status_code,
        error: a.error,
        attempted_at: a.attempted_at,
    }
}

fn webhook_id(raw: &str) -> Result<HookEndpointId, ApiError> {
    super::path_id(raw, "webhook", HookEndpointId::from_uuid)
}

#[utoipa::path(post, path = "/api/v1/webhooks", operation_id = "webhooks_create", tag = "webhooks", security(("bearer" = [])), request_body = CreateWebhookRequest, responses((status = 201, description = "registered; the secret is shown this once", body = CreatedWebhookResponse), ApiErrors))]
/// `POST /api/v1/webhooks` → 201 with the secret; an unknown event or a URL that is not
/// public is 422.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<CreatedWebhookResponse>), ApiError> {
    let mut endpoint = hooks::create(&state.ctx, &caller.actor(), &req.url, &req.events).await?;
    let secret = std::mem::take(&mut endpoint.secret);
    let endpoint = response(endpoint);
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhookResponse { endpoint, secret }),
    ))
}

#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "webhooks_list", tag = "webhooks", security(("bearer" = [])), responses((status = 200, description = "every endpoint, oldest first, without secrets", body = WebhooksResponse), ApiErrors))]
/// `GET /api/v1/webhooks` → every endpoint, without secrets.
pub(super) async fn all(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<WebhooksResponse>, ApiError> {
    let found = hooks::all(&state.ctx, &caller.actor()).await?;
    Ok(Json(WebhooksResponse {
        webhooks: found.into_iter().map(response).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", operation_id = "webhooks_get", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path, description = "the webhook's id")), responses((status = 200, description = "the endpoint, without its secret", body = WebhookResponse), ApiErrors))]
/// `GET /api/v1/webhooks/{id}`.
pub(super) async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<WebhookResponse>, ApiError> {
    let found = hooks::find(&state.ctx, &caller.actor(), webhook_id(&id)?).await?;
    Ok(Json(response(found)))
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", operation_id = "webhooks_update", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path, description = "the webhook's id")), request_body = UpdateWebhookRequest, responses((status = 200, description = "the changed endpoint", body = WebhookResponse), ApiErrors))]
/// `PATCH /api/v1/webhooks/{id}` → 200: a new URL, events, or `enabled`.
pub(super) async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateWebhookRequest>,
) -> Result<Json<WebhookResponse>, ApiError> {
    let change = EndpointChange {
        url: req.url,
        events: req.events,
        enabled: req.enabled,
    };
    let changed = hooks::update(&state.ctx, &caller.actor(), webhook_id(&id)?, change).await?;
    Ok(Json(response(changed)))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", operation_id = "webhooks_delete", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path, description = "the webhook's id")), responses((status = 204, description = "deleted, with the events still owed to it"), ApiErrors))]
/// `DELETE /api/v1/webhooks/{id}` → 204.
pub(super) async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    hooks::delete(&state.ctx, &caller.actor(), webhook_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/attempts", operation_id = "webhooks_attempts", tag = "webhooks", security(("bearer" = [])), params(("id" = String, Path, description = "the webhook's id"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, description = "delivery attempts, newest first", body = AttemptsResponse), ApiErrors))]
/// `GET /api/v1/webhooks/{id}/attempts[?cursor=C][&limit=N]` → attempts, newest first.
pub(super) async fn attempts(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<AttemptsResponse>, ApiError> {
    let page = PageQuery::parse(raw.as_deref())?;
    let before = page.cursor(|c| c.parse::<i64>().ok())?;
    let limit = page.limit();
    let found =
        hooks::attempts(&state.ctx, &caller.actor(), webhook_id(&id)?, before, limit).await?;
    let next_cursor = (found.len() as u64 == limit)
        .then(|| found.last().map(|a| a.id.to_string()))
        .flatten();
    Ok(Json(AttemptsResponse {
        attempts: found.into_iter().map(attempt_response).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/events", operation_id = "events_list", tag = "events", security(("bearer" = [])), params(("after" = Option<String>, Query, description = "next_cursor of the previous call; from the first event when absent"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, description = "the events after the cursor, oldest first", body = EventsResponse), ApiErrors))]
/// `GET /api/v1/events[?after=C][&limit=N]` → the events after `C`, in order.
pub(super) async fn events(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<EventsResponse>, ApiError> {
    let query: EventsQuery = super::query(raw.as_deref())?;
    let after = super::cursor(query.after.as_deref(), |c| {
        c.parse::<i64>().ok().filter(|n| *n >= 0)
    })?;
    let found = hooks::events(&state.ctx, &caller.actor(), after, page_limit(query.limit)).await?;
    let next_cursor = found.last().map(|e| e.seq).or(after).map(|n| n.to_string());
    Ok(Json(EventsResponse {
        events: found
            .into_iter()
            .map(|e| EventResponse {
                id: e.id.to_string(),
                sequence: e.seq,
                event_type: e.event_type.as_str().to_owned(),
                subscriber_id: e.subscriber_id.map(|s| s.to_string()),
                data: e.data,
                created_at: e.created_at,
            })
            .collect(),
        next_cursor,
    }))
}
