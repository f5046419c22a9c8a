//! `/api/v1/transactional`: send a transactional message and see where it stands;
//! `/api/v1/transactional-templates`: the operator's templates for them.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{DeliveryId, EmailAddress, TransactionalTemplate},
    services::transactional::{self, MessageStatus, TemplateText, TransactionalError},
    web::{
        AppState,
        error::{ApiError, ApiErrors},
        extract::{ApiCaller, ApiJson},
    },
};

impl From<TransactionalError> for ApiError {
    fn from(e: TransactionalError) -> Self {
        match e {
            TransactionalError::Forbidden(e) => e.into(),
            TransactionalError::Invalid(message) => ApiError::invalid(message),
            e @ TransactionalError::NameTaken(_) => {
                ApiError::new(StatusCode::CONFLICT, "name_taken", e.to_string())
            }
            TransactionalError::NotFound => ApiError::not_found("transactional record"),
            TransactionalError::NotMailable(reason) => ApiError::new(
                StatusCode::CONFLICT,
                "not_mailable",
                format!("this person may not be mailed: {reason}"),
            ),
            TransactionalError::Store(e) => e.into(),
        }
    }
}

/// A new template.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateTransactionalTemplateRequest {
    /// 1 to 64 lower-case letters, digits, hyphens or underscores.
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$", example = "order-shipped")]
    name: String,
    /// One line; may use `{{ data.KEY }}` and `{{ subscriber.name }}`.
    #[schema(example = "Your order {{ data.order_id }} is on its way")]
    subject: String,
    /// Markdown with the same variables.
    #[schema(
        example = "Hello {{ subscriber.name }},\n\nyour order {{ data.order_id }} has left our warehouse."
    )]
    body_markdown: String,
}

/// A template's new subject or body; what is left out stays.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateTransactionalTemplateRequest {
    subject: Option<String>,
    body_markdown: Option<String>,
}

/// A template.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TransactionalTemplateResponse {
    id: String,
    name: String,
    subject: String,
    body_markdown: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TransactionalTemplate> for TransactionalTemplateResponse {
    fn from(t: TransactionalTemplate) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            subject: t.subject,
            body_markdown: t.body_markdown,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// Every template.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TransactionalTemplatesResponse {
    templates: Vec<TransactionalTemplateResponse>,
}

/// A message to send.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TransactionalSendRequest {
    /// The template's name (or id).
    #[schema(example = "order-shipped")]
    template: String,
    /// The recipient's address.
    #[schema(format = "email", example = "ada@example.com")]
    to: String,
    /// What the template's `data.*` variables read; an object of at most 64 KiB.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object, example = json!({"order_id": "A-1017"}))]
    data: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// A transactional message and where it stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TransactionalMessageResponse {
    id: String,
    template: String,
    /// The person it goes to (their data page lists it).
    subscriber_id: String,
    subject: String,
    /// `queued`, `sending`, `sent`, `deferred` (a retry is due), `failed` or `suppressed`
    /// (the person could no longer be mailed when it was due); `gone` once the person was
    /// erased.
    status: String,
    attempts: u32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

impl From<MessageStatus> for TransactionalMessageResponse {
    fn from(m: MessageStatus) -> Self {
        let progress = m.progress;
        Self {
            id: m.message.id.to_string(),
            template: m.message.template,
            subscriber_id: m.message.subscriber_id.to_string(),
            subject: m.message.subject,
            status: progress
                .as_ref()
                .map_or("gone", |p| p.status.as_str())
                .to_owned(),
            attempts: progress.as_ref().map_or(0, |p| p.attempts),
            last_error: progress.as_ref().and_then(|p| p.last_error.clone()),
            created_at: m.message.created_at,
            sent_at: progress.and_then(|p| p.sent_at),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/transactional", operation_id = "transactional_send", tag = "transactional", security(("bearer" = [])), request_body = TransactionalSendRequest, responses((status = 202, description = "rendered and queued; `Location` is where its status is read", body = TransactionalMessageResponse), ApiErrors))]
/// `POST /api/v1/transactional` → 202: the message is rendered and in the outbox; 409
/// `not_mailable` when the person is suppressed, blocked, restricted or erased.
pub(super) async fn send(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<TransactionalSendRequest>,
) -> Result<Response, ApiError> {
    let to = EmailAddress::parse(&req.to).map_err(|e| ApiError::invalid(format!("to: {e}")))?;
    let sent =
        transactional::send(&state.ctx, &caller.actor(), &req.template, &to, &req.data).await?;
    let location = format!("/api/v1/transactional/{}", sent.message.id);
    let mut response = (
        StatusCode::ACCEPTED,
        Json(TransactionalMessageResponse::from(sent)),
    )
        .into_response();
    if let Ok(value) = HeaderValue::try_from(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/transactional/{id}", operation_id = "transactional_get", tag = "transactional", security(("bearer" = [])), params(("id" = String, Path, description = "the message's id")), responses((status = 200, description = "the message and where it stands", body = TransactionalMessageResponse), ApiErrors))]
/// `GET /api/v1/transactional/{id}` → the message and where it stands.
pub(super) async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<TransactionalMessageResponse>, ApiError> {
    let id = super::path_id(&id, "transactional message", DeliveryId::from_uuid)?;
    let found = transactional::status(&state.ctx, &caller.actor(), id).await?;
    Ok(Json(found.into()))
}

#[utoipa::path(post, path = "/api/v1/transactional-templates", operation_id = "transactional_templates_create", tag = "transactional", security(("bearer" = [])), request_body = CreateTransactionalTemplateRequest, responses((status = 201, description = "the new template", body = TransactionalTemplateResponse), ApiErrors))]
/// `POST /api/v1/transactional-templates` → 201: a template, checked for its syntax.
pub(super) async fn create_template(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<CreateTransactionalTemplateRequest>,
) -> Result<(StatusCode, Json<TransactionalTemplateResponse>), ApiError> {
    let text = TemplateText {
        subject: req.subject,
        body_markdown: req.body_markdown,
    };
    let created =
        transactional::create_template(&state.ctx, &caller.actor(), &req.name, text).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/api/v1/transactional-templates", operation_id = "transactional_templates_list", tag = "transactional", security(("bearer" = [])), responses((status = 200, description = "every template, by name", body = TransactionalTemplatesResponse), ApiErrors))]
/// `GET /api/v1/transactional-templates` → every template, by name.
pub(super) async fn templates(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<TransactionalTemplatesResponse>, ApiError> {
    let all = transactional::templates(&state.ctx, &caller.actor()).await?;
    Ok(Json(TransactionalTemplatesResponse {
        templates: all.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/transactional-templates/{name}", operation_id = "transactional_templates_get", tag = "transactional", security(("bearer" = [])), params(("name" = String, Path, description = "the template's name or id")), responses((status = 200, description = "the template", body = TransactionalTemplateResponse), ApiErrors))]
/// `GET /api/v1/transactional-templates/{name}` → the template.
pub(super) async fn template(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(name): Path<String>,
) -> Result<Json<TransactionalTemplateResponse>, ApiError> {
    let found = transactional::template(&state.ctx, &caller.actor(), &name).await?;
    Ok(Json(found.into()))
}

#[utoipa::path(patch, path = "/api/v1/transactional-templates/{name}", operation_id = "transactional_templates_update", tag = "transactional", security(("bearer" = [])), params(("name" = String, Path, description = "the template's name or id")), request_body = UpdateTransactionalTemplateRequest, responses((status = 200, description = "the changed template", body = TransactionalTemplateResponse), ApiErrors))]
/// `PATCH /api/v1/transactional-templates/{name}` → the changed template.
pub(super) async fn update_template(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<UpdateTransactionalTemplateRequest>,
) -> Result<Json<TransactionalTemplateResponse>, ApiError> {
    let changed = transactional::update_template(
        &state.ctx,
        &caller.actor(),
        &name,
        req.subject,
        req.body_markdown,
    )
    .await?;
    Ok(Json(changed.into()))
}

#[utoipa::path(delete, path = "/api/v1/transactional-templates/{name}", operation_id = "transactional_templates_delete", tag = "transactional", security(("bearer" = [])), params(("name" = String, Path, description = "the template's name or id")), responses((status = 204, description = "deleted; messages sent with it keep its name"), ApiErrors))]
/// `DELETE /api/v1/transactional-templates/{name}` → 204.
pub(super) async fn delete_template(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    transactional::delete_template(&state.ctx, &caller.actor(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
