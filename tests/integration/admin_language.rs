//! Each admin user's language: chosen on the account page, spoken by every admin page, its
//! messages and its errors; before login the browser's `Accept-Language` decides.

use std::collections::HashMap;

use bulletin::domain::Role;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    admin::Admin,
    customers::{catalogue, customer},
    support::{TestApp, body},
};

#[tokio::test]
async fn a_user_who_chooses_german_gets_the_admin_ui_in_german_and_others_keep_english() {
    let app = TestApp::spawn().await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;

    let (_, page) = body(admin.get("/admin/account").await).await;
    assert!(page.contains(r#"<html lang="en">"#), "{page}");
    assert!(page.contains(r#"<option value="en" selected>English</option>"#));

    let refused = admin
        .post("/admin/account/language", &[("locale", "tlh")])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = body(refused).await;
    assert!(page.contains("Choose a language from the list."), "{page}");
    let (_, page) = body(admin.get("/admin/").await).await;
    assert!(
        page.contains(r#"<html lang="en">"#),
        "a refused choice changes nothing"
    );

    let saved = admin
        .post("/admin/account/language", &[("locale", "de")])
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, page) = body(admin.follow(saved).await).await;
    assert!(
        page.contains("Die Verwaltung spricht jetzt Deutsch."),
        "{page}"
    );
    assert!(page.contains(r#"<html lang="de">"#));
    assert!(page.contains(r#"<option value="de" selected>Deutsch</option>"#));

    let (_, page) = body(admin.get("/admin/").await).await;
    for word in [
        "Kampagnen",
        "Abonnenten",
        "Mitteilungen",
        "Abmelden",
        "Zum Inhalt springen",
    ] {
        assert!(page.contains(word), "{word} missing from {page}");
    }
    assert!(!page.contains(">Campaigns<"), "{page}");

    let refused = admin
        .post("/admin/account/time-zone", &[("time_zone", "Mars/Olympus")])
        .await;
    let (_, page) = body(refused).await;
    assert!(
        page.contains("Wählen Sie eine Zeitzone aus der Liste"),
        "a domain error is said in German too: {page}"
    );

    let (_, page) = body(marketer.get("/admin/").await).await;
    assert!(
        page.contains(r#"<html lang="en">"#),
        "another user keeps English"
    );
    assert!(page.contains(">Campaigns<"));

    let (_, audit) = body(admin.get("/admin/audit").await).await;
    assert!(
        audit.contains("user.locale"),
        "the change is audited: {audit}"
    );
}

#[tokio::test]
async fn the_login_page_speaks_the_browsers_language() {
    let app = TestApp::spawn().await;
    let german = app
        .http
        .get(app.url("/admin/login"))
        .header(header::ACCEPT_LANGUAGE, "de-DE,de;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    let (status, page) = body(german).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<html lang="de">"#), "{page}");
    assert!(page.contains("Passwort vergessen?"));

    let (_, page) = body(app.http.get(app.url("/admin/login")).send().await.unwrap()).await;
    assert!(page.contains(r#"<html lang="en">"#));
    assert!(page.contains("Forgot your password?"));
}

/// The German catalogue: English text to German, every file, labels included.
fn german_catalogue() -> HashMap<String, String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales/de/admin");
    let mut all = HashMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let table: toml::Table = toml::from_str(&source).unwrap();
        for (key, value) in table {
            match value {
                toml::Value::String(german) => {
                    all.insert(key, german);
                }
                toml::Value::Table(labels) => {
                    for (label, german) in labels {
                        all.insert(label, german.as_str().unwrap().to_owned());
                    }
                }
                other => panic!("{key} = {other}"),
            }
        }
    }
    all
}

/// The text between the tags of `page`, each piece trimmed, entities of the common kind
/// decoded; the `<title>` and the preview frames' documents are text too.
fn texts(page: &str) -> Vec<String> {
    page.split('<')
        .filter_map(|piece| piece.split_once('>').map(|(_, text)| text))
        .map(|text| {
            text.replace("&amp;", "&")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .trim()
                .to_owned()
        })
        .filter(|text| !text.is_empty())
        .collect()
}

/// A campaign that was sent, a draft, a confirmed subscriber, a sent notice and its
/// customer, and the admin pages that show them.
pub(crate) async fn pages_with_data(app: &TestApp) -> Vec<String> {
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let sent = app.start_campaign("weekly").await;
    app.deliver_all().await;
    let draft: Value = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "Draft", "subject": "Soon", "body_markdown": "Hello", "lists": ["weekly"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let draft = draft["id"].as_str().unwrap().to_owned();
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
    let notice: Value = app
        .api_post("/api/v1/notices", &notice)
        .await
        .json()
        .await
        .unwrap();
    let notice = notice["id"].as_str().unwrap().to_owned();
    let subscriber = app.subscriber("jane@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lists: Value = app.api_get("/api/v1/lists").await.json().await.unwrap();
    let list = lists["lists"][0]["id"].as_str().unwrap().to_owned();
    let segment = crate::admin_segments::example_segment(app).await;
    crate::admin_transactional::example_template(app).await;
    vec![
        "/admin/".to_owned(),
        "/admin/lists".to_owned(),
        format!("/admin/lists/{list}"),
        "/admin/subscribers".to_owned(),
        "/admin/subscribers?list=weekly".to_owned(),
        format!("/admin/subscribers/{subscriber}"),
        format!("/admin/subscribers/{subscriber}/edit"),
        format!("/admin/subscribers/{subscriber}/block"),
        "/admin/subscribers/new".to_owned(),
        "/admin/import".to_owned(),
        "/admin/campaigns".to_owned(),
        "/admin/campaigns/new".to_owned(),
        format!("/admin/campaigns/{sent}"),
        format!("/admin/campaigns/{draft}"),
        format!("/admin/campaigns/{draft}/edit"),
        format!("/admin/campaigns/{draft}/review"),
        format!("/admin/campaigns/{draft}/delete"),
        "/admin/notices".to_owned(),
        "/admin/notices/new".to_owned(),
        format!("/admin/notices/{notice}"),
        format!("/admin/notices/{notice}/edit"),
        format!("/admin/notices/{notice}/delete"),
        "/admin/segments".to_owned(),
        "/admin/segments/new".to_owned(),
        format!("/admin/segments/{segment}"),
        format!("/admin/segments/{segment}/delete"),
        "/admin/customers".to_owned(),
        "/admin/templates".to_owned(),
        "/admin/templates/en/campaign.html".to_owned(),
        "/admin/transactional".to_owned(),
        "/admin/transactional/order-shipped".to_owned(),
        "/admin/jobs".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/retention".to_owned(),
        "/admin/privacy-requests".to_owned(),
        "/admin/suppressions".to_owned(),
        "/admin/users".to_owned(),
        "/admin/account".to_owned(),
    ]
}

#[tokio::test]
async fn no_admin_page_shows_a_german_user_an_english_text_that_has_a_translation() {
    let app = TestApp::spawn().await;
    let pages = pages_with_data(&app).await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    let saved = admin
        .post("/admin/account/language", &[("locale", "de")])
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let german = german_catalogue();
    let mut english_left = Vec::new();
    for path in &pages {
        let (status, page) = body(admin.get(path).await).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(page.contains(r#"<html lang="de">"#), "{path}");
        for text in texts(&page) {
            if german.get(&text).is_some_and(|de| *de != text) {
                english_left.push(format!("{path}: {text:?}"));
            }
        }
    }
    assert!(
        english_left.is_empty(),
        "English on German pages: {english_left:#?}"
    );
}
