//! Logging in to the admin UI when the password is not enough or forgotten: one-time codes
//! (TOTP), `admin.require_2fa`, and the password reset by an e-mailed link.

use bulletin::domain::Role;
use reqwest::{StatusCode, header};

use crate::admin::{Admin, PASSWORD, cookie_value, create_user, csrf_in, post_login, set_cookie};
use crate::support::{TestApp, body, link};

const OWNER: &str = "owner@staff.example.com";

/// The value of a hidden field `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"));
    let rest = &page[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The one-time code of `secret` (base32) at the app's clock, `steps` steps of 30 s later.
fn code(app: &TestApp, secret: &str, steps: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .with_account_name("x")
        .build()
        .unwrap();
    let at = app.clock.now().timestamp() + steps * 30;
    totp.generate(u64::try_from(at).unwrap()).to_string()
}

/// The key an enrolment page shows.
fn key_in(page: &str) -> String {
    let at = page.find("Key: <code>").expect("a key") + "Key: <code>".len();
    page[at..at + page[at..].find('<').unwrap()].to_owned()
}

/// Turns one-time codes on for the logged-in `admin`; returns the secret.
async fn turn_on_codes(app: &TestApp, admin: &Admin<'_>) -> String {
    let (status, page) = body(admin.get("/admin/account/two-factor").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("otpauth://totp/"), "{page}");
    let wrong = admin
        .post("/admin/account/two-factor", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A wrong code shows a new key.
    let secret = key_in(&wrong.text().await.unwrap());
    assert_ne!(secret, key_in(&page));
    let right = admin
        .post(
            "/admin/account/two-factor",
            &[("code", &code(app, &secret, 0))],
        )
        .await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    secret
}

/// Posts the code form of `page` (a login's second step) with `code`.
async fn post_code(app: &TestApp, page: &str, login_cookie: &str, code: &str) -> reqwest::Response {
    app.http
        .post(app.url("/admin/login/code"))
        .header(
            header::COOKIE,
            format!("bulletin_login_csrf={login_cookie}"),
        )
        .form(&[
            ("ticket", hidden(page, "ticket").as_str()),
            ("code", code),
            ("csrf", csrf_in(page).as_str()),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_stolen_password_alone_no_longer_logs_in_once_one_time_codes_are_on() {
    let app = TestApp::spawn().await;
    create_user(&app, OWNER, Role::Admin).await;
    let admin = Admin::log_in(&app, OWNER).await;
    let secret = turn_on_codes(&app, &admin).await;
    assert!(app.audit_text().await.contains("user.two_factor.on"));

    // The password leads to the code form, not to a session.
    let step_one = post_login(&app, OWNER, PASSWORD).await;
    assert_eq!(step_one.status(), StatusCode::OK);
    assert!(set_cookie(&step_one, "bulletin_session").is_none());
    let login_cookie = cookie_value(&set_cookie(&step_one, "bulletin_login_csrf").unwrap());
    let page = step_one.text().await.unwrap();
    assert!(page.contains("one-time-code"), "{page}");

    let wrong = post_code(&app, &page, &login_cookie, "123456").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&wrong, "bulletin_session").is_none());
    // A forged ticket gets nowhere, whatever the code.
    let forged = page.replace(&hidden(&page, "ticket"), "forged");
    let r = post_code(&app, &forged, &login_cookie, &code(&app, &secret, 1)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The next step's code works (the set-up used this step's) ...
    let next = code(&app, &secret, 1);
    let right = post_code(&app, &page, &login_cookie, &next).await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&right, "bulletin_session").is_some());
    // ... once.
    let again = post_code(&app, &page, &login_cookie, &next).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    // The ticket lasts five minutes.
    app.advance(chrono::Duration::minutes(6));
    let late = post_code(&app, &page, &login_cookie, &code(&app, &secret, 0)).await;
    assert_eq!(late.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_require_2fa_an_admin_without_codes_must_set_them_up_before_anything_else() {
    let app = TestApp::spawn_with(|s| s.admin.require_2fa = true).await;
    create_user(&app, OWNER, Role::Admin).await;
    create_user(&app, "viewer@staff.example.com", Role::Viewer).await;
    let response = post_login(&app, OWNER, PASSWORD).await;
    let cookie = cookie_value(&set_cookie(&response, "bulletin_session").unwrap());
    let get = |path: &'static str| {
        app.http
            .get(app.url(path))
            .header(header::COOKIE, format!("bulletin_session={cookie}"))
            .send()
    };
    for path in ["/admin/", "/admin/users", "/admin/audit"] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()[header::LOCATION], "/admin/account/two-factor");
    }
    let (status, page) = body(get("/admin/account/two-factor").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Admins must log in with a one-time code"),
        "{page}"
    );
    // Others are not held up.
    let viewer = Admin::log_in(&app, "viewer@staff.example.com").await;
    assert_eq!(viewer.get("/admin/").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_admin_removes_the_codes_of_a_user_who_lost_their_phone() {
    let app = TestApp::spawn().await;
    create_user(&app, OWNER, Role::Admin).await;
    create_user(&app, "marketer@staff.example.com", Role::Marketer).await;
    let marketer = Admin::log_in(&app, "marketer@staff.example.com").await;
    turn_on_codes(&app, &marketer).await;
    let admin = Admin::log_in(&app, OWNER).await;
    let users = admin.get("/admin/users").await.text().await.unwrap();
    let at = users.find("/two-factor/remove").expect("a remove button");
    let path = users[..at].rsplit('"').next().unwrap().to_owned() + "/two-factor/remove";
    assert_eq!(admin.post(&path, &[]).await.status(), StatusCode::SEE_OTHER);
    // The password alone logs in again.
    let r = post_login(&app, "marketer@staff.example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.audit_text().await.contains("user.two_factor.remove"));
}

/// Asks for a reset link of `email` as a browser does.
pub async fn ask_reset(app: &TestApp, email: &str) -> (StatusCode, String) {
    let form = app.get("/admin/password-reset").await;
    let login_cookie = cookie_value(&set_cookie(&form, "bulletin_login_csrf").unwrap());
    let page = form.text().await.unwrap();
    body(
        app.http
            .post(app.url("/admin/password-reset"))
            .header(
                header::COOKIE,
                format!("bulletin_login_csrf={login_cookie}"),
            )
            .form(&[("email", email), ("csrf", &csrf_in(&page))])
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Sets `password` through the reset `link` as a browser does.
async fn set_password(app: &TestApp, link: &str, password: &str) -> StatusCode {
    let form = app.get(link).await;
    if form.status() != StatusCode::OK {
        return form.status();
    }
    let login_cookie = cookie_value(&set_cookie(&form, "bulletin_login_csrf").unwrap());
    let page = form.text().await.unwrap();
    app.http
        .post(link)
        .header(
            header::COOKIE,
            format!("bulletin_login_csrf={login_cookie}"),
        )
        .form(&[("new", password), ("csrf", &csrf_in(&page))])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_a_link_that_works_once() {
    let app = TestApp::spawn().await;
    create_user(&app, OWNER, Role::Admin).await;
    let known = ask_reset(&app, OWNER).await;
    let unknown = ask_reset(&app, "nobody@staff.example.com").await;
    assert_eq!(known.0, StatusCode::OK);
    let without_token =
        |(status, page): &(StatusCode, String)| (*status, page.replace(&csrf_in(page), ""));
    assert_eq!(
        without_token(&known),
        without_token(&unknown),
        "the same answer whether or not a user has the address"
    );
    let mails = app
        .smtp
        .wait_for_messages(1, std::time::Duration::from_secs(10))
        .await;
    assert_eq!(mails.len(), 1, "a mail only for the known address");
    assert_eq!(mails[0].rcpt_to, [OWNER.to_owned()]);
    assert!(mails[0].header("List-Unsubscribe").is_none());
    let reset = link(&mails[0], "/admin/password-reset/");

    assert_eq!(
        set_password(&app, &reset, "short").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let new = "a brand new long password";
    assert_eq!(set_password(&app, &reset, new).await, StatusCode::SEE_OTHER);
    assert_eq!(
        post_login(&app, OWNER, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_login(&app, OWNER, new).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        set_password(&app, &reset, "yet another long password").await,
        StatusCode::NOT_FOUND,
        "once"
    );
    assert!(app.audit_text().await.contains("user.password_reset"));

    // A link lasts 30 minutes.
    ask_reset(&app, OWNER).await;
    let mails = app
        .smtp
        .wait_for_messages(2, std::time::Duration::from_secs(10))
        .await;
    let late = link(&mails[1], "/admin/password-reset/");
    app.advance(chrono::Duration::minutes(31));
    assert_eq!(
        set_password(&app, &late, "yet another long password").await,
        StatusCode::NOT_FOUND
    );
}
