//! `/api/v1/subscribers`: search, add one subscriber, look one up by address or id,
//! correct, unsubscribe, block, and read their consent ledger.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::services::paging::Page;
use crate::{
    domain::{
        ConsentEvent, ConsentEventId, EmailAddress, ListSlug, Locale, Subscriber, SubscriberId,
        SubscriberName, SubscriptionStatus,
    },
    services::{
        imports::{self, AddSubscriberError, NewSubscriber},
        privacy::{self, Party},
        subscribers::{self, SubscriberOverview},
    },
    store::{StoreError, overview::SubscriberFilter},
    web::AppState,
    web::{
        error::{ApiError, ApiErrors},
        extract::{ApiCaller, ApiJson},
    },
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FindQuery {
    email: Option<String>,
    q: Option<String>,
    list: Option<String>,
    status: Option<String>,
    suppressed: Option<String>,
    cursor: Option<String>,
    limit: Option<super::PageLimit>,
}

/// One row of a subscriber search.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SubscriberSummary {
    id: String,
    email: String,
    name: String,
    locale: String,
    status: String,
    created_at: DateTime<Utc>,
}

impl From<Subscriber> for SubscriberSummary {
    fn from(s: Subscriber) -> Self {
        Self {
            id: s.id.to_string(),
            email: s.email.as_str().to_owned(),
            name: s.name.as_str().to_owned(),
            locale: s.locale.as_str().to_owned(),
            status: s.status.as_str().to_owned(),
            created_at: s.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SubscribersResponse {
    subscribers: Vec<SubscriberSummary>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// `?email=` finds one subscriber; without it, a page of the search.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(super) enum FindResponse {
    /// The subscriber with that address.
    One(SubscriberResponse),
    /// A page of the search.
    Page(SubscribersResponse),
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
    /// The operator's attributes of the person: text, numbers, true/false, dates
    /// `YYYY-MM-DD`.
    #[schema(value_type = Object, example = json!({"plan": "pro", "seats": 12}))]
    attributes: serde_json::Value,
    subscriptions: Vec<SubscriptionResponse>,
    /// `null`, or why and since when the address is never mailed.
    suppressed: Option<SuppressedResponse>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SuppressedResponse {
    /// `hard_bounce`, `soft_bounce_limit`, `complaint`, `erased` or `manual`.
    reason: String,
    at: DateTime<Utc>,
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
            attributes: s.attributes.to_json(),
            suppressed: found.suppressed.map(|(reason, at)| SuppressedResponse {
                reason: reason.as_str().to_owned(),
                at,
            }),
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
    #[schema(format = Email, max_length = 254, example = "ada@example.com")]
    email: String,
    #[serde(default)]
    #[schema(max_length = 100, example = "Ada Lovelace")]
    name: String,
    locale: Option<String>,
    #[schema(min_items = 1, example = json!(["news"]))]
    lists: Vec<String>,
    #[schema(format = DateTime, example = "2025-05-01T08:30:00Z")]
    consent_at: Option<String>,
    #[schema(max_length = 200, example = "the shop's checkout")]
    consent_source: Option<String>,
    #[schema(max_length = 10000, example = "Yes, send me the newsletter.")]
    consent_text: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ConsentEventsResponse {
    subscriber_id: String,
    #[schema(value_type = Vec<Object>)]
    events: Vec<ConsentEvent>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/subscribers", tag = "subscribers", security(("bearer" = [])), params(("email" = Option<String>, Query, format = Email, description = "the exact address: answers that one subscriber, or 404"), ("q" = Option<String>, Query, description = "with @: an address prefix; else an address prefix or part of the name"), ("list" = Option<String>, Query, format = Uuid, description = "a list id: only people with a subscription to it"), ("status" = Option<crate::domain::SubscriptionStatus>, Query, description = "only this subscription state (on list, if given)"), ("suppressed" = Option<bool>, Query, description = "true: only people whose address is suppressed; false: only people whose address is not"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = FindResponse), ApiErrors))]
/// `GET /api/v1/subscribers?email=ADDR` → the subscriber and their subscriptions;
/// `GET /api/v1/subscribers[?q=][&list=][&status=][&suppressed=][&cursor=][&limit=]` → a page
/// of the search, newest first.
pub(super) async fn find(
    State(state): State<AppState>,
    _caller: ApiCaller,
    RawQuery(query): RawQuery,
) -> Result<Json<FindResponse>, ApiError> {
    let query: FindQuery = super::query(query.as_deref())?;
    let Some(raw) = query.email.as_deref() else {
        return search(&state, &query).await.map(Json);
    };
    let email = EmailAddress::parse(raw).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    let found = subscribers::find_by_email(&state.ctx, &email)
        .await?
        .ok_or_else(|| ApiError::not_found("subscriber"))?;
    Ok(Json(FindResponse::One(found.into())))
}

async fn search(state: &AppState, query: &FindQuery) -> Result<FindResponse, ApiError> {
    let list = match query.list.as_deref() {
        Some(raw) => Some(
            super::named_list(state, raw)
                .await?
                .ok_or_else(|| ApiError::invalid(format!("list: there is no list {raw:?}")))?
                .id,
        ),
        None => None,
    };
    let status = match query.status.as_deref() {
        Some(s) => Some(
            SubscriptionStatus::parse(s).map_err(|e| ApiError::invalid(format!("status: {e}")))?,
        ),
        None => None,
    };
    let suppressed = match query.suppressed.as_deref() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::invalid("suppressed: true or false")),
        None => None,
    };
    let filter = SubscriberFilter {
        query: query.q.clone().filter(|q| !q.trim().is_empty()),
        list,
        status,
        suppressed,
    };
    let before = super::cursor(query.cursor.as_deref(), |c| {
        c.parse().ok().map(SubscriberId::from_uuid)
    })?;
    let limit = super::page_limit(query.limit);
    let Page { items: found, next } =
        subscribers::search(&state.ctx, &filter, before, limit).await?;
    Ok(FindResponse::Page(SubscribersResponse {
        subscribers: found.into_iter().map(SubscriberSummary::from).collect(),
        next_cursor: next.map(|id| id.to_string()),
    }))
}

#[utoipa::path(post, path = "/api/v1/subscribers", tag = "subscribers", security(("bearer" = [])), request_body = CreateSubscriberRequest, responses((status = 201, body = SubscriberResponse), (status = 200, description = "nothing changed", body = SubscriberResponse), ApiErrors))]
/// `POST /api/v1/subscribers` → 201 with the subscriber (200 when nothing changed): the
/// rules of one import row, for each list named.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
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
    let (found, changed) = imports::add_subscriber(&state.ctx, &caller.actor(), new).await?;
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
            AddSubscriberError::Forbidden(e) => e.into(),
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

#[utoipa::path(get, path = "/api/v1/subscribers/{id}/consent-events", tag = "subscribers", security(("bearer" = [])), params(("id" = String, Path, description = "the subscriber id"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = ConsentEventsResponse), ApiErrors))]
/// `GET /api/v1/subscribers/{id}/consent-events[?cursor=C][&limit=N]` → the person's
/// ledger, oldest first, a page at a time.
pub(super) async fn consent_events(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ConsentEventsResponse>, ApiError> {
    let id = subscriber_id(&id)?;
    let page = super::PageQuery::parse(raw.as_deref())?;
    let after = page.cursor(|c| c.parse().ok().map(ConsentEventId::from_uuid))?;
    match subscribers::consent_history_page(&state.ctx, id, after, page.limit()).await {
        Ok(Page {
            items: events,
            next,
        }) => Ok(Json(ConsentEventsResponse {
            subscriber_id: id.to_string(),
            events,
            next_cursor: next.map(|e| e.to_string()),
        })),
        Err(StoreError::NotFound) if after.is_some() => Err(super::not_a_cursor()),
        Err(StoreError::NotFound) => Err(ApiError::not_found("subscriber")),
        Err(e) => Err(e.into()),
    }
}

fn subscriber_id(raw: &str) -> Result<SubscriberId, ApiError> {
    super::path_id(raw, "subscriber", SubscriberId::from_uuid)
}

#[utoipa::path(get, path = "/api/v1/subscribers/{id}", tag = "subscribers", security(("bearer" = [])), params(("id" = String, Path, description = "the subscriber id")), responses((status = 200, body = SubscriberResponse), ApiErrors))]
/// `GET /api/v1/subscribers/{id}` → the subscriber and their subscriptions.
pub(super) async fn get(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<SubscriberResponse>, ApiError> {
    match subscribers::detail(&state.ctx, subscriber_id(&id)?).await {
        Ok(d) => Ok(Json(SubscriberResponse::from(SubscriberOverview {
            subscriber: d.subscriber,
            subscriptions: d
                .subscriptions
                .into_iter()
                .map(|(list, sub)| (list.def.slug, sub.status))
                .collect(),
            suppressed: d.suppressed,
        }))),
        Err(StoreError::NotFound) => Err(ApiError::not_found("subscriber")),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CorrectSubscriberRequest {
    #[schema(max_length = 100, example = "Ada Lovelace")]
    name: String,
    /// `en` or `de`.
    #[schema(example = "en")]
    locale: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PatchSubscriberRequest {
    #[schema(max_length = 100)]
    name: Option<String>,
    /// `en` or `de`.
    locale: Option<String>,
    /// Merged into the present attributes; a `null` value removes that one. Keys
    /// `[a-z0-9_]{1,40}`; values text (up to 500 characters), numbers, true/false, or dates
    /// `YYYY-MM-DD`; at most 50 per person.
    #[schema(value_type = Option<Object>, example = json!({"plan": "pro", "trial_ends": "2027-01-31", "legacy": null}))]
    attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

#[utoipa::path(patch, path = "/api/v1/subscribers/{id}", tag = "subscribers", security(("bearer" = [])), params(("id" = String, Path, description = "the subscriber id")), request_body = PatchSubscriberRequest, responses((status = 200, body = SubscriberResponse), ApiErrors))]
/// `PATCH /api/v1/subscribers/{id}` → 200 with the subscriber: changes name, language and
/// attributes (merged), all or nothing; a refused attribute is 422 naming it.
pub(super) async fn patch(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PatchSubscriberRequest>,
) -> Result<Json<SubscriberResponse>, ApiError> {
    let id = subscriber_id(&id)?;
    let name = req
        .name
        .as_deref()
        .map(SubscriberName::parse)
        .transpose()
        .map_err(|e| ApiError::invalid(format!("name: {e}")))?;
    let locale = req
        .locale
        .as_deref()
        .map(|l| {
            Locale::from_tag(l)
                .ok_or_else(|| ApiError::invalid(format!("locale: one of {}", Locale::codes())))
        })
        .transpose()?;
    let patch = privacy::ProfilePatch {
        name,
        locale,
        attributes: req.attributes,
    };
    let actor = Party::operator(&caller.actor(), None);
    privacy::update_profile(&state.ctx, id, patch, &actor).await?;
    get(State(state), caller, Path(id.to_string())).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CorrectedResponse {
    /// Whether anything changed (a change is recorded in the ledger as `rectified`).
    changed: bool,
}

#[utoipa::path(put, path = "/api/v1/subscribers/{id}", tag = "subscribers", security(("bearer" = [])), params(("id" = String, Path, description = "the subscriber id")), request_body = CorrectSubscriberRequest, responses((status = 200, body = CorrectedResponse), ApiErrors))]
/// `PUT /api/v1/subscribers/{id}` → corrects the name and language (GDPR Art. 16), recorded
/// in the ledger.
pub(super) async fn correct(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CorrectSubscriberRequest>,
) -> Result<Json<CorrectedResponse>, ApiError> {
    let id = subscriber_id(&id)?;
    let name =
        SubscriberName::parse(&req.name).map_err(|e| ApiError::invalid(format!("name: {e}")))?;
    let locale = Locale::from_tag(&req.locale)
        .ok_or_else(|| ApiError::invalid(format!("locale: one of {}", Locale::codes())))?;
    let actor = Party::operator(&caller.actor(), None);
    let changed = privacy::correct(&state.ctx, id, &name, locale, &actor).await?;
    Ok(Json(CorrectedResponse { changed }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct UnsubscribedResponse {
    /// How many subscriptions ended now.
    unsubscribed: usize,
}

#[utoipa::path(post, path = "/api/v1/subscribers/{id}/unsubscribe", tag = "subscribers", security(("bearer" = [])), params(("id" = String, Path, description = "the subscriber id")), responses((status = 200, body = UnsubscribedResponse), ApiErrors))]
/// `POST /api/v1/subscribers/{id}/unsubscribe` → ends every subscription of the person now
/// (idempotent); the ledger records it with the token's name.
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<UnsubscribedResponse>, ApiError> {
    let id = subscriber_id(&id)?;
    let actor = Party::operator(&caller.actor(), None);
    let unsubscribed = privacy::withdraw(&state.ctx, id, None, &actor).await?;
    Ok(Json(UnsubscribedResponse { unsubscribed }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct BlockResponse {
    /// The subscriber's status afterwards: `blocked`, or `active`/`restricted` after unblocking.
    status: String,
}

#[utoipa::path(post, path = "/api/v1/subscribers/{id}/block", tag = "subscribers", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, body = BlockResponse), ApiErrors))]
/// `POST /api/v1/subscribers/{id}/block` → `{"status":"blocked"}`: nothing is sent to the
/// person and nothing adds them until the block is lifted (idempotent).
pub(super) async fn block(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<BlockResponse>, ApiError> {
    set_block(&state, &caller, &id, true).await
}

#[utoipa::path(post, path = "/api/v1/subscribers/{id}/unblock", tag = "subscribers", security(("bearer" = [])), params(("id" = String, Path, description = "the record id")), responses((status = 200, body = BlockResponse), ApiErrors))]
/// `POST /api/v1/subscribers/{id}/unblock` → the status before the block (`active`, or
/// `restricted` when the person's restriction still stands); idempotent.
pub(super) async fn unblock(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<BlockResponse>, ApiError> {
    set_block(&state, &caller, &id, false).await
}

async fn set_block(
    state: &AppState,
    caller: &ApiCaller,
    id: &str,
    blocked: bool,
) -> Result<Json<BlockResponse>, ApiError> {
    let id = subscriber_id(id)?;
    let actor = Party::operator(&caller.actor(), None);
    let status = privacy::block(&state.ctx, id, blocked, &actor).await?;
    Ok(Json(BlockResponse {
        status: status.as_str().to_owned(),
    }))
}
