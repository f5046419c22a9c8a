//! `/api/v1/notices`: create (typed fields, numbering, revisions), read, audience preview,
//! send, the acknowledgement report (JSON or CSV) and the JSON export of every notice.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{NoticeError, NoticeFields, NoticeId, NoticeKind, NoticeNumber},
    services::notices::{
        self, NoticeDraft, NoticesError, acknowledgements,
        archive::{self, NoticeRecord},
    },
    startup::AppState,
    web::{
        error::ApiError,
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
            NoticesError::Raced => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
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
    #[serde(flatten)]
    fields: NoticeFields,
}

fn notice_id(raw: &str) -> Result<NoticeId, ApiError> {
    raw.parse()
        .map(NoticeId::from_uuid)
        .map_err(|_| ApiError::not_found("notice"))
}

async fn record(state: &AppState, id: NoticeId) -> Result<Json<NoticeRecord>, ApiError> {
    let overview = notices::get(state, id).await?;
    Ok(Json(archive::record(state, &overview).await?))
}

/// `POST /api/v1/notices` → 201 with the draft notice.
pub(super) async fn create(
    State(state): State<AppState>,
    _caller: ApiCaller,
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
        force: req.force,
    };
    let created = notices::create(&state, draft).await?;
    Ok((
        StatusCode::CREATED,
        record(&state, created.notice.id).await?,
    ))
}

#[derive(Debug, Serialize)]
pub(super) struct NoticesResponse {
    notices: Vec<NoticeRecord>,
}

/// `GET /api/v1/notices` (and `/api/v1/notices/export`) → every notice, newest first.
pub(super) async fn all(
    State(state): State<AppState>,
    _caller: ApiCaller,
) -> Result<Json<NoticesResponse>, ApiError> {
    Ok(Json(NoticesResponse {
        notices: archive::export(&state, false).await?,
    }))
}

/// `GET /api/v1/notices/{id}` → the notice.
pub(super) async fn get(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<NoticeRecord>, ApiError> {
    record(&state, notice_id(&id)?).await
}

#[derive(Debug, Serialize)]
pub(super) struct AudienceMemberResponse {
    subscriber_id: String,
    email: String,
    company: Option<String>,
    parts: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct AudienceResponse {
    total: usize,
    objected: u64,
    not_mailable: u64,
    recipients: Vec<AudienceMemberResponse>,
}

/// `GET /api/v1/notices/{id}/audience` → who the notice reaches now (reads only).
pub(super) async fn audience(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<AudienceResponse>, ApiError> {
    let a = notices::audience(&state, notice_id(&id)?).await?;
    Ok(Json(AudienceResponse {
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

/// `POST /api/v1/notices/{id}/send` → the notice, now sending.
pub(super) async fn send(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<NoticeRecord>, ApiError> {
    let sent = notices::send(&state, notice_id(&id)?).await?;
    Ok(Json(archive::record(&state, &sent).await?))
}

#[derive(Debug, Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

/// `GET /api/v1/notices/{id}/acknowledgements[?format=csv]` → the report.
pub(super) async fn acknowledgements(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q: FormatQuery = serde_html_form::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let report = acknowledgements::report(&state, notice_id(&id)?).await?;
    if q.format.as_deref() == Some("csv") {
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
