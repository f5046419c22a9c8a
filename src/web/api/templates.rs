//! `/api/v1/templates`: the e-mail templates in use, overrides (save, revert) and previews.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    services::templates::{self, TemplateInfo, TemplatesError},
    web::AppState,
    web::{
        error::{ApiError, ErrorBody},
        extract::{ApiCaller, ApiJson},
    },
};

impl From<TemplatesError> for ApiError {
    fn from(e: TemplatesError) -> Self {
        match e {
            TemplatesError::Forbidden(e) => e.into(),
            TemplatesError::NotFound => ApiError::not_found("template"),
            e @ TemplatesError::Invalid { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "template_error",
                e.to_string(),
            ),
            TemplatesError::Store(e) => e.into(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TemplateResponse {
    /// Path below `emails/`, e.g. `en/welcome.html`.
    path: String,
    /// `en` or `de`.
    locale: String,
    /// The message: `confirmation`, `welcome`, `privacy_link`, `address_change`, `campaign`
    /// (the layout around every campaign) or `notice`.
    message: String,
    /// `subject.txt`, `txt` or `html`.
    part: String,
    /// Whether an override is saved.
    overridden: bool,
    updated_at: Option<DateTime<Utc>>,
    updated_by: Option<String>,
    /// The source in use (only when one template is asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    /// The built-in source (only when one template is asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    builtin_source: Option<String>,
}

fn response(t: TemplateInfo, with_source: bool) -> TemplateResponse {
    TemplateResponse {
        path: t.file.path(),
        locale: t.file.locale.as_str().to_owned(),
        message: t.file.message.to_owned(),
        part: t.file.part.to_owned(),
        overridden: t.saved.is_some(),
        updated_at: t.saved.as_ref().map(|o| o.updated_at),
        updated_by: t.saved.as_ref().map(|o| o.updated_by.clone()),
        source: with_source.then_some(t.source),
        builtin_source: with_source.then_some(t.builtin),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TemplatesResponse {
    templates: Vec<TemplateResponse>,
}

#[utoipa::path(get, path = "/api/v1/templates", tag = "templates", security(("bearer" = [])), responses((status = 200, body = TemplatesResponse), (status = 401, description = "no or bad token", body = ErrorBody)))]
/// `GET /api/v1/templates` → every template file, with whether it is overridden.
pub(super) async fn all(
    State(state): State<AppState>,
    _caller: ApiCaller,
) -> Result<Json<TemplatesResponse>, ApiError> {
    let all = templates::all(&state.ctx).await?;
    Ok(Json(TemplatesResponse {
        templates: all.into_iter().map(|t| response(t, false)).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/templates/{locale}/{file}", tag = "templates", security(("bearer" = [])), params(("locale" = String, Path, description = "en, de or a language the operator added", example = "en"), ("file" = String, Path, description = "e.g. welcome.html", example = "welcome.html")), responses((status = 200, body = TemplateResponse), (status = 401, description = "no or bad token", body = ErrorBody), (status = 404, description = "no such template", body = ErrorBody)))]
/// `GET /api/v1/templates/{locale}/{file}` → one template with its source and the built-in.
pub(super) async fn get(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path((locale, file)): Path<(String, String)>,
) -> Result<Json<TemplateResponse>, ApiError> {
    let t = templates::get(&state.ctx, &format!("{locale}/{file}")).await?;
    Ok(Json(response(t, true)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PutTemplateRequest {
    /// The new source.
    source: String,
}

#[utoipa::path(put, path = "/api/v1/templates/{locale}/{file}", tag = "templates", security(("bearer" = [])), params(("locale" = String, Path, description = "en, de or a language the operator added", example = "en"), ("file" = String, Path, description = "e.g. welcome.html", example = "welcome.html")), request_body = PutTemplateRequest, responses((status = 200, body = TemplateResponse), (status = 400, description = "malformed body", body = ErrorBody), (status = 401, description = "no or bad token", body = ErrorBody), (status = 403, description = "the role may not do this", body = ErrorBody), (status = 404, description = "no such template", body = ErrorBody), (status = 422, description = "template_error: the line and the reason", body = ErrorBody)))]
/// `PUT /api/v1/templates/{locale}/{file}` `{"source"}` → saves an override after checking it.
pub(super) async fn put(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((locale, file)): Path<(String, String)>,
    ApiJson(req): ApiJson<PutTemplateRequest>,
) -> Result<Json<TemplateResponse>, ApiError> {
    let path = format!("{locale}/{file}");
    let t = templates::save(&state.ctx, &caller.actor(), &path, &req.source).await?;
    Ok(Json(response(t, true)))
}

#[utoipa::path(delete, path = "/api/v1/templates/{locale}/{file}", tag = "templates", security(("bearer" = [])), params(("locale" = String, Path, description = "en, de or a language the operator added", example = "en"), ("file" = String, Path, description = "e.g. welcome.html", example = "welcome.html")), responses((status = 200, body = TemplateResponse), (status = 401, description = "no or bad token", body = ErrorBody), (status = 403, description = "the role may not do this", body = ErrorBody), (status = 404, description = "no such template", body = ErrorBody)))]
/// `DELETE /api/v1/templates/{locale}/{file}` → back to the built-in (harmless when not
/// overridden).
pub(super) async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((locale, file)): Path<(String, String)>,
) -> Result<Json<TemplateResponse>, ApiError> {
    let path = format!("{locale}/{file}");
    templates::revert(&state.ctx, &caller.actor(), &path).await?;
    Ok(Json(response(
        templates::get(&state.ctx, &path).await?,
        true,
    )))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PreviewTemplateRequest {
    /// A draft to render instead of the file's current source.
    source: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TemplatePreviewResponse {
    subject: String,
    text: String,
    html: String,
}

#[utoipa::path(post, path = "/api/v1/templates/{locale}/{file}/preview", tag = "templates", security(("bearer" = [])), params(("locale" = String, Path, description = "en, de or a language the operator added", example = "en"), ("file" = String, Path, description = "e.g. welcome.html", example = "welcome.html")), request_body = PreviewTemplateRequest, responses((status = 200, body = TemplatePreviewResponse), (status = 400, description = "malformed body", body = ErrorBody), (status = 401, description = "no or bad token", body = ErrorBody), (status = 404, description = "no such template", body = ErrorBody), (status = 422, description = "template_error: the line and the reason", body = ErrorBody)))]
/// `POST /api/v1/templates/{locale}/{file}/preview` `{"source"?}` → the message the file
/// belongs to, rendered with sample values (with the draft, if given). Stores nothing.
pub(super) async fn preview(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((locale, file)): Path<(String, String)>,
    ApiJson(req): ApiJson<PreviewTemplateRequest>,
) -> Result<Json<TemplatePreviewResponse>, ApiError> {
    let m = templates::preview(
        &state.ctx,
        &caller.actor(),
        &format!("{locale}/{file}"),
        req.source.as_deref(),
    )
    .await?;
    Ok(Json(TemplatePreviewResponse {
        subject: m.subject,
        text: m.text,
        html: m.html,
    }))
}
