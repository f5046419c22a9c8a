//! Admin users, sessions, CSRF, roles and the admin pages, driven over HTTP as a browser would.

use bulletin::{
    domain::{EmailAddress, Password, Role},
    services,
};
use reqwest::{StatusCode, header};

use crate::support::{TestApp, body};

pub const PASSWORD: &str = "correct horse battery staple";

/// A logged-in browser: the session cookie and the CSRF token of its pages.
pub struct Admin<'a> {
    app: &'a TestApp,
    pub cookie: String,
    pub csrf: String,
}

/// The value of `name=` in the response's Set-Cookie headers.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

/// The value of the first hidden `csrf` field in a page.
pub fn csrf_in(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field");
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

pub async fn create_user(app: &TestApp, email: &str, role: Role) {
    services::users::create(
        app.app.context(),
        &bulletin::domain::Actor::Cli,
        EmailAddress::parse(email).unwrap(),
        role,
        &Password::parse(PASSWORD).unwrap(),
    )
    .await
    .unwrap();
}

/// Posts the login form as a browser does (with the form's token and cookie).
pub async fn post_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    post_login_from(app, "127.0.0.1", email, password).await
}

/// `post_login` as a client at `ip` (the server must trust X-Forwarded-For).
pub async fn post_login_from(
    app: &TestApp,
    ip: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let form = app.get("/admin/login").await;
    let login_cookie = set_cookie(&form, "bulletin_login_csrf").unwrap();
    let page = form.text().await.unwrap();
    app.http
        .post(app.url("/admin/login"))
        .header("X-Forwarded-For", ip)
        .header(
            header::COOKIE,
            format!("bulletin_login_csrf={}", cookie_value(&login_cookie)),
        )
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", &csrf_in(&page)),
        ])
        .send()
        .await
        .unwrap()
}

/// Holds the database's write lock (on PostgreSQL also the `subscribers` table) and starts
/// the import of the upload at `page` behind it, so that its progress page can be read while
/// it waits: the lock (roll it back to let the import go on) and the pending POST.
pub async fn start_import_behind_a_lock(
    app: &TestApp,
    admin: &Admin<'_>,
    page: &str,
) -> (
    sea_orm::DatabaseTransaction,
    tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>,
) {
    let db = &app.app.context().db;
    let hold = bulletin::store::begin_write(db).await.unwrap();
    if sea_orm::ConnectionTrait::get_database_backend(db) == sea_orm::DbBackend::Postgres {
        sea_orm::ConnectionTrait::execute_unprepared(
            &hold,
            "LOCK TABLE subscribers IN EXCLUSIVE MODE",
        )
        .await
        .unwrap();
    }
    let request = app
        .http
        .post(app.url(&format!("{page}/run")))
        .header(header::COOKIE, format!("bulletin_session={}", admin.cookie))
        .form(&[("csrf", admin.csrf.as_str())]);
    (hold, tokio::spawn(request.send()))
}

impl<'a> Admin<'a> {
    pub async fn log_in(app: &'a TestApp, email: &str) -> Self {
        let response = post_login(app, email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookie = cookie_value(&set_cookie(&response, "bulletin_session").unwrap());
        let mut admin = Self {
            app,
            cookie,
            csrf: String::new(),
        };
        let (status, page) = body(admin.get("/admin/").await).await;
        assert_eq!(status, StatusCode::OK);
        admin.csrf = csrf_in(&page);
        admin
    }

    pub async fn with_role(app: &'a TestApp, role: Role) -> Self {
        let email = format!("{role}@staff.example.com");
        create_user(app, &email, role).await;
        Self::log_in(app, &email).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.app
            .http
            .get(self.app.url(path))
            .header(header::COOKIE, format!("bulletin_session={}", self.cookie))
            .send()
            .await
            .unwrap()
    }

    /// Follows the redirect `response` as a browser does, with the message cookie it set.
    pub async fn follow(&self, response: reqwest::Response) -> reqwest::Response {
        assert!(response.status().is_redirection(), "{}", response.status());
        let location = response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        let mut cookies = format!("bulletin_session={}", self.cookie);
        if let Some(flash) = set_cookie(&response, "bulletin_flash") {
            cookies.push_str(&format!("; bulletin_flash={}", cookie_value(&flash)));
        }
        self.app
            .http
            .get(self.app.url(&location))
            .header(header::COOKIE, cookies)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form with this session's CSRF token.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields = form.to_vec();
        fields.push(("csrf", &self.csrf));
        self.post_raw(path, &fields).await
    }

    /// Uploads `csv` for `list` as the import form does (`multipart/form-data`, the CSRF
    /// token in the query).
    pub async fn upload(&self, list: &str, csv: &str, csrf: &str) -> reqwest::Response {
        let b = "XbulletinTestBoundaryX";
        let body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"list\"\r\n\r\n{list}\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n{csv}\r\n--{b}--\r\n"
        );
        self.app
            .http
            .post(self.app.url(&format!("/admin/import/upload?csrf={csrf}")))
            .header(header::COOKIE, format!("bulletin_session={}", self.cookie))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={b}"),
            )
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.app
            .http
            .post(self.app.url(path))
            .header(header::COOKIE, format!("bulletin_session={}", self.cookie))
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn the_first_start_offers_a_one_time_setup_link_that_creates_the_first_admin() {
    let app = TestApp::spawn().await;
    let secret = "0".repeat(64);
    assert_eq!(
        app.get(&format!("/admin/setup/{secret}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let secret = app.app.open_setup().await.unwrap().unwrap();
    let form = app.get(&format!("/admin/setup/{secret}")).await;
    assert_eq!(form.status(), StatusCode::OK);
    let cookie = cookie_value(&set_cookie(&form, "bulletin_login_csrf").unwrap());
    let csrf = csrf_in(&form.text().await.unwrap());
    let post = |password: &'static str| {
        app.http
            .post(app.url(&format!("/admin/setup/{secret}")))
            .header(header::COOKIE, format!("bulletin_login_csrf={cookie}"))
            .form(&[
                ("email", "boss@staff.example.com"),
                ("password", password),
                ("csrf", &csrf),
            ])
            .send()
    };
    let (status, page) = body(post("short").await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("at least 12 characters") && page.contains("boss@staff.example.com"));
    let created = post(PASSWORD).await.unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&created, "bulletin_session").is_some());
    // The link works once.
    assert_eq!(
        post(PASSWORD).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let admin = Admin::log_in(&app, "boss@staff.example.com").await;
    let (_, audit) = body(admin.get("/admin/audit").await).await;
    assert!(audit.contains("user.setup"));
}

#[tokio::test]
async fn login_answers_the_same_for_unknown_users_and_wrong_passwords() {
    let app = TestApp::spawn().await;
    create_user(&app, "known@staff.example.com", Role::Marketer).await;
    let (s1, wrong) =
        body(post_login(&app, "known@staff.example.com", "not the password").await).await;
    let (s2, unknown) =
        body(post_login(&app, "nobody@staff.example.com", "not the password").await).await;
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    let message = "Wrong e-mail address or password.";
    assert!(wrong.contains(message) && unknown.contains(message));
}

#[tokio::test]
async fn login_attempts_are_limited_per_account() {
    let app = TestApp::spawn().await;
    create_user(&app, "target@staff.example.com", Role::Admin).await;
    for _ in 0..app.app.context().settings.admin.login_attempts_per_account {
        let r = post_login(&app, "target@staff.example.com", "guess guess guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = post_login(&app, "target@staff.example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("3600"),
        "the window ends in an hour (the clock stood still)"
    );
    app.advance(chrono::Duration::hours(1));
    let r = post_login(&app, "target@staff.example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sessions_live_in_httponly_samesite_strict_cookies_and_pages_need_one() {
    let app = TestApp::spawn().await;
    let r = app.get("/admin/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/admin/login");
    create_user(&app, "a@staff.example.com", Role::Admin).await;
    let r = post_login(&app, "a@staff.example.com", PASSWORD).await;
    let cookie = set_cookie(&r, "bulletin_session").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(cookie.contains("Path=/admin") && !cookie.contains("Secure"));
    let admin = Admin::log_in(&app, "a@staff.example.com").await;
    let page = admin.get("/admin/").await;
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(page.headers().contains_key(header::REFERRER_POLICY));
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_public_url_is_https() {
    let app = TestApp::spawn_with(|s| {
        s.http.public_url = "https://news.example.com".parse().unwrap();
    })
    .await;
    create_user(&app, "a@staff.example.com", Role::Admin).await;
    let r = post_login(&app, "a@staff.example.com", PASSWORD).await;
    assert!(
        set_cookie(&r, "bulletin_session")
            .unwrap()
            .contains("; Secure")
    );
}

#[tokio::test]
async fn a_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    let fields = [
        ("name", "Weekly"),
        ("slug", "weekly"),
        ("kind", "newsletter"),
        ("legal_basis", "consent"),
        ("opt_in", "double"),
        ("visibility", "public"),
    ];
    assert_eq!(
        admin.post_raw("/admin/lists", &fields).await.status(),
        StatusCode::FORBIDDEN
    );
    let mut wrong = fields.to_vec();
    wrong.push(("csrf", "f00"));
    assert_eq!(
        admin.post_raw("/admin/lists", &wrong).await.status(),
        StatusCode::FORBIDDEN
    );
    let (_, lists) = body(app.api_get("/api/v1/lists").await).await;
    assert!(!lists.contains("weekly"));
    assert_eq!(
        admin.post("/admin/lists", &fields).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, lists) = body(app.api_get("/api/v1/lists").await).await;
    assert!(lists.contains("weekly"));
}

#[tokio::test]
async fn a_viewer_reads_everything_and_gets_403_on_every_write() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    for page in [
        "/admin/",
        "/admin/lists",
        "/admin/subscribers",
        "/admin/campaigns",
        "/admin/jobs",
    ] {
        assert_eq!(viewer.get(page).await.status(), StatusCode::OK, "{page}");
    }
    assert_eq!(
        viewer.get("/admin/audit").await.status(),
        StatusCode::FORBIDDEN,
        "the audit log is for admins, as in the API"
    );
    let fields = [
        ("name", "X"),
        ("slug", "x"),
        ("kind", "newsletter"),
        ("legal_basis", "consent"),
        ("opt_in", "double"),
        ("visibility", "public"),
    ];
    assert_eq!(
        viewer.post("/admin/lists", &fields).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer
            .post("/admin/campaigns", &[("name", "x")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer.get("/admin/users").await.status(),
        StatusCode::FORBIDDEN
    );
    // The API says the same to a viewer token.
    let token = app.token_of(Role::Viewer).await;
    let read = app
        .http
        .get(app.url("/api/v1/lists"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let write = app
        .http
        .post(app.url("/api/v1/lists"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"slug":"y","name":"Y","kind":"newsletter","legal_basis":"consent","opt_in":"double"}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn logout_and_a_password_change_end_sessions_on_the_server() {
    let app = TestApp::spawn().await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let other = Admin::log_in(&app, "marketer@staff.example.com").await;
    assert_eq!(
        admin.post("/admin/logout", &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(admin.get("/admin/").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(other.get("/admin/").await.status(), StatusCode::OK);
    let r = other
        .post(
            "/admin/account",
            &[
                ("current", "wrong wrong wrong"),
                ("new", "a new long password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = other
        .post(
            "/admin/account",
            &[("current", PASSWORD), ("new", "a new long password")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(other.get("/admin/").await.status(), StatusCode::SEE_OTHER);
    let r = post_login(&app, "marketer@staff.example.com", "a new long password").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn list_form_errors_are_shown_in_place_and_keep_what_was_typed() {
    let app = TestApp::spawn().await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let r = admin
        .post(
            "/admin/lists",
            &[
                ("name", "Typed name"),
                ("slug", "Not A Slug!"),
                ("kind", "newsletter"),
                ("legal_basis", "consent"),
                ("opt_in", "none"),
                ("visibility", "public"),
            ],
        )
        .await;
    let (status, page) = body(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("value=\"Typed name\"") && page.contains("value=\"Not A Slug!\""));
    assert!(page.contains("field-error"));
}

#[tokio::test]
async fn a_marketer_composes_and_schedules_a_campaign_and_every_change_is_audited() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let r = admin
        .post(
            "/admin/campaigns",
            &[
                ("name", "November"),
                ("subject", "News"),
                ("list", "weekly"),
                ("body_markdown", "Hello **{{ subscriber.name }}**"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let location = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let preview = admin.get(&format!("{location}/preview")).await;
    let csp = preview.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("sandbox") && csp.contains("frame-ancestors 'self'"));
    assert!(preview.text().await.unwrap().contains("<strong>"));
    assert_eq!(
        admin
            .post(&format!("{location}/schedule"), &[("send_at", "")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    app.run_job("campaigns").await;
    app.deliver_all().await;
    app.run_job("campaigns").await;
    let (_, page) = body(admin.get(&location).await).await;
    assert!(
        page.contains("<td class=\"num\" id=\"sent\">1</td>"),
        "{page}"
    );
    let (_, dashboard) = body(admin.get("/admin/").await).await;
    assert!(dashboard.contains("November") && dashboard.contains("<svg"));
    let audit = app.audit_text().await;
    assert!(audit.contains("campaign.create") && audit.contains("campaign.schedule"));
}

#[tokio::test]
async fn subscribers_are_found_by_address_list_and_status_page_by_page_and_exported() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    app.sign_up("john@example.com", "weekly").await;
    let admin = Admin::with_role(&app, Role::Viewer).await;
    let (_, page) = body(admin.get("/admin/subscribers?q=jane%40").await).await;
    assert!(page.contains("jane@example.com") && !page.contains("john@example.com"));
    let (_, page) = body(admin.get("/admin/subscribers?status=pending").await).await;
    assert!(page.contains("john@example.com") && !page.contains("jane@example.com"));
    assert_eq!(
        admin.get("/admin/subscribers.csv").await.status(),
        StatusCode::FORBIDDEN,
        "a viewer reads records, but does not copy every address out"
    );
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let (_, csv) = body(
        marketer
            .get("/admin/subscribers.csv?status=confirmed")
            .await,
    )
    .await;
    assert!(
        csv.starts_with("id,email,name")
            && csv.contains("jane@example.com")
            && !csv.contains("john@")
    );
    assert!(app.audit_text().await.contains("subscribers.export"));
    let id = app.subscriber("jane@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, page) = body(admin.get(&format!("/admin/subscribers/{id}")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("confirmed") && page.contains("requested"));
}

#[tokio::test]
async fn filtered_by_list_each_row_shows_its_status_on_that_list_and_the_total_is_counted() {
    let app = TestApp::spawn().await;
    let weekly = app.create_list("weekly").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.create_list("monthly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    app.confirmed_subscriber("jane@example.com", "monthly")
        .await;
    app.confirmed_subscriber("bob@example.com", "weekly").await;
    app.deliver_and_take().await;
    app.start_campaign("weekly").await;
    let mails = app.deliver_and_take().await;
    let to_jane = mails
        .iter()
        .find(|m| m.rcpt_to == ["jane@example.com".to_owned()])
        .unwrap();
    app.post_form(
        &crate::support::list_unsubscribe_url(to_jane),
        &[("List-Unsubscribe", "One-Click")],
    )
    .await;
    let admin = Admin::with_role(&app, Role::Viewer).await;

    let (_, page) = body(
        admin
            .get(&format!(
                "/admin/subscribers?list={weekly}&status=unsubscribed"
            ))
            .await,
    )
    .await;
    assert!(page.contains("1 subscriber matches."), "{page}");
    assert!(page.contains("jane@example.com") && !page.contains("bob@example.com"));
    assert!(page.contains("Status on List weekly"), "{page}");
    assert!(
        page.contains("<span class=\"status unsubscribed\">unsubscribed</span>"),
        "jane's status on weekly, not her person status (active): {page}"
    );
    assert!(!page.contains("<span class=\"status active\">"), "{page}");

    let (_, page) = body(
        admin
            .get(&format!("/admin/subscribers?list={weekly}"))
            .await,
    )
    .await;
    assert!(page.contains("2 subscribers match."), "{page}");
    assert!(page.contains("<span class=\"status confirmed\">confirmed</span>"));
    let (_, page) = body(admin.get("/admin/subscribers").await).await;
    assert!(page.contains("2 subscribers match."), "{page}");
    assert!(page.contains("<span class=\"status active\">active</span>"));
}

#[tokio::test]
async fn an_action_says_what_it_did_on_the_next_page_once_and_the_navigation_marks_the_page() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let id = app.subscriber("jane@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = Admin::with_role(&app, Role::Admin).await;
    let done = admin
        .post(&format!("/admin/subscribers/{id}/block"), &[])
        .await;
    let flash = set_cookie(&done, "bulletin_flash").expect("a message for the next page");
    assert!(flash.contains("HttpOnly") && flash.contains("SameSite=Strict"));
    let next = admin.follow(done).await;
    let cleared = set_cookie(&next, "bulletin_flash").expect("cleared once shown");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let page = next.text().await.unwrap();
    assert!(
        page.contains("<p class=\"notice flash\" role=\"status\">The person is blocked.</p>"),
        "{page}"
    );
    // Without the cookie, or with one not made for this session, nothing is said.
    let (_, page) = body(admin.get(&format!("/admin/subscribers/{id}")).await).await;
    assert!(!page.contains("flash"));
    let forged = app
        .http
        .get(app.url(&format!("/admin/subscribers/{id}")))
        .header(
            header::COOKIE,
            format!(
                "bulletin_session={}; bulletin_flash=00.Your+session+expired%2C+log+in+at+evil",
                admin.cookie
            ),
        )
        .send()
        .await
        .unwrap();
    assert!(!forged.text().await.unwrap().contains("evil"));

    // The page's section is marked; Customers and Import are in the navigation; a skip link
    // leads past it; on a phone the same links sit in a menu.
    assert!(
        page.contains("<a href=\"#main\" class=\"skip\">")
            || page.contains("class=\"skip\" href=\"#main\""),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"/admin/subscribers\" aria-current=\"page\">Subscribers</a>"),
        "{page}"
    );
    assert!(!page.contains("<a href=\"/admin/\" aria-current"));
    for link in ["/admin/customers", "/admin/import"] {
        assert!(page.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert!(page.contains("<summary>Menu</summary>"));
}

#[tokio::test]
async fn an_admin_unsubscribes_and_erases_a_person_after_confirming_and_a_marketer_may_not_erase() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let id = app.subscriber("jane@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    assert_eq!(
        marketer
            .post(&format!("/admin/subscribers/{id}/erase"), &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let (status, page) = body(
        marketer
            .get(&format!("/admin/subscribers/{id}/unsubscribe"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Unsubscribe from every list"));
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    let r = marketer
        .post(&format!("/admin/subscribers/{id}/unsubscribe"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    let ledger = app.ledger("jane@example.com").await;
    assert!(
        ledger
            .iter()
            .any(|e| e["actor"] == "user:marketer@staff.example.com")
    );
    let admin = Admin::with_role(&app, Role::Admin).await;
    let r = admin
        .post(&format!("/admin/subscribers/{id}/erase"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.subscriber("jane@example.com").await.is_none());
    let (_, audit) = body(admin.get("/admin/audit").await).await;
    assert!(audit.contains("subscriber.unsubscribe") && audit.contains("subscriber.erase"));
}

#[tokio::test]
async fn changes_through_the_api_are_in_the_audit_log_too() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    let (_, audit) = body(admin.get("/admin/audit").await).await;
    assert!(
        audit.contains("api:tests") && audit.contains("list.create"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_list_is_edited_and_archived_and_then_takes_no_signups_or_campaigns() {
    let app = TestApp::spawn().await;
    let list = app.create_list("weekly").await;
    let id = list["id"].as_str().unwrap();
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let r = admin
        .post(
            &format!("/admin/lists/{id}"),
            &[
                ("name", ""),
                ("description", "d"),
                ("visibility", "public"),
                ("consent_text", ""),
            ],
        )
        .await;
    let (status, page) = body(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("name must be 1 to 200 characters") && page.contains("value=\"d\""));
    let r = admin
        .post(
            &format!("/admin/lists/{id}"),
            &[
                ("name", "Weekly Letter"),
                ("description", "d"),
                ("visibility", "public"),
                ("consent_text", "Yes, send me the letter."),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, form) = body(app.get("/subscribe?list=weekly").await).await;
    assert!(form.contains("Yes, send me the letter."));
    let r = admin
        .post(
            &format!("/admin/lists/{id}/archive"),
            &[("archived", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/subscribe?list=weekly").await.status(),
        StatusCode::NOT_FOUND
    );
    let r = admin
        .post(
            "/admin/campaigns",
            &[
                ("name", "N"),
                ("subject", "S"),
                ("list", "weekly"),
                ("body_markdown", "Hi"),
            ],
        )
        .await;
    let (status, page) = body(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("archived"));
    let audit = app.audit_text().await;
    assert!(audit.contains("list.update") && audit.contains("list.archive"));
}

#[tokio::test]
async fn a_marketer_adds_a_subscriber_with_evidence_and_corrects_the_name() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let r = admin
        .post(
            "/admin/subscribers/new",
            &[
                ("email", "max@example.com"),
                ("name", "Max"),
                ("locale", "en"),
                ("list", "weekly"),
            ],
        )
        .await;
    let (status, page) = body(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("value=\"max@example.com\"") && page.contains("field-error"));
    assert!(app.subscriber("max@example.com").await.is_none());
    let r = admin
        .post(
            "/admin/subscribers/new",
            &[
                ("email", "max@example.com"),
                ("name", "Max"),
                ("locale", "en"),
                ("list", "weekly"),
                ("consent_at", "2025-05-01 08:30:00"),
                ("consent_source", "trade fair"),
                ("consent_text", "Yes, send me news."),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(
        app.subscription_status("max@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    let id = app.subscriber("max@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin
        .post(
            &format!("/admin/subscribers/{id}/edit"),
            &[("name", "Max Mustermann"), ("locale", "de")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s = app.subscriber("max@example.com").await.unwrap();
    assert_eq!(
        (s["name"].as_str(), s["locale"].as_str()),
        (Some("Max Mustermann"), Some("de"))
    );
}

#[tokio::test]
async fn bulletin_user_create_reads_the_password_from_stdin() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |password: String| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_bulletin"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("BULLETIN") {
                command.env_remove(key);
            }
        }
        let mut child = command
            .args([
                "user",
                "create",
                "--email",
                "cli@staff.example.com",
                "--role",
                "viewer",
            ])
            .env("BULLETIN__DATABASE__URL", &app.database_url)
            .env("BULLETIN__DATA__DIR", dir.path().join("data"))
            .env("RUST_LIB_BACKTRACE", "0")
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        async move {
            stdin.write_all(password.as_bytes()).await.unwrap();
            drop(stdin);
            child.wait_with_output().await.unwrap()
        }
    };
    let refused = run("short\n".to_owned()).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("at least 12"));
    let created = run(format!("{PASSWORD}\n")).await;
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let viewer = Admin::log_in(&app, "cli@staff.example.com").await;
    assert_eq!(viewer.get("/admin/").await.status(), StatusCode::OK);
}

async fn subscriber_id(app: &TestApp, email: &str) -> String {
    app.subscriber(email).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn ledger_actions(ledger: &[serde_json::Value]) -> Vec<String> {
    ledger
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_blocked_person_receives_nothing_and_is_never_added_again_until_unblocked() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let id = subscriber_id(&app, "jane@example.com").await;
    // A campaign is queued for her before the block lands.
    crate::privacy::campaign_now(&app, "weekly").await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (status, page) = body(marketer.get(&format!("/admin/subscribers/{id}")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("/admin/subscribers/{id}/block")));
    let (status, page) = body(
        marketer
            .get(&format!("/admin/subscribers/{id}/block"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Block this person") && page.contains("name=\"csrf\""));
    assert_eq!(
        viewer
            .post(&format!("/admin/subscribers/{id}/block"), &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        marketer
            .post_raw(&format!("/admin/subscribers/{id}/block"), &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.subscriber("jane@example.com").await.unwrap()["status"],
        "active",
        "neither the GET, the viewer nor a POST without CSRF token changed anything"
    );
    let r = marketer
        .post(&format!("/admin/subscribers/{id}/block"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.subscriber("jane@example.com").await.unwrap()["status"],
        "blocked"
    );
    let ledger = app.ledger("jane@example.com").await;
    let blocked = ledger.iter().find(|e| e["action"] == "blocked").unwrap();
    assert_eq!(blocked["actor"], "user:marketer@staff.example.com");
    // Queued or new, nothing reaches her.
    crate::privacy::campaign_now(&app, "weekly").await;
    app.deliver_all().await;
    assert!(app.smtp.take_messages().is_empty());
    // The signup page answers exactly as for anyone, and sends nothing.
    let (status, for_her) = body(app.sign_up("jane@example.com", "weekly").await).await;
    let (_, for_new) = body(app.sign_up("new@example.com", "weekly").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(for_her, for_new);
    let mails = app.deliver_and_take().await;
    assert!(mails.iter().all(|m| !m.rcpt_to.join(",").contains("jane@")));
    let report: serde_json::Value = app
        .api_post_csv(
            "/api/v1/subscribers/import?list=weekly",
            "email,consent_at,consent_source,consent_text\njane@example.com,2025-05-01 08:30:00,fair,Yes\n",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["errors"][0]["code"], "blocked", "{report}");
    let again = app
        .api_post(
            "/api/v1/subscribers",
            &serde_json::json!({"email": "jane@example.com", "lists": ["weekly"],
                "consent_at": "2025-05-01 08:30:00", "consent_source": "fair", "consent_text": "Yes"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        "blocked"
    );
    let audit = app.audit_text().await;
    assert!(audit.contains("subscriber.block"));
    // Unblocking restores her: the next campaign arrives.
    let (_, page) = body(marketer.get(&format!("/admin/subscribers/{id}")).await).await;
    assert!(page.contains(&format!("/admin/subscribers/{id}/unblock")));
    let r = marketer
        .post(&format!("/admin/subscribers/{id}/unblock"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.subscriber("jane@example.com").await.unwrap()["status"],
        "active"
    );
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    crate::privacy::campaign_now(&app, "weekly").await;
    let mails = app.deliver_and_take().await;
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.rcpt_to.join(",").contains("jane@"))
            .count(),
        1
    );
    let actions = ledger_actions(&app.ledger("jane@example.com").await);
    assert!(actions.ends_with(&["blocked".to_owned(), "unblocked".to_owned()]));
}

#[tokio::test]
async fn the_api_blocks_and_unblocks_and_a_standing_restriction_survives_the_block() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.sign_up("john@example.com", "weekly").await;
    let id = subscriber_id(&app, "john@example.com").await;
    let block = |path: &'static str| {
        let url = format!("/api/v1/subscribers/{id}/{path}");
        let app = &app;
        async move { app.api_post(&url, &serde_json::json!({})).await }
    };
    // His confirmation e-mail waits in the outbox when the block lands.
    let r = block("block").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "blocked"
    );
    assert!(app.deliver_and_take().await.is_empty());
    assert_eq!(
        block("block")
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["status"],
        "blocked"
    );
    let actions = ledger_actions(&app.ledger("john@example.com").await);
    assert_eq!(actions.iter().filter(|a| *a == "blocked").count(), 1);
    assert_eq!(
        block("unblock")
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["status"],
        "active"
    );
    // A restricted person who is blocked returns to restricted, not to active.
    let restricted = app
        .api_post(
            &format!("/api/v1/subscribers/{id}/restriction"),
            &serde_json::json!({"restricted": true}),
        )
        .await;
    assert_eq!(restricted.status(), StatusCode::OK);
    block("block").await;
    assert_eq!(
        block("unblock")
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["status"],
        "restricted"
    );
    let unknown = app
        .api_post(
            &format!("/api/v1/subscribers/{}/block", uuid::Uuid::now_v7()),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let token = app.token_of(Role::Viewer).await;
    let refused = app
        .http
        .post(app.url(&format!("/api/v1/subscribers/{id}/block")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.subscriber("john@example.com").await.unwrap()["status"],
        "restricted"
    );
}

#[tokio::test]
async fn an_attacker_without_the_password_cannot_lock_the_owner_out() {
    let app = TestApp::spawn_with(|s| {
        s.admin.login_attempts_per_account = 1;
        s.http.trust_forwarded_for = true;
    })
    .await;
    create_user(&app, "owner@staff.example.com", Role::Admin).await;
    // Wrong passwords from two networks: each network's share for the account runs out.
    for ip in ["198.51.100.1", "203.0.113.1"] {
        let r = post_login_from(&app, ip, "owner@staff.example.com", "guess guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = post_login_from(&app, ip, "owner@staff.example.com", PASSWORD).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{ip}");
    }
    // The owner, from their own network, is slowed down a little but gets in.
    let r = post_login_from(&app, "192.0.2.10", "owner@staff.example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn session_lifetime_and_login_limits_follow_the_admin_settings() {
    let app = TestApp::spawn_with(|s| {
        s.admin.session_ttl = chrono::Duration::hours(1);
        s.admin.login_attempts_per_account = 2;
        s.admin.login_attempts_per_ip = 4;
        s.admin.login_window = chrono::Duration::minutes(10);
    })
    .await;
    create_user(&app, "a@staff.example.com", Role::Admin).await;
    let admin = Admin::log_in(&app, "a@staff.example.com").await;
    // Two wrong passwords for the account from this network: the third attempt from it,
    // even with the right password, waits for the window.
    for _ in 0..2 {
        let r = post_login(&app, "a@staff.example.com", "guess guess guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = post_login(&app, "a@staff.example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Every attempt counts for the client address too (four so far): none is left.
    let r = post_login(&app, "b@staff.example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    app.advance(chrono::Duration::minutes(10));
    let r = post_login(&app, "a@staff.example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&r, "bulletin_session").unwrap();
    assert!(cookie.contains("Max-Age=3600"), "{cookie}");
    // The first session was started ten minutes ago: it ends after its hour.
    assert_eq!(admin.get("/admin/").await.status(), StatusCode::OK);
    app.advance(chrono::Duration::minutes(51));
    assert_eq!(admin.get("/admin/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_jobs_page_shows_the_next_runs_and_pages_through_the_runs() {
    let app = TestApp::spawn().await;
    for _ in 0..51 {
        app.run_job("campaigns").await;
    }
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    // Runs that did nothing are hidden until asked for.
    let (status, page) = body(viewer.get("/admin/jobs").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("<td>campaigns</td>").count(), 1, "{page}");
    assert!(page.contains(r#"href="/admin/jobs?empty=1">Show empty runs"#));
    let (status, page) = body(viewer.get("/admin/jobs?empty=1").await).await;
    assert_eq!(status, StatusCode::OK);
    for job in ["campaigns", "retention", "notices"] {
        assert!(page.contains(&format!("<td>{job}</td>")), "{job}");
    }
    assert!(page.contains("Next run") && page.contains("class=\"next-run\""));
    assert!(
        page.contains("scheduler.enabled = false"),
        "tests run without it"
    );
    assert_eq!(page.matches("<td>campaigns</td>").count(), 1 + 50);
    let at = page
        .find("/admin/jobs?cursor=")
        .expect("a link to the next page");
    let next = &page[at..];
    let next = next[..next.find('"').unwrap()].replace("&amp;", "&");
    assert!(next.ends_with("&empty=1"), "{next}");
    let (status, older) = body(viewer.get(&next).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(older.matches("<td>campaigns</td>").count(), 1 + 1);
    assert!(!older.contains("/admin/jobs?cursor="));
    let bad = viewer.get("/admin/jobs?cursor=nonsense").await;
    assert_eq!(bad.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_jobs_page_hides_empty_runs_but_shows_one_that_did_something() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.run_job("campaigns").await;
    app.start_campaign("weekly").await;
    app.run_job("campaigns").await;
    app.run_job("campaigns").await;
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (_, page) = body(viewer.get("/admin/jobs").await).await;
    assert_eq!(page.matches("<td>campaigns</td>").count(), 1 + 1, "{page}");
    assert!(page.contains("&quot;started&quot;:1"), "{page}");
    let (_, page) = body(viewer.get("/admin/jobs?empty=1").await).await;
    assert_eq!(page.matches("<td>campaigns</td>").count(), 1 + 4, "{page}");
    assert!(page.contains("Hide empty runs"));
}

/// Reloads an import page until it no longer shows progress; returns the last page.
async fn until_done(admin: &Admin<'_>, path: &str) -> String {
    for _ in 0..500 {
        let (status, page) = body(admin.get(path).await).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        if !page.contains("<progress") {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the import did not finish");
}

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

const IMPORT_CSV: &str = "email,name,consent_at,consent_source,consent_text,shoe_size\n\
    max@example.com,Max,2025-05-01 08:30:00,fair,Yes please,44\n\
    not-an-address,Bad,2025-05-01 08:30:00,fair,Yes please,40\n\
    erika@example.com,Erika,,,,38\n\
    max@example.com,Max again,2025-05-01 08:30:00,fair,Yes please,44\n\
    gone@example.com,Gone,2025-05-01 08:30:00,fair,Yes please,41\n";

#[tokio::test]
async fn a_marketer_uploads_a_csv_sees_a_preview_checks_it_and_imports_it_in_the_background() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let gone = app.confirmed_subscriber("gone@example.com", "weekly").await;
    app.post_form(&crate::support::list_unsubscribe_url(&gone), &[])
        .await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (status, form) = body(marketer.get("/admin/import?list=weekly").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("enctype=\"multipart/form-data\"") && form.contains("type=\"file\""));
    assert_eq!(
        marketer
            .upload("weekly", IMPORT_CSV, "wrong")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer
            .upload("weekly", IMPORT_CSV, &viewer.csrf)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = marketer.upload("weekly", IMPORT_CSV, &marketer.csrf).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let page = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    // The preview: the columns as the import reads them, and the first rows by line.
    let (status, preview) = body(marketer.get(&page).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(preview.contains("shoe_size") && preview.contains("ignored"));
    assert!(
        preview.contains("<td class=\"num\">3</td><td>not-an-address</td>"),
        "{preview}"
    );
    assert_eq!(viewer.get(&page).await.status(), StatusCode::FORBIDDEN);
    // The dry run lists the invalid rows by line and writes nothing.
    let r = marketer.post(&format!("{page}/check"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let checked = until_done(&marketer, &page).await;
    assert!(
        checked.contains("Would be imported")
            && checked.contains("<td class=\"num\" id=\"imported\">1</td>"),
        "{checked}"
    );
    for (line, code) in [
        (3, "invalid_email"),
        (4, "missing_consent_proof"),
        (5, "duplicate"),
        (6, "unsubscribed"),
    ] {
        assert!(
            checked.contains(&format!("<td class=\"num\">{line}</td>"))
                && checked.contains(&format!("<code>{code}</code>")),
            "line {line}: {checked}"
        );
    }
    assert!(app.subscriber("max@example.com").await.is_none());
    // The import runs in the background; while it waits for the database the page shows
    // its progress and reloads itself.
    let (hold, start) = start_import_behind_a_lock(&app, &marketer, &page).await;
    let mut running = String::new();
    for _ in 0..500 {
        running = body(marketer.get(&page).await).await.1;
        if running.contains("<progress") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(running.contains("<progress"), "{running}");
    assert!(
        !running.contains("http-equiv=\"refresh\""),
        "unasked, the page does not reload: {running}"
    );
    let watched = body(marketer.get(&format!("{page}?watch=1")).await).await.1;
    assert!(
        watched.contains("<progress") && watched.contains("http-equiv=\"refresh\""),
        "watched, it reloads: {watched}"
    );
    assert_eq!(
        marketer.post(&format!("{page}/run"), &[]).await.status(),
        StatusCode::CONFLICT,
        "one run at a time"
    );
    hold.rollback().await.unwrap();
    assert_eq!(
        start.await.unwrap().unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let done = until_done(&marketer, &page).await;
    assert!(
        done.contains("Import finished")
            && done.contains("<td class=\"num\" id=\"imported\">1</td>"),
        "{done}"
    );
    assert_eq!(
        app.subscription_status("max@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    assert_eq!(
        app.subscription_status("gone@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    let ledger = app.ledger("max@example.com").await;
    assert_eq!(ledger[0]["action"], "imported");
    assert_eq!(ledger[0]["actor"], "user:marketer@staff.example.com");
    let audit = app.audit_text().await;
    assert!(
        audit.contains("subscribers.import_start") && audit.contains("1 imported"),
        "{audit}"
    );
    assert_eq!(
        files_in(&app.app.context().settings.data_dir.join("imports")),
        0,
        "the imported file is deleted"
    );
    assert_eq!(
        marketer.post(&format!("{page}/run"), &[]).await.status(),
        StatusCode::CONFLICT,
        "never twice"
    );
}

#[tokio::test]
async fn an_upload_that_cannot_be_imported_is_refused_in_place_and_nothing_is_kept() {
    let app = TestApp::spawn_with(|s| s.import.max_upload_bytes = 200).await;
    app.create_list("weekly").await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let upload = |list: &'static str, csv: String| {
        let marketer = &marketer;
        async move { body(marketer.upload(list, &csv, &marketer.csrf).await).await }
    };
    let (status, page) = upload("", "email\njane@example.com\n".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Choose a list.") && page.contains("field-error"));
    let (status, page) = upload("nope", "email\njane@example.com\n".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("There is no such list."));
    let (status, page) = upload("weekly", "name,locale\nJane,en\n".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("no email column") && page.contains("<option value=\"weekly\" selected"),
        "{page}"
    );
    let (status, page) = upload("weekly", String::new()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("The file is empty."));
    let (status, page) = upload(
        "weekly",
        format!("email\n{}", "jane@example.com\n".repeat(20)),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.contains("import.max_upload_bytes"));
    assert_eq!(
        files_in(&app.app.context().settings.data_dir.join("imports")),
        0,
        "no refused upload is kept"
    );
    // A row that breaks the file shows in the preview, and the import refuses it whole.
    let (status, _) = upload("weekly", "email,name\njane@example.com,Jane,extra\n".into()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let r = marketer
        .upload(
            "weekly",
            "email,name\njane@example.com,Jane,extra\n",
            &marketer.csrf,
        )
        .await;
    let page = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let (_, preview) = body(marketer.get(&page).await).await;
    assert!(
        preview.contains("The import will refuse this file: line 2"),
        "{preview}"
    );
    marketer.post(&format!("{page}/run"), &[]).await;
    let failed = until_done(&marketer, &page).await;
    assert!(
        failed.contains("nothing was kept") && failed.contains("line 2"),
        "{failed}"
    );
    assert!(app.subscriber("jane@example.com").await.is_none());
    let unknown = marketer
        .get(&format!("/admin/import/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        marketer.get("/admin/import/nonsense").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn uploads_cannot_pile_up_on_the_disk() {
    let app = TestApp::spawn_with(|s| s.import.uploads_per_user = 2).await;
    app.create_list("weekly").await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    for _ in 0..2 {
        let r = marketer.upload("weekly", IMPORT_CSV, &marketer.csrf).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let (status, page) = body(marketer.upload("weekly", IMPORT_CSV, &marketer.csrf).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("too many uploads"), "{page}");
    assert_eq!(
        files_in(&app.app.context().settings.data_dir.join("imports")),
        2,
        "the refused file is not kept"
    );
}

#[tokio::test]
async fn a_bulk_action_on_more_than_ten_thousand_people_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let weekly = app.create_list("weekly").await;
    let weekly_id = weekly["id"].as_str().unwrap();
    let mut csv = String::from("email,name,locale,consent_at,consent_source,consent_text\n");
    for n in 0..=10_000 {
        csv.push_str(&format!(
            "p{n}@example.com,P,en,2025-05-01T08:30:00Z,fair,Yes please\n"
        ));
    }
    let r = app
        .api_post_csv("/api/v1/subscribers/import?list=weekly", csv)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let admin = Admin::with_role(&app, Role::Admin).await;
    let ask = format!("/admin/subscribers/bulk/block?q=&list={weekly_id}&status=&suppressed=");
    let (status, page) = body(admin.get(&ask).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"too-many\""), "{page}");
    assert!(page.contains(r#"id="bulk-count">10001<"#), "{page}");
    let filter = [
        ("q", ""),
        ("list", weekly_id),
        ("status", ""),
        ("suppressed", ""),
    ];
    let r = admin.post("/admin/subscribers/bulk/block", &filter).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(
        app.subscriber("p0@example.com").await.unwrap()["status"],
        "active"
    );
}

#[tokio::test]
async fn bulk_actions_on_the_filtered_set_are_asked_first_counted_and_audited() {
    let app = TestApp::spawn().await;
    let weekly = app.create_list("weekly").await;
    app.create_list("monthly").await;
    for who in ["a@example.com", "b@example.com", "c@example.com"] {
        app.confirmed_subscriber(who, "weekly").await;
    }
    app.confirmed_subscriber("other@example.com", "monthly")
        .await;
    let weekly_id = weekly["id"].as_str().unwrap();
    let admin = Admin::with_role(&app, Role::Admin).await;
    let filter = [
        ("q", ""),
        ("list", weekly_id),
        ("status", ""),
        ("suppressed", ""),
    ];

    let (_, page) = body(
        admin
            .get(&format!("/admin/subscribers?list={weekly_id}"))
            .await,
    )
    .await;
    assert!(page.contains("/admin/subscribers/bulk/add?"), "{page}");
    let ask = format!("/admin/subscribers/bulk/block?q=&list={weekly_id}&status=&suppressed=");
    let (status, page) = body(admin.get(&ask).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"id="bulk-count">3<"#), "{page}");
    assert_eq!(
        app.subscriber("a@example.com").await.unwrap()["status"],
        "active",
        "a GET changes nothing"
    );

    // Adding to a consent list needs the evidence: refused in place, nobody added.
    let mut add: Vec<(&str, &str)> = filter.to_vec();
    add.push(("target", "monthly"));
    let r = admin.post("/admin/subscribers/bulk/add", &add).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.subscription_status("a@example.com", "monthly").await,
        None
    );
    add.extend([
        ("consent_at", "2026-05-01T08:30:00Z"),
        ("consent_source", "trade fair form"),
        ("consent_text", "Yes, monthly news."),
    ]);
    let done = admin.post("/admin/subscribers/bulk/add", &add).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let page = admin.follow(done).await.text().await.unwrap();
    assert!(page.contains("3 found, 3 changed"), "{page}");
    for who in ["a@example.com", "b@example.com", "c@example.com"] {
        assert_eq!(
            app.subscription_status(who, "monthly").await.as_deref(),
            Some("confirmed")
        );
    }

    let done = admin.post("/admin/subscribers/bulk/block", &filter).await;
    let page = admin.follow(done).await.text().await.unwrap();
    assert!(page.contains("3 found, 3 changed"), "{page}");
    assert_eq!(
        app.subscriber("b@example.com").await.unwrap()["status"],
        "blocked"
    );
    assert_eq!(
        app.subscriber("other@example.com").await.unwrap()["status"],
        "active"
    );

    let done = admin
        .post("/admin/subscribers/bulk/unsubscribe", &filter)
        .await;
    let page = admin.follow(done).await.text().await.unwrap();
    assert!(page.contains("3 found, 3 changed"), "{page}");
    assert_eq!(
        app.subscription_status("c@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    assert_eq!(
        app.subscription_status("other@example.com", "monthly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    let audit = app.audit_text().await;
    for action in [
        "subscriber.bulk_add",
        "subscriber.bulk_block",
        "subscriber.bulk_unsubscribe",
    ] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
    assert!(audit.contains("found 3, changed 3"), "{audit}");
    assert!(
        !audit.contains("a@example.com"),
        "no address in the audit log"
    );

    // A viewer may not.
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let r = viewer.post("/admin/subscribers/bulk/block", &filter).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
