//! Log in, log out, the first set-up, and changing one's password.

use axum::{
    Extension,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use rand::RngCore;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{AdminError, AdminSession, LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, set_cookie};
use crate::{
    domain::{EmailAddress, Password},
    services::users::{self, NewSession, UsersError},
    web::AppState,
    web::{
        extract::{Client, PageForm},
        views::admin::{
            self as view,
            auth::{account_page, login_page, setup_closed_page, setup_page},
        },
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

/// The login page with a fresh double-submit token, set as a cookie too.
fn login(state: &AppState, email: &str, error: Option<&str>, status: StatusCode) -> Response {
    let token = random_token();
    let page = login_page(&token, email, error);
    let cookie = set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600);
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

/// `GET /admin/login`.
pub(super) async fn login_form(State(state): State<AppState>) -> Response {
    login(&state, "", None, StatusCode::OK)
}

/// `POST /admin/login`: the same answer for an unknown address and a wrong password.
pub(super) async fn log_in(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, AdminError> {
    if !login_csrf_ok(&headers, &form.csrf) {
        return Ok(view::csrf_refused());
    }
    let answer = match users::log_in(&state.ctx, &form.email, &form.password, client.ip).await {
        Ok(session) => start(&state, &session),
        Err(UsersError::BadCredentials) => login(
            &state,
            &form.email,
            Some("Wrong e-mail address or password."),
            StatusCode::UNAUTHORIZED,
        ),
        Err(UsersError::RateLimited { retry_after_secs }) => {
            let mut page = login(
                &state,
                &form.email,
                Some("Too many login attempts. Please wait and try again later."),
                StatusCode::TOO_MANY_REQUESTS,
            );
            let value = axum::http::HeaderValue::from(retry_after_secs);
            page.headers_mut().insert(header::RETRY_AFTER, value);
            page
        }
        // Before login there is no session to show a refusal in: anything else is a failure.
        Err(e) => return Err(AdminError::internal(&e)),
    };
    Ok(answer)
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
) -> Result<Response, AdminError> {
    users::log_out(&state.ctx, &session.actor(), &session.secret).await?;
    let clear = set_cookie(&state, SESSION_COOKIE, "", 0);
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/admin/login")).into_response())
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

/// The set-up page with a fresh double-submit token, set as a cookie too.
fn setup_form_page(
    state: &AppState,
    secret: &str,
    email: &str,
    errors: (Option<String>, Option<String>),
    status: StatusCode,
) -> Response {
    let token = random_token();
    let page = setup_page(&token, secret, email, errors.0.as_ref(), errors.1.as_ref());
    let cookie = set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600);
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

fn setup_closed() -> Response {
    (StatusCode::NOT_FOUND, setup_closed_page()).into_response()
}

/// `GET /admin/setup/{secret}`.
pub(super) async fn setup_form(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> Response {
    match state.setup.matches(&secret) {
        true => setup_form_page(&state, &secret, "", (None, None), StatusCode::OK),
        false => setup_closed(),
    }
}

/// `POST /admin/setup/{secret}`: creates the first admin and logs them in.
pub(super) async fn setup(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    PageForm(form): PageForm<SetupForm>,
) -> Result<Response, AdminError> {
    if !login_csrf_ok(&headers, &form.csrf) {
        return Ok(view::csrf_refused());
    }
    let email = EmailAddress::parse(&form.email).map_err(|e| e.to_string());
    let password = Password::parse(&form.password).map_err(|e| e.to_string());
    let (email, password) = match (email, password) {
        (Ok(e), Ok(p)) => (e, p),
        (e, p) => {
            let errors = (e.err(), p.err());
            let code = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(setup_form_page(&state, &secret, &form.email, errors, code));
        }
    };
    match users::complete_setup(&state.ctx, &state.setup, &secret, email, &password).await {
        Ok(session) => Ok(start(&state, &session)),
        Err(UsersError::SetupClosed) => Ok(setup_closed()),
        // Before set-up there is no session to show a refusal in: anything else is a failure.
        Err(e) => Err(AdminError::internal(&e)),
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

/// `GET /admin/account`.
pub(super) async fn account_form(Extension(session): Extension<AdminSession>) -> Response {
    account_page(&session.ctx(), None, None).into_response()
}

/// `POST /admin/account`: changes the password and ends every session of the user.
pub(super) async fn change_password(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, AdminError> {
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let new = match Password::parse(&form.new) {
        Ok(p) => p,
        Err(e) => {
            let page = account_page(&session.ctx(), None, Some(&e.to_string()));
            return Ok((refused, page).into_response());
        }
    };
    match users::change_password(&state.ctx, &session.actor(), &form.current, &new).await {
        Ok(()) => {
            let clear = set_cookie(&state, SESSION_COOKIE, "", 0);
            Ok(([(header::SET_COOKIE, clear)], Redirect::to("/admin/login")).into_response())
        }
        Err(UsersError::BadCredentials) => {
            let wrong = "The current password is wrong.".to_owned();
            let page = account_page(&session.ctx(), Some(&wrong), None);
            Ok((refused, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
