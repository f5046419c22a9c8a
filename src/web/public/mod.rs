//! Public pages: signup, confirmation, unsubscribe (incl. RFC 8058 one-click), preferences,
//! the built-in privacy notice, health and metrics.

mod pages;
mod subscriptions;

use axum::{
    Router,
    routing::{get, post},
};

use crate::startup::AppState;

/// The public routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::index))
        .route("/healthz", get(pages::healthz))
        .route("/metrics", get(pages::metrics))
        .route("/assets/bulletin.css", get(pages::stylesheet))
        .route("/privacy-notice", get(pages::privacy_notice))
        .route(
            "/subscribe",
            get(subscriptions::signup_form).post(subscriptions::subscribe),
        )
        .route(
            "/confirm/{token}",
            get(subscriptions::confirm_page).post(subscriptions::confirm),
        )
        .route("/confirm/{token}/resend", post(subscriptions::resend))
        .route(
            "/unsubscribe/{token}",
            get(subscriptions::unsubscribe_page).post(subscriptions::unsubscribe),
        )
        .route(
            "/preferences/{token}",
            get(subscriptions::preferences_page).post(subscriptions::leave),
        )
}
