//! HTTP: turns requests into service calls and results into pages (maud) or JSON. No
//! business rules here. `router()` merges the areas and adds the cross-cutting layers.

pub mod admin;
pub mod api;
pub mod error;
pub mod extract;
pub mod public;
pub mod server;
mod state;
pub mod views;
pub mod webhooks;

pub use state::AppState;

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower_http::{
    catch_panic::CatchPanicLayer, limit::RequestBodyLimitLayer, set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

/// The whole application: public pages, the API, and the layers around them.
pub fn router(state: AppState) -> Router {
    let body_limit = state.ctx.settings.http.body_limit_bytes;
    let timeout = state.ctx.settings.http.request_timeout;
    let routes = Router::new()
        .merge(with_limits(public::routes(&state), body_limit, timeout))
        .merge(admin::routes(&state))
        .merge(with_limits(
            webhooks::routes(),
            crate::services::webhooks::MAX_BODY_BYTES,
            timeout,
        ))
        .nest("/api/v1", api::routes(&state))
        .fallback(not_found)
        .layer(middleware::from_fn(refuse_nul_in_uri))
        .layer(middleware::from_fn(count_requests));
    with_security_headers(routes)
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map_or("", MatchedPath::as_str);
            // Log the route pattern, never the path: tokens travel in paths.
            tracing::info_span!("request", method = %req.method(), route)
        }))
        .layer(CatchPanicLayer::new())
        .with_state(state)
}

/// Bounds the body of every route in `router`: its size (413 beyond) and the time it takes
/// to arrive (408 beyond). The body is read in whole before the handler runs, and the handler
/// is never cut off: a change that commits must not be answered 408. A handler's own time is
/// bounded by the database's timeouts (then 503) and the relay's.
pub(crate) fn with_limits(
    router: Router<AppState>,
    body_limit_bytes: usize,
    timeout: std::time::Duration,
) -> Router<AppState> {
    let read_body = middleware::from_fn(move |req: Request, next: Next| {
        read_body_within(req, next, timeout, body_limit_bytes)
    });
    with_body_limit(router.layer(read_body), body_limit_bytes)
}

/// Bounds the size of every body in `router` (413 beyond), for routes that stream their body
/// (to disk) and bound its time themselves.
pub(crate) fn with_body_limit(
    router: Router<AppState>,
    body_limit_bytes: usize,
) -> Router<AppState> {
    router
        .layer(DefaultBodyLimit::max(body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(body_limit_bytes))
}

/// Reads the whole body within `timeout` (408 beyond, 413 past `limit`), then runs the
/// handler on it.
async fn read_body_within(
    req: Request,
    next: Next,
    timeout: std::time::Duration,
    limit: usize,
) -> Response {
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
        Ok(Err(e)) => match body_error(e).kind() {
            std::io::ErrorKind::FileTooLarge => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
            _ => StatusCode::BAD_REQUEST.into_response(),
        },
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
    }
}

/// A failing body stream as an I/O error; an exceeded body limit is `FileTooLarge`, so that
/// it is answered 413.
pub(crate) fn body_error(err: axum::Error) -> std::io::Error {
    let inner = err.into_inner();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&*inner);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return std::io::Error::new(std::io::ErrorKind::FileTooLarge, inner);
        }
        cause = e.source();
    }
    std::io::Error::other(inner)
}

async fn not_found(req: Request) -> Response {
    let locale = extract::request_locale(req.headers());
    error::PageError::new(locale, error::PageErrorKind::NotFound).into_response()
}

/// Whether `bytes` carry a NUL character, raw or percent-encoded. No text Bulletin keeps may
/// have one (PostgreSQL refuses it in text columns), so it is refused at the door.
pub(crate) fn has_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(3).any(|w| w == b"%00")
}

/// The first control character in `text` other than tab, line feed and carriage return (C0,
/// DEL and C1): none may enter what Bulletin keeps, since one breaks the XML of the notice
/// feeds and fools the eye in the admin UI.
pub(crate) fn control_char(text: &str) -> Option<char> {
    text.chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Answers 400 to a path or query with a NUL character (`%00`), before any handler.
async fn refuse_nul_in_uri(req: Request, next: Next) -> Response {
    let uri = req.uri();
    if !has_nul(uri.path().as_bytes()) && !has_nul(uri.query().unwrap_or("").as_bytes()) {
        return next.run(req).await;
    }
    let reason = "The address contains a NUL character (%00).";
    if uri.path().starts_with("/api/") {
        return error::ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", reason)
            .into_response();
    }
    let locale = extract::request_locale(req.headers());
    error::PageError::new(locale, error::PageErrorKind::BadRequest(reason.to_owned()))
        .into_response()
}

async fn count_requests(req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("bulletin_http_requests_total", "method" => method, "status" => status)
        .increment(1);
    response
}

/// Strict defaults for every response; pages load nothing but our own stylesheet.
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

fn with_security_headers(router: Router<AppState>) -> Router<AppState> {
    SECURITY_HEADERS
        .into_iter()
        .fold(router, |router, (name, value)| {
            router.layer(SetResponseHeaderLayer::if_not_present(
                name,
                HeaderValue::from_static(value),
            ))
        })
}
