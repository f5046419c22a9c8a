//! The admin UI's one error type: handlers return `Result<Response, AdminError>` and use `?`
//! on the services' errors; the session guard turns a refusal into its page inside the
//! layout, and an unexpected failure is logged once, where it is converted.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::view;
use crate::{
    domain::Forbidden,
    services::{privacy::PrivacyError, users::UsersError},
    store::StoreError,
};

/// Why an admin request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminError {
    /// The user's role may not do this (403).
    Forbidden,
    /// No such record (404).
    NotFound,
    /// The database was busy and nothing was changed (503 with `Retry-After`).
    Busy,
    /// Unexpected; already logged (500).
    Internal,
}

impl AdminError {
    /// An unexpected failure: logged here, once; a busy database is `Busy`.
    pub fn internal(err: &(dyn std::error::Error + 'static)) -> Self {
        if crate::services::database_busy(err) {
            tracing::warn!(error = %err, "the database was busy; answered 503");
            return Self::Busy;
        }
        tracing::error!(error = %err, "admin request failed");
        Self::Internal
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        match self {
            // The guard, which holds the session, renders these inside the layout.
            Self::Forbidden => (StatusCode::FORBIDDEN, axum::Extension(self)).into_response(),
            Self::NotFound => (StatusCode::NOT_FOUND, axum::Extension(self)).into_response(),
            Self::Busy => view::busy(),
            Self::Internal => view::failed(),
        }
    }
}

impl From<Forbidden> for AdminError {
    fn from(_: Forbidden) -> Self {
        Self::Forbidden
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::internal(&other),
        }
    }
}

/// The users service's errors that no page shows in place (the session pages and the users
/// page share them).
impl From<UsersError> for AdminError {
    fn from(e: UsersError) -> Self {
        match e {
            UsersError::Forbidden(_) | UsersError::NotAllowed => Self::Forbidden,
            UsersError::UnknownUser => Self::NotFound,
            UsersError::Store(e) => e.into(),
            e => Self::internal(&e),
        }
    }
}

/// The privacy service's errors that no page shows in place (subscriber actions, requests,
/// retention); nothing is left of an erased person to act on.
impl From<PrivacyError> for AdminError {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::Forbidden(_) => Self::Forbidden,
            PrivacyError::NotFound | PrivacyError::AlreadyErased => Self::NotFound,
            PrivacyError::Store(e) => e.into(),
            e => Self::internal(&e),
        }
    }
}

/// The page for a refusal the guard found on a handler's answer, or the answer itself.
pub(super) fn render(response: Response, ctx: &view::Ctx) -> Response {
    match response.extensions().get::<AdminError>() {
        Some(AdminError::Forbidden) => view::forbidden(ctx),
        Some(AdminError::NotFound) => view::not_found(ctx),
        Some(AdminError::Internal | AdminError::Busy) | None => response,
    }
}
