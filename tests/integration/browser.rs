//! End to end in headless Chromium (WebDriver via chromedriver), at a desktop's width
//! (1280 px) and a phone's (390 px, where the navigation is behind "Menu"): a marketer logs
//! in, creates a list; a person signs up on the public page and confirms from the e-mail; the
//! marketer imports a few people from a CSV file, composes with the preview, reviews and
//! sends a campaign, watches it go out live, finds it sent, and edits a copy; the person
//! unsubscribes from the received e-mail. Every page of the walk must fit the width. And
//! every kind of mail, in English and German, fits a phone (375 px) and a desktop column
//! (600 px) without sideways scrolling.
//!
//! Screenshots go to `target/screenshots/`; with `BULLETIN_UPDATE_DOCS_SCREENSHOTS=1` the
//! ones `docs/admin.md` shows are also written to `docs/admin/` (never by default).
//! Skips (with a message) when `chromium` or `chromedriver` is not installed.

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use bulletin::domain::Role;
use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::json;

use crate::{
    admin::create_user,
    support::{TestApp, link, list_unsubscribe_url, smtp::ReceivedMail},
};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a wait for the browser gives up after: generous, for a loaded machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// chromedriver on a free port, stopped when dropped.
pub struct Driver {
    child: tokio::process::Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

pub async fn start_driver() -> Option<(Driver, Client)> {
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
                "--disable-dev-shm-usage", "--window-size=1280,1000", "--hide-scrollbars",
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

/// `docs/admin/`, when `BULLETIN_UPDATE_DOCS_SCREENSHOTS=1` asks for the screenshots of the
/// documentation to be written there; `None` otherwise: a test run leaves the sources alone.
fn docs_screenshot_dir() -> Option<PathBuf> {
    (std::env::var("BULLETIN_UPDATE_DOCS_SCREENSHOTS").as_deref() == Ok("1"))
        .then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/admin"))
}

/// Saves what the viewport shows as `target/screenshots/{name}.png`.
pub async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

pub async fn fill(c: &Client, css: &str, text: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The page's text once `done` holds for it (a click starts a navigation that the WebDriver
/// does not wait for, and a page may reload itself; bounded polling); `what` names the
/// condition when it never holds.
pub async fn wait_until(c: &Client, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + PATIENCE;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(body) = c.find(Locator::Css("body")).await
            && let Ok(text) = body.text().await
        {
            if done(&text) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never showed {what}; it shows:\n{last}");
}

/// The page's text once it contains `needle` (bounded polling).
pub async fn wait_for_text(c: &Client, needle: &str) -> String {
    wait_until(c, &format!("{needle:?}"), |text| text.contains(needle)).await
}

/// The first element matching `css` once there is one (bounded polling).
pub async fn wait_for_element(c: &Client, css: &str) -> Element {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if let Ok(element) = c.find(Locator::Css(css)).await {
            return element;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never had an element {css:?}");
}

/// The text of the element `css` once the page has it (it may reload meanwhile).
async fn text_of(c: &Client, css: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if let Ok(element) = c.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never had an element {css:?}");
}

/// Waits (bounded) until the browser is at `path` (and optionally `query`) and has loaded it.
async fn wait_for_path(c: &Client, path: &str) {
    let deadline = Instant::now() + PATIENCE;
    let mut at = String::new();
    while Instant::now() < deadline {
        if let Ok(url) = c.current_url().await {
            at = url.to_string();
            let loaded = c.execute("return document.readyState", vec![]).await;
            if url.path() == path && loaded.is_ok_and(|state| state == "complete") {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the browser never got to {path}; it is at {at}");
}

/// The text of the page's first frame once it contains `needle` (bounded polling).
pub async fn wait_for_frame_text(c: &Client, needle: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    let mut last = String::new();
    while Instant::now() < deadline {
        if c.enter_frame(0).await.is_ok() {
            if let Ok(body) = c.find(Locator::Css("body")).await
                && let Ok(text) = body.text().await
            {
                last = text;
            }
            c.enter_parent_frame().await.unwrap();
            if last.contains(needle) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the frame never showed {needle:?}; it shows:\n{last}");
}

/// How many CSS pixels wider than the viewport the page is (0 or less: it fits). Retried
/// while a page that reloads itself is between two loads.
pub async fn overflow(c: &Client) -> i64 {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        let measured = c
            .execute(
                "return document.readyState === 'complete' \
                   ? document.documentElement.scrollWidth - window.innerWidth : null",
                vec![],
            )
            .await;
        if let Ok(Some(overflow)) = measured.as_ref().map(serde_json::Value::as_i64) {
            return overflow;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page's width could not be measured");
}

/// Waits (bounded) until the API shows `email`'s subscription to `list` in `status`.
async fn wait_for_status(app: &TestApp, email: &str, list: &str, status: &str) {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if app.subscription_status(email, list).await.as_deref() == Some(status) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{email} never became {status} on {list}");
}

/// A desktop's viewport: the documentation's screenshots are this wide.
const DESKTOP: (u32, u32) = (1280, 900);
/// A phone's viewport.
const PHONE: (u32, u32) = (390, 844);
/// Below this width the admin navigation is behind "Menu" (`admin.css`).
const NARROW_BELOW: u32 = 900;

/// Three people for the import, with the consent evidence a consent list asks for.
const PEOPLE_CSV: &str = "email,name,locale,consent_at,consent_source,consent_text\n\
ada@example.com,Ada Lovelace,en,2025-05-01T08:30:00Z,trade fair Munich,Yes please send me the news\n\
max@example.com,Max Mustermann,de,2025-05-02T10:00:00Z,trade fair Munich,Ja bitte\n\
lin@example.com,Lin Chen,en,2025-05-03T14:15:00Z,shop checkout,Yes please send me the news\n";

/// One walk through the admin UI in one browser at one viewport size: takes the
/// screenshots and notes every page wider than the viewport.
struct Walk<'a> {
    c: &'a Client,
    width: u32,
    too_wide: Vec<String>,
}

impl Walk<'_> {
    fn narrow(&self) -> bool {
        self.width < NARROW_BELOW
    }

    /// Notes the page (named `page`) if it is wider than the viewport.
    async fn fits(&mut self, page: &str) {
        let overflow = overflow(self.c).await;
        if overflow > 0 {
            self.too_wide.push(format!(
                "{page} at {} px is {overflow} px wider than the screen",
                self.width
            ));
        }
    }

    /// Checks that the page fits and saves its screenshot as `{name}-{width}`; with
    /// `in_docs`, and `BULLETIN_UPDATE_DOCS_SCREENSHOTS=1`, also as `docs/admin/{name}.png`.
    async fn page(&mut self, name: &str, in_docs: bool) {
        self.fits(name).await;
        let png = self.c.screenshot().await.unwrap();
        let file = format!("{name}-{}.png", self.width);
        std::fs::write(screenshot_dir().join(file), &png).unwrap();
        if in_docs && let Some(dir) = docs_screenshot_dir() {
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        }
    }

    /// Follows the main navigation's link to `href`: on a phone, behind "Menu".
    async fn navigate(&self, href: &str) {
        if self.narrow() {
            self.open_menu().await;
            click(
                self.c,
                &format!("header.top details.narrow nav a[href='{href}']"),
            )
            .await;
        } else {
            click(self.c, &format!("header.top nav.wide a[href='{href}']")).await;
        }
        wait_for_path(self.c, href).await;
    }

    /// Opens the phone's "Menu" (a `details` element, no script).
    async fn open_menu(&self) {
        let details = wait_for_element(self.c, "header.top details.narrow").await;
        assert!(
            details.is_displayed().await.unwrap(),
            "at {} px the navigation is behind Menu",
            self.width
        );
        if details.attr("open").await.unwrap().is_none() {
            click(self.c, "header.top details.narrow summary").await;
        }
        let link = wait_for_element(self.c, "header.top details.narrow nav a").await;
        assert!(link.is_displayed().await.unwrap(), "the menu opened");
    }
}

/// Sets the window so that the page's viewport is `width` CSS pixels wide and, as far as the
/// screen allows, `height` high.
pub async fn set_viewport(c: &Client, width: u32, height: u32) {
    let (mut window_width, mut window_height) = (width, height);
    for _ in 0..3 {
        c.set_window_size(window_width, window_height)
            .await
            .unwrap();
        let inner = c
            .execute("return [window.innerWidth, window.innerHeight]", vec![])
            .await
            .unwrap();
        let inner_width = u32::try_from(inner[0].as_u64().unwrap()).unwrap();
        let inner_height = u32::try_from(inner[1].as_u64().unwrap()).unwrap();
        if inner_width == width && (inner_height == height || window_height > height) {
            return;
        }
        // The window's frame, if any, takes the difference.
        window_width = (window_width + width).checked_sub(inner_width).unwrap();
        window_height = (window_height + height).saturating_sub(inner_height);
    }
    let inner = c.execute("return window.innerWidth", vec![]).await.unwrap();
    assert_eq!(
        inner.as_u64(),
        Some(u64::from(width)),
        "could not make the viewport {width} px wide"
    );
}

/// Sets the window so that the page's viewport (`innerWidth`) is `width` CSS pixels wide
/// (and 2,000 px high, so that a screenshot shows most of a page).
pub async fn set_viewport_width(c: &Client, width: u32) {
    set_viewport(c, width, 2000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marketer_runs_a_campaign_end_to_end_in_a_real_browser_at_desktop_width() {
    marketers_walk(DESKTOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marketer_runs_a_campaign_end_to_end_in_a_real_browser_at_phone_width() {
    marketers_walk(PHONE).await;
}

/// The marketer's walk in a browser whose viewport is `width` × `height`.
#[allow(clippy::too_many_lines)] // One story, told in order.
async fn marketers_walk((width, height): (u32, u32)) {
    let Some((_driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn().await;
    create_user(&app, "marketer@staff.example.com", Role::Marketer).await;
    set_viewport(&c, width, height).await;
    let mut w = Walk {
        c: &c,
        width,
        too_wide: Vec::new(),
    };
    let desktop = !w.narrow();

    // Log in.
    c.goto(&app.url("/admin/login")).await.unwrap();
    w.page("01-login", desktop).await;
    fill(&c, "#email", "marketer@staff.example.com").await;
    fill(&c, "#password", "correct horse battery staple").await;
    click(&c, "button[type=submit]").await;
    wait_for_text(&c, "Subscribers per list").await;
    w.fits("dashboard, empty").await;

    // Create a list; on a phone, through the menu.
    if w.narrow() {
        w.open_menu().await;
        w.page("11-phone-menu", true).await;
    }
    w.navigate("/admin/lists").await;
    fill(&c, "#name", "Weekly News").await;
    fill(&c, "#slug", "weekly").await;
    click(&c, "form[action='/admin/lists'] button[type=submit]").await;
    wait_for_text(&c, "weekly").await;
    w.page("02-lists", false).await;

    // A person signs up on the public page and confirms from the e-mail.
    c.goto(&app.url("/subscribe?list=weekly")).await.unwrap();
    w.fits("subscribe").await;
    fill(&c, "#email", "jane@example.com").await;
    fill(&c, "#name", "Jane").await;
    click(&c, "input[name=consent]").await;
    click(&c, "button[type=submit]").await;
    wait_for_text(&c, "check your inbox").await;
    w.fits("subscribe, answered").await;
    let mail = app
        .deliver_and_take()
        .await
        .pop()
        .expect("a confirmation e-mail");
    c.goto(&link(&mail, "/confirm/")).await.unwrap();
    w.fits("confirm").await;
    click(&c, "button[type=submit]").await;
    wait_for_status(&app, "jane@example.com", "weekly", "confirmed").await;
    w.fits("confirm, answered").await;

    // Three more people come from a CSV file: upload, preview, import, the report.
    let files = tempfile::tempdir().unwrap();
    let csv = files.path().join("trade-fair.csv");
    std::fs::write(&csv, PEOPLE_CSV).unwrap();
    c.goto(&app.url("/admin/")).await.unwrap();
    w.navigate("/admin/import").await;
    w.fits("import").await;
    c.find(Locator::Css("#list"))
        .await
        .unwrap()
        .select_by_value("weekly")
        .await
        .unwrap();
    c.find(Locator::Css("#file"))
        .await
        .unwrap()
        .send_keys(&csv.display().to_string())
        .await
        .unwrap();
    click(
        &c,
        "form[enctype='multipart/form-data'] button[type=submit]",
    )
    .await;
    let preview = wait_for_text(&c, "First rows").await;
    assert!(preview.contains("max@example.com"), "{preview}");
    w.page("import-preview", false).await;
    click(&c, "form[action$='/run'] button[type=submit]").await;
    // The progress page reloads itself until the report is there.
    assert_eq!(text_of(&c, "#imported").await, "3");
    assert_eq!(text_of(&c, "#skipped").await, "0");
    w.page("09-import", desktop).await;

    // Compose with the preview of the unsaved text beside it, save, review and send.
    w.navigate("/admin/campaigns").await;
    click(&c, "main a[href='/admin/campaigns/new']").await;
    wait_for_path(&c, "/admin/campaigns/new").await;
    fill(&c, "#name", "November issue").await;
    fill(&c, "#subject", "Our November news").await;
    click(&c, "input[name=list][value=weekly]").await;
    fill(
        &c,
        "#body_markdown",
        "Hello {{ subscriber.name }},\n\n**Big news** this month.",
    )
    .await;
    click(&c, "button[formaction='/admin/campaigns/preview-draft']").await;
    wait_for_frame_text(&c, "Big news").await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/admin/campaigns/new"),
        "the preview leaves the composer where it is"
    );
    w.page("03-compose", desktop).await;
    click(
        &c,
        "form[action='/admin/campaigns'] button[type=submit]:not([formaction])",
    )
    .await;
    wait_for_text(&c, "The draft is saved").await;
    w.fits("campaign, draft").await;
    let campaign_url = c.current_url().await.unwrap().to_string();
    let campaign_path = c.current_url().await.unwrap().path().to_owned();
    click(&c, "a[href$='/review']").await;
    wait_for_path(&c, &format!("{campaign_path}/review")).await;
    let audience = text_of(&c, "#audience-total").await;
    assert!(
        audience.starts_with("4 "),
        "Jane and the three imported: {audience}"
    );
    w.page("04-review", desktop).await;
    click(&c, "form[action$='/schedule'] button[type=submit]").await;
    wait_for_text(&c, "Sending now").await;
    w.fits("campaign, sending now").await;

    // The scheduler starts it. Its page offers to watch it go out, and reloads itself when
    // asked: the pace shows as the relay accepts messages (and defers one).
    app.run_job("campaigns").await;
    c.goto(&campaign_url).await.unwrap();
    wait_for_text(&c, "Watch it live").await;
    click(&c, "a[href$='?watch=1']").await;
    wait_for_text(&c, "Stop reloading").await;
    // How the send goes: its pace while it sends, or that it is sent (a send may well end
    // before the page is read).
    wait_for_element(&c, "p.pace, span.status.sent").await;
    app.advance(chrono::Duration::seconds(60));
    app.smtp.fail_next_rcpt(1, "451 4.3.0 Try again later");
    let report = app.deliver_all().await;
    assert_eq!((report.sent, report.deferred), (3, 1));
    // No click: the page reloads itself.
    wait_for_text(&c, "messages/min").await;
    w.page("10-watch", desktop).await;
    app.advance(chrono::Duration::minutes(5));
    assert_eq!(app.deliver_all().await.sent, 1);
    app.run_job("campaigns").await;
    wait_for_element(&c, "span.status.sent").await;
    w.fits("campaign, watched until sent").await;

    // The figures show it sent.
    c.goto(&campaign_url).await.unwrap();
    assert_eq!(text_of(&c, "#sent").await, "4");
    w.page("05-campaign-sent", desktop).await;

    // The next issue starts as a copy of this one, edited in the composer.
    click(&c, "form[action$='/duplicate'] button[type=submit]").await;
    wait_for_text(&c, "Copied into a new draft").await;
    w.fits("campaign copy, composer").await;
    fill(&c, "#subject", "Our December news").await;
    click(
        &c,
        "form[action$='/edit'] button[type=submit]:not([formaction])",
    )
    .await;
    wait_for_text(&c, "The changes are saved").await;
    w.fits("campaign copy, saved").await;
    w.navigate("/admin/").await;
    let dashboard = wait_for_text(&c, "November issue").await;
    assert!(dashboard.contains("Weekly News"));
    w.page("06-dashboard", desktop).await;
    w.navigate("/admin/subscribers").await;
    wait_for_text(&c, "lin@example.com").await;
    w.page("07-subscribers", false).await;

    // The person unsubscribes from the received e-mail.
    let news = mail_to(&app.smtp.take_messages(), "jane@example.com");
    assert_eq!(news.subject(), "Our November news");
    c.goto(&list_unsubscribe_url(&news)).await.unwrap();
    w.fits("unsubscribe").await;
    click(&c, "button[type=submit]").await;
    wait_for_status(&app, "jane@example.com", "weekly", "unsubscribed").await;
    w.fits("unsubscribe, answered").await;
    let id = app.subscriber("jane@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.goto(&app.url(&format!("/admin/subscribers/{id}")))
        .await
        .unwrap();
    wait_for_text(&c, "unsubscribed").await;
    w.page("08-subscriber", desktop).await;
    let too_wide = std::mem::take(&mut w.too_wide);
    c.close().await.unwrap();
    assert!(too_wide.is_empty(), "wider than the screen: {too_wide:#?}");
}

/// A Markdown body that tries every way a campaign can outgrow a phone: a long paragraph,
/// long unbroken URLs (bare, autolinked, as a link), a remote image, an image 1200 px wide,
/// a table, inline code and a code block with a long line.
const WIDE_MARKDOWN: &str = "# Our November news, with a heading long enough to wrap on a phone\n\n\
Hello {{ subscriber.name }}, this month brings a long paragraph that has to wrap nicely on a \
small screen and on a large one alike, without sideways scrolling, because nobody reads a \
newsletter that they have to pan across like a map. It goes on for a while to be sure.\n\n\
Bare: https://example.com/a/very/long/unbroken/path/that/never/ends/and/keeps/going/on/and/on/without/any/break?query=parameters&and=more\n\n\
Autolink: <https://example.com/another/very/long/unbroken/path/that/never/ends/and/keeps/going/on/and/on>\n\n\
[A link whose text is a long word: Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen](https://example.com/x)\n\n\
![x](https://example.com/wide.png)\n\n\
![a wide picture](data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%20width%3D%221200%22%20height%3D%22300%22%3E%3Crect%20width%3D%221200%22%20height%3D%22300%22%20fill%3D%22%2393c5fd%22%2F%3E%3C%2Fsvg%3E)\n\n\
| Part number | Description | Replacement | Notes |\n\
|---|---|---|---|\n\
| LM317-XYZ-1234567890 | Adjustable regulator, long description | LM317-ABC-0987654321 | https://example.com/datasheets/lm317-abc-0987654321.pdf |\n\n\
Call `configure_the_frobnicator_with_a_very_long_identifier_name_that_does_not_break()` first.\n\n\
```\nbulletin --config /etc/bulletin/production.toml serve --and-a-very-long-argument-list-that-goes-on-and-on\n```\n";

/// Signs `email` up for `list` in `language` (its `Accept-Language`).
async fn sign_up_in(app: &TestApp, email: &str, list: &str, language: &str) {
    let r = app
        .http
        .post(app.url("/subscribe"))
        .header("accept-language", language)
        .form(&[
            ("email", email),
            ("name", "Jane Doe"),
            ("list", list),
            ("consent", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
}

/// The one mail delivered to `address` among `mails`.
fn mail_to(mails: &[ReceivedMail], address: &str) -> ReceivedMail {
    mails
        .iter()
        .find(|m| m.rcpt_to == [address.to_owned()])
        .unwrap_or_else(|| panic!("a mail to {address}"))
        .clone()
}

/// The newsletter mails of one person in `language`: confirmation, welcome, privacy link and
/// address change (the campaign comes later, to everybody at once).
async fn newsletter_mails(app: &TestApp, language: &str) -> Vec<(String, ReceivedMail)> {
    let email = format!("reader.{language}@example.com");
    sign_up_in(app, &email, "weekly", language).await;
    let confirmation = mail_to(&app.deliver_and_take().await, &email);
    app.post_form(&link(&confirmation, "/confirm/"), &[]).await;
    let welcome = mail_to(&app.deliver_and_take().await, &email);
    app.post_form("/privacy", &[("email", &email)]).await;
    let privacy = mail_to(&app.deliver_and_take().await, &email);
    let new = format!("reader.{language}.with.a.rather.long.new.address@example.com");
    let form = [("email", new.as_str())];
    app.post_form(&format!("{}/address", link(&privacy, "/privacy/")), &form)
        .await;
    let address = mail_to(&app.deliver_and_take().await, &new);
    [
        ("confirmation", confirmation),
        ("welcome", welcome),
        ("privacy_link", privacy),
        ("address_change", address),
    ]
    .into_iter()
    .map(|(kind, mail)| (format!("{kind}-{language}"), mail))
    .collect()
}

/// Creates and sends a notice; returns the mails delivered, by recipient.
async fn notice_mails(app: &TestApp, notice: serde_json::Value) -> Vec<ReceivedMail> {
    let r = app.api_post("/api/v1/notices", &notice).await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .api_post(&format!("/api/v1/notices/{id}/send"), &json!({}))
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::ACCEPTED);
    app.deliver_and_take().await
}

/// PCN (with an acknowledgement, and its reminder), PDN and Tech News, in English and German.
async fn product_notice_mails(app: &TestApp) -> Vec<(String, ReceivedMail)> {
    crate::customers::catalogue(app).await;
    for language in ["en", "de"] {
        let email = format!("buyer.{language}@example.com");
        crate::customers::customer(app, &email, &["LM317", "NE555"], language).await;
    }
    let today = app.clock.now().date_naive();
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
    let long = "Moulding compound Sumitomo EME-G700-LTD-REV-C-0123456789 replaces compound \
                Hitachi CEL-9240HF10-REV-B-9876543210 on every assembly line";
    let pcn = json!({
        "kind": "pcn", "title": "New mould compound for the LM317 family of regulators",
        "affected_parts": ["LM317", "NE555"], "change_category": "site",
        "description_before": "Assembly in plant A", "description_after": long,
        "reason": "Supplier change", "qualification_summary": "JEDEC JESD47 qualified",
        "impact": {"form": "none", "fit": "none", "function": "none", "quality": "none",
                   "reliability": "none"},
        "effective_date": day(120),
        "ack_deadline": (app.clock.now() + chrono::Duration::days(10)).to_rfc3339(),
    });
    let pdn = json!({
        "kind": "pdn", "title": "End of life of the NE555 in DIP-8", "affected_parts": ["NE555"],
        "reason": "Demand", "last_time_buy_date": day(180), "last_time_ship_date": day(360),
        "replacement_parts": ["LM317"],
    });
    let tech = json!({"kind": "tech_news", "title": "Release 2.1", "affected_parts": ["NE555"],
                      "summary": format!("New timer modes. {long}")});
    let mut kinds = Vec::new();
    for (kind, notice) in [("pcn", pcn), ("pdn", pdn), ("tech_news", tech)] {
        let mails = notice_mails(app, notice).await;
        kinds.push((kind, mails));
    }
    app.advance(chrono::Duration::days(4));
    app.run_job("notices").await;
    kinds.push(("pcn_reminder", app.deliver_and_take().await));
    let mut out = Vec::new();
    for (kind, mails) in kinds {
        for language in ["en", "de"] {
            let mail = mail_to(&mails, &format!("buyer.{language}@example.com"));
            out.push((format!("{kind}-{language}"), mail));
        }
    }
    out
}

/// One mail of every kind the server sends, each named `kind-language`.
async fn one_mail_of_each_kind(app: &TestApp) -> Vec<(String, ReceivedMail)> {
    app.create_list_with(json!({
        "slug": "weekly", "name": "Weekly News from the Research and Development Department",
        "kind": "newsletter", "legal_basis": "consent", "opt_in": "double",
        "welcome_message": "Welcome! Our archive: https://example.com/archive/of/every/issue/we/ever/sent/since/the/very/beginning/of/time"
    }))
    .await;
    let mut mails = newsletter_mails(app, "en").await;
    mails.extend(newsletter_mails(app, "de").await);
    let r = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "November", "subject": "Our November news",
                    "body_markdown": WIDE_MARKDOWN, "lists": ["weekly"]}),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let test = json!({"emails": ["qa@example.com"]});
    let r = app
        .api_post(&format!("/api/v1/campaigns/{id}/test"), &test)
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    mails.push((
        "test_send-en".to_owned(),
        mail_to(&app.smtp.take_messages(), "qa@example.com"),
    ));
    let now = json!({"send_at": null});
    app.api_post(&format!("/api/v1/campaigns/{id}/schedule"), &now)
        .await;
    app.run_job("campaigns").await;
    let sent = app.deliver_and_take().await;
    for language in ["en", "de"] {
        let reader = format!("reader.{language}@example.com");
        mails.push((format!("campaign-{language}"), mail_to(&sent, &reader)));
    }
    mails.extend(product_notice_mails(app).await);
    mails
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_mail_fits_a_phone_and_a_desktop_column() {
    let Some((_driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn_with(|s| {
        s.mail.postal_address = "ACME Research GmbH\nHauptstraße 1\n50667 Köln".to_owned();
    })
    .await;
    let mails = one_mail_of_each_kind(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let mut too_wide = Vec::new();
    for width in [375, 600] {
        set_viewport_width(&c, width).await;
        for (kind, mail) in &mails {
            let html = mail.html_body();
            let language = &kind[kind.len() - 2..];
            let lang = format!("<html lang=\"{language}\">");
            assert!(
                html.contains(&lang),
                "{kind} has an HTML part in its language"
            );
            let file = dir.path().join(format!("{kind}.html"));
            std::fs::write(&file, html).unwrap();
            c.goto(&format!("file://{}", file.display())).await.unwrap();
            let measured = c
                .execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth]",
                    vec![],
                )
                .await
                .unwrap();
            let (content, viewport) =
                (measured[0].as_u64().unwrap(), measured[1].as_u64().unwrap());
            eprintln!("{kind} at {width} px: content {content} px, viewport {viewport} px");
            if content > viewport {
                too_wide.push(format!("{kind} at {viewport} px is {content} px wide"));
            }
            shot(&c, &format!("mail-{kind}-{width}")).await;
        }
    }
    assert!(too_wide.is_empty(), "wider than the screen: {too_wide:#?}");
    c.close().await.unwrap();
}
