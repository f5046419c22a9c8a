//! The JSON API under `/api/v1` (bearer token). Errors are `{"error":{"code","message"}}`.

mod lists;
mod subscribers;

use axum::{
    Router,
    routing::{get, post},
};

use crate::startup::AppState;

/// The API routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lists", post(lists::create).get(lists::all))
        .route("/subscribers", get(subscribers::find))
        .route(
            "/subscribers/{id}/consent-events",
            get(subscribers::consent_events),
        )
        .fallback(not_found)
}

async fn not_found() -> crate::web::error::ApiError {
    crate::web::error::ApiError::not_found("route")
}
