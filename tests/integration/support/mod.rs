//! The test harness: `TestApp::spawn()` and typed helpers that drive the server as a client.
#![allow(dead_code)]

pub mod smtp;

use std::time::Duration;

use bulletin::{
    clock::Clock,
    config::{MailTransportSettings, Settings},
    delivery::{self, DrainReport},
    domain::Role,
    services,
    startup::App,
};
use reqwest::{Response, StatusCode, header};
use secrecy::SecretString;
use serde_json::{Value, json};
use smtp::{ReceivedMail, TestSmtp};

/// A running Bulletin with its own database, SMTP listener and manual clock. A PostgreSQL
/// test database is dropped with it, also when the test fails.
pub struct TestApp {
    pub app: App,
    pub smtp: TestSmtp,
    pub http: reqwest::Client,
    pub base: String,
    pub clock: Clock,
    pub token: String,
    pub database_url: String,
    _dir: tempfile::TempDir,
    /// Last, so that it is dropped after the server: the database goes when the test ends.
    _database: Option<TestDatabase>,
}

impl TestApp {
    /// Starts the server with the test defaults.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the server after `adjust` has changed the test settings.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        init_test_logging();
        let dir = tempfile::tempdir().unwrap();
        let smtp = TestSmtp::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        // Held from here on, so that a failure while starting drops the database as well.
        let (database_url, database) = fresh_database(dir.path()).await;
        let mut settings = Settings::load(None).unwrap();
        settings.http.public_url = base.parse().unwrap();
        settings.privacy_notice_url = format!("{base}/privacy-notice").parse().unwrap();
        settings.database.url = SecretString::from(database_url.clone());
        settings.database.max_connections = 4;
        settings.data_dir = dir.path().join("data");
        settings.mail.transport = MailTransportSettings::Smtp {
            url: SecretString::from(smtp.url()),
            pool_max: 2,
            timeout: Duration::from_secs(5),
        };
        settings.mail.templates_dir = dir.path().join("emails");
        settings.delivery.worker_enabled = false;
        settings.scheduler.enabled = false;
        adjust(&mut settings);
        let clock = Clock::manual(chrono::Utc::now());
        let app = App::build_on(listener, settings, clock.clone())
            .await
            .unwrap();
        let token = issue_token(&app, "tests", Role::Admin).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            app,
            smtp,
            http,
            base,
            clock,
            token,
            database_url,
            _dir: dir,
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path_or_url: &str) -> Response {
        self.http
            .get(self.absolute(path_or_url))
            .send()
            .await
            .unwrap()
    }

    pub async fn post_form(&self, path_or_url: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.absolute(path_or_url))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    fn absolute(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            self.url(path_or_url)
        }
    }

    /// `POST /subscribe` with the given form fields.
    pub async fn subscribe(&self, form: &[(&str, &str)]) -> Response {
        self.post_form("/subscribe", form).await
    }

    /// A new API token of `role`, named after it, made as `bulletin token create` does.
    pub async fn token_of(&self, role: Role) -> String {
        issue_token(&self.app, role.as_str(), role).await
    }

    /// The audit log as an admin reads it (`GET /api/v1/audit`), as text.
    pub async fn audit_text(&self) -> String {
        self.api_get("/api/v1/audit").await.text().await.unwrap()
    }

    /// A complete, valid signup for one list.
    pub async fn sign_up(&self, email: &str, list: &str) -> Response {
        self.subscribe(&[
            ("email", email),
            ("name", "Jane Doe"),
            ("list", list),
            ("consent", "yes"),
        ])
        .await
    }

    /// Runs the delivery worker until nothing is due.
    pub async fn deliver_all(&self) -> DrainReport {
        delivery::drain(self.app.engine()).await.unwrap()
    }

    /// Runs a scheduler job now, as its cron trigger would.
    pub async fn run_job(&self, name: &str) -> bulletin::store::jobs::JobRun {
        bulletin::scheduler::run_job(self.app.context(), name)
            .await
            .unwrap()
            .expect("the job ran")
    }

    /// Every message the SMTP listener received so far.
    pub fn mailbox(&self) -> Vec<ReceivedMail> {
        self.smtp.messages()
    }

    /// Delivers, then returns and clears what arrived.
    pub async fn deliver_and_take(&self) -> Vec<ReceivedMail> {
        self.deliver_all().await;
        self.smtp.take_messages()
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
    }

    pub async fn api_get(&self, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn api_post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Calls an API path with `method` and, if given, a JSON body.
    pub async fn api_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Response {
        let request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        request.send().await.unwrap()
    }

    /// `POST`s a CSV body to an API path.
    pub async fn api_post_csv(&self, path: &str, csv: impl Into<reqwest::Body>) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .header(header::CONTENT_TYPE, "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap()
    }

    /// Creates a consent list with double opt-in through the API.
    pub async fn create_list(&self, slug: &str) -> Value {
        self.create_list_with(json!({
            "slug": slug, "name": format!("List {slug}"), "kind": "newsletter",
            "legal_basis": "consent", "opt_in": "double"
        }))
        .await
    }

    pub async fn create_list_with(&self, body: Value) -> Value {
        let response = self.api_post("/api/v1/lists", &body).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{:?}",
            response.text().await
        );
        response.json().await.unwrap()
    }

    /// The subscriber as the API shows it, or `None` for 404.
    pub async fn subscriber(&self, email: &str) -> Option<Value> {
        let response = self
            .http
            .get(
                url::Url::parse_with_params(&self.url("/api/v1/subscribers"), &[("email", email)])
                    .unwrap(),
            )
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        match response.status() {
            StatusCode::NOT_FOUND => None,
            StatusCode::OK => Some(response.json().await.unwrap()),
            other => panic!("unexpected {other}"),
        }
    }

    /// The status of `email`'s subscription to `list`, as the API shows it.
    pub async fn subscription_status(&self, email: &str, list: &str) -> Option<String> {
        let subscriber = self.subscriber(email).await?;
        subscriber["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["list"] == list)
            .map(|s| s["status"].as_str().unwrap().to_owned())
    }

    /// The ledger actions of `email`, oldest first.
    pub async fn ledger(&self, email: &str) -> Vec<Value> {
        let id = self.subscriber(email).await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let response = self
            .api_get(&format!("/api/v1/subscribers/{id}/consent-events"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["events"].as_array().unwrap().clone()
    }

    /// Creates a campaign "News" with a short body to `list`, starts it now and fans it out;
    /// returns its id.
    pub async fn start_campaign(&self, list: &str) -> String {
        let campaign =
            json!({"name": "News", "subject": "News", "body_markdown": "Hello", "lists": [list]});
        self.start_campaign_with(campaign).await
    }

    /// Creates the campaign `campaign` (the API's JSON), starts it now and fans it out;
    /// returns its id.
    pub async fn start_campaign_with(&self, campaign: Value) -> String {
        let response = self.api_post("/api/v1/campaigns", &campaign).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let id = response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let scheduled = self
            .api_post(
                &format!("/api/v1/campaigns/{id}/schedule"),
                &json!({"send_at": null}),
            )
            .await;
        assert_eq!(scheduled.status(), StatusCode::ACCEPTED);
        self.run_job("campaigns").await;
        id
    }

    /// Signs up, follows the e-mailed link and presses the button: a confirmed subscriber.
    pub async fn confirmed_subscriber(&self, email: &str, list: &str) -> ReceivedMail {
        assert_eq!(self.sign_up(email, list).await.status(), StatusCode::OK);
        let mail = self
            .deliver_and_take()
            .await
            .pop()
            .expect("a confirmation e-mail");
        let confirm = link(&mail, "/confirm/");
        assert_eq!(self.post_form(&confirm, &[]).await.status(), StatusCode::OK);
        assert_eq!(
            self.subscription_status(email, list).await.as_deref(),
            Some("confirmed")
        );
        mail
    }
}

/// The first link in the text body whose path contains `marker`.
pub fn link(mail: &ReceivedMail, marker: &str) -> String {
    mail.links()
        .into_iter()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no {marker} link in {}", mail.text_body()))
}

/// The first URI of the List-Unsubscribe header: the one-click HTTPS URL.
pub fn list_unsubscribe_url(mail: &ReceivedMail) -> String {
    list_unsubscribe(mail).remove(0)
}

/// Every URI of the message's `List-Unsubscribe` header (RFC 2369: `<a>, <b>`), in order.
pub fn list_unsubscribe(mail: &ReceivedMail) -> Vec<String> {
    let header = mail
        .header("List-Unsubscribe")
        .expect("List-Unsubscribe header");
    header
        .split(',')
        .map(|uri| {
            uri.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
        .collect()
}

pub async fn body(response: Response) -> (StatusCode, String) {
    let status = response.status();
    (status, response.text().await.unwrap())
}

pub fn has_header(response: &Response, name: header::HeaderName) -> bool {
    response.headers().contains_key(name)
}

/// A fresh SQLite file (removed with the temp dir), or a fresh database on the PostgreSQL
/// server named by `BULLETIN_TEST_DATABASE_URL` with the guard that drops it.
async fn fresh_database(dir: &std::path::Path) -> (String, Option<TestDatabase>) {
    let Ok(server) = std::env::var("BULLETIN_TEST_DATABASE_URL") else {
        let url = format!("sqlite://{}/bulletin.db?mode=rwc", dir.display());
        return (url, None);
    };
    use sea_orm::ConnectionTrait;
    let name = format!("bulletin_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(&server).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    admin.close().await.unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&name);
    (url.to_string(), Some(TestDatabase { server, name }))
}

/// A transaction of another client that holds what a write needs: SQLite's write lock, or
/// PostgreSQL's `subscribers` table. `release` ends it.
pub struct HeldLock {
    db: sea_orm::DatabaseConnection,
    txn: sea_orm::DatabaseTransaction,
}

impl HeldLock {
    /// Rolls the holding transaction back and closes its connection.
    pub async fn release(self) {
        self.txn.rollback().await.unwrap();
        self.db.close().await.unwrap();
    }
}

impl TestApp {
    /// Takes the database's write lock (SQLite) or locks `subscribers` (PostgreSQL) from a
    /// connection of its own, as a long import or a stuck tool would.
    pub async fn hold_write_lock(&self) -> HeldLock {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        let db = sea_orm::Database::connect(&self.database_url)
            .await
            .unwrap();
        let sqlite = self.database_url.starts_with("sqlite:");
        let options = sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = db.begin_with_options(options).await.unwrap();
        if !sqlite {
            txn.execute_unprepared("LOCK TABLE subscribers IN ACCESS EXCLUSIVE MODE")
                .await
                .unwrap();
        }
        HeldLock { db, txn }
    }
}

/// A PostgreSQL database made for one test; dropping this drops the database.
struct TestDatabase {
    /// The server URL from `BULLETIN_TEST_DATABASE_URL` (its maintenance database).
    server: String,
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // `drop` runs on the test's runtime (also while a failed test unwinds), which cannot
        // wait for a future: the drop gets a thread and a runtime of its own.
        let outcome = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?
                .block_on(drop_database(&server, &name))
                .map_err(|e| e.to_string())
        })
        .join();
        // Never panic here: a panic while a failed test unwinds would abort the whole run.
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("dropping test database {} panicked", self.name),
        }
    }
}

/// Drops `name`, ending the sessions the test's server still holds: its pool lives in tasks
/// of the test's runtime, which cannot close it any more.
async fn drop_database(server: &str, name: &str) -> Result<(), sea_orm::DbErr> {
    let admin = sea_orm::Database::connect(server).await?;
    let mut attempt = 1;
    // A pooled connection opened while the drop runs makes it fail: try again.
    let dropped = loop {
        match force_drop(&admin, name).await {
            Err(_) if attempt < 3 => attempt += 1,
            done => break done,
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    admin.close().await?;
    dropped
}

async fn force_drop(admin: &sea_orm::DatabaseConnection, name: &str) -> Result<(), sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    // PostgreSQL 13+ ends the database's sessions itself.
    let forced = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    if admin.execute_unprepared(&forced).await.is_ok() {
        return Ok(());
    }
    // Older servers: end the sessions, then drop.
    let terminate = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    admin.execute_unprepared(&terminate).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
        .await?;
    Ok(())
}

/// A plain HTTP client. Bulletin's reqwest carries rustls without a crypto provider (ring is
/// chosen in code), so the process-wide provider is installed first.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn init_test_logging() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_test_writer()
            .try_init();
    }
}

/// A token made by the CLI's path (the CLI acts as an admin): the secret.
async fn issue_token(app: &App, name: &str, role: Role) -> String {
    let cli = bulletin::domain::Actor::Cli;
    services::api_tokens::issue(app.context(), &cli, name, role, None)
        .await
        .unwrap()
        .1
}
