//! `/api/v1/notices`: create (typed fields, numbering, revisions), change or delete a draft,
//! read, audience preview, send, the acknowledgement report (JSON or CSV) and the JSON export of every notice.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::services::paging::Page;
use crate::{
    domain::{
        NoticeError, NoticeFields, NoticeId, NoticeKind, NoticeNumber, NoticeText,
        NoticeTranslations,
    },
    services::notices::{
        self, NoticeDraft, NoticesError, acknowledgements,
        archive::{self, NoticeRecord},
    },
    web::AppState,
    web::{
        error::{ApiError, ApiErrors},
        extract::{ApiCaller, ApiJson},
    },
};

impl From<NoticesError> for ApiError {
    fn from(e: NoticesError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            NoticesError::Invalid(NoticeError::ShortNotice { .. }) => {
                ApiError::new(unprocessable, "short_notice", e.to_string())
            }
            NoticesError::Invalid(NoticeError::DeadlineInPast) => {
                ApiError::new(unprocessable, "deadline_in_past", e.to_string())
            }
            NoticesError::Invalid(NoticeError::NotLatest { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "not_latest_revision", e.to_string())
            }
            NoticesError::Invalid(inner) => ApiError::invalid(inner.to_string()),
            NoticesError::UnknownParts(_) => {
                ApiError::new(unprocessable, "unknown_part", e.to_string())
            }
            NoticesError::DuplicateNumber(_) => {
                ApiError::new(StatusCode::CONFLICT, "duplicate_number", e.to_string())
            }
            NoticesError::NotServiceCritical(_) => {
                ApiError::new(unprocessable, "not_service_critical", e.to_string())
            }
            NoticesError::NoAudience => {
                ApiError::new(StatusCode::CONFLICT, "no_audience", e.to_string())
            }
            NoticesError::NotDraft(_) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", e.to_string())
            }
            NoticesError::HasRevision(_) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", e.to_string())
            }
            NoticesError::Raced => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            NoticesError::Forbidden(e) => e.into(),
            NoticesError::NotFound => ApiError::not_found("notice"),
            NoticesError::Store(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateNoticeRequest {
    kind: NoticeKind,
    number: Option<String>,
    supersedes: Option<NoticeId>,
    #[serde(default)]
    force: bool,
    /// Absent: a revision keeps the translations of the revision it supersedes.
    #[serde(default)]
    translations: Option<BTreeMap<String, NoticeText>>,
    #[serde(flatten)]
    fields: NoticeFields,
}

/// A notice's texts in one language other than English (the default), as the OpenAPI
/// document describes the values of `translations`.
#[derive(Debug, utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "describes the JSON of domain::NoticeText for the document"
)]
pub(super) struct NoticeTranslation {
    /// Required.
    title: String,
    /// Required.
    summary: String,
    /// Optional; empty or absent: the English text.
    description_before: Option<String>,
    /// Optional; empty or absent: the English text.
    description_after: Option<String>,
    /// Optional; empty or absent: the English text.
    reason: Option<String>,
    /// Optional; empty or absent: the English text.
    qualification_summary: Option<String>,
}

/// `POST /api/v1/notices`: a draft notice (the JSON of `CreateNoticeRequest`).
#[derive(Debug, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "describes the JSON the handler reads, for the document"
)]
pub(super) struct CreateNoticeDoc {
    kind: NoticeKind,
    /// The notice number; absent: the next one of its kind.
    #[schema(pattern = "^[A-Za-z0-9_./-]{1,64}$")]
    number: Option<String>,
    /// The notice this one revises.
    #[schema(format = Uuid)]
    supersedes: Option<String>,
    /// Send despite warnings (a PCN less than `notices.min_pcn_notice_days` ahead).
    #[serde(default)]
    force: bool,
    /// One line.
    #[schema(
        min_length = 1,
        pattern = "\\S",
        example = "Die attach material change"
    )]
    title: String,
    /// A short introduction (required for Tech News, where it is the body).
    #[serde(default)]
    summary: String,
    /// The affected part numbers: who receives the notice.
    #[schema(min_items = 1, max_items = 1000, example = json!(["BLT-100"]))]
    affected_parts: Vec<String>,
    /// What kind of change (PCN).
    change_category: Option<crate::domain::ChangeCategory>,
    /// How it is now (PCN).
    #[serde(default)]
    description_before: String,
    /// How it will be (PCN).
    #[serde(default)]
    description_after: String,
    /// Why.
    #[serde(default)]
    reason: String,
    /// Impact on form, fit, function, quality and reliability (PCN).
    #[serde(default)]
    impact: NoticeImpactDoc,
    /// Qualification summary (PCN).
    #[serde(default)]
    qualification_summary: String,
    /// When samples of the changed part are available.
    sample_availability_date: Option<chrono::NaiveDate>,
    /// When the change takes effect (PCN) or the product is discontinued (PDN).
    effective_date: Option<chrono::NaiveDate>,
    /// Until when recipients should acknowledge (PCN only); none: no acknowledgement asked.
    ack_deadline: Option<chrono::DateTime<chrono::Utc>>,
    /// Last-time-buy date (PDN).
    last_time_buy_date: Option<chrono::NaiveDate>,
    /// Last-time-ship date (PDN).
    last_time_ship_date: Option<chrono::NaiveDate>,
    /// Suggested replacement parts (PDN).
    #[serde(default)]
    replacement_parts: Vec<String>,
    /// Why the notice is service-critical, if it is (`notices.service_critical_kinds`).
    service_critical: Option<String>,
    /// Warnings overridden with `force`.
    #[serde(default)]
    overridden_warnings: Vec<String>,
    /// The texts in other languages, by language (`de`).
    translations: Option<BTreeMap<String, NoticeTranslation>>,
}

/// `PATCH /api/v1/notices/{id}`: the fields to change; absent ones stay (`translations` replaces them all).
#[derive(Debug, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "describes the JSON the handler reads, for the document"
)]
pub(super) struct PatchNoticeDoc {
    /// Save despite warnings.
    #[serde(default)]
    force: bool,
    /// One line.
    #[schema(
        min_length = 1,
        pattern = "\\S",
        example = "Die attach material change"
    )]
    #[serde(default)]
    title: String,
    /// A short introduction (required for Tech News, where it is the body).
    #[serde(default)]
    summary: String,
    /// The affected part numbers: who receives the notice.
    #[schema(example = json!(["BLT-100"]))]
    #[serde(default)]
    affected_parts: Vec<String>,
    /// What kind of change (PCN).
    change_category: Option<crate::domain::ChangeCategory>,
    /// How it is now (PCN).
    #[serde(default)]
    description_before: String,
    /// How it will be (PCN).
    #[serde(default)]
    description_after: String,
    /// Why.
    #[serde(default)]
    reason: String,
    /// Impact on form, fit, function, quality and reliability (PCN).
    #[serde(default)]
    impact: NoticeImpactDoc,
    /// Qualification summary (PCN).
    #[serde(default)]
    qualification_summary: String,
    /// When samples of the changed part are available.
    sample_availability_date: Option<chrono::NaiveDate>,
    /// When the change takes effect (PCN) or the product is discontinued (PDN).
    effective_date: Option<chrono::NaiveDate>,
    /// Until when recipients should acknowledge (PCN only); none: no acknowledgement asked.
    ack_deadline: Option<chrono::DateTime<chrono::Utc>>,
    /// Last-time-buy date (PDN).
    last_time_buy_date: Option<chrono::NaiveDate>,
    /// Last-time-ship date (PDN).
    last_time_ship_date: Option<chrono::NaiveDate>,
    /// Suggested replacement parts (PDN).
    #[serde(default)]
    replacement_parts: Vec<String>,
    /// Why the notice is service-critical, if it is (`notices.service_critical_kinds`).
    service_critical: Option<String>,
    /// Warnings overridden with `force`.
    #[serde(default)]
    overridden_warnings: Vec<String>,
    /// The texts in other languages, by language (`de`).
    translations: Option<BTreeMap<String, NoticeTranslation>>,
}

/// Impact of a change (PCN), as `NoticeFields::impact`.
#[derive(Debug, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "describes the JSON the handler reads, for the document"
)]
pub(super) struct NoticeImpactDoc {
    /// Form (dimensions, marking).
    #[serde(default)]
    form: String,
    /// Fit (footprint, mounting).
    #[serde(default)]
    fit: String,
    /// Function (electrical behaviour).
    #[serde(default)]
    function: String,
    /// Quality.
    #[serde(default)]
    quality: String,
    /// Reliability.
    #[serde(default)]
    reliability: String,
}

fn notice_id(raw: &str) -> Result<NoticeId, ApiError> {
    raw.parse()
        .map(NoticeId::from_uuid)
        .map_err(|_| ApiError::not_found("notice"))
}

async fn record(state: &AppState, id: NoticeId) -> Result<Json<NoticeRecord>, ApiError> {
    let overview = notices::get(&state.ctx, id).await?;
    Ok(Json(archive::record(&state.ctx, &overview).await?))
}

#[utoipa::path(post, path = "/api/v1/notices", tag = "notices", security(("bearer" = [])), request_body = CreateNoticeDoc, responses((status = 201, description = "the draft notice, with its translations", body = Object), ApiErrors))]
/// `POST /api/v1/notices` → 201 with the draft notice.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<CreateNoticeRequest>,
) -> Result<(StatusCode, Json<NoticeRecord>), ApiError> {
    let number = req
        .number
        .as_deref()
        .map(NoticeNumber::parse)
        .transpose()
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let draft = NoticeDraft {
        kind: req.kind,
        number,
        supersedes: req.supersedes,
        fields: req.fields,
        translations: req
            .translations
            .map(NoticeTranslations::parse)
            .transpose()
            .map_err(|e| ApiError::invalid(e.to_string()))?,
        force: req.force,
    };
    let created = notices::create(&state.ctx, &caller.actor(), draft).await?;
    Ok((
        StatusCode::CREATED,
        record(&state, created.notice.id).await?,
    ))
}

/// Keys a PATCH may not change: they fix the notice's identity.
const FIXED_KEYS: [&str; 3] = ["kind", "number", "supersedes"];

/// The fields of `current` with those of a PATCH body laid over them, and its `force`.
fn patched(
    current: &NoticeFields,
    mut body: serde_json::Map<String, serde_json::Value>,
) -> Result<(NoticeFields, bool), ApiError> {
    if let Some(key) = FIXED_KEYS.iter().find(|k| body.contains_key(**k)) {
        return Err(ApiError::invalid(format!(
            "{key}: a notice keeps its {key}; to change it, delete the draft and create another"
        )));
    }
    let force = match body.remove("force") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => b,
        Some(_) => return Err(ApiError::invalid("force: true or false")),
    };
    let mut merged = match serde_json::to_value(current) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => return Err(ApiError::invalid("the stored notice could not be read")),
    };
    merged.extend(body);
    let fields = serde_json::from_value(serde_json::Value::Object(merged))
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok((fields, force))
}

#[utoipa::path(patch, path = "/api/v1/notices/{id}", tag = "notices", security(("bearer" = [])), params(("id" = String, Path, description = "the notice id")), request_body = PatchNoticeDoc, responses((status = 200, description = "the changed draft", body = Object), ApiErrors))]
/// `PATCH /api/v1/notices/{id}` → 200: changes the fields of a draft, checked as on create
/// (all or nothing); a sent notice → 409 `invalid_state`.
pub(super) async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> Result<Json<NoticeRecord>, ApiError> {
    let id = notice_id(&id)?;
    let current = notices::get(&state.ctx, id).await?;
    if current.status != crate::domain::CampaignStatus::Draft {
        return Err(NoticesError::NotDraft(current.status).into());
    }
    let (fields, force) = patched(&current.notice.fields, body)?;
    notices::update(&state.ctx, &caller.actor(), id, fields, force).await?;
    record(&state, id).await
}

#[utoipa::path(delete, path = "/api/v1/notices/{id}", tag = "notices", security(("bearer" = [])), params(("id" = String, Path, description = "the notice id")), responses((status = 204, description = "deleted"), ApiErrors))]
/// `DELETE /api/v1/notices/{id}` → 204: a notice never sent, with its campaign; a sent one
/// (or one a later revision supersedes) → 409 `invalid_state`.
pub(super) async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    notices::delete(&state.ctx, &caller.actor(), notice_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct NoticesResponse {
    #[schema(value_type = Vec<Object>)]
    notices: Vec<NoticeRecord>,
    /// Pass as `cursor` for the next page; `null` on the last page (always in the export).
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", security(("bearer" = [])), params(("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = NoticesResponse), ApiErrors))]
/// `GET /api/v1/notices[?cursor=C][&limit=N]` → notices, newest first, a page at a time.
pub(super) async fn all(
    State(state): State<AppState>,
    _caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<NoticesResponse>, ApiError> {
    let page = super::PageQuery::parse(raw.as_deref())?;
    let before = page.cursor(|c| c.parse().ok().map(NoticeId::from_uuid))?;
    let Page { items: found, next } = notices::page(&state.ctx, before, page.limit())
        .await
        .map_err(|e| match e {
            NoticesError::NotFound => super::not_a_cursor(),
            other => other.into(),
        })?;
    let mut records = Vec::with_capacity(found.len());
    for o in &found {
        records.push(archive::record(&state.ctx, o).await?);
    }
    Ok(Json(NoticesResponse {
        notices: records,
        next_cursor: next.map(|id| id.to_string()),
    }))
}

#[utoipa::path(get, path = "/api/v1/notices/export", tag = "notices", security(("bearer" = [])), responses((status = 200, description = "every notice, newest first, in one document (an archive export, not a paged list)", body = NoticesResponse), ApiErrors))]
/// `GET /api/v1/notices/export` → every notice, newest first, in one document.
pub(super) async fn export(
    State(state): State<AppState>,
    _caller: ApiCaller,
) -> Result<Json<NoticesResponse>, ApiError> {
    Ok(Json(NoticesResponse {
        notices: archive::export(&state.ctx, false).await?,
        next_cursor: None,
    }))
}

/// A notice with its figures, for the API's `GET /api/v1/notices/{id}`.
#[derive(Debug, Serialize)]
pub(super) struct NoticeWithFigures {
    #[serde(flatten)]
    record: NoticeRecord,
    /// People who objected by the links of the notice's e-mails (the notice or a reminder).
    objections: u64,
}

#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "notices", security(("bearer" = [])), params(("id" = String, Path, description = "the notice id")), responses((status = 200, description = "the notice (with `translations`: its texts by language), and `objections`: how many people objected by its e-mails' links", body = Object), ApiErrors))]
/// `GET /api/v1/notices/{id}` → the notice with its `objections`.
pub(super) async fn get(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<NoticeWithFigures>, ApiError> {
    let id = notice_id(&id)?;
    let Json(record) = record(&state, id).await?;
    let objections = notices::objections(&state.ctx, id).await?;
    Ok(Json(NoticeWithFigures { record, objections }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AudienceMemberResponse {
    subscriber_id: String,
    email: String,
    company: Option<String>,
    parts: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct NoticeAudienceResponse {
    total: usize,
    objected: u64,
    not_mailable: u64,
    recipients: Vec<AudienceMemberResponse>,
}

#[utoipa::path(get, path = "/api/v1/notices/{id}/audience", tag = "notices", security(("bearer" = [])), params(("id" = String, Path, description = "the notice id")), responses((status = 200, body = NoticeAudienceResponse), ApiErrors))]
/// `GET /api/v1/notices/{id}/audience` → who the notice reaches now (reads only).
pub(super) async fn audience(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<NoticeAudienceResponse>, ApiError> {
    let a = notices::audience(&state.ctx, notice_id(&id)?).await?;
    Ok(Json(NoticeAudienceResponse {
        total: a.recipients.len(),
        objected: a.objected,
        not_mailable: a.not_mailable,
        recipients: a
            .recipients
            .into_iter()
            .map(|m| AudienceMemberResponse {
                subscriber_id: m.subscriber_id.to_string(),
                email: m.email,
                company: m.company,
                parts: m.parts,
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/notices/{id}/send", tag = "notices", security(("bearer" = [])), params(("id" = String, Path, description = "the notice id")), responses((status = 202, description = "the notice, now sending: the worker goes on after the answer", body = Object), ApiErrors))]
/// `POST /api/v1/notices/{id}/send` → 202 and the notice, now sending.
pub(super) async fn send(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<NoticeRecord>), ApiError> {
    let sent = notices::send(&state.ctx, &caller.actor(), notice_id(&id)?).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(archive::record(&state.ctx, &sent).await?),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatQuery {
    #[serde(default)]
    format: super::DataFormat,
}

#[utoipa::path(get, path = "/api/v1/notices/{id}/acknowledgements", tag = "notices", security(("bearer" = [])), params(("id" = String, Path, description = "the notice id"), ("format" = Option<String>, Query, description = "`csv` for a CSV file (an attachment); else JSON", example = "csv")), responses((status = 200, description = "the acknowledgement report: JSON, or CSV with `format=csv`", content((Object = "application/json"), (String = "text/csv"))), ApiErrors))]
/// `GET /api/v1/notices/{id}/acknowledgements[?format=csv]` → the report.
pub(super) async fn acknowledgements(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q: FormatQuery = serde_html_form::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    let report = acknowledgements::report(&state.ctx, notice_id(&id)?).await?;
    if q.format == super::DataFormat::Csv {
        let name = format!(
            "attachment; filename=\"{}-rev{}-acknowledgements.csv\"",
            report.number, report.revision
        );
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, name),
            ],
            acknowledgements::report_csv(&report),
        )
            .into_response());
    }
    Ok(Json(report).into_response())
}
