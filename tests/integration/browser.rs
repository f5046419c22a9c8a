//! End to end in headless Chromium (WebDriver via chromedriver): a marketer logs in, creates
//! a list; a person signs up on the public page and confirms from the e-mail; the marketer
//! composes and schedules a campaign, sees it delivered on the dashboard; the person
//! unsubscribes from the received e-mail. Screenshots go to `target/screenshots/`.
//! Skips (with a message) when `chromium` or `chromedriver` is not installed.

use std::{path::PathBuf, process::Stdio, time::Duration};

use bulletin::domain::Role;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::{
    admin::create_user,
    support::{TestApp, link, list_unsubscribe_url},
};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: tokio::process::Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start_driver() -> Option<(Driver, Client)> {
    if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists() {
        eprintln!(
            "SKIPPED browser test: {CHROMIUM} or {CHROMEDRIVER} is missing \
             (apt-get install chromium chromium-driver; .ci/run installs them)"
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver {
        child,
        url,
        _profile: profile,
    };
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ]
        }
    });
    let caps = caps.as_object().unwrap().clone();
    // chromedriver needs a moment to listen: bounded retries.
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&driver.url)
            .await
        {
            Ok(client) => return Some((driver, client)),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("chromedriver did not accept a session");
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

async fn fill(c: &Client, css: &str, text: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The page's text once it contains `needle` (a click starts a navigation that the
/// WebDriver does not wait for; bounded polling, 10 s at most).
async fn wait_for_text(c: &Client, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        if let Ok(body) = c.find(Locator::Css("body")).await
            && let Ok(text) = body.text().await
        {
            if text.contains(needle) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never showed {needle:?}; it shows:\n{last}");
}

/// Waits (bounded) until the API shows `email`'s subscription to `list` in `status`.
async fn wait_for_status(app: &TestApp, email: &str, list: &str, status: &str) {
    for _ in 0..200 {
        if app.subscription_status(email, list).await.as_deref() == Some(status) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{email} never became {status} on {list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marketer_runs_a_campaign_end_to_end_in_a_real_browser() {
    let Some((_driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn().await;
    create_user(&app, "marketer@staff.example.com", Role::Marketer).await;

    // Log in.
    c.goto(&app.url("/admin/login")).await.unwrap();
    shot(&c, "01-login").await;
    fill(&c, "#email", "marketer@staff.example.com").await;
    fill(&c, "#password", "correct horse battery staple").await;
    click(&c, "button[type=submit]").await;
    wait_for_text(&c, "Subscribers per list").await;

    // Create a list.
    c.goto(&app.url("/admin/lists")).await.unwrap();
    fill(&c, "#name", "Weekly News").await;
    fill(&c, "#slug", "weekly").await;
    click(&c, "form[action='/admin/lists'] button[type=submit]").await;
    wait_for_text(&c, "weekly").await;
    shot(&c, "02-lists").await;

    // A person signs up on the public page and confirms from the e-mail.
    c.goto(&app.url("/subscribe?list=weekly")).await.unwrap();
    fill(&c, "#email", "jane@example.com").await;
    fill(&c, "#name", "Jane").await;
    click(&c, "input[name=consent]").await;
    click(&c, "button[type=submit]").await;
    wait_for_text(&c, "check your inbox").await;
    let mail = app
        .deliver_and_take()
        .await
        .pop()
        .expect("a confirmation e-mail");
    c.goto(&link(&mail, "/confirm/")).await.unwrap();
    click(&c, "button[type=submit]").await;
    wait_for_status(&app, "jane@example.com", "weekly", "confirmed").await;

    // Compose, preview and schedule a campaign.
    c.goto(&app.url("/admin/campaigns/new")).await.unwrap();
    fill(&c, "#name", "November issue").await;
    fill(&c, "#subject", "Our November news").await;
    click(&c, "input[name=list][value=weekly]").await;
    fill(
        &c,
        "#body_markdown",
        "Hello {{ subscriber.name }},\n\n**Big news** this month.",
    )
    .await;
    shot(&c, "03-compose").await;
    click(&c, "form[action='/admin/campaigns'] button[type=submit]").await;
    wait_for_text(&c, "Send a test to").await;
    let campaign_url = c.current_url().await.unwrap().to_string();
    click(&c, "form[action$='/schedule'] button[type=submit]").await;
    wait_for_text(&c, "send at").await;
    shot(&c, "04-campaign-scheduled").await;

    // The scheduler starts it, the worker delivers it: the figures show it.
    app.run_job("campaigns").await;
    app.deliver_all().await;
    app.run_job("campaigns").await;
    c.goto(&campaign_url).await.unwrap();
    let sent = c
        .find(Locator::Css("#sent"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(sent, "1");
    shot(&c, "05-campaign-sent").await;
    c.goto(&app.url("/admin/")).await.unwrap();
    let dashboard = wait_for_text(&c, "November issue").await;
    assert!(dashboard.contains("Weekly News"));
    shot(&c, "06-dashboard").await;
    c.goto(&app.url("/admin/subscribers")).await.unwrap();
    shot(&c, "07-subscribers").await;

    // The person unsubscribes from the received e-mail.
    let news = app.smtp.take_messages().pop().expect("the campaign e-mail");
    assert_eq!(news.subject(), "Our November news");
    c.goto(&list_unsubscribe_url(&news)).await.unwrap();
    click(&c, "button[type=submit]").await;
    wait_for_status(&app, "jane@example.com", "weekly", "unsubscribed").await;
    let id = app.subscriber("jane@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.goto(&app.url(&format!("/admin/subscribers/{id}")))
        .await
        .unwrap();
    wait_for_text(&c, "unsubscribed").await;
    shot(&c, "08-subscriber").await;
    c.close().await.unwrap();
}
