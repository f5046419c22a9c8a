//! The JSON API under `/api/v1` (bearer token). Errors are `{"error":{"code","message"}}`.

mod audit;
mod campaigns;
mod conditional;
mod customers;
mod hooks;
mod idempotency;
mod imports;
mod jobs;
mod lists;
mod notices;
mod openapi;
mod privacy;
mod segments;
mod subscribers;
mod subscriptions;
mod suppressions;
mod templates;
mod transactional;
mod users;

use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};

use crate::web::{AppState, error::ApiError, with_body_limit, with_limits};
use conditional::ConditionalHeaders;
use idempotency::IdempotencyHeaders;
use openapi::Conventions;

/// The API routes, relative to `/api/v1`. Bulk routes (imports) get their own, larger
/// body and time limits from `[import]`; all others the `[http]` ones.
/// Around every route: `Idempotency-Key` on POST (`idempotency`) and conditional requests,
/// `ETag`, `If-None-Match` and `If-Match` (`conditional`).
pub fn routes(state: &AppState) -> Router<AppState> {
    let settings = &state.ctx.settings;
    let http = &settings.http;
    let standard = Router::new()
        .route("/lists", post(lists::create).get(lists::all))
        .route(
            "/lists/{id}",
            get(lists::get).put(lists::update).patch(lists::patch),
        )
        .route("/lists/{id}/archive", post(lists::archive))
        .route("/lists/{id}/unarchive", post(lists::unarchive))
        .route("/campaigns", post(campaigns::create).get(campaigns::all))
        .route(
            "/campaigns/{id}",
            get(campaigns::get)
                .patch(campaigns::update)
                .delete(campaigns::delete),
        )
        .route("/campaigns/{id}/duplicate", post(campaigns::duplicate))
        .route("/campaigns/{id}/audience", get(campaigns::audience))
        .route("/campaigns/{id}/preview", get(campaigns::preview))
        .route("/campaigns/{id}/test", post(campaigns::test))
        .route("/campaigns/{id}/schedule", post(campaigns::schedule))
        .route("/campaigns/{id}/pause", post(campaigns::pause))
        .route("/campaigns/{id}/resume", post(campaigns::resume))
        .route("/campaigns/{id}/cancel", post(campaigns::cancel))
        .route("/jobs", get(jobs::runs))
        .route("/templates", get(templates::all))
        .route(
            "/templates/{locale}/{file}",
            get(templates::get)
                .put(templates::put)
                .delete(templates::delete),
        )
        .route(
            "/templates/{locale}/{file}/preview",
            post(templates::preview),
        )
        .route("/openapi.json", get(openapi_json))
        .route(
            "/products",
            post(customers::create_product).get(customers::products),
        )
        .route(
            "/customers",
            post(customers::create_customer).get(customers::customers),
        )
        .route("/customers/import", post(customers::import_customers))
        .route("/notices", post(notices::create).get(notices::all))
        .route("/notices/export", get(notices::export))
        .route(
            "/notices/{id}",
            get(notices::get)
                .patch(notices::update)
                .delete(notices::delete),
        )
        .route("/notices/{id}/audience", get(notices::audience))
        .route("/notices/{id}/send", post(notices::send))
        .route(
            "/notices/{id}/acknowledgements",
            get(notices::acknowledgements),
        )
        .route(
            "/subscribers",
            get(subscribers::find).post(subscribers::create),
        )
        .route(
            "/subscribers/{id}",
            get(subscribers::get)
                .put(subscribers::correct)
                .patch(subscribers::patch),
        )
        .route(
            "/subscribers/{id}/unsubscribe",
            post(subscribers::unsubscribe),
        )
        .route(
            "/subscribers/{id}/consent-events",
            get(subscribers::consent_events),
        )
        .route("/subscribers/{id}/block", post(subscribers::block))
        .route("/subscriptions", post(subscriptions::create))
        .route("/transactional", post(transactional::send))
        .route("/transactional/{id}", get(transactional::get))
        .route(
            "/transactional-templates",
            post(transactional::create_template).get(transactional::templates),
        )
        .route(
            "/transactional-templates/{name}",
            get(transactional::template)
                .patch(transactional::update_template)
                .delete(transactional::delete_template),
        )
        .route("/segments", get(segments::all).post(segments::create))
        .route("/segments/count", post(segments::count_filter))
        .route(
            "/segments/{id}",
            get(segments::get)
                .patch(segments::update)
                .delete(segments::delete),
        )
        .route("/segments/{id}/count", get(segments::count))
        .route(
            "/suppressions",
            get(suppressions::all).post(suppressions::create),
        )
        .route("/suppressions/{id}", delete(suppressions::lift))
        .route("/subscribers/{id}/unblock", post(subscribers::unblock))
        .route("/subscribers/{id}/export", get(privacy::export))
        .route("/subscribers/{id}/erase", post(privacy::erase))
        .route("/subscribers/{id}/restriction", post(privacy::restriction))
        .route(
            "/subscribers/{id}/consent-proof",
            get(privacy::consent_proof),
        )
        .route(
            "/privacy-requests",
            post(privacy::log_request).get(privacy::requests),
        )
        .route("/privacy-requests/{id}/close", post(privacy::close_request))
        .route("/retention/review", get(privacy::retention_review))
        .route("/users", get(users::all).post(users::create))
        .route("/users/{id}/role", post(users::set_role))
        .route("/users/{id}/disable", post(users::disable))
        .route("/users/{id}/enable", post(users::enable))
        .route("/tokens", get(users::tokens).post(users::create_token))
        .route("/tokens/{id}/revoke", post(users::revoke_token))
        .route("/audit", get(audit::entries))
        .route("/webhooks", post(hooks::create).get(hooks::all))
        .route(
            "/webhooks/{id}",
            get(hooks::get).patch(hooks::update).delete(hooks::delete),
        )
        .route("/webhooks/{id}/attempts", get(hooks::attempts))
        .route("/events", get(hooks::events));
    let bulk = Router::new()
        .route("/subscribers/import", post(imports::import))
        .route("/suppressions/import", post(suppressions::import));
    let api = with_limits(standard, http.body_limit_bytes, http.request_timeout)
        .merge(with_body_limit(bulk, settings.import.max_body_bytes))
        .fallback(not_found)
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(locate_created));
    let reader = api.clone().with_state(state.clone());
    api.layer(conditional::ConditionalLayer::new(reader))
        // Outermost, so that the answer kept for a key is the one the client got.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::honour,
        ))
}

/// Names what a 201 made in `Location` (RFC 9110 §10.2.2): every route that creates answers
/// with the new resource, whose `id` sits under the collection the route begins with
/// (`POST /campaigns/{id}/duplicate` makes `/api/v1/campaigns/{new id}`).
async fn locate_created(req: Request, next: Next) -> Response {
    // Nested under `/api/v1`, the path seen here starts after it.
    let collection = req
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("")
        .to_owned();
    let response = next.run(req).await;
    if response.status() != StatusCode::CREATED
        || response.headers().contains_key(header::LOCATION)
        || collection.is_empty()
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // The handler's JSON, already in memory: reading it cannot fail or grow.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::internal(&std::io::Error::other("unreadable 201 body")).into_response();
    };
    let id = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_owned));
    if let Some(location) = id
        .filter(|id| id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .and_then(|id| HeaderValue::try_from(format!("/api/v1/{collection}/{id}")).ok())
    {
        parts.headers.insert(header::LOCATION, location);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Gives every error under `/api/` the API's JSON shape. The answers the router and the
/// layers make themselves (405 with its `Allow`, 408, 413, a malformed body's 400) come as
/// plain text or empty; they get the code their status stands for, keeping `Allow` and
/// `Retry-After`. A 401 also says how to authenticate (`WWW-Authenticate: Bearer`, RFC 6750).
async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let mut response = if (status.is_client_error() || status.is_server_error()) && !is_json {
        let (code, message) = match status {
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "this method is not allowed here; the Allow header lists the ones that are",
            ),
            StatusCode::REQUEST_TIMEOUT => {
                ("request_timeout", "the request body did not arrive in time")
            }
            StatusCode::PAYLOAD_TOO_LARGE => (
                "payload_too_large",
                "the request body is larger than this endpoint takes",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "send the body as application/json",
            ),
            StatusCode::BAD_REQUEST => ("malformed_body", "the request could not be read"),
            StatusCode::NOT_FOUND => ("not_found", "not found"),
            _ => ("error", status.canonical_reason().unwrap_or("error")),
        };
        let (parts, _) = response.into_parts();
        let mut json = ApiError::new(status, code, message).into_response();
        for name in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(value) = parts.headers.get(&name) {
                json.headers_mut().insert(name, value.clone());
            }
        }
        json
    } else {
        response
    };
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .entry(header::WWW_AUTHENTICATE)
            .or_insert(HeaderValue::from_static("Bearer"));
    }
    response
}

/// A field that may be absent (unchanged), `null` (cleared) or a value.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// `?format=` of the endpoints that answer JSON or, asked so, CSV; any other value is 422.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum DataFormat {
    /// JSON, the default.
    #[default]
    Json,
    /// A CSV file.
    Csv,
}

/// `?cursor=&limit=` of the list endpoints: keyset pages, so a page costs the same however
/// far into the set it is.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PageQuery {
    cursor: Option<String>,
    limit: Option<PageLimit>,
}

/// The most items one page of a list endpoint holds (`?limit=`).
pub(super) const MAX_PAGE: u64 = 1000;

/// A page size asked for with `?limit=`: 1 to [`MAX_PAGE`]. Anything else (0, more, a number
/// past 64 bits, not a number) fails to deserialise, so the query is refused with 422.
#[derive(Debug, Clone, Copy)]
pub(super) struct PageLimit(u64);

impl<'de> serde::Deserialize<'de> for PageLimit {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(deserializer)?;
        if (1..=MAX_PAGE).contains(&n) {
            Ok(Self(n))
        } else {
            Err(serde::de::Error::custom(format!(
                "limit must be 1 to {MAX_PAGE}, not {n}"
            )))
        }
    }
}

impl PageLimit {
    /// The size asked for, else `default`.
    pub(super) fn or(limit: Option<Self>, default: u64) -> u64 {
        limit.map_or(default, |l| l.0)
    }
}

impl PageQuery {
    /// The page size: 1 to 1000, 100 when not given.
    fn limit(&self) -> u64 {
        page_limit(self.limit)
    }

    /// Reads `?cursor=&limit=` (and nothing else).
    fn parse(raw: Option<&str>) -> Result<Self, crate::web::error::ApiError> {
        query(raw)
    }

    /// The cursor, parsed by `parse`; 422 `cursor: not a cursor` when it does not parse.
    fn cursor<T>(
        &self,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, crate::web::error::ApiError> {
        cursor(self.cursor.as_deref(), parse)
    }
}

/// The page size of every list endpoint: 1 to 1000, 100 when not given.
fn page_limit(limit: Option<PageLimit>) -> u64 {
    PageLimit::or(limit, 100)
}

/// A query string as `T`; 422 when it does not fit.
fn query<T: serde::de::DeserializeOwned>(
    raw: Option<&str>,
) -> Result<T, crate::web::error::ApiError> {
    serde_html_form::from_str(raw.unwrap_or(""))
        .map_err(|e| crate::web::error::ApiError::invalid(format!("query: {e}")))
}

/// A `cursor` parameter, parsed by `parse`; 422 when it does not parse.
fn cursor<T>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, crate::web::error::ApiError> {
    raw.map(|c| parse(c).ok_or_else(not_a_cursor)).transpose()
}

/// 422 for a cursor that no page gave out.
fn not_a_cursor() -> crate::web::error::ApiError {
    crate::web::error::ApiError::invalid("cursor: not a cursor")
}

/// A UUID path segment as an id; 404 `what not found` when it is not a UUID.
fn path_id<T>(
    raw: &str,
    what: &str,
    from: impl FnOnce(uuid::Uuid) -> T,
) -> Result<T, crate::web::error::ApiError> {
    raw.parse()
        .map(from)
        .map_err(|_| crate::web::error::ApiError::not_found(what))
}

/// A `reply_to` field: `None` when absent or empty, else an address at any domain.
fn reply_to(
    raw: Option<&str>,
) -> Result<Option<crate::domain::EmailAddress>, crate::web::error::ApiError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => crate::domain::EmailAddress::parse(raw)
            .map(Some)
            .map_err(|e| crate::web::error::ApiError::invalid(format!("reply_to: {e}"))),
    }
}

/// The list `raw` names, by slug or id as everywhere in the API; `None` when it names none
/// (each route says so in its own words).
async fn named_list(
    state: &AppState,
    raw: &str,
) -> Result<Option<crate::domain::MailingList>, crate::web::error::ApiError> {
    let Ok(wanted) = crate::domain::ListRef::parse(raw) else {
        return Ok(None);
    };
    match crate::services::lists::named(&state.ctx, &wanted).await {
        Ok(list) => Ok(Some(list)),
        Err(crate::store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn not_found() -> crate::web::error::ApiError {
    crate::web::error::ApiError::not_found("route")
}

/// The OpenAPI 3 document of this API, generated from the handlers' annotations and the
/// request and response types, so it cannot drift from the code.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Bulletin API", description = "Lists, subscribers, campaigns, notices, customers, data-subject rights, users, tokens and the audit log. List endpoints page by cursor: pass next_cursor as cursor. Errors are {\"error\":{\"code\",\"message\"}}."),
    paths(
        lists::create, lists::all, lists::get, lists::update, lists::patch, lists::archive, lists::unarchive,
        campaigns::create, campaigns::all, campaigns::get, campaigns::preview, campaigns::test,
        campaigns::schedule, campaigns::pause, campaigns::resume, campaigns::cancel,
        campaigns::update, campaigns::duplicate, campaigns::delete, campaigns::audience,
        jobs::runs,
        templates::all, templates::get, templates::put, templates::delete, templates::preview,
        customers::create_product, customers::products, customers::create_customer,
        customers::customers, customers::import_customers,
        notices::create, notices::all, notices::export, notices::get, notices::audience,
        notices::send, notices::acknowledgements, notices::update, notices::delete,
        subscribers::find, subscribers::create, subscribers::get, subscribers::correct, subscribers::patch,
        subscribers::unsubscribe, subscribers::consent_events,
        subscribers::block, subscribers::unblock,
        subscriptions::create,
        transactional::send, transactional::get, transactional::create_template,
        transactional::templates, transactional::template, transactional::update_template,
        transactional::delete_template,
        suppressions::all, suppressions::create, suppressions::lift, suppressions::import,
        segments::create, segments::all, segments::get, segments::update, segments::delete,
        segments::count, segments::count_filter,
        imports::import,
        privacy::export, privacy::erase, privacy::restriction, privacy::consent_proof,
        privacy::log_request, privacy::requests, privacy::close_request, privacy::retention_review,
        users::all, users::create, users::set_role, users::disable, users::enable, users::tokens, users::create_token, users::revoke_token,
        audit::entries,
        hooks::create, hooks::all, hooks::get, hooks::update, hooks::delete, hooks::attempts,
        hooks::events,
    ),
    components(schemas(
        crate::web::error::ErrorBody, notices::NoticeTranslation,
        // Named by query parameters, which do not register their schemas themselves.
        crate::domain::SubscriptionStatus, crate::domain::SuppressionReason, crate::domain::privacy::RequestStatus,
    )),
    // The conventions come last: they name and describe what the others added too.
    modifiers(&BearerAuth, &IdempotencyHeaders, &ConditionalHeaders, &Conventions)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/v1/openapi.json` (no token needed: it describes, it does not reveal).
async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi;
    axum::Json(ApiDoc::openapi())
}
