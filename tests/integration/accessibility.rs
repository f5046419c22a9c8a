//! Every admin and public page, checked in Chromium with axe-core at a desktop width (1280 px)
//! and a phone's (390 px): no critical or serious accessibility violation, and no page wider
//! than the screen. The admin pages are checked twice, for a user who reads English and for
//! one who reads German; they include the questions before bulk actions, the notice forms,
//! a send being watched and the import's pages (walked through in the browser: a refused
//! upload, previews, the check's and the import's reports). Screenshots go to
//! `target/screenshots/a11y-*.png`.
//!
//! axe-core is read from `target/axe/node_modules/axe-core/axe.min.js` (`.ci/run` installs it
//! with npm) or from `BULLETIN_AXE`; without it, or without Chromium, the test says SKIPPED
//! and passes.

use std::{path::PathBuf, time::Duration};

use bulletin::domain::Role;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::{
    admin::create_user,
    browser::{
        click, fill, overflow, set_viewport_width, shot, start_driver, wait_for_element,
        wait_for_text,
    },
    customers::{catalogue, customer},
    support::{TestApp, link, list_unsubscribe_url},
};

/// Where axe-core is, if it is installed.
fn axe_source() -> Option<String> {
    let path = std::env::var_os("BULLETIN_AXE").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/axe/node_modules/axe-core/axe.min.js")
        },
        PathBuf::from,
    );
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            eprintln!(
                "SKIPPED accessibility test: no axe-core at {} \
                 (npm install --prefix target/axe axe-core; .ci/run does)",
                path.display()
            );
            None
        }
    }
}

/// Runs axe on the page, without the rules named in `skip`: its critical and serious
/// violations, and how much wider than the viewport the page is. A page that reloads itself
/// may go away while axe runs: axe is then run again on the new load.
async fn check(c: &Client, axe: &str, skip: &[&str]) -> (Vec<Value>, i64) {
    let rules: serde_json::Map<String, Value> = skip
        .iter()
        .map(|rule| ((*rule).to_owned(), json!({"enabled": false})))
        .collect();
    let mut last = None;
    for _ in 0..5 {
        wait_until_loaded(c).await;
        if c.execute(&format!("{axe}\nreturn true;"), vec![])
            .await
            .is_err()
        {
            continue;
        }
        let found = c
            .execute_async(
                "const [rules, done] = arguments;
                 axe.run(document, {resultTypes: ['violations'], rules})
                   .then(r => done(r.violations
                     .filter(v => v.impact === 'critical' || v.impact === 'serious')
                     .map(v => ({id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
                   .catch(e => done([{id: 'axe-error', help: String(e)}]));",
                vec![Value::Object(rules.clone())],
            )
            .await;
        let Ok(found) = found else { continue };
        let found = found.as_array().cloned().unwrap_or_default();
        if found.iter().any(|v| v["id"] == "axe-error") {
            last = Some(found);
            continue;
        }
        return (found, overflow(c).await);
    }
    let found = last.unwrap_or_else(|| vec![json!({"id": "axe-error", "help": "axe never ran"})]);
    (found, overflow(c).await)
}

/// Waits (bounded) until the page has loaded.
async fn wait_until_loaded(c: &Client) {
    for _ in 0..600 {
        let state = c.execute("return document.readyState", vec![]).await;
        if state.is_ok_and(|s| s == "complete") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never finished loading");
}

/// Checks pages in the browser, noting every problem.
struct Checker<'a> {
    c: &'a Client,
    axe: String,
    problems: Vec<String>,
}

impl Checker<'_> {
    /// Opens `url` at each width and checks it.
    async fn visit(&mut self, name: &str, url: &str) {
        self.visit_skipping(name, url, &[]).await;
    }

    /// `visit`, without the axe rules in `skip`.
    async fn visit_skipping(&mut self, name: &str, url: &str, skip: &[&str]) {
        for width in WIDTHS {
            set_viewport_width(self.c, width).await;
            self.c.goto(url).await.unwrap();
            self.here(name, width, skip).await;
        }
    }

    /// Checks the page the browser shows, `width` px wide.
    async fn here(&mut self, name: &str, width: u32, skip: &[&str]) {
        let (violations, overflow) = check(self.c, &self.axe, skip).await;
        shot(self.c, &format!("a11y-{name}-{width}")).await;
        for v in violations {
            self.problems.push(format!("{name} at {width} px: {v}"));
        }
        if overflow > 0 {
            self.problems.push(format!(
                "{name} at {width} px: the page is {overflow} px wider than the screen"
            ));
        }
    }
}

/// A desktop's width and a phone's.
const WIDTHS: [u32; 2] = [1280, 390];

/// The public pages a person reaches from the mails, with a name for each.
async fn public_pages(app: &TestApp) -> Vec<(String, String)> {
    app.create_list("weekly").await;
    let mut pages = vec![
        ("subscribe".to_owned(), app.url("/subscribe?list=weekly")),
        ("privacy-request".to_owned(), app.url("/privacy")),
        ("privacy-notice".to_owned(), app.url("/privacy-notice")),
    ];
    app.sign_up("jane@example.com", "weekly").await;
    let confirmation = app.deliver_and_take().await.pop().unwrap();
    let confirm = link(&confirmation, "/confirm/");
    pages.push(("confirm".to_owned(), confirm.clone()));
    app.post_form(&confirm, &[]).await;
    app.deliver_and_take().await;
    let issue = app
        .start_campaign_with(json!({
            "name": "News", "subject": "News", "lists": ["weekly"], "archive": true,
            "body_markdown": "# News\n\nHello {{ subscriber.name }}, [read on](https://example.com).",
            "translations": {"de": {"subject": "Neues", "body_markdown": "Hallo"}}
        }))
        .await;
    let campaign = app.deliver_and_take().await.pop().unwrap();
    pages.push(("unsubscribe".to_owned(), list_unsubscribe_url(&campaign)));
    pages.push(("preferences".to_owned(), link(&campaign, "/preferences/")));
    // Delivered, the job finds it sent: it is in the public archive.
    app.run_job("campaigns").await;
    pages.push(("archive".to_owned(), app.url("/archive")));
    pages.push((
        "archive-issue".to_owned(),
        app.url(&format!("/archive/{issue}")),
    ));
    app.post_form("/privacy", &[("email", "jane@example.com")])
        .await;
    let privacy = app.deliver_and_take().await.pop().unwrap();
    pages.push(("privacy-data".to_owned(), link(&privacy, "/privacy/")));

    catalogue(app).await;
    customer(app, "buyer@example.com", &["LM317"], "en").await;
    let notice = pcn(app, "New mould compound");
    let created: Value = app
        .api_post("/api/v1/notices", &notice)
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    app.api_post(&format!("/api/v1/notices/{id}/send"), &json!({}))
        .await;
    let pcn = app.deliver_and_take().await.pop().unwrap();
    pages.push(("object".to_owned(), link(&pcn, "/object/")));
    pages.push(("acknowledge".to_owned(), link(&pcn, "/acknowledge/")));
    pages.push(("notice-archive".to_owned(), link(&pcn, "/notices/")));
    pages
}

/// A PCN for `LM317`, as the API takes it.
fn pcn(app: &TestApp, title: &str) -> Value {
    let today = app.clock.now().date_naive();
    json!({
        "kind": "pcn", "title": title, "affected_parts": ["LM317"],
        "change_category": "material", "description_before": "A", "description_after": "B",
        "reason": "Supplier change",
        "impact": {"form": "none", "fit": "none", "function": "none", "quality": "none",
                   "reliability": "none"},
        "effective_date": (today + chrono::Duration::days(120)).to_string(),
        "ack_deadline": (app.clock.now() + chrono::Duration::days(30)).to_rfc3339(),
    })
}

/// The id in an API answer.
async fn id_of(response: reqwest::Response) -> String {
    let created: Value = response.json().await.unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// The admin pages that answer a GET, each with a name: `(name, path)`, and the id of a
/// campaign that is sending. Makes what they show: a sent campaign, one sending, a draft, a
/// draft notice.
async fn admin_pages(app: &TestApp) -> (Vec<(String, String)>, String) {
    let subscriber = app.subscriber("jane@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The campaign of the public pages is delivered: the job finds it sent.
    app.run_job("campaigns").await;
    let campaigns: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    let sent = campaigns["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "sent")
        .expect("a sent campaign")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Started and never delivered: sending.
    let sending = app.start_campaign("weekly").await;
    let draft =
        json!({"name": "Draft", "subject": "Soon", "body_markdown": "Hello", "lists": ["weekly"]});
    let draft = id_of(app.api_post("/api/v1/campaigns", &draft).await).await;
    let notices: Value = app.api_get("/api/v1/notices").await.json().await.unwrap();
    let notice = notices["notices"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let draft_notice = app
        .api_post("/api/v1/notices", &pcn(app, "A draft notice"))
        .await;
    assert_eq!(draft_notice.status(), reqwest::StatusCode::CREATED);
    let draft_notice = id_of(draft_notice).await;
    let lists: Value = app.api_get("/api/v1/lists").await.json().await.unwrap();
    let list = lists["lists"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let segment = crate::admin_segments::example_segment(app).await;
    crate::admin_transactional::example_template(app).await;
    // Jane, confirmed on the list: the questions show their forms and buttons.
    let filter = format!("q=&list={list}&status=confirmed&suppressed=false");
    let named = |name: &str, path: String| (format!("admin-{name}"), path);
    let mut pages: Vec<(String, String)> = [
        "/admin/",
        "/admin/lists",
        "/admin/subscribers",
        "/admin/subscribers/new",
        "/admin/import",
        "/admin/campaigns",
        "/admin/campaigns/new",
        "/admin/segments",
        "/admin/segments/new",
        "/admin/notices",
        "/admin/notices/new",
        "/admin/customers",
        "/admin/templates",
        "/admin/templates/en/campaign.html",
        "/admin/transactional",
        "/admin/transactional/order-shipped",
        "/admin/jobs",
        "/admin/audit",
        "/admin/retention",
        "/admin/privacy-requests",
        "/admin/suppressions",
        "/admin/users",
        "/admin/account",
        "/admin/account/two-factor",
    ]
    .into_iter()
    .map(|path| {
        let name = path.trim_start_matches("/admin/").replace('/', "-");
        let name = if name.is_empty() { "dashboard" } else { &name };
        named(name, path.to_owned())
    })
    .collect();
    pages.extend([
        named("list", format!("/admin/lists/{list}")),
        named("subscriber", format!("/admin/subscribers/{subscriber}")),
        named(
            "subscriber-edit",
            format!("/admin/subscribers/{subscriber}/edit"),
        ),
        named(
            "subscriber-block",
            format!("/admin/subscribers/{subscriber}/block"),
        ),
        named("campaign-sent", format!("/admin/campaigns/{sent}")),
        named(
            "campaign-sent-watch",
            format!("/admin/campaigns/{sent}?watch=1"),
        ),
        named(
            "campaign-sent-edit",
            format!("/admin/campaigns/{sent}/edit"),
        ),
        named("campaign-sending", format!("/admin/campaigns/{sending}")),
        named(
            "campaign-sending-cancel",
            format!("/admin/campaigns/{sending}/cancel"),
        ),
        named("campaign-draft", format!("/admin/campaigns/{draft}")),
        named(
            "campaign-draft-edit",
            format!("/admin/campaigns/{draft}/edit"),
        ),
        named(
            "campaign-draft-review",
            format!("/admin/campaigns/{draft}/review"),
        ),
        named(
            "campaign-draft-delete",
            format!("/admin/campaigns/{draft}/delete"),
        ),
        named("segment", format!("/admin/segments/{segment}")),
        named(
            "segment-delete",
            format!("/admin/segments/{segment}/delete"),
        ),
        named("notice-sent", format!("/admin/notices/{notice}")),
        named("notice-draft", format!("/admin/notices/{draft_notice}")),
        named(
            "notice-draft-edit",
            format!("/admin/notices/{draft_notice}/edit"),
        ),
        named(
            "notice-draft-delete",
            format!("/admin/notices/{draft_notice}/delete"),
        ),
        named(
            "import-no-such-upload",
            "/admin/import/not-an-upload".to_owned(),
        ),
    ]);
    for action in ["add", "unsubscribe", "block"] {
        let path = format!("/admin/subscribers/bulk/{action}?{filter}");
        pages.push(named(&format!("subscribers-bulk-{action}"), path));
    }
    (pages, sending)
}

/// The page of the campaign `id` while it sends and the user watches it (`?watch=1`).
fn watched(id: &str) -> String {
    format!("/admin/campaigns/{id}?watch=1")
}

/// A CSV with two good rows and one that is not imported (no address).
const CHECKED_CSV: &str = "email,name,locale,consent_at,consent_source,consent_text\n\
ada@example.com,Ada Lovelace,en,2025-05-01T08:30:00Z,trade fair,Yes please\n\
not-an-address,Bob,en,2025-05-01T08:30:00Z,trade fair,Yes please\n\
lin@example.com,Lin Chen,en,2025-05-03T14:15:00Z,shop checkout,Yes please\n";

/// A CSV the import refuses: a row with a field too many.
const BROKEN_CSV: &str = "email,name,locale,consent_at,consent_source,consent_text\n\
x@example.com,too,many,fields,here,now,yes\n";

/// Uploads `file` for the list `weekly` on the import page the browser shows.
async fn upload(c: &Client, file: &std::path::Path) {
    c.find(Locator::Css("#list"))
        .await
        .unwrap()
        .select_by_value("weekly")
        .await
        .unwrap();
    c.find(Locator::Css("#file"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    click(c, "form[enctype='multipart/form-data'] button[type=submit]").await;
}

/// Waits (bounded) until `script` returns true on the page (it may reload meanwhile).
async fn wait_for_js(c: &Client, what: &str, script: &str) {
    for _ in 0..600 {
        if c.execute(script, vec![]).await.is_ok_and(|v| v == true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never showed {what}");
}

/// The import's pages, walked through in the browser: the form refusing an empty file, the
/// preview of a file the import would refuse, and a file's preview, check report and import
/// report. `prefix` starts each page's name.
async fn check_import_pages(checker: &mut Checker<'_>, app: &TestApp, prefix: &str) {
    let c = checker.c;
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let (empty, broken, checked) = (
        write("empty.csv", ""),
        write("broken.csv", BROKEN_CSV),
        write("people.csv", CHECKED_CSV),
    );
    // A refused upload is the answer to a POST: made at each width.
    for width in WIDTHS {
        set_viewport_width(c, width).await;
        c.goto(&app.url("/admin/import")).await.unwrap();
        upload(c, &empty).await;
        wait_for_element(c, "#file[aria-invalid=true]").await;
        checker
            .here(&format!("{prefix}import-refused"), width, &[])
            .await;
    }
    set_viewport_width(c, 1280).await;
    for (name, file) in [("broken", &broken), ("preview", &checked)] {
        c.goto(&app.url("/admin/import")).await.unwrap();
        upload(c, file).await;
        wait_for_element(c, "table.preview").await;
        let url = c.current_url().await.unwrap().to_string();
        checker.visit(&format!("{prefix}import-{name}"), &url).await;
    }
    // The last upload, checked (a dry run), then imported.
    let url = c.current_url().await.unwrap().to_string();
    click(c, "form[action$='/check'] button[type=submit]").await;
    wait_for_js(
        c,
        "the check's report",
        "return !!document.querySelector('#skipped') && \
                !document.querySelector('meta[http-equiv=refresh]')",
    )
    .await;
    checker
        .visit(&format!("{prefix}import-checked"), &url)
        .await;
    click(c, "form[action$='/run'] button[type=submit]").await;
    wait_for_js(
        c,
        "the import's report",
        "return !!document.querySelector('#imported') && \
                !document.querySelector('form[action$=\"/run\"]') && \
                !document.querySelector('meta[http-equiv=refresh]')",
    )
    .await;
    checker
        .visit(&format!("{prefix}import-finished"), &url)
        .await;
}

/// Every admin page, the import's and the watched send's included; `prefix` starts each
/// page's name.
async fn check_admin_pages(
    checker: &mut Checker<'_>,
    app: &TestApp,
    pages: &[(String, String)],
    sending: &str,
    prefix: &str,
) {
    for (name, path) in pages {
        checker
            .visit(&format!("{prefix}{name}"), &app.url(path))
            .await;
    }
    // The user asked the page to reload itself while the campaign sends, and it offers to
    // stop: WCAG 2.2.1 allows that, axe's meta-refresh rule cannot know it was asked.
    checker
        .visit_skipping(
            &format!("{prefix}admin-campaign-sending-watch"),
            &app.url(&watched(sending)),
            &["meta-refresh"],
        )
        .await;
    check_import_pages(checker, app, prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_at_desktop_and_phone_width_in_english_and_german() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some((_driver, c)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let public = public_pages(&app).await;
    create_user(&app, "admin@staff.example.com", Role::Admin).await;
    let mut pages: Vec<(String, String)> = vec![("login".to_owned(), app.url("/admin/login"))];
    pages.extend(public);

    let mut checker = Checker {
        c: &c,
        axe,
        problems: Vec::new(),
    };
    for (name, url) in &pages {
        checker.visit(name, url).await;
    }

    // Log in as an admin, then every admin page.
    set_viewport_width(&c, 1280).await;
    c.goto(&app.url("/admin/login")).await.unwrap();
    fill(&c, "#email", "admin@staff.example.com").await;
    fill(&c, "#password", "correct horse battery staple").await;
    click(&c, "button[type=submit]").await;
    wait_for_text(&c, "Log out").await;
    let (admin, sending) = admin_pages(&app).await;
    check_admin_pages(&mut checker, &app, &admin, &sending, "").await;

    // The same pages for a user who reads German, chosen on the account page.
    set_viewport_width(&c, 1280).await;
    c.goto(&app.url("/admin/account")).await.unwrap();
    c.find(Locator::Css("#locale"))
        .await
        .unwrap()
        .select_by_value("de")
        .await
        .unwrap();
    click(
        &c,
        "form[action='/admin/account/language'] button[type=submit]",
    )
    .await;
    wait_for_js(
        &c,
        "the account page in German",
        "return document.documentElement.lang === 'de' && \
                location.pathname === '/admin/account'",
    )
    .await;
    check_admin_pages(&mut checker, &app, &admin, &sending, "de-").await;

    let problems = checker.problems;
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
