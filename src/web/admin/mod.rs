//! The admin UI under `/admin/`: server-rendered pages (maud), no JavaScript. The guard here
//! is the one place that checks the session, the CSRF token of every POST and the role
//! (a viewer gets 403 on every write). Handlers call the same services as the JSON API.
//! File uploads (`multipart/form-data`) carry their CSRF token in the query string, so that
//! the guard never reads a large body; every other form carries it in its body.

mod auth;
mod campaign_forms;
mod campaigns;
mod customers;
mod dashboard;
mod error;
mod flash;
mod hooks;
mod imports;
mod lists;
mod notices;
mod retention;
mod segments;
mod subscriber_forms;
mod subscribers;
mod suppressions;
mod templates;
mod transactional;
mod users;

pub(crate) use error::AdminError;
pub(crate) use flash::redirect_with;

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use subtle::ConstantTimeEq;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{
    domain::{Locale, User},
    services::users as user_service,
    web::AppState,
    web::{views::admin as view, views::admin::i18n::ADMIN_LOCALE, with_body_limit, with_limits},
};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "bulletin_session";
/// Name of the login form's double-submit CSRF cookie.
pub const LOGIN_CSRF_COOKIE: &str = "bulletin_login_csrf";

/// Admin pages may frame their own campaign preview; nothing else may frame them.
const ADMIN_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The one route that takes a file (`multipart/form-data`).
const UPLOAD_PATH: &str = "/admin/import/upload";

/// Room for the other fields and the multipart framing around an uploaded file.
const UPLOAD_OVERHEAD_BYTES: usize = 64 * 1024;

/// The admin routes, with the `[http]` body and time limits; the CSV upload gets
/// `import.max_upload_bytes` and `import.timeout_secs`.
pub fn routes(state: &AppState) -> Router<AppState> {
    let http = &state.ctx.settings.http;
    let import = &state.ctx.settings.import;
    let uploads = with_body_limit(
        Router::new().route(UPLOAD_PATH, post(imports::upload)),
        import
            .max_upload_bytes
            .saturating_add(UPLOAD_OVERHEAD_BYTES),
    );
    let standard = Router::new()
        .route("/admin/", get(dashboard::show))
        .route("/admin/lists", get(lists::index).post(lists::create))
        .route(
            "/admin/lists/{id}",
            get(lists::edit_form).post(lists::update),
        )
        .route("/admin/lists/{id}/archive", post(lists::archive))
        .route("/admin/subscribers", get(subscribers::index))
        .route("/admin/subscribers.csv", get(subscribers::export))
        .route(
            "/admin/subscribers/new",
            get(subscriber_forms::add_form).post(subscriber_forms::add),
        )
        .route("/admin/import", get(imports::form))
        .route("/admin/import/{id}", get(imports::show))
        .route("/admin/import/{id}/{action}", post(imports::start))
        .route(
            "/admin/subscribers/bulk/{action}",
            get(subscribers::confirm_bulk).post(subscribers::act_in_bulk),
        )
        .route("/admin/subscribers/{id}", get(subscribers::show))
        .route(
            "/admin/subscribers/{id}/edit",
            get(subscriber_forms::edit_form).post(subscriber_forms::edit),
        )
        .route(
            "/admin/subscribers/{id}/{action}",
            get(subscribers::confirm_action).post(subscribers::act),
        )
        .route(
            "/admin/campaigns",
            get(campaigns::index).post(campaign_forms::create),
        )
        .route("/admin/campaigns/new", get(campaign_forms::new_form))
        .route(
            "/admin/campaigns/preview-draft",
            get(campaign_forms::blank_preview).post(campaign_forms::preview_draft),
        )
        .route("/admin/campaigns/{id}", get(campaigns::show))
        .route("/admin/campaigns/{id}/preview", get(campaigns::preview))
        .route(
            "/admin/campaigns/{id}/edit",
            get(campaign_forms::edit_form).post(campaign_forms::update),
        )
        .route("/admin/campaigns/{id}/review", get(campaign_forms::review))
        .route(
            "/admin/campaigns/{id}/{action}",
            get(campaign_forms::confirm).post(campaigns::act),
        )
        .route(
            "/admin/segments",
            get(segments::index).post(segments::create),
        )
        .route("/admin/segments/new", get(segments::new_form))
        .route(
            "/admin/segments/{id}",
            get(segments::show).post(segments::update),
        )
        .route(
            "/admin/segments/{id}/delete",
            get(segments::confirm_delete).post(segments::delete),
        )
        .route("/admin/notices", get(notices::index).post(notices::create))
        .route("/admin/notices/new", get(notices::new_form))
        .route(
            "/admin/customers",
            get(customers::index).post(customers::add),
        )
        .route("/admin/notices/{id}", get(notices::show))
        .route("/admin/notices/{id}/send", post(notices::send))
        .route(
            "/admin/notices/{id}/edit",
            get(notices::edit_form).post(notices::edit),
        )
        .route(
            "/admin/notices/{id}/delete",
            get(notices::confirm_delete).post(notices::delete),
        )
        .route(
            "/admin/notices/{id}/acknowledgements.csv",
            get(notices::acknowledgements_csv),
        )
        .route("/admin/templates", get(templates::index))
        .route(
            "/admin/templates/{locale}/{file}",
            get(templates::edit_form).post(templates::save),
        )
        .route(
            "/admin/templates/{locale}/{file}/preview",
            get(templates::preview).post(templates::preview_draft),
        )
        .route(
            "/admin/templates/{locale}/{file}/revert",
            post(templates::revert),
        )
        .route(
            "/admin/transactional",
            get(transactional::index).post(transactional::create),
        )
        .route(
            "/admin/transactional/{name}",
            get(transactional::show).post(transactional::save),
        )
        .route(
            "/admin/transactional/{name}/delete",
            post(transactional::delete),
        )
        .route("/admin/jobs", get(dashboard::jobs))
        .route("/admin/audit", get(dashboard::audit))
        .route("/admin/retention", get(retention::show))
        .route("/admin/privacy-requests", get(retention::requests))
        .route(
            "/admin/privacy-requests/{id}/close",
            post(retention::close_request),
        )
        .route(
            "/admin/suppressions",
            get(suppressions::index).post(suppressions::add),
        )
        .route("/admin/suppressions/{id}/lift", post(suppressions::lift))
        .route("/admin/webhooks", get(hooks::index).post(hooks::create))
        .route("/admin/webhooks/{id}", get(hooks::show))
        .route("/admin/webhooks/{id}/{action}", post(hooks::act))
        .route("/admin/users", get(users::index).post(users::create))
        .route("/admin/users/{id}/role", post(users::set_role))
        .route("/admin/users/{id}/disable", post(users::disable))
        .route("/admin/users/{id}/enable", post(users::enable))
        .route(
            "/admin/users/{id}/two-factor/remove",
            post(auth::remove_two_factor),
        )
        .route(
            "/admin/account/two-factor",
            get(auth::enrol_form).post(auth::enrol),
        )
        .route("/admin/account/two-factor/off", post(auth::turn_off))
        .route("/admin/account/time-zone", post(auth::set_time_zone))
        .route("/admin/account/language", post(auth::set_locale))
        .route("/admin/tokens/{id}/revoke", post(users::revoke_token))
        .route(
            "/admin/account",
            get(auth::account_form).post(auth::change_password),
        )
        .route("/admin/logout", post(auth::log_out));
    let guarded = with_limits(standard, http.body_limit_bytes, http.request_timeout)
        .merge(uploads)
        .layer(middleware::from_fn_with_state(state.clone(), guard));
    let open = Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/") }))
        .route("/admin/login", get(auth::login_form).post(auth::log_in))
        .route("/admin/login/code", post(auth::log_in_with_code))
        .route(
            "/admin/password-reset",
            get(auth::reset_request_form).post(auth::request_reset),
        )
        .route(
            "/admin/password-reset/{token}",
            get(auth::reset_link_form).post(auth::reset_password),
        )
        .route(
            "/admin/setup/{secret}",
            get(auth::setup_form).post(auth::setup),
        )
        .route("/admin/assets/admin.css", get(stylesheet));
    with_limits(open, http.body_limit_bytes, http.request_timeout)
        .merge(guarded)
        .layer(middleware::from_fn(browser_locale))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(ADMIN_CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The logged-in user of a request, with the session's CSRF token (set by the guard).
#[derive(Debug, Clone)]
pub struct AdminSession {
    /// Who.
    pub user: User,
    /// The token every form of this session carries.
    pub csrf: String,
    /// The cookie secret (to end this session).
    pub secret: String,
    /// What the last action did, to say on this page.
    pub flash: Option<String>,
    /// The path of the page asked for.
    pub path: String,
}

impl AdminSession {
    /// The audit log's name for this user.
    pub fn actor(&self) -> crate::domain::Actor {
        crate::domain::Actor::User {
            id: self.user.id,
            email: self.user.email.clone(),
            role: self.user.role,
        }
    }

    /// Whether the user may do `action`, asked before a form is read so that a refusal comes
    /// before complaints about the form; the service asks the same table again.
    ///
    /// # Errors
    /// `Forbidden`.
    pub fn authorize(&self, action: crate::domain::Action) -> Result<(), AdminError> {
        Ok(self.actor().authorize(action)?)
    }

    /// The page context for views.
    pub fn ctx(&self) -> view::Ctx {
        view::Ctx {
            email: self.user.email.as_str().to_owned(),
            role: self.user.role,
            csrf: self.csrf.clone(),
            flash: self.flash.clone(),
            path: self.path.clone(),
            time_zone: self.user.time_zone,
        }
    }
}

async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(secret) = cookie(req.headers(), SESSION_COOKIE) else {
        return unauthenticated(req.method());
    };
    let stored = match user_service::session(&state.ctx, &secret).await {
        Ok(Some(s)) => s,
        Ok(None) => return unauthenticated(req.method()),
        Err(e) => return AdminError::internal(&e).into_response(),
    };
    let flash = flash::read(req.headers(), &stored.csrf_token);
    let had_flash = flash.is_some();
    let session = AdminSession {
        user: stored.user,
        csrf: stored.csrf_token,
        secret,
        flash,
        path: req.uri().path().to_owned(),
    };
    let locale = session.user.locale;
    ADMIN_LOCALE
        .scope(locale, serve(state, session, had_flash, req, next))
        .await
}

/// The rest of the guard, in the user's language: two-factor set-up first, then the CSRF
/// check of a write, then the handler, its error pages and the flash message.
async fn serve(
    state: AppState,
    session: AdminSession,
    had_flash: bool,
    req: Request,
    next: Next,
) -> Response {
    // An admin who must log in with one-time codes sets them up before anything else.
    if !session.user.two_factor
        && crate::services::two_factor::is_required(&state.ctx, &session.user)
        && !matches!(
            req.uri().path(),
            "/admin/account/two-factor" | "/admin/logout"
        )
    {
        return Redirect::to("/admin/account/two-factor").into_response();
    }
    let (parts, body) = req.into_parts();
    let mut req = if parts.method == Method::GET || parts.method == Method::HEAD {
        Request::from_parts(parts, body)
    } else {
        let path = parts.uri.path().to_owned();
        if path == UPLOAD_PATH && is_multipart(&parts.headers) {
            // An upload: the token is in the query; the body streams on to the handler.
            let query = parts.uri.query().unwrap_or_default().as_bytes();
            if !csrf_matches(query, &session.csrf) {
                return view::csrf_refused();
            }
            let mut req = Request::from_parts(parts, body);
            let ctx = session.ctx();
            req.extensions_mut().insert(session);
            return error::render(next.run(req).await, &ctx);
        }
        // Forms are small: never more than `http.body_limit_bytes` is read here, whatever
        // the route's own limit.
        let limit = state.ctx.settings.http.body_limit_bytes;
        let timeout = state.ctx.settings.http.request_timeout;
        let Ok(read) = tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await
        else {
            return StatusCode::REQUEST_TIMEOUT.into_response();
        };
        let Ok(bytes) = read else {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        };
        if !csrf_matches(&bytes, &session.csrf) {
            return view::csrf_refused();
        }
        Request::from_parts(parts, Body::from(bytes))
    };
    let ctx = session.ctx();
    req.extensions_mut().insert(session);
    let mut response = error::render(next.run(req).await, &ctx);
    flash::clear_if_shown(&state, had_flash, &mut response);
    response
}

/// Pages before login speak the browser's language (`Accept-Language`); the guard then
/// switches to the user's own.
async fn browser_locale(req: Request, next: Next) -> Response {
    let locale = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Locale::negotiate)
        .unwrap_or_default();
    ADMIN_LOCALE.scope(locale, next.run(req)).await
}

fn unauthenticated(method: &Method) -> Response {
    match *method {
        Method::GET | Method::HEAD => Redirect::to("/admin/login").into_response(),
        _ => view::csrf_refused(),
    }
}

/// Whether the request body is `multipart/form-data` (a file upload).
fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Whether the urlencoded body carries `csrf` equal to `expected` (constant time).
pub(crate) fn csrf_matches(body: &[u8], expected: &str) -> bool {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "csrf")
        .is_some_and(|(_, v)| {
            !expected.is_empty() && bool::from(v.as_bytes().ct_eq(expected.as_bytes()))
        })
}

/// The value of a cookie.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, for `/admin`, Secure behind https.
pub(crate) fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = match state.ctx.settings.http.public_url.scheme() {
        "https" => "; Secure",
        _ => "",
    };
    format!(
        "{name}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        view::STYLESHEET,
    )
}
