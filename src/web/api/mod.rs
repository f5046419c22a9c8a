//! The JSON API under `/api/v1` (bearer token). Errors are `{"error":{"code","message"}}`.

mod campaigns;
mod customers;
mod imports;
mod jobs;
mod lists;
mod notices;
mod privacy;
mod subscribers;

use axum::{
    Router,
    routing::{get, post},
};

use crate::{config::Settings, startup::AppState, web::with_limits};

/// The API routes, relative to `/api/v1`. Bulk routes (imports) get their own, larger
/// body and time limits from `[import]`; all others the `[http]` ones.
pub fn routes(settings: &Settings) -> Router<AppState> {
    let http = &settings.http;
    let standard = Router::new()
        .route("/lists", post(lists::create).get(lists::all))
        .route("/campaigns", post(campaigns::create).get(campaigns::all))
        .route("/campaigns/{id}", get(campaigns::get))
        .route("/campaigns/{id}/preview", get(campaigns::preview))
        .route("/campaigns/{id}/test", post(campaigns::test))
        .route("/campaigns/{id}/schedule", post(campaigns::schedule))
        .route("/campaigns/{id}/pause", post(campaigns::pause))
        .route("/campaigns/{id}/resume", post(campaigns::resume))
        .route("/campaigns/{id}/cancel", post(campaigns::cancel))
        .route("/jobs", get(jobs::runs))
        .route(
            "/products",
            post(customers::create_product).get(customers::products),
        )
        .route("/customers", post(customers::create_customer))
        .route("/customers/import", post(customers::import_customers))
        .route("/notices", post(notices::create).get(notices::all))
        .route("/notices/export", get(notices::all))
        .route("/notices/{id}", get(notices::get))
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
            "/subscribers/{id}/consent-events",
            get(subscribers::consent_events),
        )
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
        .route("/retention/review", get(privacy::retention_review));
    let bulk = Router::new().route("/subscribers/import", post(imports::import));
    with_limits(standard, http.body_limit_bytes, http.request_timeout)
        .merge(with_limits(
            bulk,
            settings.import.max_body_bytes,
            settings.import.timeout,
        ))
        .fallback(not_found)
}

async fn not_found() -> crate::web::error::ApiError {
    crate::web::error::ApiError::not_found("route")
}
