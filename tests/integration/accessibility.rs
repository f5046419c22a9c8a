//! Every admin and public page, checked in Chromium with axe-core at a desktop width (1280 px)
//! and a phone's (390 px): no critical or serious accessibility violation, and no page wider
//! than the screen. Screenshots go to `target/screenshots/a11y-*.png`.
//!
//! axe-core is read from `target/axe/node_modules/axe-core/axe.min.js` (`.ci/run` installs it
//! with npm) or from `BULLETIN_AXE`; without it, or without Chromium, the test says SKIPPED
//! and passes.

use std::path::PathBuf;

use bulletin::domain::Role;
use fantoccini::Client;
use serde_json::{Value, json};

use crate::{
    admin::create_user,
    browser::{click, fill, set_viewport_width, shot, start_driver, wait_for_text},
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

/// Runs axe on the page: its critical and serious violations, and how much wider than the
/// viewport the page is.
async fn check(c: &Client, axe: &str) -> (Vec<Value>, i64) {
    c.execute(&format!("{axe}\nreturn true;"), vec![])
        .await
        .expect("axe loads");
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
               .then(r => done(r.violations
                 .filter(v => v.impact === 'critical' || v.impact === 'serious')
                 .map(v => ({id: v.id, impact: v.impact, help: v.help,
                             nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
               .catch(e => done([{id: 'axe-error', help: String(e)}]));",
            vec![],
        )
        .await
        .expect("axe runs");
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap_or(0);
    (found.as_array().cloned().unwrap_or_default(), overflow)
}

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
    app.start_campaign("weekly").await;
    let campaign = app.deliver_and_take().await.pop().unwrap();
    pages.push(("unsubscribe".to_owned(), list_unsubscribe_url(&campaign)));
    pages.push(("preferences".to_owned(), link(&campaign, "/preferences/")));
    app.post_form("/privacy", &[("email", "jane@example.com")])
        .await;
    let privacy = app.deliver_and_take().await.pop().unwrap();
    pages.push(("privacy-data".to_owned(), link(&privacy, "/privacy/")));

    catalogue(app).await;
    customer(app, "buyer@example.com", &["LM317"], "en").await;
    let today = app.clock.now().date_naive();
    let notice = json!({
        "kind": "pcn", "title": "New mould compound", "affected_parts": ["LM317"],
        "change_category": "material", "description_before": "A", "description_after": "B",
        "reason": "Supplier change",
        "impact": {"form": "none", "fit": "none", "function": "none", "quality": "none",
                   "reliability": "none"},
        "effective_date": (today + chrono::Duration::days(120)).to_string(),
        "ack_deadline": (app.clock.now() + chrono::Duration::days(30)).to_rfc3339(),
    });
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

/// Every admin page that answers a GET, by path.
async fn admin_pages(app: &TestApp) -> Vec<String> {
    let subscriber = app.subscriber("jane@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let campaigns: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    let campaign = campaigns["campaigns"][0]["id"].as_str().unwrap().to_owned();
    let draft =
        json!({"name": "Draft", "subject": "Soon", "body_markdown": "Hello", "lists": ["weekly"]});
    let draft: Value = app
        .api_post("/api/v1/campaigns", &draft)
        .await
        .json()
        .await
        .unwrap();
    let draft = draft["id"].as_str().unwrap().to_owned();
    let notices: Value = app.api_get("/api/v1/notices").await.json().await.unwrap();
    let notice = notices["notices"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let lists: Value = app.api_get("/api/v1/lists").await.json().await.unwrap();
    let list = lists["lists"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    [
        "/admin/".to_owned(),
        "/admin/lists".to_owned(),
        format!("/admin/lists/{list}"),
        "/admin/subscribers".to_owned(),
        format!("/admin/subscribers/{subscriber}"),
        format!("/admin/subscribers/{subscriber}/edit"),
        format!("/admin/subscribers/{subscriber}/block"),
        "/admin/subscribers/new".to_owned(),
        "/admin/import".to_owned(),
        "/admin/campaigns".to_owned(),
        "/admin/campaigns/new".to_owned(),
        format!("/admin/campaigns/{campaign}"),
        format!("/admin/campaigns/{campaign}/edit"),
        format!("/admin/campaigns/{draft}"),
        format!("/admin/campaigns/{draft}/edit"),
        format!("/admin/campaigns/{draft}/review"),
        format!("/admin/campaigns/{draft}/delete"),
        "/admin/notices".to_owned(),
        "/admin/notices/new".to_owned(),
        format!("/admin/notices/{notice}"),
        "/admin/customers".to_owned(),
        "/admin/templates".to_owned(),
        "/admin/templates/en/campaign.html".to_owned(),
        "/admin/jobs".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/retention".to_owned(),
        "/admin/privacy-requests".to_owned(),
        "/admin/suppressions".to_owned(),
        "/admin/users".to_owned(),
        "/admin/account".to_owned(),
    ]
    .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_at_desktop_and_phone_width() {
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

    let mut problems = Vec::new();
    let visit = async |c: &Client, name: &str, url: &str, problems: &mut Vec<String>| {
        for width in [1280, 390] {
            set_viewport_width(c, width).await;
            c.goto(url).await.unwrap();
            let (violations, overflow) = check(c, &axe).await;
            shot(c, &format!("a11y-{name}-{width}")).await;
            for v in violations {
                problems.push(format!("{name} at {width} px: {v}"));
            }
            if overflow > 0 {
                problems.push(format!(
                    "{name} at {width} px: the page is {overflow} px wider than the screen"
                ));
            }
        }
    };
    for (name, url) in &pages {
        visit(&c, name, url, &mut problems).await;
    }

    // Log in as an admin, then every admin page.
    set_viewport_width(&c, 1280).await;
    c.goto(&app.url("/admin/login")).await.unwrap();
    fill(&c, "#email", "admin@staff.example.com").await;
    fill(&c, "#password", "correct horse battery staple").await;
    click(&c, "button[type=submit]").await;
    wait_for_text(&c, "Log out").await;
    for path in admin_pages(&app).await {
        let name = path
            .trim_start_matches("/admin/")
            .split('/')
            .filter(|part| part.len() < 30)
            .collect::<Vec<_>>()
            .join("-");
        let name = format!(
            "admin-{}",
            if name.is_empty() { "dashboard" } else { &name }
        );
        visit(&c, &name, &app.url(&path), &mut problems).await;
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
