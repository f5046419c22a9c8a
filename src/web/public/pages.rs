//! Pages without a use case behind them: index, health, metrics, stylesheet, privacy notice.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use maud::Markup;

use crate::{
    config::join_url,
    services,
    web::AppState,
    web::{
        error::PageError,
        extract::Client,
        views::{self, STYLESHEET},
    },
};

/// `GET /`: the public lists with signup links.
pub(super) async fn index(
    State(state): State<AppState>,
    Client(client): Client,
) -> Result<Markup, PageError> {
    let lists = services::lists::all(&state.ctx)
        .await
        .map_err(|e| PageError::internal(client.locale, &e))?;
    let items: Vec<(String, String, String)> = lists
        .into_iter()
        .filter(|l| l.is_open_for_signup())
        .map(|l| {
            let mut url = join_url(&state.ctx.settings.http.public_url, "subscribe");
            url.query_pairs_mut()
                .append_pair("list", l.def.slug.as_str());
            (url.to_string(), l.def.name, l.def.description)
        })
        .collect();
    Ok(views::index_page(client.locale, &items))
}

/// `GET /healthz`: 200 while the database answers, 503 otherwise.
pub(super) async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if services::health::is_healthy(&state.ctx).await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// `GET /metrics`: Prometheus text exposition, for API tokens only: the counters of messages
/// sent would otherwise tell a stranger whether an address they just entered is known.
pub(super) async fn metrics(
    State(state): State<AppState>,
    _caller: crate::web::extract::ApiCaller,
) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// `GET /assets/bulletin.css`.
pub(super) async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

/// `GET /privacy-notice`: the built-in notice (operators normally set `privacy.notice_url`).
pub(super) async fn privacy_notice(
    State(state): State<AppState>,
    Client(client): Client,
) -> Markup {
    let manage_url = join_url(&state.ctx.settings.http.public_url, "privacy");
    views::privacy_notice_page(
        client.locale,
        &state.ctx.settings.mail.organisation,
        manage_url.as_str(),
    )
}

/// `/unsubscribe/sample`, `/preferences/sample`: the links of a preview or test send, which
/// stand for each recipient's own. They say so and change nothing.
pub(super) async fn sample_link(headers: axum::http::HeaderMap) -> maud::Markup {
    let locale = crate::web::extract::request_locale(&headers);
    let (title, lead) = match locale {
        crate::domain::Locale::De => (
            "Beispiellink",
            "Dies ist der Link einer Vorschau oder Testnachricht. In der echten E-Mail führt er jede Empfängerin und jeden Empfänger zur eigenen Abmeldung oder zu den eigenen Einstellungen. Es wurde nichts geändert.",
        ),
        _ => (
            "A sample link",
            "This is the link of a preview or test message. In the real e-mail it takes each recipient to their own unsubscribe or preferences page. Nothing was changed.",
        ),
    };
    crate::web::views::layout(locale, title, maud::html! { p { (lead) } })
}
