//! Campaigns at scale, resilience: a server killed with SIGKILL mid-campaign loses no
//! recipient after a restart and resends at most the messages it had in flight, and two
//! instances on one database share a campaign without sending anything twice.

use std::{
    collections::HashMap,
    fmt::Write as _,
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use bulletin::{delivery, startup::App};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
    time::Instant,
};

use crate::support::TestApp;

/// The subject of the campaign under test, to tell its messages from any other.
const SUBJECT: &str = "Resilience check";

/// Imports `n` people with recorded consent into `list` (confirmed at once, no e-mail), and
/// returns their addresses.
async fn import_confirmed(app: &TestApp, list: &str, n: usize) -> Vec<String> {
    let emails: Vec<String> = (0..n)
        .map(|i| format!("reader{i:04}@example.com"))
        .collect();
    let mut csv = String::from("email,name,consent_at,consent_source,consent_text\n");
    for email in &emails {
        writeln!(
            csv,
            "{email},Reader,2025-05-01T08:30:00Z,shop checkout,Yes please"
        )
        .unwrap();
    }
    let response = app
        .api_post_csv(&format!("/api/v1/subscribers/import?list={list}"), csv)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["imported"], n, "{report}");
    emails
}

/// Creates a campaign to `list` and schedules it for now; returns its id.
async fn campaign_scheduled_now(app: &TestApp, list: &str) -> String {
    let body = json!({
        "name": "Resilience",
        "subject": SUBJECT,
        "body_markdown": "# Hello {{ subscriber.name }}\n\n[Leave]({{ unsubscribe_url }})",
        "lists": [list],
    });
    let response = app.api_post("/api/v1/campaigns", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let response = app
        .api_post(
            &format!("/api/v1/campaigns/{id}/schedule"),
            &json!({"send_at": null}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let scheduled: Value = response.json().await.unwrap();
    assert_eq!(scheduled["status"], "scheduled", "{scheduled}");
    id
}

/// The campaign as `GET /api/v1/campaigns/{id}` shows it.
async fn campaign(app: &TestApp, id: &str) -> Value {
    let response = app.api_get(&format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// A count of the campaign's rows as the API shows it.
fn count(campaign: &Value, status: &str) -> u64 {
    campaign["counts"][status]
        .as_u64()
        .unwrap_or_else(|| panic!("no counts.{status} in {campaign}"))
}

/// Rows that are not final yet.
fn open(campaign: &Value) -> u64 {
    count(campaign, "queued") + count(campaign, "sending") + count(campaign, "deferred")
}

/// How many copies of the campaign each recipient got so far.
fn copies_per_recipient(app: &TestApp) -> HashMap<String, usize> {
    let mut copies = HashMap::new();
    for mail in app
        .smtp
        .messages()
        .iter()
        .filter(|m| m.subject() == SUBJECT)
    {
        assert_eq!(mail.rcpt_to.len(), 1, "one recipient per message");
        *copies.entry(mail.rcpt_to[0].clone()).or_default() += 1;
    }
    copies
}

/// Messages of the campaign received so far (cheaper than parsing every subject: the
/// harness server sends nothing, and the import sends no e-mail).
fn received(app: &TestApp) -> usize {
    app.smtp.messages().len()
}

/// The test listener's answer to the end of `DATA`: it records the message before sending it.
const ACCEPTED: &[u8] = b"250 2.0.0 OK: queued";

/// A relay in front of the test SMTP listener that holds back each acceptance of a message
/// by `delay`. Meanwhile the message is recorded but its sender has not heard so: the
/// window in which a kill makes a duplicate. Without it the kill mostly lands between two
/// batches, and the test would prove nothing about messages in flight.
struct SlowRelay {
    url: String,
    accept: JoinHandle<()>,
}

impl SlowRelay {
    async fn start(target_port: u16, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, target_port, delay));
            }
        });
        Self { url, accept }
    }
}

impl Drop for SlowRelay {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Copies one connection both ways; a closed side closes the other, so the listener sees
/// a killed sender hang up (and drops a message cut off mid-`DATA`).
async fn relay(client: TcpStream, target_port: u16, delay: Duration) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let upstream = async {
        let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
        let _ = to_server.shutdown().await;
    };
    let downstream = async {
        let mut buf = vec![0; 4096];
        while let Ok(n @ 1..) = from_server.read(&mut buf).await {
            if buf[..n].starts_with(ACCEPTED) {
                tokio::time::sleep(delay).await;
            }
            if to_client.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = to_client.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}

/// Delivery settings of the child servers.
const CONCURRENCY: usize = 4;
const BATCH_SIZE: usize = 10;

/// A `bulletin serve` child process on the test's database and SMTP listener. Dropping it
/// kills it (SIGKILL), so a failing test leaves no server behind.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(app: &TestApp, smtp_url: &str, dir: &Path, name: &str) -> Self {
        let settings = &app.app.context().settings;
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_bulletin"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("BULLETIN") {
                command.env_remove(key);
            }
        }
        command
            .arg("serve")
            .current_dir(dir)
            // Capturing anyhow's backtrace on the error path takes longer than the rest of the run.
            .env("RUST_LIB_BACKTRACE", "0")
            .env("BULLETIN__DATABASE__URL", &app.database_url)
            .env("BULLETIN__HTTP__BIND", "127.0.0.1:0")
            .env("BULLETIN__HTTP__PUBLIC_URL", &app.base)
            // The signing and address-hash keys live there: links match the harness server's.
            .env("BULLETIN__DATA__DIR", &settings.data_dir)
            .env(
                "BULLETIN__MAIL__TEMPLATES_DIR",
                &settings.mail.templates_dir,
            )
            .env("BULLETIN__MAIL__TRANSPORT", "smtp")
            .env("BULLETIN__MAIL__SMTP_URL", smtp_url)
            .env("BULLETIN__DELIVERY__CONCURRENCY", CONCURRENCY.to_string())
            .env("BULLETIN__DELIVERY__BATCH_SIZE", BATCH_SIZE.to_string())
            // Rows claimed by a killed server are taken over soon after the restart. The
            // lease must outlast a whole send (4 × the SMTP timeout).
            .env("BULLETIN__MAIL__SMTP_TIMEOUT_SECS", "1")
            .env("BULLETIN__DELIVERY__LEASE_SECS", "5")
            .env("BULLETIN__DELIVERY__POLL_INTERVAL_MS", "50")
            .env("BULLETIN__SCHEDULER__START_CAMPAIGNS_CRON", "*/1 * * * * *")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        let child = command.spawn().unwrap();
        Self { child, log }
    }

    /// SIGKILL (on Unix), then reap.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Panics with the end of the log if the server is no longer running.
    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("the server exited early ({status}):\n{}", self.log_tail());
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_campaign_loses_nothing_and_duplicates_at_most_the_messages_in_flight()
 {
    const N: usize = 300;
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let emails = import_confirmed(&app, "weekly", N).await;
    let id = campaign_scheduled_now(&app, "weekly").await;
    let dir = tempfile::tempdir().unwrap();
    let relay = SlowRelay::start(app.smtp.port(), Duration::from_millis(20)).await;

    let mut first = Server::start(&app, &relay.url, dir.path(), "first");
    // Kill in the middle of a batch, when every lane is busy, not at its tail.
    let kill_at = N / 3 + BATCH_SIZE / 2;
    let deadline = Instant::now() + Duration::from_secs(15);
    while received(&app) < kill_at {
        first.assert_running();
        assert!(
            Instant::now() < deadline,
            "the first server sent {} of {N} messages in 15 s:\n{}",
            received(&app),
            first.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill();

    let at_kill = campaign(&app, &id).await;
    assert_eq!(
        count(&at_kill, "total"),
        N as u64,
        "fanned out before the kill: {at_kill}"
    );
    let before_restart = received(&app);
    assert!(
        before_restart < N,
        "the kill landed mid-campaign: {before_restart} of {N} messages were out"
    );
    assert_eq!(
        at_kill["status"], "sending",
        "not sent while rows are open: {at_kill}"
    );
    assert!(open(&at_kill) > 0, "{at_kill}");
    let in_flight = count(&at_kill, "sending");

    let mut second = Server::start(&app, &app.smtp.url(), dir.path(), "second");
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        second.assert_running();
        let now = campaign(&app, &id).await;
        if now["status"] == "sent" {
            break now;
        }
        assert_eq!(now["status"], "sending", "{now}");
        if Instant::now() >= deadline {
            // A kill during a run of the `campaigns` job leaves its job lease behind, and no
            // run is recorded after the restart until it lapses; the worker marks the campaign
            // sent itself once its rows are final.
            let jobs: Value = app
                .api_get("/api/v1/jobs?job=campaigns&limit=1")
                .await
                .json()
                .await
                .unwrap();
            panic!(
                "the campaign is not sent 30 s after the restart: {now}\nlast job run: {}\n{}",
                jobs["runs"][0],
                second.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(open(&done), 0, "sent only once every row is final: {done}");
    assert_eq!(count(&done, "sent"), N as u64, "{done}");

    let copies = copies_per_recipient(&app);
    let missing: Vec<&String> = emails.iter().filter(|e| !copies.contains_key(*e)).collect();
    assert!(
        missing.is_empty(),
        "{} recipients got nothing: {missing:?}",
        missing.len()
    );
    assert_eq!(copies.len(), N, "nobody else got the campaign");
    // Only a row the killed server had claimed but not recorded can go out twice: after
    // the restart its lapsed lease frees it. The worker sends over `concurrency` lanes, and
    // a lane starts its next send only once the outcome of its previous one is written, so
    // at most `concurrency` messages can have reached the relay without their row being
    // recorded (the slow relay makes that the usual case at the kill). The rest of the
    // claimed rows (the batch being sent and the next one, claimed meanwhile) were not sent
    // yet and go out once, after the restart. The restarted server adds no duplicates of
    // its own: it is the only worker left, and its claims are sent long before their lease
    // lapses.
    let duplicates: usize = copies.values().map(|n| n - 1).sum();
    assert!(
        duplicates <= CONCURRENCY && duplicates as u64 <= in_flight,
        "{duplicates} duplicates; at most the {CONCURRENCY} messages in flight at the kill \
         ({in_flight} rows were claimed and open)"
    );
    assert!(
        in_flight <= 2 * BATCH_SIZE as u64,
        "a claim takes at most delivery.batch_size rows, and the next batch is claimed while \
         one is sent, so the kill leaves at most two batches open: {at_kill}"
    );
}

/// A second server on the same database and SMTP listener as `app`, with its own pool and
/// state (like `restart` in `keys.rs`); its worker and scheduler are off too.
async fn second_instance(app: &TestApp) -> App {
    instance_with(app, |_| {}).await
}

/// A second server on the same database as `app`, with changed settings.
async fn instance_with(app: &TestApp, change: impl FnOnce(&mut bulletin::config::Settings)) -> App {
    let mut settings = (*app.app.context().settings).clone();
    change(&mut settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    settings.http.public_url = format!("http://{}", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    App::build_on(listener, settings, app.clock.clone())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_a_campaign_without_sending_anything_twice() {
    const N: usize = 200;
    const BATCH: u32 = 5;
    let app = TestApp::spawn_with(|s| s.delivery.batch_size = BATCH).await;
    app.create_list("weekly").await;
    let emails = import_confirmed(&app, "weekly", N).await;
    let id = campaign_scheduled_now(&app, "weekly").await;
    assert_eq!(
        app.run_job("campaigns").await.report["recipients_written"],
        N
    );
    let other = second_instance(&app).await;

    // Claims are short single statements and sending happens outside them, so while one
    // instance sends a batch the other claims the next, on SQLite (one writer) as well.
    let (a, b) = (app.app.engine().clone(), other.engine().clone());
    let a = tokio::spawn(async move { delivery::drain(&a).await });
    let b = tokio::spawn(async move { delivery::drain(&b).await });
    // Each instance holds at most two claimed batches: the one it sends and the next.
    let mut most_claimed = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(a.is_finished() && b.is_finished()) {
        assert!(Instant::now() < deadline, "the drains took over 10 s");
        most_claimed = most_claimed.max(count(&campaign(&app, &id).await, "sending"));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (a, b) = tokio::join!(a, b);
    let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());

    let copies = copies_per_recipient(&app);
    let missing: Vec<&String> = emails.iter().filter(|e| !copies.contains_key(*e)).collect();
    assert!(
        missing.is_empty(),
        "{} recipients got nothing: {missing:?}",
        missing.len()
    );
    let twice: Vec<(&String, &usize)> = copies.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(copies.len(), N);
    assert_eq!(a.sent + b.sent, N, "{a:?} {b:?}");
    assert!(
        a.sent > 0 && b.sent > 0,
        "both instances did part of the work: {a:?} {b:?}"
    );
    assert!(
        most_claimed <= 4 * u64::from(BATCH),
        "{most_claimed} rows were claimed at once; a claim takes at most delivery.batch_size, \
         and each instance holds at most the batch it sends and the next"
    );

    assert_eq!(app.run_job("campaigns").await.report["finished"], 1);
    let done = campaign(&app, &id).await;
    assert_eq!(done["status"], "sent", "{done}");
    assert_eq!(count(&done, "sent"), N as u64, "{done}");
    other.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_while_a_batch_is_sent_gives_back_the_batch_claimed_meanwhile() {
    const N: usize = 12;
    const BATCH: u32 = 4;
    let app = TestApp::spawn_with(|s| s.delivery.batch_size = BATCH).await;
    app.create_list("weekly").await;
    let emails = import_confirmed(&app, "weekly", N).await;
    let id = campaign_scheduled_now(&app, "weekly").await;
    app.run_job("campaigns").await;
    let relay = SlowRelay::start(app.smtp.port(), Duration::from_millis(400)).await;
    let url = relay.url.clone();
    let sender = instance_with(&app, move |s| {
        s.mail.transport = bulletin::config::MailTransportSettings::Smtp {
            url: secrecy::SecretString::from(url),
            pool_max: 8,
            timeout: Duration::from_secs(10),
        };
    })
    .await;
    let state = sender.engine().clone();
    let drain = tokio::spawn(async move { delivery::drain(&state).await });

    // The relay holds the first batch up; meanwhile the next one is claimed. Pause then.
    let deadline = Instant::now() + Duration::from_secs(5);
    while count(&campaign(&app, &id).await, "sending") < 2 * u64::from(BATCH) {
        assert!(Instant::now() < deadline, "the next batch was not claimed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let paused = app
        .api_post(&format!("/api/v1/campaigns/{id}/pause"), &json!({}))
        .await;
    assert_eq!(paused.status(), StatusCode::OK);
    let report = drain.await.unwrap().unwrap();
    assert_eq!(
        report.sent, BATCH as usize,
        "only the batch already on its way goes out: {report:?}"
    );
    let held = campaign(&app, &id).await;
    assert_eq!(
        count(&held, "sending"),
        0,
        "the claimed batch is given back: {held}"
    );
    assert_eq!(count(&held, "sent"), u64::from(BATCH), "{held}");

    let resumed = app
        .api_post(&format!("/api/v1/campaigns/{id}/resume"), &json!({}))
        .await;
    assert_eq!(resumed.status(), StatusCode::ACCEPTED);
    assert_eq!(app.deliver_all().await.sent, N - BATCH as usize);
    let copies = copies_per_recipient(&app);
    assert_eq!(copies.len(), N);
    assert!(
        emails.iter().all(|e| copies.get(e) == Some(&1)),
        "{copies:?}"
    );
}
