//! `Idempotency-Key` on the API's POST requests (issue 18): the same key and request within
//! 24 hours gets the first answer again without running the route, the same key with another
//! request 422. The rules live in `services::idempotency`; this layer only moves bytes.

use std::{
    pin::Pin,
    sync::{Arc, OnceLock},
    task::{Context as TaskContext, Poll, ready},
};

use axum::{
    body::{Body, Bytes, HttpBody as _},
    extract::{FromRequestParts as _, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures_util::{Stream, StreamExt as _};

use crate::{
    context::Context,
    services::idempotency::{
        self, Claim, Earlier, Fingerprint, IdempotencyKey, KeyScope, MAX_STORED_BODY_BYTES,
        StoredAnswer,
    },
    store::StoreError,
    web::{AppState, error::ApiError, extract::ApiCaller},
};

/// The request header naming a request's key.
static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The answer header saying an answer is given again, not made anew.
static IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Seconds a client whose key is in use is asked to wait.
const IN_USE_RETRY_AFTER_SECS: u64 = 1;

/// Honours `Idempotency-Key` on a POST by a known caller; any other request passes as is.
pub(super) async fn honour(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.headers().contains_key(&IDEMPOTENCY_KEY) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    // An unknown or revoked token gets the route's own 401, never an answer kept for it.
    if ApiCaller::from_request_parts(&mut parts, &state)
        .await
        .is_err()
    {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let key = match parse_key(&parts.headers) {
        Ok(key) => key,
        Err(refusal) => return refusal.into_response(),
    };
    let (scope, print) = scope_and_fingerprint(&parts);
    match idempotency::earlier(&state.ctx, &scope, &key).await {
        Err(e) => return ApiError::internal(&e).into_response(),
        Ok(Earlier::InProgress) => return in_use(),
        Ok(Earlier::Done {
            fingerprint,
            answer,
        }) => return replay_or_refuse(&state, body, print, &fingerprint, answer).await,
        Ok(Earlier::None) => {}
    }
    let claim = match idempotency::claim(&state.ctx, scope, key).await {
        Ok(claim) => claim,
        // A unique violation: another request with the key claimed it first.
        Err(StoreError::Conflict(_)) => return in_use(),
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    run_and_keep(&state.ctx, claim, parts, body, print, next).await
}

/// The one key of the request; 422 `invalid_field` for none valid or several.
fn parse_key(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
    let mut values = headers.get_all(&IDEMPOTENCY_KEY).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::invalid("Idempotency-Key: send one key"));
    };
    IdempotencyKey::parse(value.as_bytes())
        .map_err(|e| ApiError::invalid(format!("Idempotency-Key: {e}")))
}

/// Whose the key is, and the start of the request's fingerprint. The path is the one seen
/// under `/api/v1`, the same for every request to the same route.
fn scope_and_fingerprint(parts: &Parts) -> (KeyScope, Fingerprint) {
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .map_or(&b""[..], HeaderValue::as_bytes);
    let (method, path) = (parts.method.as_str(), parts.uri.path());
    (
        KeyScope::new(authorization, method, path),
        Fingerprint::new(method, path, parts.uri.query()),
    )
}

/// Runs the route with the key claimed, fingerprinting the body as the route reads it, and
/// keeps the answer if the route read the whole body and the answer is worth keeping.
///
/// The body is hashed while it streams rather than read first: the imports take bodies of up
/// to `import.max_body_bytes` (gigabytes) and stream them to disk, and holding one in memory
/// to hash it would undo that. A route that stops reading early (a refusal before the body,
/// a body over the limit) leaves no fingerprint, and its answer is not kept.
async fn run_and_keep(
    ctx: &Context,
    claim: Claim,
    parts: Parts,
    body: Body,
    print: Fingerprint,
    next: Next,
) -> Response {
    let pending = Pending(Some((ctx.clone(), claim)));
    let printed = Arc::new(OnceLock::new());
    let body = Body::from_stream(Fingerprinting {
        inner: body.into_data_stream(),
        print: Some(print),
        printed: Arc::clone(&printed),
    });
    let response = next.run(Request::from_parts(parts, body)).await;
    let Some(fingerprint) = printed.get() else {
        pending.release().await;
        return response;
    };
    let fits = response
        .body()
        .size_hint()
        .upper()
        .is_some_and(|n| n <= MAX_STORED_BODY_BYTES as u64);
    if !idempotency::is_kept(response.status().as_u16()) || !fits {
        pending.release().await;
        return response;
    }
    let (head, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_STORED_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            pending.release().await;
            return ApiError::internal(&e).into_response();
        }
    };
    pending
        .complete(fingerprint, answer_of(&head, &bytes))
        .await;
    Response::from_parts(head, Body::from(bytes))
}

/// The parts of an answer that are given again: status, body, and the headers that say what
/// the body is and what was made.
fn answer_of(head: &axum::http::response::Parts, body: &Bytes) -> StoredAnswer {
    let text = |name: header::HeaderName| {
        head.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    StoredAnswer {
        status: head.status.as_u16(),
        content_type: text(header::CONTENT_TYPE),
        location: text(header::LOCATION),
        body: body.to_vec(),
    }
}

/// Gives a kept answer again when the request is the same, else 422. The body is read (and
/// dropped) only to fingerprint it, within the largest limit and time of any API route: a
/// body past its own route's limit was never read whole, so no answer was kept for it.
async fn replay_or_refuse(
    state: &AppState,
    body: Body,
    print: Fingerprint,
    fingerprint: &str,
    answer: StoredAnswer,
) -> Response {
    let settings = &state.ctx.settings;
    let limit = settings
        .http
        .body_limit_bytes
        .max(settings.import.max_body_bytes);
    let timeout = settings.http.request_timeout.max(settings.import.timeout);
    let printed = match tokio::time::timeout(timeout, fingerprint_of(body, print, limit)).await {
        Err(_) => return body_refusal(StatusCode::REQUEST_TIMEOUT),
        Ok(Err(status)) => return body_refusal(status),
        Ok(Ok(printed)) => printed,
    };
    if printed != fingerprint {
        return ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used for another request in the last 24 hours; \
             use a new key for a new request",
        )
        .into_response();
    }
    replay(answer)
}

/// The fingerprint of the whole request; 413 past `limit`, 400 for a body that breaks off.
async fn fingerprint_of(
    body: Body,
    mut print: Fingerprint,
    limit: usize,
) -> Result<String, StatusCode> {
    let mut stream = body.into_data_stream();
    let mut read = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| StatusCode::BAD_REQUEST)?;
        read = read.saturating_add(chunk.len());
        if read > limit {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        print.update(&chunk);
    }
    Ok(print.finish())
}

/// The API's answer to a body that could not be read whole.
fn body_refusal(status: StatusCode) -> Response {
    let (code, message) = match status {
        StatusCode::REQUEST_TIMEOUT => {
            ("request_timeout", "the request body did not arrive in time")
        }
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the request body is larger than this endpoint takes",
        ),
        _ => ("malformed_body", "the request could not be read"),
    };
    ApiError::new(status, code, message).into_response()
}

/// A kept answer, marked `Idempotent-Replayed: true`.
fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_TYPE);
    for (name, value) in [
        (header::CONTENT_TYPE, answer.content_type),
        (header::LOCATION, answer.location),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::try_from(v).ok()) {
            headers.insert(name, value);
        }
    }
    headers.insert(
        IDEMPOTENT_REPLAYED.clone(),
        HeaderValue::from_static("true"),
    );
    response
}

/// 409 while another request holds the key.
fn in_use() -> Response {
    let mut response = ApiError::new(
        StatusCode::CONFLICT,
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still running; try again in a moment",
    )
    .into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(IN_USE_RETRY_AFTER_SECS),
    );
    response
}

/// A claimed key that is released if the request ends without completing it: the client
/// went away (the server drops the request's future) or the route panicked.
struct Pending(Option<(Context, Claim)>);

impl Pending {
    async fn release(mut self) {
        if let Some((ctx, claim)) = self.0.take()
            && let Err(e) = claim.release(&ctx).await
        {
            tracing::warn!(error = %e, "an idempotency key could not be released");
        }
    }

    async fn complete(mut self, fingerprint: &str, answer: StoredAnswer) {
        let Some((ctx, claim)) = self.0.take() else {
            return;
        };
        match claim.clone().complete(&ctx, fingerprint, answer).await {
            Ok(true) => {}
            Ok(false) => tracing::info!("an idempotency key was taken over before its answer"),
            Err(e) => {
                tracing::warn!(error = %e, "an answer could not be kept for its idempotency key");
                Self(Some((ctx, claim))).release().await;
            }
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some((ctx, claim)) = self.0.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(Self(Some((ctx, claim))).release());
        }
    }
}

/// A request body that feeds each chunk into the request's fingerprint as the route reads
/// it, and sets `printed` once the route has read it to the end.
struct Fingerprinting {
    inner: axum::body::BodyDataStream,
    print: Option<Fingerprint>,
    printed: Arc<OnceLock<String>>,
}

impl Stream for Fingerprinting {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let next = ready!(this.inner.poll_next_unpin(cx));
        match &next {
            Some(Ok(chunk)) => {
                if let Some(print) = &mut this.print {
                    print.update(chunk);
                }
            }
            // A body that broke off has no fingerprint.
            Some(Err(_)) => this.print = None,
            None => {
                if let Some(print) = this.print.take() {
                    // Set once: `print` is taken here, and only here.
                    let _ = this.printed.set(print.finish());
                }
            }
        }
        Poll::Ready(next)
    }
}

/// Declares `Idempotency-Key` on every POST of the OpenAPI document.
pub(super) struct IdempotencyHeaders;

impl utoipa::Modify for IdempotencyHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            if let Some(post) = &mut item.post {
                super::conditional::add_header_parameter(
                    post,
                    "Idempotency-Key",
                    "1 to 255 visible ASCII characters: the same key and request within 24 hours \
                     get the first answer again (Idempotent-Replayed: true); the same key with \
                     another request is 422 idempotency_key_reused, one still running 409 \
                     idempotency_key_in_use",
                );
                super::conditional::add_response(
                    post,
                    "409",
                    "idempotency_key_in_use: a request with this Idempotency-Key still runs",
                );
                super::conditional::add_response(
                    post,
                    "422",
                    "idempotency_key_reused: this Idempotency-Key came with another request",
                );
            }
        }
    }
}
