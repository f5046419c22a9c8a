//! Public pages: signup, confirmation, unsubscribe (incl. RFC 8058 one-click), preferences,
//! "manage my data" (the data-subject rights), the built-in privacy notice, the newsletter
//! archive, health and metrics.

mod archive;
mod notices;
mod pages;
mod privacy;
mod subscriptions;

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::web::{AppState, views::ORGANISATION};

/// The public routes; every HTML page names the organisation (`mail.organisation`).
pub fn routes(state: &AppState) -> Router<AppState> {
    pages_and_links().layer(middleware::from_fn_with_state(
        state.clone(),
        name_organisation,
    ))
}

/// Answers the request with the organisation's name at hand for the layout's footer.
async fn name_organisation(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let name: std::sync::Arc<str> = state.ctx.settings.mail.organisation.as_str().into();
    ORGANISATION.scope(name, next.run(req)).await
}

/// The public pages and the pages signed links open.
fn pages_and_links() -> Router<AppState> {
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
            "/privacy/export-schema/v1.json",
            get(privacy::export_schema),
        )
        .route("/notices.json", get(notices::export))
        .route("/notices/{id}", get(notices::archive_page))
        .route("/feeds/{file}", get(notices::feed))
        .route("/archive", get(archive::index))
        .route("/archive/{item}", get(archive::item))
        .merge(link_routes())
        .merge(privacy_routes())
}

/// The pages a signed link opens: the link is a secret, so neither the page nor its address
/// is kept by a browser cache or a proxy (the `Referrer-Policy: no-referrer` of every page
/// keeps it out of other sites' logs).
fn link_routes() -> Router<AppState> {
    Router::new()
        // The links of previews and test sends, which stand for a recipient's own.
        .route(
            "/unsubscribe/sample",
            get(pages::sample_link).post(pages::sample_link),
        )
        .route(
            "/preferences/sample",
            get(pages::sample_link).post(pages::sample_link),
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
        .route("/preferences/{token}/add", post(subscriptions::add))
        .route(
            "/object/{token}",
            get(notices::object_page).post(notices::object),
        )
        .route(
            "/acknowledge/{token}",
            get(notices::ack_page).post(notices::acknowledge),
        )
        .layer(no_store())
}

/// `Cache-Control: no-store`, whatever the handler set.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// "Manage my data": pages with personal data are never stored by a browser or proxy.
fn privacy_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/privacy",
            get(privacy::request_form).post(privacy::request_link),
        )
        .route(
            "/privacy/{token}",
            get(privacy::landing).post(privacy::access),
        )
        .route("/privacy/{token}/export", post(privacy::export))
        .route("/privacy/{token}/restrict", post(privacy::restrict))
        .route("/privacy/{token}/withdraw", post(privacy::withdraw))
        .route("/privacy/{token}/correct", post(privacy::correct))
        .route("/privacy/{token}/address", post(privacy::change_address))
        .route("/privacy/{token}/erase", post(privacy::erase))
        .route(
            "/privacy/address/{token}",
            get(privacy::address_page).post(privacy::address_decision),
        )
        .layer(no_store())
}
