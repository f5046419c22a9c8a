//! The two error shapes of the web layer: friendly HTML pages and `{"error":{…}}` JSON.
//! Each maps service errors once; unexpected errors are logged once and answered generically.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::views::{self, text};
use crate::{
    domain::Locale,
    services::{BUSY_RETRY_AFTER_SECS, database_busy},
    signing::TokenError,
    store::StoreError,
};

/// An error answered with an HTML page.
#[derive(Debug)]
pub struct PageError {
    locale: Locale,
    kind: PageErrorKind,
}

/// What went wrong, as far as the page is concerned.
#[derive(Debug)]
pub enum PageErrorKind {
    /// 404.
    NotFound,
    /// 400 with a reason.
    BadRequest(String),
    /// 413: the body is larger than the limit.
    TooLarge(String),
    /// A link that is malformed, forged or for another purpose (404).
    LinkInvalid(TokenError),
    /// An expired link (410); confirmation links offer a fresh one.
    LinkExpired {
        /// Where the "send a new link" form posts, if offered.
        resend_action: Option<String>,
    },
    /// 409 with a page that explains the conflict.
    Conflict {
        /// Page title.
        title: &'static str,
        /// The explanation.
        body: &'static str,
    },
    /// 410 with a page that explains what is gone.
    Gone {
        /// Page title.
        title: &'static str,
        /// The explanation.
        body: &'static str,
    },
    /// 503 with `Retry-After`: the database was busy and nothing was changed.
    Busy,
    /// 500: logged with its cause, answered generically.
    Internal(String),
}

impl PageError {
    /// An error page in `locale`.
    pub fn new(locale: Locale, kind: PageErrorKind) -> Self {
        Self { locale, kind }
    }

    /// An unexpected failure: logged here, once, and answered generically; a busy database
    /// is answered 503 with `Retry-After`.
    pub fn internal(locale: Locale, err: &(dyn std::error::Error + 'static)) -> Self {
        if database_busy(err) {
            tracing::warn!(error = %error_chain(err), "the database was busy; answered 503");
            return Self::new(locale, PageErrorKind::Busy);
        }
        Self::new(locale, PageErrorKind::Internal(error_chain(err)))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let t = text(self.locale);
        let (status, page) = match self.kind {
            PageErrorKind::NotFound => (
                StatusCode::NOT_FOUND,
                views::message_page(self.locale, t.not_found_title, t.not_found_body),
            ),
            PageErrorKind::BadRequest(reason) => (
                StatusCode::BAD_REQUEST,
                views::message_page(self.locale, t.bad_request_title, &reason),
            ),
            PageErrorKind::TooLarge(reason) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                views::message_page(self.locale, t.bad_request_title, &reason),
            ),
            PageErrorKind::LinkInvalid(reason) => {
                tracing::info!(%reason, "refused a link");
                (
                    StatusCode::NOT_FOUND,
                    views::message_page(self.locale, t.link_invalid_title, t.link_invalid_body),
                )
            }
            PageErrorKind::LinkExpired { resend_action } => {
                tracing::info!("refused an expired link");
                (
                    StatusCode::GONE,
                    views::link_expired_page(self.locale, resend_action.as_deref()),
                )
            }
            PageErrorKind::Conflict { title, body } => (
                StatusCode::CONFLICT,
                views::message_page(self.locale, title, body),
            ),
            PageErrorKind::Gone { title, body } => (
                StatusCode::GONE,
                views::message_page(self.locale, title, body),
            ),
            PageErrorKind::Busy => {
                let page = views::message_page(self.locale, t.busy_title, t.busy_body);
                let retry = [(header::RETRY_AFTER, BUSY_RETRY_AFTER_SECS.to_string())];
                return (StatusCode::SERVICE_UNAVAILABLE, retry, page).into_response();
            }
            PageErrorKind::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    views::message_page(self.locale, t.error_title, t.error_body),
                )
            }
        };
        (status, page).into_response()
    }
}

/// An error answered as `{"error":{"code","message"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds a refused client should wait (`Retry-After`).
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// An error with its status, stable code and readable message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// 429, saying when to try again.
    pub fn too_many(message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
        }
    }

    /// 422 for a field that breaks a rule.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// An unexpected failure: logged here, once, and answered generically; a busy database
    /// is answered 503 `busy` with `Retry-After`.
    pub fn internal(err: &(dyn std::error::Error + 'static)) -> Self {
        if database_busy(err) {
            tracing::warn!(error = %error_chain(err), "the database was busy; answered 503");
            return Self {
                retry_after_secs: Some(BUSY_RETRY_AFTER_SECS),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "the database is busy; nothing was changed, try again in a moment",
                )
            };
        }
        tracing::error!(error = %error_chain(err), "API request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an unexpected error occurred",
        )
    }
}

impl From<crate::domain::Forbidden> for ApiError {
    fn from(e: crate::domain::Forbidden) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found("record"),
            StoreError::Conflict(_) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "the record conflicts with another",
            ),
            other => Self::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            let value = axum::http::HeaderValue::from(secs);
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}

/// The error and its sources, joined by ": ".
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The one error shape of the JSON API, for the OpenAPI document.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// `code` is stable (`invalid_field`, `not_found`, …); `message` is for people.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code.
    pub code: String,
    /// Readable message.
    pub message: String,
}

/// The error answers of the API in the OpenAPI document, all in the one shape.
#[derive(Debug, utoipa::IntoResponses)]
pub enum ApiErrors {
    /// 400.
    #[response(status = 400, description = "malformed body or query")]
    Malformed(#[to_schema] ErrorBody),
    /// 401.
    #[response(status = 401, description = "no or bad token")]
    Unauthorized(#[to_schema] ErrorBody),
    /// 403.
    #[response(status = 403, description = "the token's role may not do this")]
    Forbidden(#[to_schema] ErrorBody),
    /// 404.
    #[response(status = 404, description = "not found")]
    NotFound(#[to_schema] ErrorBody),
    /// 409.
    #[response(status = 409, description = "conflict with the current state")]
    Conflict(#[to_schema] ErrorBody),
    /// 422.
    #[response(status = 422, description = "a field breaks a rule")]
    Invalid(#[to_schema] ErrorBody),
    /// 503.
    #[response(
        status = 503,
        description = "the database is busy: nothing was changed; retry after `Retry-After` seconds"
    )]
    Busy(#[to_schema] ErrorBody),
}
