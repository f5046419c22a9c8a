//! Log in, log out, the first set-up, and changing one's password.

use axum::{
    Extension,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use rand::RngCore;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{AdminSession, LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, set_cookie};
use crate::{
    domain::{EmailAddress, Password},
    services::users::{self, NewSession, UsersError},
    web::AppState,
    web::{
        extract::{Client, PageForm},
        views::admin::{self as view, csrf_field, field},
    },
};

fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Before login there is no session: the form's token is also set as a cookie, and the
/// POST must bring both, equal (double submit; SameSite=Strict keeps other sites out).
fn login_csrf_ok(headers: &HeaderMap, form_token: &str) -> bool {
    cookie(headers, LOGIN_CSRF_COOKIE)
        .is_some_and(|c| !c.is_empty() && bool::from(c.as_bytes().ct_eq(form_token.as_bytes())))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

fn login_page(state: &AppState, email: &str, error: Option<&str>, status: StatusCode) -> Response {
    let token = random_token();
    let page = view::bare_layout(
        "Log in",
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/admin/login" {
                (csrf_field(&token))
                (field("email", "E-mail address", "email", email, None))
                (field("password", "Password", "password", "", None))
                p { button type="submit" { "Log in" } }
            }
        },
    );
    let cookie = set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600);
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

/// `GET /admin/login`.
pub(super) async fn login_form(State(state): State<AppState>) -> Response {
    login_page(&state, "", None, StatusCode::OK)
}

/// `POST /admin/login`: the same answer for an unknown address and a wrong password.
pub(super) async fn log_in(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Response {
    if !login_csrf_ok(&headers, &form.csrf) {
        return view::csrf_refused();
    }
    match users::log_in(
        &state.ctx,
        &state.login_limiter,
        &form.email,
        &form.password,
        client.ip,
    )
    .await
    {
        Ok(session) => start(&state, &session),
        Err(UsersError::BadCredentials) => login_page(
            &state,
            &form.email,
            Some("Wrong e-mail address or password."),
            StatusCode::UNAUTHORIZED,
        ),
        Err(UsersError::RateLimited) => login_page(
            &state,
            &form.email,
            Some("Too many login attempts. Please wait and try again later."),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(e) => view::internal(&e),
    }
}

fn start(state: &AppState, session: &NewSession) -> Response {
    let cookie = set_cookie(
        state,
        SESSION_COOKIE,
        &session.secret,
        state.ctx.settings.admin.session_ttl.num_seconds(),
    );
    let clear = set_cookie(state, LOGIN_CSRF_COOKIE, "", 0);
    // Two cookies: `AppendHeaders`, as an array would replace the first with the second.
    (
        axum::response::AppendHeaders([(header::SET_COOKIE, cookie), (header::SET_COOKIE, clear)]),
        Redirect::to("/admin/"),
    )
        .into_response()
}

/// `POST /admin/logout`: ends the session on the server and in the browser.
pub(super) async fn log_out(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    if let Err(e) = users::log_out(&state.ctx, &session.actor(), &session.secret).await {
        return view::internal(&e);
    }
    let clear = set_cookie(&state, SESSION_COOKIE, "", 0);
    ([(header::SET_COOKIE, clear)], Redirect::to("/admin/login")).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct SetupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

fn setup_page(
    state: &AppState,
    secret: &str,
    email: &str,
    errors: (Option<String>, Option<String>),
    status: StatusCode,
) -> Response {
    let token = random_token();
    let page = view::bare_layout(
        "Create the first admin",
        html! {
            p.muted { "This one-time link creates the first administrator of this Bulletin." }
            form method="post" action={ "/admin/setup/" (secret) } {
                (csrf_field(&token))
                (field("email", "E-mail address", "email", email, errors.0.as_ref()))
                (field("password", "Password (at least 12 characters)", "password", "", errors.1.as_ref()))
                p { button type="submit" { "Create admin and log in" } }
            }
        },
    );
    let cookie = set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600);
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

fn setup_closed() -> Response {
    let page = view::bare_layout(
        "Link not valid",
        html! { p { "This set-up link is not valid (any more). " a href="/admin/login" { "Log in" } } },
    );
    (StatusCode::NOT_FOUND, page).into_response()
}

/// `GET /admin/setup/{secret}`.
pub(super) async fn setup_form(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> Response {
    match state.setup.matches(&secret) {
        true => setup_page(&state, &secret, "", (None, None), StatusCode::OK),
        false => setup_closed(),
    }
}

/// `POST /admin/setup/{secret}`: creates the first admin and logs them in.
pub(super) async fn setup(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    PageForm(form): PageForm<SetupForm>,
) -> Response {
    if !login_csrf_ok(&headers, &form.csrf) {
        return view::csrf_refused();
    }
    let email = EmailAddress::parse(&form.email).map_err(|e| e.to_string());
    let password = Password::parse(&form.password).map_err(|e| e.to_string());
    let (email, password) = match (email, password) {
        (Ok(e), Ok(p)) => (e, p),
        (e, p) => {
            let errors = (e.err(), p.err());
            return setup_page(
                &state,
                &secret,
                &form.email,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    match users::complete_setup(&state.ctx, &state.setup, &secret, email, &password).await {
        Ok(session) => start(&state, &session),
        Err(UsersError::SetupClosed) => setup_closed(),
        Err(e) => view::internal(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default, rename = "csrf")]
    _csrf: String,
}

fn account_page(
    session: &AdminSession,
    errors: (Option<String>, Option<String>),
    status: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let page = view::layout(
        &ctx,
        "Your account",
        html! {
            div.card {
                p { "Logged in as " strong { (ctx.email) } " with the role " (ctx.role) "." }
                h2 { "Change password" }
                p.muted { "Changing the password ends all your sessions, this one too." }
                form method="post" action="/admin/account" {
                    (csrf_field(&ctx.csrf))
                    (field("current", "Current password", "password", "", errors.0.as_ref()))
                    (field("new", "New password (at least 12 characters)", "password", "", errors.1.as_ref()))
                    p { button type="submit" { "Change password" } }
                }
            }
        },
    );
    (status, page).into_response()
}

/// `GET /admin/account`.
pub(super) async fn account_form(Extension(session): Extension<AdminSession>) -> Response {
    account_page(&session, (None, None), StatusCode::OK)
}

/// `POST /admin/account`: changes the password and ends every session of the user.
pub(super) async fn change_password(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<PasswordForm>,
) -> Response {
    let new = match Password::parse(&form.new) {
        Ok(p) => p,
        Err(e) => {
            return account_page(
                &session,
                (None, Some(e.to_string())),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    match users::change_password(&state.ctx, &session.actor(), &form.current, &new).await {
        Ok(()) => {
            let clear = set_cookie(&state, SESSION_COOKIE, "", 0);
            ([(header::SET_COOKIE, clear)], Redirect::to("/admin/login")).into_response()
        }
        Err(UsersError::BadCredentials) => account_page(
            &session,
            (Some("The current password is wrong.".to_owned()), None),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => view::internal(&e),
    }
}
