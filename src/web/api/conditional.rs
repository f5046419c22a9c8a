//! Conditional requests on the API (RFC 9110 §13, issue 18): a GET's 200 JSON answer carries
//! a strong `ETag` and answers `If-None-Match` with 304; `PUT`, `PATCH` and `DELETE` honour
//! `If-Match` against what GET of the same path answers now (412 when stale).
//! The tag is a hash of the representation's bytes, so no table needs a version column.

use std::{
    convert::Infallible,
    net::SocketAddr,
    pin::Pin,
    task::{Context as TaskContext, Poll},
};

use axum::{
    Router,
    body::{Body, Bytes, HttpBody as _},
    extract::{ConnectInfo, Request},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header, request, response},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};
use tower::{Layer, Service, ServiceExt as _};

use crate::web::error::ApiError;

/// Adds conditional requests to every route of the API. `reader` is the API router itself
/// (without this layer): axum layers each method of a route on its own, so the service a
/// `PATCH` is layered around cannot answer the path's `GET`; the reader can.
#[derive(Clone)]
pub(super) struct ConditionalLayer {
    reader: Router,
}

impl ConditionalLayer {
    /// The layer, reading current representations through `reader`.
    pub(super) fn new(reader: Router) -> Self {
        Self { reader }
    }
}

impl<S> Layer<S> for ConditionalLayer {
    type Service = Conditional<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Conditional {
            inner,
            reader: self.reader.clone(),
        }
    }
}

/// One route with conditional requests (see [`ConditionalLayer`]).
#[derive(Clone)]
pub(super) struct Conditional<S> {
    inner: S,
    reader: Router,
}

type BoxedAnswer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> Service<Request> for Conditional<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxedAnswer;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The service that was polled ready answers; its clone stays for the next call.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let reader = self.reader.clone();
        Box::pin(async move {
            Ok(match *req.method() {
                Method::GET => read(inner, req).await,
                Method::PUT | Method::PATCH | Method::DELETE => write(inner, reader, req).await,
                _ => answer(inner, req).await,
            })
        })
    }
}

/// The answer of `service` to `req`.
async fn answer<S>(service: S, req: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    match service.oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// A GET: its 200 JSON answer with its `ETag`, or 304 when `If-None-Match` names that tag.
async fn read<S>(inner: S, req: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let if_none_match = joined(req.headers(), header::IF_NONE_MATCH);
    let (head, bytes) = match representation(answer(inner, req).await).await {
        Ok(parts) => parts,
        Err(other) => return other,
    };
    let tag = entity_tag(&bytes);
    // RFC 9110 §13.1.2: If-None-Match compares weakly.
    if if_none_match.is_some_and(|list| list_matches(&list, &tag, weak_eq)) {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        not_modified.headers_mut().insert(header::ETAG, tag);
        return not_modified;
    }
    with_tag(head, bytes, tag)
}

/// A PUT, PATCH or DELETE: refused with 412 when `If-Match` names no tag of the current
/// representation; run otherwise, its answer tagged when it is that representation.
///
/// The check and the write are two steps, not one transaction: a write by someone else
/// between them is not seen. That is accepted: `If-Match` guards against the usual lost
/// update, a client writing back a copy it read seconds or minutes ago, while making the
/// pair atomic would need the tag computed inside every service's transaction (a version
/// column in every table) for a window of milliseconds.
async fn write<S>(inner: S, reader: Router, req: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let (parts, body) = req.into_parts();
    if let Some(if_match) = joined(&parts.headers, header::IF_MATCH) {
        match current(&reader, &parts).await {
            Current::Tag(tag) if list_matches(&if_match, &tag, strong_eq) => {}
            // No such resource: the write goes on and answers 404 itself.
            Current::Missing => {}
            Current::Refused(response) => return response,
            Current::Tag(_) | Current::NotShown => return precondition_failed(),
        }
    }
    let is_update = parts.method == Method::PUT || parts.method == Method::PATCH;
    let lookup = read_request(&parts);
    let response = answer(inner, Request::from_parts(parts, body)).await;
    if !is_update || !response.status().is_success() {
        return response;
    }
    let (head, bytes) = match representation(response).await {
        Ok(parts) => parts,
        Err(other) => return other,
    };
    // Tagged only when the answer is the representation GET now gives, byte for byte.
    let now = match representation(answer(reader, lookup).await).await {
        Ok((_, now)) => now,
        Err(_) => Bytes::new(),
    };
    if now == bytes {
        let tag = entity_tag(&bytes);
        return with_tag(head, bytes, tag);
    }
    Response::from_parts(head, Body::from(bytes))
}

/// What GET of a path answers now.
enum Current {
    /// A representation, with its tag.
    Tag(HeaderValue),
    /// 404: nothing there.
    Missing,
    /// A refusal the write would meet as well (401, 403) or an error (5xx): answered as is.
    Refused(Response),
    /// Any other answer (405: the path has no GET): no representation to compare.
    NotShown,
}

/// The current representation of the path of `parts`, as its caller would GET it.
async fn current(reader: &Router, parts: &request::Parts) -> Current {
    let response = answer(reader.clone(), read_request(parts)).await;
    match response.status() {
        StatusCode::NOT_FOUND => Current::Missing,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Current::Refused(response),
        status if status.is_server_error() => Current::Refused(response),
        _ => match representation(response).await {
            Ok((_, bytes)) => Current::Tag(entity_tag(&bytes)),
            Err(_) => Current::NotShown,
        },
    }
}

/// A GET of the path of `parts` with the caller's credentials and language.
fn read_request(parts: &request::Parts) -> Request {
    let mut req = Request::new(Body::empty());
    *req.uri_mut() = parts
        .uri
        .path()
        .parse::<Uri>()
        .unwrap_or_else(|_| parts.uri.clone());
    for name in [
        header::AUTHORIZATION,
        header::ACCEPT,
        header::ACCEPT_LANGUAGE,
    ] {
        if let Some(value) = parts.headers.get(&name) {
            req.headers_mut().insert(name, value.clone());
        }
    }
    if let Some(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        req.extensions_mut().insert(*peer);
    }
    req
}

/// A 200 JSON answer held in memory, split into head and bytes; any other answer back as is.
async fn representation(response: Response) -> Result<(response::Parts, Bytes), Response> {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    // An exact size: the body is in memory already (axum's `Json`), never a stream.
    let in_memory = response.body().size_hint().exact().is_some();
    if response.status() != StatusCode::OK || !is_json || !in_memory {
        return Err(response);
    }
    let (head, body) = response.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => Ok((head, bytes)),
        Err(e) => Err(ApiError::internal(&e).into_response()),
    }
}

/// A strong entity tag of a representation: 128 bits of its SHA-256, in quotes.
fn entity_tag(bytes: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(bytes);
    let tag = format!("\"{}\"", hex::encode(&digest[..16]));
    // Quotes and hex digits only.
    HeaderValue::try_from(tag).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

fn with_tag(mut head: response::Parts, bytes: Bytes, tag: HeaderValue) -> Response {
    head.headers.insert(header::ETAG, tag);
    Response::from_parts(head, Body::from(bytes))
}

/// Every value of the header `name`, joined by commas (RFC 9110 §5.3), if there is one.
fn joined(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap_or(""))
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// Whether `*` or one of the tags in `list` is `tag` by `eq`.
fn list_matches(list: &str, tag: &HeaderValue, eq: fn(&str, &str) -> bool) -> bool {
    let tag = tag.to_str().unwrap_or("");
    list.split(',')
        .map(str::trim)
        .any(|listed| listed == "*" || eq(listed, tag))
}

/// Strong comparison (RFC 9110 §8.8.3.2): both strong and the same.
fn strong_eq(listed: &str, tag: &str) -> bool {
    !listed.starts_with("W/") && listed == tag
}

/// Weak comparison: the same, whether either is weak or not.
fn weak_eq(listed: &str, tag: &str) -> bool {
    listed.trim_start_matches("W/") == tag.trim_start_matches("W/")
}

/// 412: the resource is no longer what the client last read.
fn precondition_failed() -> Response {
    ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        "the resource has changed since the ETag in If-Match; GET it again and retry with its \
         new ETag",
    )
    .into_response()
}

/// Declares the conditional headers in the OpenAPI document: `If-None-Match` and 304 on every
/// GET, `If-Match` and 412 on every PUT, PATCH and DELETE.
pub(super) struct ConditionalHeaders;

impl utoipa::Modify for ConditionalHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            if let Some(get) = &mut item.get {
                add_header_parameter(
                    get,
                    "If-None-Match",
                    "a 200 JSON answer's ETag: 304 while the answer is unchanged",
                );
                add_response(
                    get,
                    "304",
                    "not modified: the ETag in If-None-Match is current",
                );
            }
            for write in [&mut item.put, &mut item.patch, &mut item.delete]
                .into_iter()
                .flatten()
            {
                add_header_parameter(
                    write,
                    "If-Match",
                    "the ETag of the resource as last read (or *): 412 when it has changed since",
                );
                add_response(
                    write,
                    "412",
                    "precondition_failed: the resource changed since the ETag in If-Match",
                );
            }
        }
    }
}

/// Adds an optional string header parameter to `operation`.
pub(super) fn add_header_parameter(
    operation: &mut utoipa::openapi::path::Operation,
    name: &str,
    description: &str,
) {
    use utoipa::openapi::{
        Required,
        path::{ParameterBuilder, ParameterIn},
        schema::{ObjectBuilder, Type},
    };
    let parameter = ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(parameter.into());
}

/// Adds a response to `operation` unless it has one for `status`.
pub(super) fn add_response(
    operation: &mut utoipa::openapi::path::Operation,
    status: &str,
    description: &str,
) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| utoipa::openapi::response::Response::new(description).into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_strongly_and_if_none_match_weakly() {
        let tag = entity_tag(b"{}");
        let text = tag.to_str().unwrap().to_owned();
        assert!(list_matches(&text, &tag, strong_eq));
        assert!(list_matches(&format!("\"x\", {text}"), &tag, strong_eq));
        assert!(list_matches("*", &tag, strong_eq));
        assert!(!list_matches(&format!("W/{text}"), &tag, strong_eq));
        assert!(!list_matches("\"x\"", &tag, strong_eq));
        assert!(list_matches(&format!("W/{text}"), &tag, weak_eq));
        assert_ne!(entity_tag(b"{}"), entity_tag(b"{ }"));
    }
}
