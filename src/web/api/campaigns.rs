//! `/api/v1/campaigns`: create, read, preview, test, schedule, pause, resume, cancel.

use std::collections::BTreeMap;

use crate::services::paging::Page;
use crate::web::error::ApiErrors;
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{CampaignId, CampaignLayout, CampaignText, EmailAddress, ListSlug, Locale, SegmentId},
    services::campaigns::{self, CampaignDraft, CampaignOverview, CampaignPatch, CampaignsError},
    web::AppState,
    web::{
        error::ApiError,
        extract::{ApiCaller, ApiJson},
    },
};

impl From<CampaignsError> for ApiError {
    fn from(e: CampaignsError) -> Self {
        match e {
            CampaignsError::Forbidden(e) => e.into(),
            e @ CampaignsError::RateLimited { retry_after_secs } => {
                ApiError::too_many(e.to_string(), retry_after_secs)
            }
            CampaignsError::Invalid(m) => ApiError::invalid(m),
            CampaignsError::FromNotAllowed(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "from_not_allowed", m)
            }
            CampaignsError::WrongLegalBasis(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "wrong_legal_basis", m)
            }
            CampaignsError::HasSent(m) => ApiError::new(StatusCode::CONFLICT, "invalid_state", m),
            CampaignsError::Template(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "template_error", m)
            }
            e @ CampaignsError::UnknownList(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_list",
                e.to_string(),
            ),
            CampaignsError::UnknownSegment => unknown_segment(),
            CampaignsError::NotFound => ApiError::not_found("campaign"),
            e @ CampaignsError::State(_) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", e.to_string())
            }
            e @ CampaignsError::Raced => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            CampaignsError::Store(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateCampaignRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "\\S",
        example = "March news"
    )]
    name: String,
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = "^[^\\r\\n]*\\S[^\\r\\n]*$",
        example = "What is new in March"
    )]
    subject: String,
    #[schema(
        min_length = 1,
        max_length = 1000000,
        pattern = "\\S",
        example = "Hello {{ subscriber.name }}"
    )]
    body_markdown: String,
    #[schema(min_items = 1, example = json!(["news"]))]
    lists: Vec<String>,
    #[schema(format = Email, max_length = 254)]
    from: Option<String>,
    /// Where replies go (`Reply-To`), at any domain (a helpdesk, say: it need not be one of
    /// `mail.allowed_from_domains`); `null` or empty: the list's `reply_to`, else
    /// `mail.reply_to`, else none.
    #[schema(format = Email, max_length = 254)]
    reply_to: Option<String>,
    /// How the mail looks around the text: `standard` (a newsletter column, the default) or
    /// `letter` (the text alone, as a person writes).
    #[serde(default)]
    #[schema(example = "letter")]
    layout: CampaignLayout,
    /// Subject and body in other languages, by language (`en`, `de`): each recipient gets
    /// their language's, else `subject` and `body_markdown`.
    #[serde(default)]
    #[schema(value_type = Object, example = json!({"de": {"subject": "Neuigkeiten", "body_markdown": "Hallo {{ subscriber.name }}"}}))]
    translations: BTreeMap<String, TranslationBody>,
    /// A segment's id: only the lists' members it selects get the campaign.
    #[serde(default)]
    #[schema(format = Uuid)]
    segment: Option<String>,
    /// Whether, once sent, it is published in the public archive (`/archive`) of its public
    /// lists, with placeholders for every personal value; default `false`.
    #[serde(default)]
    archive: bool,
}

/// A campaign's subject and body in one language.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TranslationBody {
    subject: String,
    body_markdown: String,
}

/// The translations of a request, by language; an unknown language is 422.
fn translations(
    raw: BTreeMap<String, TranslationBody>,
) -> Result<BTreeMap<Locale, CampaignText>, ApiError> {
    raw.into_iter()
        .map(|(tag, t)| {
            let locale = Locale::parse(&tag).map_err(|_| {
                ApiError::invalid(format!(
                    "translations.{tag}: a language Bulletin speaks ({})",
                    Locale::codes()
                ))
            })?;
            Ok((
                locale,
                CampaignText {
                    subject: t.subject,
                    body_markdown: t.body_markdown,
                },
            ))
        })
        .collect()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CountsResponse {
    total: u64,
    queued: u64,
    sending: u64,
    sent: u64,
    deferred: u64,
    failed: u64,
    suppressed: u64,
    /// Of the failed: hard or soft bounces.
    bounced: u64,
    /// Of the failed: policy refusals (nothing about the address).
    blocked: u64,
    /// Recipients who reported it as spam.
    complaints: u64,
    /// People who left a list by this campaign's unsubscribe link.
    unsubscribed: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CampaignResponse {
    id: String,
    name: String,
    subject: String,
    body_markdown: String,
    lists: Vec<String>,
    from: Option<String>,
    /// The campaign's own reply-to address; `null`: the list's, else `mail.reply_to`.
    reply_to: Option<String>,
    /// `standard` or `letter`.
    layout: String,
    /// Subject and body per other language.
    #[schema(value_type = Object)]
    translations: BTreeMap<String, TranslationBody>,
    /// The segment narrowing the lists' members, if any.
    segment: Option<String>,
    /// Whether, once sent, it is published in the public archive.
    archive: bool,
    status: String,
    send_at: Option<DateTime<Utc>>,
    paused_reason: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counts: Option<CountsResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_per_sec: Option<f64>,
    /// One campaign's answer only: how many people who left by its link gave each reason on
    /// the unsubscribe page (`too_many`, `not_relevant`, `never_signed_up`, `other`).
    #[serde(skip_serializing_if = "Option::is_none")]
    unsubscribe_reasons: Option<std::collections::BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eta_secs: Option<u64>,
}

async fn respond(state: &AppState, id: CampaignId) -> Result<Json<CampaignResponse>, ApiError> {
    let overview = campaigns::overview(&state.ctx, id).await?;
    let mut body = response(state, overview).await?;
    let reasons = campaigns::leaving_reasons(&state.ctx, id).await?;
    body.unsubscribe_reasons = Some(
        reasons
            .counts
            .into_iter()
            .map(|(reason, n)| (reason.as_str().to_owned(), n))
            .collect(),
    );
    Ok(Json(body))
}

async fn response(state: &AppState, o: CampaignOverview) -> Result<CampaignResponse, ApiError> {
    let slugs = crate::services::lists::all(&state.ctx).await?;
    let c = o.campaign;
    let n = o.counts;
    Ok(CampaignResponse {
        id: c.id.to_string(),
        lists: c
            .def
            .lists
            .iter()
            .filter_map(|id| {
                slugs
                    .iter()
                    .find(|l| l.id == *id)
                    .map(|l| l.def.slug.as_str().to_owned())
            })
            .collect(),
        name: c.def.name,
        subject: c.def.subject,
        body_markdown: c.def.body_markdown,
        from: c.def.from,
        reply_to: c.def.reply_to.map(String::from),
        layout: c.def.layout.as_str().to_owned(),
        translations: c
            .def
            .translations
            .iter()
            .map(|(l, t)| {
                let body = TranslationBody {
                    subject: t.subject.clone(),
                    body_markdown: t.body_markdown.clone(),
                };
                (l.as_str().to_owned(), body)
            })
            .collect(),
        segment: c.def.segment.map(|s| s.to_string()),
        archive: c.def.archive,
        status: c.status.as_str().to_owned(),
        send_at: c.send_at,
        paused_reason: c.paused_reason,
        created_at: c.created_at,
        started_at: c.started_at,
        finished_at: c.finished_at,
        counts: Some(CountsResponse {
            total: n.total,
            queued: n.queued,
            sending: n.sending,
            sent: n.sent,
            deferred: n.deferred,
            failed: n.failed,
            suppressed: n.suppressed,
            bounced: n.bounced,
            blocked: n.blocked,
            complaints: n.complaints,
            unsubscribed: n.unsubscribed,
        }),
        rate_per_sec: o.rate_per_sec,
        eta_secs: o.eta_secs,
        unsubscribe_reasons: None,
    })
}

fn campaign_id(raw: &str) -> Result<CampaignId, ApiError> {
    raw.parse()
        .map(CampaignId::from_uuid)
        .map_err(|_| ApiError::not_found("campaign"))
}

#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", security(("bearer" = [])), request_body = CreateCampaignRequest, responses((status = 201, body = CampaignResponse), ApiErrors))]
/// `POST /api/v1/campaigns` → 201 with the draft.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<CreateCampaignRequest>,
) -> Result<(StatusCode, Json<CampaignResponse>), ApiError> {
    let lists = slugs(&state, &req.lists).await?;
    let reply_to = super::reply_to(req.reply_to.as_deref())?;
    let draft = CampaignDraft {
        name: req.name,
        subject: req.subject,
        body_markdown: req.body_markdown,
        lists,
        from: req.from,
        reply_to,
        layout: req.layout,
        translations: translations(req.translations)?,
        segment: req.segment.as_deref().map(segment_id).transpose()?,
        archive: req.archive,
    };
    let campaign = campaigns::create(&state.ctx, &caller.actor(), draft).await?;
    let body = respond(&state, campaign.id).await?;
    Ok((StatusCode::CREATED, body))
}

/// A segment by id; text that cannot be an id names no segment.
fn segment_id(raw: &str) -> Result<SegmentId, ApiError> {
    uuid::Uuid::parse_str(raw)
        .map(SegmentId::from_uuid)
        .map_err(|_| unknown_segment())
}

fn unknown_segment() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_segment",
        "segment: there is no such segment",
    )
}

/// Target lists, each by slug or id, as their slugs; one that names no list is 422
/// `unknown_list`.
async fn slugs(state: &AppState, raw: &[String]) -> Result<Vec<ListSlug>, ApiError> {
    let mut found = Vec::with_capacity(raw.len());
    for s in raw {
        let unknown = || {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_list",
                format!("there is no list {s:?}"),
            )
        };
        let list = super::named_list(state, s).await?.ok_or_else(unknown)?;
        found.push(list.def.slug);
    }
    Ok(found)
}

/// `PATCH /api/v1/campaigns/{id}`: the fields to change; absent ones stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateCampaignRequest {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    name: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = "^[^\\r\\n]*\\S[^\\r\\n]*$"
    )]
    subject: Option<String>,
    #[schema(min_length = 1, max_length = 1000000, pattern = "\\S")]
    body_markdown: Option<String>,
    #[schema(min_items = 1)]
    lists: Option<Vec<String>>,
    /// `null`: back to `mail.from`.
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    from: Option<Option<String>>,
    /// `null`: back to the list's, else `mail.reply_to`.
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    reply_to: Option<Option<String>>,
    /// `standard` or `letter`.
    layout: Option<CampaignLayout>,
    /// Replaces every translation (`{}` removes them all).
    #[schema(value_type = Option<Object>)]
    translations: Option<BTreeMap<String, TranslationBody>>,
    /// A segment's id; `null`: every member of the lists.
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<String>, format = Uuid)]
    segment: Option<Option<String>>,
    /// Publish in the public archive once sent (`true`) or not; alone, it may change on a
    /// campaign in any state (an issue can be taken off the archive after it was sent).
    archive: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), request_body = UpdateCampaignRequest, responses((status = 200, body = CampaignResponse), ApiErrors))]
/// `PATCH /api/v1/campaigns/{id}` → 200: changes a draft; a scheduled campaign returns to
/// draft; sending, paused, sent or cancelled → 409 `invalid_state`, except a PATCH of
/// `archive` alone, which any campaign takes.
pub(super) async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateCampaignRequest>,
) -> Result<Json<CampaignResponse>, ApiError> {
    let id = campaign_id(&id)?;
    let lists = match req.lists.as_deref() {
        Some(raw) => Some(slugs(&state, raw).await?),
        None => None,
    };
    let patch = CampaignPatch {
        name: req.name,
        subject: req.subject,
        body_markdown: req.body_markdown,
        lists,
        from: req.from.map(|f| f.filter(|f| !f.trim().is_empty())),
        reply_to: req
            .reply_to
            .map(|r| super::reply_to(r.as_deref()))
            .transpose()?,
        layout: req.layout,
        translations: req.translations.map(translations).transpose()?,
        segment: req
            .segment
            .map(|s| s.as_deref().map(segment_id).transpose())
            .transpose()?,
        archive: req.archive,
    };
    campaigns::update(&state.ctx, &caller.actor(), id, patch).await?;
    respond(&state, id).await
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/duplicate", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 201, body = CampaignResponse), ApiErrors))]
/// `POST /api/v1/campaigns/{id}/duplicate` → 201: a new draft with the same content.
pub(super) async fn duplicate(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<CampaignResponse>), ApiError> {
    let copy = campaigns::duplicate(&state.ctx, &caller.actor(), campaign_id(&id)?).await?;
    Ok((StatusCode::CREATED, respond(&state, copy.id).await?))
}

#[utoipa::path(delete, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 204, description = "deleted"), ApiErrors))]
/// `DELETE /api/v1/campaigns/{id}` → 204: a draft, or a cancelled campaign that sent nothing;
/// otherwise 409.
pub(super) async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    campaigns::delete(&state.ctx, &caller.actor(), campaign_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AudienceResponse {
    /// People the campaign would reach now, each once.
    total: u64,
    /// People per target list, by slug (someone on two lists counts in both).
    by_list: std::collections::BTreeMap<String, u64>,
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/audience", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, body = AudienceResponse), ApiErrors))]
/// `GET /api/v1/campaigns/{id}/audience` → who it would reach now: confirmed, active, not
/// suppressed.
pub(super) async fn audience(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<AudienceResponse>, ApiError> {
    let a = campaigns::audience(&state.ctx, campaign_id(&id)?).await?;
    Ok(Json(AudienceResponse {
        total: a.total,
        by_list: a
            .by_list
            .into_iter()
            .map(|(slug, n)| (slug.as_str().to_owned(), n))
            .collect(),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CampaignsResponse {
    campaigns: Vec<CampaignResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", security(("bearer" = [])), params(("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = CampaignsResponse), ApiErrors))]
/// `GET /api/v1/campaigns` → every campaign, newest first (without figures).
pub(super) async fn all(
    State(state): State<AppState>,
    _caller: ApiCaller,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Json<CampaignsResponse>, ApiError> {
    let page: super::PageQuery = serde_html_form::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    let before = match page.cursor.as_deref() {
        Some(c) => Some(campaign_id(c).map_err(|_| ApiError::invalid("cursor: not a cursor"))?),
        None => None,
    };
    let Page { items: found, next } =
        campaigns::page_with_counts(&state.ctx, before, page.limit()).await?;
    let mut out = Vec::new();
    for row in found {
        let overview = CampaignOverview {
            campaign: row.campaign,
            counts: row.counts,
            rate_per_sec: None,
            eta_secs: None,
            as_of: state.ctx.clock.now(),
        };
        out.push(response(&state, overview).await?);
    }
    Ok(Json(CampaignsResponse {
        campaigns: out,
        next_cursor: next.map(|id| id.to_string()),
    }))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, body = CampaignResponse), ApiErrors))]
/// `GET /api/v1/campaigns/{id}` → the campaign, its status and figures.
pub(super) async fn get(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<CampaignResponse>, ApiError> {
    respond(&state, campaign_id(&id)?).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct PreviewResponse {
    subject: String,
    text: String,
    html: String,
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/preview", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path, description = "the record id"), ("locale" = Option<String>, Query, description = "en (the default) or de")), responses((status = 200, body = PreviewResponse), ApiErrors))]
/// `GET /api/v1/campaigns/{id}/preview[?locale=de]` → subject, text and HTML for a sample
/// recipient in that language (its translation and layout, else the default text).
pub(super) async fn preview(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Json<PreviewResponse>, ApiError> {
    let asked = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "locale")
        .map(|(_, v)| v.into_owned());
    let locale = match asked.as_deref() {
        None => Locale::En,
        Some(tag) => Locale::parse(tag).map_err(|_| {
            let codes = Locale::codes();
            ApiError::invalid(format!("locale: a language Bulletin speaks ({codes})"))
        })?,
    };
    let m = campaigns::preview(&state.ctx, campaign_id(&id)?, locale).await?;
    Ok(Json(PreviewResponse {
        subject: m.subject,
        text: m.text,
        html: m.html,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TestRequest {
    #[schema(min_items = 1, example = json!(["ada@example.com"]))]
    emails: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TestResponse {
    sent: usize,
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/test", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), request_body = TestRequest, responses((status = 200, body = TestResponse), (status = 429, description = "more test messages than `delivery.test_sends_per_hour` allow", body = crate::web::error::ErrorBody), ApiErrors))]
/// `POST /api/v1/campaigns/{id}/test` `{"emails":[…]}` → sends the sample rendering.
pub(super) async fn test(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TestRequest>,
) -> Result<Json<TestResponse>, ApiError> {
    let id = campaign_id(&id)?;
    let to = req
        .emails
        .iter()
        .map(|e| {
            EmailAddress::parse(e).map_err(|err| ApiError::invalid(format!("emails: {e:?}: {err}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    state.send_test(&caller.actor(), id, &to).await?;
    Ok(Json(TestResponse { sent: to.len() }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ScheduleRequest {
    send_at: Option<DateTime<Utc>>,
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/schedule", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), request_body = ScheduleRequest, responses((status = 202, description = "scheduled: the scheduler starts it at its time and the worker sends it", body = CampaignResponse), ApiErrors))]
/// `POST /api/v1/campaigns/{id}/schedule` `{"send_at": RFC 3339 | null}` (null: now) → 202:
/// the sending goes on after the answer.
pub(super) async fn schedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ScheduleRequest>,
) -> Result<(StatusCode, Json<CampaignResponse>), ApiError> {
    let id = campaign_id(&id)?;
    campaigns::schedule(&state.ctx, &caller.actor(), id, req.send_at).await?;
    Ok((StatusCode::ACCEPTED, respond(&state, id).await?))
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/pause", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, body = CampaignResponse), ApiErrors))]
/// `POST /api/v1/campaigns/{id}/pause`.
pub(super) async fn pause(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<CampaignResponse>, ApiError> {
    let id = campaign_id(&id)?;
    let reason = format!("paused by {}", caller.0.name);
    campaigns::pause(&state.ctx, &caller.actor(), id, &reason).await?;
    respond(&state, id).await
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/resume", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 202, description = "sending again; the worker goes on after the answer", body = CampaignResponse), ApiErrors))]
/// `POST /api/v1/campaigns/{id}/resume` → 202: the sending goes on after the answer.
pub(super) async fn resume(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<CampaignResponse>), ApiError> {
    let id = campaign_id(&id)?;
    campaigns::resume(&state.ctx, &caller.actor(), id).await?;
    Ok((StatusCode::ACCEPTED, respond(&state, id).await?))
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/cancel", tag = "campaigns", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, body = CampaignResponse), ApiErrors))]
/// `POST /api/v1/campaigns/{id}/cancel`.
pub(super) async fn cancel(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<CampaignResponse>, ApiError> {
    let id = campaign_id(&id)?;
    campaigns::cancel(&state.ctx, &caller.actor(), id).await?;
    respond(&state, id).await
}
