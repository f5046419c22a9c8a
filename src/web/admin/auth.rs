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
    domain::UserId,
    domain::{EmailAddress, Locale, Password},
    services::{
        two_factor,
        users::{self, LoginOutcome, NewSession, UsersError},
    },
    web::AppState,
    web::{
        extract::{Client, PageForm},
        views::admin::{
            self as view, Errors,
            auth::{
                TwoFactorView, account_page, code_page, enrol_page, language_name, login_page,
                reset_form_page, reset_invalid_page, reset_request_page, setup_closed_page,
                setup_page,
            },
            i18n::{ADMIN_LOCALE, t, te, tf},
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
        Ok(LoginOutcome::Session(session)) => start(&state, &session),
        Ok(LoginOutcome::NeedsCode(ticket)) => code_form(&state, &ticket.0, None, StatusCode::OK),
        Err(UsersError::BadCredentials) => login(
            &state,
            &form.email,
            Some(t("Wrong e-mail address or password.")),
            StatusCode::UNAUTHORIZED,
        ),
        Err(UsersError::RateLimited { retry_after_secs }) => {
            let mut page = login(
                &state,
                &form.email,
                Some(t(
                    "Too many login attempts. Please wait and try again later.",
                )),
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
    let email = EmailAddress::parse(&form.email).map_err(|e| te(&e));
    let password = Password::parse(&form.password).map_err(|e| te(&e));
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
pub(super) async fn account_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    let view = two_factor_view(&state, &session, None);
    account_page(&session.ctx(), &Errors::new(), view).into_response()
}

fn two_factor_view<'a>(
    state: &AppState,
    session: &AdminSession,
    error: Option<&'a String>,
) -> TwoFactorView<'a> {
    TwoFactorView {
        on: session.user.two_factor,
        required: two_factor::is_required(&state.ctx, &session.user),
        error,
    }
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
            let view = two_factor_view(&state, &session, None);
            let errors = Errors::from([("new", te(&e))]);
            let page = account_page(&session.ctx(), &errors, view);
            return Ok((refused, page).into_response());
        }
    };
    match users::change_password(&state.ctx, &session.actor(), &form.current, &new).await {
        Ok(()) => {
            let clear = set_cookie(&state, SESSION_COOKIE, "", 0);
            Ok(([(header::SET_COOKIE, clear)], Redirect::to("/admin/login")).into_response())
        }
        Err(UsersError::BadCredentials) => {
            let wrong = t("The current password is wrong.").to_owned();
            let view = two_factor_view(&state, &session, None);
            let errors = Errors::from([("current", wrong)]);
            let page = account_page(&session.ctx(), &errors, view);
            Ok((refused, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct TimeZoneForm {
    #[serde(default)]
    time_zone: String,
    #[serde(default, rename = "csrf")]
    _csrf: String,
}

/// `POST /admin/account/time-zone`: the zone the admin UI shows and reads times in.
pub(super) async fn set_time_zone(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<TimeZoneForm>,
) -> Result<Response, AdminError> {
    let zone = match crate::domain::parse_time_zone(&form.time_zone) {
        Ok(zone) => zone,
        Err(e) => {
            let view = two_factor_view(&state, &session, None);
            let errors = Errors::from([("time_zone", te(&e))]);
            let page = account_page(&session.ctx(), &errors, view);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    users::set_time_zone(&state.ctx, &session.actor(), zone).await?;
    let said = tf(
        "Times are now shown and entered in {zone}.",
        &[("zone", &zone.name())],
    );
    Ok(super::redirect_with(
        &state,
        &session,
        "/admin/account",
        &said,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct LanguageForm {
    #[serde(default)]
    locale: String,
    #[serde(default, rename = "csrf")]
    _csrf: String,
}

/// `POST /admin/account/language`: the language the admin UI speaks to the user.
pub(super) async fn set_locale(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<LanguageForm>,
) -> Result<Response, AdminError> {
    let chosen = Locale::parse(form.locale.trim()).ok();
    let Some(locale) = chosen.filter(|l| l.is_built_in()) else {
        let errors = Errors::from([("locale", t("Choose a language from the list.").to_owned())]);
        let view = two_factor_view(&state, &session, None);
        let page = account_page(&session.ctx(), &errors, view);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    users::set_locale(&state.ctx, &session.actor(), locale).await?;
    // Said in the new language: the next page speaks it.
    let said = ADMIN_LOCALE
        .scope(locale, async {
            tf(
                "The admin pages now speak {language}.",
                &[("language", &language_name(locale))],
            )
        })
        .await;
    Ok(super::redirect_with(
        &state,
        &session,
        "/admin/account",
        &said,
    ))
}

/// The one-time-code form of a login, with a fresh double-submit token.
fn code_form(state: &AppState, ticket: &str, error: Option<&str>, status: StatusCode) -> Response {
    let token = random_token();
    let page = code_page(&token, ticket, error);
    let cookie = set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600);
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

/// A 429 answer saying when to try again.
fn too_many(mut page: Response, retry_after_secs: u64) -> Response {
    *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let value = axum::http::HeaderValue::from(retry_after_secs);
    page.headers_mut().insert(header::RETRY_AFTER, value);
    page
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CodeForm {
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/login/code`: the second step of a login with one-time codes.
pub(super) async fn log_in_with_code(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    PageForm(form): PageForm<CodeForm>,
) -> Result<Response, AdminError> {
    if !login_csrf_ok(&headers, &form.csrf) {
        return Ok(view::csrf_refused());
    }
    match two_factor::finish_login(&state.ctx, &form.ticket, &form.code, client.ip).await {
        Ok(session) => Ok(start(&state, &session)),
        Err(UsersError::BadCredentials) => Ok(code_form(
            &state,
            &form.ticket,
            Some(t(
                "Wrong or used code, or the login took too long: try the next code, or log in again.",
            )),
            StatusCode::UNAUTHORIZED,
        )),
        Err(UsersError::RateLimited { retry_after_secs }) => {
            let message = Some(t("Too many attempts. Please wait and try again later."));
            let page = code_form(&state, &form.ticket, message, StatusCode::OK);
            Ok(too_many(page, retry_after_secs))
        }
        Err(e) => Err(AdminError::internal(&e)),
    }
}

/// `GET /admin/account/two-factor`: a fresh secret to set up one-time codes with.
pub(super) async fn enrol_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    if session.user.two_factor {
        return Ok(Redirect::to("/admin/account").into_response());
    }
    let enrolment = two_factor::enrol(&state.ctx, &session.actor()).await?;
    let required = two_factor::is_required(&state.ctx, &session.user);
    let page = enrol_page(
        &session.ctx(),
        &enrolment.secret,
        &enrolment.uri,
        required,
        None,
    );
    Ok(page.into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct EnrolForm {
    #[serde(default)]
    code: String,
    #[serde(default, rename = "csrf")]
    _csrf: String,
}

/// `POST /admin/account/two-factor`: turns one-time codes on with a first code.
pub(super) async fn enrol(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<EnrolForm>,
) -> Result<Response, AdminError> {
    match two_factor::confirm(&state.ctx, &session.actor(), &form.code).await {
        Ok(()) => Ok(Redirect::to("/admin/account").into_response()),
        Err(UsersError::BadCredentials) => {
            // A new secret: the page shows it again with the error.
            let enrolment = two_factor::enrol(&state.ctx, &session.actor()).await?;
            let required = two_factor::is_required(&state.ctx, &session.user);
            let error =
                t("The code did not match: add the new key below and try again.").to_owned();
            let page = enrol_page(
                &session.ctx(),
                &enrolment.secret,
                &enrolment.uri,
                required,
                Some(&error),
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct TurnOffForm {
    #[serde(default)]
    password: String,
    #[serde(default, rename = "csrf")]
    _csrf: String,
}

/// `POST /admin/account/two-factor/off`: turns one-time codes off, with the password.
pub(super) async fn turn_off(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<TurnOffForm>,
) -> Result<Response, AdminError> {
    let problem = match two_factor::turn_off(&state.ctx, &session.actor(), &form.password).await {
        Ok(()) => return Ok(Redirect::to("/admin/account").into_response()),
        Err(UsersError::BadCredentials) => t("The password is wrong.").to_owned(),
        Err(e @ UsersError::TwoFactorRequired) => te(&e),
        Err(e) => return Err(e.into()),
    };
    let view = two_factor_view(&state, &session, Some(&problem));
    let page = account_page(&session.ctx(), &Errors::new(), view);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// `POST /admin/users/{id}/two-factor/remove`: an admin removes a user's one-time codes.
pub(super) async fn remove_two_factor(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    two_factor::remove(&state.ctx, &session.actor(), UserId::from_uuid(id)).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// The password-reset request page with a fresh double-submit token.
fn reset_request(
    state: &AppState,
    sent: bool,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = random_token();
    let page = reset_request_page(&token, sent, error);
    let cookie = set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600);
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

/// `GET /admin/password-reset`.
pub(super) async fn reset_request_form(State(state): State<AppState>) -> Response {
    reset_request(&state, false, None, StatusCode::OK)
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ResetRequestForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/password-reset`: the same answer whether or not a user has the address; the
/// e-mail goes out in the background, so the answer takes as long either way.
pub(super) async fn request_reset(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    PageForm(form): PageForm<ResetRequestForm>,
) -> Result<Response, AdminError> {
    if !login_csrf_ok(&headers, &form.csrf) {
        return Ok(view::csrf_refused());
    }
    let Ok(email) = EmailAddress::parse(&form.email) else {
        let error = Some(t("Enter an e-mail address."));
        return Ok(reset_request(
            &state,
            false,
            error,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    match users::request_password_reset(&state.ctx, &email, client.ip).await {
        Ok(mail) => {
            if let Some(mail) = mail {
                state.send_password_reset(mail);
            }
            Ok(reset_request(&state, true, None, StatusCode::OK))
        }
        Err(UsersError::RateLimited { retry_after_secs }) => {
            let error = Some(t("Too many attempts. Please wait and try again later."));
            let page = reset_request(&state, false, error, StatusCode::OK);
            Ok(too_many(page, retry_after_secs))
        }
        Err(e) => Err(AdminError::internal(&e)),
    }
}

/// The new-password page of a reset link with a fresh double-submit token.
fn reset_form(
    state: &AppState,
    email: &str,
    error: Option<&String>,
    status: StatusCode,
) -> Response {
    let token = random_token();
    let page = reset_form_page(&token, email, error);
    let cookie = set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600);
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

fn reset_invalid() -> Response {
    (StatusCode::NOT_FOUND, reset_invalid_page()).into_response()
}

/// `GET /admin/password-reset/{token}`: the new-password form while the link is good.
pub(super) async fn reset_link_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AdminError> {
    match users::password_reset_link(&state.ctx, &token).await {
        Ok(user) => Ok(reset_form(
            &state,
            user.email.as_str(),
            None,
            StatusCode::OK,
        )),
        Err(UsersError::ResetLinkInvalid) => Ok(reset_invalid()),
        Err(e) => Err(AdminError::internal(&e)),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NewPasswordForm {
    #[serde(default)]
    new: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/password-reset/{token}`: sets the new password; then to the login page.
pub(super) async fn reset_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    PageForm(form): PageForm<NewPasswordForm>,
) -> Result<Response, AdminError> {
    if !login_csrf_ok(&headers, &form.csrf) {
        return Ok(view::csrf_refused());
    }
    let new = match Password::parse(&form.new) {
        Ok(p) => p,
        Err(e) => {
            let user = match users::password_reset_link(&state.ctx, &token).await {
                Ok(user) => user,
                Err(UsersError::ResetLinkInvalid) => return Ok(reset_invalid()),
                Err(e) => return Err(AdminError::internal(&e)),
            };
            let error = te(&e);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(reset_form(
                &state,
                user.email.as_str(),
                Some(&error),
                status,
            ));
        }
    };
    match users::reset_password(&state.ctx, &token, &new).await {
        Ok(()) => Ok(Redirect::to("/admin/login").into_response()),
        Err(UsersError::ResetLinkInvalid) => Ok(reset_invalid()),
        Err(e) => Err(AdminError::internal(&e)),
    }
}
