//! The operator's side of the data-subject rights (admin tokens only): export, erasure and
//! restriction of a subscriber, proof of consent (JSON or printable HTML), the
//! data-subject-request log with its deadlines, and the retention review listing.

use crate::services::paging::Page;
use crate::web::error::{ApiErrors, ErrorBody};
use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        Action, ConsentEvent, ListRef, PrivacyRequestId, SubscriberId,
        privacy::{PrivacyRequest, RequestChannel, RequestKind, RequestStatus},
    },
    services::privacy::{self, NewPrivacyRequest, Party, PrivacyError, ProofOfConsent},
    web::AppState,
    web::{
        error::ApiError,
        extract::{ApiCaller, ApiJson},
        views,
    },
};

impl From<PrivacyError> for ApiError {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::Forbidden(e) => e.into(),
            PrivacyError::NotFound => Self::not_found("record"),
            PrivacyError::AlreadyErased => Self::new(
                StatusCode::GONE,
                "already_erased",
                "the subscriber was erased before; only the pseudonymised ledger remains",
            ),
            PrivacyError::AlreadyClosed => Self::new(
                StatusCode::CONFLICT,
                "invalid_state",
                "the request was already answered",
            ),
            PrivacyError::SameAddress | PrivacyError::AddressInUse => {
                Self::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            PrivacyError::TooSoon | PrivacyError::TooManyMails => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "too_soon", e.to_string())
            }
            PrivacyError::Attribute(e) => Self::invalid(e.to_string()),
            PrivacyError::Store(e) => e.into(),
        }
    }
}

fn subscriber_id(raw: &str) -> Result<SubscriberId, ApiError> {
    raw.parse()
        .map(SubscriberId::from_uuid)
        .map_err(|_| ApiError::not_found("subscriber"))
}

fn query<T: serde::de::DeserializeOwned>(raw: Option<String>) -> Result<T, ApiError> {
    serde_html_form::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("query: {e}")))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    format: super::DataFormat,
}

/// `?format=` of the consent proof: JSON, or a printable page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ProofFormat {
    #[default]
    Json,
    Html,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ProofQuery {
    list: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    format: ProofFormat,
}

#[utoipa::path(get, path = "/api/v1/subscribers/{id}/export", tag = "privacy", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, description = "the export as JSON, or CSV with format=csv", body = Object), ApiErrors))]
/// `GET /api/v1/subscribers/{id}/export[?format=csv]` → the person's export (reads only).
pub(super) async fn export(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.actor().authorize(Action::HandlePersonalData)?;
    let q: ExportQuery = query(raw)?;
    let data = privacy::read(&state.ctx, &caller.actor(), subscriber_id(&id)?).await?;
    let document = privacy::export_document(&state.ctx, &data);
    Ok(views::privacy::export_download(
        &document,
        q.format == super::DataFormat::Csv,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EraseRequest {
    #[schema(value_type = Option<String>, format = Uuid)]
    request_id: Option<PrivacyRequestId>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct EraseResponse {
    erased: bool,
    kept: [&'static str; 3],
}

#[utoipa::path(post, path = "/api/v1/subscribers/{id}/erase", tag = "privacy", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), request_body = EraseRequest, responses((status = 200, body = EraseResponse), (status = 410, description = "already erased", body = ErrorBody), ApiErrors))]
/// `POST /api/v1/subscribers/{id}/erase` `{"request_id"?}` → erased (410 the second time).
pub(super) async fn erase(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<EraseRequest>,
) -> Result<Json<EraseResponse>, ApiError> {
    caller.actor().authorize(Action::HandlePersonalData)?;
    let actor = Party::operator(&caller.actor(), req.request_id);
    privacy::erase(&state.ctx, subscriber_id(&id)?, &actor).await?;
    Ok(Json(EraseResponse {
        erased: true,
        kept: [
            "suppression: keyed hash of the address",
            "consent ledger: pseudonymised under the keyed hash",
            "privacy request log: without notes",
        ],
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RestrictionRequest {
    restricted: bool,
    #[schema(value_type = Option<String>, format = Uuid)]
    request_id: Option<PrivacyRequestId>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct RestrictionResponse {
    status: String,
}

#[utoipa::path(post, path = "/api/v1/subscribers/{id}/restriction", tag = "privacy", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), request_body = RestrictionRequest, responses((status = 200, body = RestrictionResponse), ApiErrors))]
/// `POST /api/v1/subscribers/{id}/restriction` `{"restricted": bool, "request_id"?}`.
pub(super) async fn restriction(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RestrictionRequest>,
) -> Result<Json<RestrictionResponse>, ApiError> {
    caller.actor().authorize(Action::HandlePersonalData)?;
    let actor = Party::operator(&caller.actor(), req.request_id);
    let status = privacy::restrict(&state.ctx, subscriber_id(&id)?, req.restricted, &actor).await?;
    Ok(Json(RestrictionResponse {
        status: status.as_str().to_owned(),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ProofResponse {
    subscriber: ProofSubscriber,
    list: ProofList,
    status: Option<String>,
    #[schema(value_type = Option<Object>)]
    requested: Option<ConsentEvent>,
    #[schema(value_type = Option<Object>)]
    confirmed: Option<ConsentEvent>,
    #[schema(value_type = Option<Object>)]
    withdrawn: Option<ConsentEvent>,
    consent_text: Option<ProofText>,
    #[schema(value_type = Vec<Object>)]
    events: Vec<ConsentEvent>,
    generated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ProofSubscriber {
    id: String,
    email: String,
    name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ProofList {
    id: String,
    slug: String,
    name: String,
    legal_basis: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ProofText {
    sha256: String,
    body: String,
}

impl From<ProofOfConsent> for ProofResponse {
    fn from(p: ProofOfConsent) -> Self {
        Self {
            subscriber: ProofSubscriber {
                id: p.subscriber.id.to_string(),
                email: p.subscriber.email.as_str().to_owned(),
                name: p.subscriber.name.as_str().to_owned(),
            },
            list: ProofList {
                id: p.list.id.to_string(),
                slug: p.list.def.slug.as_str().to_owned(),
                name: p.list.def.name,
                legal_basis: p.list.def.legal_basis.as_str().to_owned(),
            },
            status: p.subscription.map(|s| s.status.as_str().to_owned()),
            requested: p.requested,
            confirmed: p.confirmed,
            withdrawn: p.withdrawn,
            consent_text: p
                .consent_text
                .map(|(sha256, body)| ProofText { sha256, body }),
            events: p.events,
            generated_at: p.generated_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/subscribers/{id}/consent-proof", tag = "privacy", security(("bearer" = [])), params(("id" = String, Path, description = "the subscriber id"), ("list" = String, Query, description = "the slug of the list whose consent to prove", pattern = "^[a-z0-9][a-z0-9-]{0,63}$", example = "news"), ("format" = Option<String>, Query, description = "`html` for a printable page; else JSON", example = "html")), responses((status = 200, description = "the proof of consent: JSON, or a printable HTML page with `format=html`", content((ProofResponse = "application/json"), (String = "text/html"))), ApiErrors))]
/// `GET /api/v1/subscribers/{id}/consent-proof?list=SLUG[&format=html]` → the proof of
/// consent as JSON, or as a printable page.
pub(super) async fn consent_proof(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.actor().authorize(Action::HandlePersonalData)?;
    let q: ProofQuery = query(raw)?;
    let list = q
        .list
        .ok_or_else(|| ApiError::invalid("list: the query parameter is required"))?;
    let list = ListRef::parse(&list).map_err(|_| ApiError::not_found("list"))?;
    let proof =
        privacy::proof_of_consent(&state.ctx, &caller.actor(), subscriber_id(&id)?, &list).await?;
    Ok(match q.format {
        ProofFormat::Html => views::privacy::proof_page(&proof).into_response(),
        ProofFormat::Json => Json(ProofResponse::from(proof)).into_response(),
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LogRequest {
    #[schema(value_type = Option<String>, format = Uuid)]
    subscriber_id: Option<SubscriberId>,
    kind: RequestKind,
    channel: RequestChannel,
    received_at: Option<DateTime<Utc>>,
    note: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct RequestResponse {
    id: String,
    subscriber_id: Option<String>,
    kind: RequestKind,
    channel: RequestChannel,
    status: RequestStatus,
    actor: String,
    note: Option<String>,
    received_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    days_left: i64,
    overdue: bool,
}

fn request_response(r: PrivacyRequest, now: DateTime<Utc>) -> RequestResponse {
    RequestResponse {
        id: r.id.to_string(),
        subscriber_id: r.subscriber_id.map(|s| s.to_string()),
        days_left: r.days_left(now),
        overdue: r.is_overdue(now),
        kind: r.kind,
        channel: r.channel,
        status: r.status,
        actor: r.actor,
        note: r.note,
        received_at: r.received_at,
        due_at: r.due_at,
        closed_at: r.closed_at,
    }
}

#[utoipa::path(post, path = "/api/v1/privacy-requests", tag = "privacy", security(("bearer" = [])), request_body = LogRequest, responses((status = 201, body = RequestResponse), ApiErrors))]
/// `POST /api/v1/privacy-requests` → 201 with the logged request and its deadline.
pub(super) async fn log_request(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<LogRequest>,
) -> Result<(StatusCode, Json<RequestResponse>), ApiError> {
    caller.actor().authorize(Action::HandlePersonalData)?;
    if req.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::invalid("note: at most 2000 characters"));
    }
    if req.received_at.is_some_and(|at| at > state.ctx.clock.now()) {
        return Err(ApiError::invalid("received_at: must not be in the future"));
    }
    if req
        .received_at
        .is_some_and(|at| at < chrono::DateTime::UNIX_EPOCH)
    {
        return Err(ApiError::invalid("received_at: must not lie before 1970"));
    }
    let new = NewPrivacyRequest {
        subscriber_id: req.subscriber_id,
        kind: req.kind,
        channel: req.channel,
        received_at: req.received_at,
        note: req.note,
    };
    let logged = privacy::log_request(&state.ctx, new, &Party::operator(&caller.actor(), None))
        .await
        .map_err(|e| match e {
            PrivacyError::NotFound => ApiError::invalid("subscriber_id: no such subscriber"),
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(request_response(logged, state.ctx.clock.now())),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RequestsQuery {
    status: Option<String>,
    cursor: Option<String>,
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    limit: Option<super::PageLimit>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct RequestsResponse {
    requests: Vec<RequestResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/privacy-requests", tag = "privacy", security(("bearer" = [])), params(("status" = Option<RequestStatus>, Query, description = "only the requests in this state"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = RequestsResponse), ApiErrors))]
/// `GET /api/v1/privacy-requests[?status=open|completed|rejected][&cursor=C][&limit=N]` →
/// earliest deadline first, a page at a time.
pub(super) async fn requests(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<RequestsResponse>, ApiError> {
    caller.actor().authorize(Action::HandlePersonalData)?;
    let q: RequestsQuery = query(raw)?;
    let status = q
        .status
        .as_deref()
        .map(RequestStatus::parse)
        .transpose()
        .map_err(ApiError::invalid)?;
    let after = match q.cursor.as_deref() {
        Some(c) => Some(
            c.parse()
                .map(PrivacyRequestId::from_uuid)
                .map_err(|_| ApiError::invalid("cursor: not a cursor"))?,
        ),
        None => None,
    };
    let limit = super::page_limit(q.limit);
    let Page { items: found, next } =
        privacy::requests(&state.ctx, &caller.actor(), status, after, limit)
            .await
            .map_err(|e| match e {
                PrivacyError::NotFound => ApiError::invalid("cursor: not a cursor"),
                other => other.into(),
            })?;
    let now = state.ctx.clock.now();
    Ok(Json(RequestsResponse {
        requests: found
            .into_iter()
            .map(|r| request_response(r, now))
            .collect(),
        next_cursor: next.map(|id| id.to_string()),
    }))
}

/// How a request is answered (`open` is refused), for the document.
#[derive(Debug, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[expect(dead_code, reason = "describes CloseRequest::status for the document")]
pub(super) enum ClosingStatus {
    /// The right was granted.
    Completed,
    /// Refused, with the reason in `note`.
    Rejected,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CloseRequest {
    #[schema(value_type = ClosingStatus)]
    status: RequestStatus,
    note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/privacy-requests/{id}/close", tag = "privacy", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), request_body = CloseRequest, responses((status = 200, body = RequestResponse), ApiErrors))]
/// `POST /api/v1/privacy-requests/{id}/close` `{"status":"completed"|"rejected","note"?}`.
pub(super) async fn close_request(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CloseRequest>,
) -> Result<Json<RequestResponse>, ApiError> {
    caller.actor().authorize(Action::HandlePersonalData)?;
    let id = id
        .parse()
        .map(PrivacyRequestId::from_uuid)
        .map_err(|_| ApiError::not_found("request"))?;
    if req.status == RequestStatus::Open {
        return Err(ApiError::invalid("status: completed or rejected"));
    }
    if req.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::invalid("note: at most 2000 characters"));
    }
    let closed =
        privacy::close_request(&state.ctx, &caller.actor(), id, req.status, req.note).await?;
    Ok(Json(request_response(closed, state.ctx.clock.now())))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReviewQuery {
    within_days: Option<i64>,
    cursor: Option<String>,
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    limit: Option<super::PageLimit>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ReviewResponse {
    review_after_days: i64,
    erase_after_review: bool,
    within_days: i64,
    items: Vec<ReviewItemResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ReviewItemResponse {
    subscriber_id: String,
    last_seen_at: DateTime<Utc>,
    review_due_at: DateTime<Utc>,
    flagged_at: Option<DateTime<Utc>>,
    action: String,
}

#[utoipa::path(get, path = "/api/v1/retention/review", tag = "privacy", security(("bearer" = [])), params(("within_days" = Option<u32>, Query, description = "0 to 3650, default 30"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = ReviewResponse), ApiErrors))]
/// `GET /api/v1/retention/review[?within_days=N][&cursor=C][&limit=N]` → who the 3-year rule
/// reaches within N days (default 30), when, and what it does; by subscriber id, a page at
/// a time.
pub(super) async fn retention_review(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<ReviewResponse>, ApiError> {
    let q: ReviewQuery = query(raw)?;
    let within_days = q.within_days.unwrap_or(30);
    if !(0..=3650).contains(&within_days) {
        return Err(ApiError::invalid("within_days: 0 to 3650"));
    }
    let after = super::cursor(q.cursor.as_deref(), |c| {
        c.parse().ok().map(SubscriberId::from_uuid)
    })?;
    let within = chrono::Duration::days(within_days);
    let limit = super::page_limit(q.limit);
    let Page { items: found, next } =
        privacy::retention_review_page(&state.ctx, &caller.actor(), within, after, limit).await?;
    let items = found
        .into_iter()
        .map(|i| ReviewItemResponse {
            subscriber_id: i.subscriber_id.to_string(),
            last_seen_at: i.last_seen_at,
            review_due_at: i.review_due_at,
            flagged_at: i.flagged_at,
            action: i.action.as_str().to_owned(),
        })
        .collect();
    let policy = state.ctx.settings.retention.policy;
    Ok(Json(ReviewResponse {
        review_after_days: policy.review_after.num_days(),
        erase_after_review: policy.erase_after_review,
        within_days,
        items,
        next_cursor: next.map(|id| id.to_string()),
    }))
}
