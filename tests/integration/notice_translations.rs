//! Product notices per language: translations of the descriptive texts through the API and
//! the admin form, each recipient's mail in their language or the default, refusals that
//! name the part and change nothing, revisions, and the archive page in the reader's language.

use bulletin::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    admin::Admin,
    admin_notices::post,
    customers::{catalogue, customer},
    support::{TestApp, body, client},
};

fn pcn(app: &TestApp) -> Value {
    let today = app.clock.now().date_naive();
    json!({
        "kind": "pcn",
        "title": "New mould compound",
        "summary": "The mould compound changes.",
        "affected_parts": ["LM317"],
        "change_category": "material",
        "description_before": "Compound A",
        "description_after": "Compound B",
        "reason": "Supplier change",
        "impact": {"form": "none", "fit": "none", "function": "none", "quality": "none", "reliability": "none"},
        "effective_date": (today + chrono::Duration::days(120)).to_string(),
    })
}

fn german() -> Value {
    json!({"de": {
        "title": "Neue Pressmasse",
        "summary": "Die Pressmasse ändert sich.",
        "reason": "Lieferantenwechsel",
    }})
}

async fn create(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let r = app.api_post("/api/v1/notices", body).await;
    (r.status(), r.json().await.unwrap())
}

async fn send(app: &TestApp, id: &str) {
    let r = app
        .api_post(&format!("/api/v1/notices/{id}/send"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

async fn notices(app: &TestApp) -> Vec<Value> {
    let all: Value = app.api_get("/api/v1/notices").await.json().await.unwrap();
    all["notices"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_german_customer_gets_the_german_texts_and_an_english_one_the_default() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "de@example.com", &["LM317"], "de").await;
    customer(&app, "en@example.com", &["LM317"], "en").await;
    let mut notice = pcn(&app);
    notice["translations"] = german();
    let (status, created) = create(&app, &notice).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["translations"]["de"]["title"], "Neue Pressmasse");
    let id = created["id"].as_str().unwrap().to_owned();
    let read: Value = app
        .api_get(&format!("/api/v1/notices/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["translations"], created["translations"]);
    send(&app, &id).await;

    let mails = app.deliver_and_take().await;
    let to = |who: &str| mails.iter().find(|m| m.rcpt_to[0] == who).unwrap();
    let de = to("de@example.com");
    assert!(
        de.subject().ends_with(": Neue Pressmasse"),
        "{}",
        de.subject()
    );
    let text = de.text_body();
    assert!(text.contains("Die Pressmasse ändert sich."), "{text}");
    assert!(text.contains("Lieferantenwechsel"), "{text}");
    assert!(
        text.contains("Compound A"),
        "a field the translation leaves empty falls back to the default: {text}"
    );
    assert!(!text.contains("Supplier change") && !text.contains("New mould compound"));
    assert!(de.html_body().contains("Neue Pressmasse"));
    assert!(text.contains("lang=de"), "the archive link opens in German");
    let en = to("en@example.com");
    assert!(
        en.subject().ends_with(": New mould compound"),
        "{}",
        en.subject()
    );
    assert!(en.text_body().contains("Supplier change"));
    assert!(!en.text_body().contains("Pressmasse"));

    let export: Value = app.get("/notices.json").await.json().await.unwrap();
    assert_eq!(
        export["notices"][0]["translations"]["de"]["summary"],
        "Die Pressmasse ändert sich."
    );
}

#[tokio::test]
async fn the_archive_page_shows_the_readers_language_with_links_to_the_others() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "en@example.com", &["LM317"], "en").await;
    let mut notice = pcn(&app);
    notice["translations"] = german();
    let id = create(&app, &notice).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&app, &id).await;
    app.deliver_and_take().await;
    let path = format!("/notices/{id}");

    let (status, page) = body(app.get(&format!("{path}?lang=de")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("lang=\"de\""), "{page}");
    assert!(page.contains("Neue Pressmasse") && page.contains("Lieferantenwechsel"));
    assert!(
        page.contains("Compound A"),
        "untranslated fields show the default"
    );
    assert!(page.contains("Grund") && !page.contains("Supplier change"));
    assert!(page.contains("href=\"?lang=en\""), "{page}");

    let asked = client()
        .get(app.url(&path))
        .header("accept-language", "de-AT,de;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    let (_, page) = body(asked).await;
    assert!(
        page.contains("Neue Pressmasse"),
        "Accept-Language chooses German"
    );

    let (_, page) = body(app.get(&path).await).await;
    assert!(page.contains("New mould compound") && page.contains("Supplier change"));
    assert!(page.contains("href=\"?lang=de\"") && page.contains("Deutsch"));
    let (_, page) = body(app.get(&format!("{path}?lang=ko")).await).await;
    assert!(
        page.contains("New mould compound"),
        "an unknown language reads the default"
    );
}

#[tokio::test]
async fn a_refused_translation_is_422_naming_the_part_and_changes_nothing() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let cases = [
        (
            json!({"ko": {"title": "Nouveau", "summary": "Oui"}}),
            "translations.ko",
        ),
        (
            json!({"en": {"title": "New", "summary": "Yes"}}),
            "translations.en",
        ),
        (
            json!({"de": {"summary": "Ohne Titel"}}),
            "translations.de.title",
        ),
        (
            json!({"de": {"title": "Ohne Zusammenfassung"}}),
            "translations.de.summary",
        ),
        (
            json!({"de": {"title": "Zwei\nZeilen", "summary": "x"}}),
            "translations.de.title",
        ),
        (
            json!({"de": {"title": "T", "summary": "S", "colour": "blau"}}),
            "colour",
        ),
    ];
    for (translations, named) in &cases {
        let mut notice = pcn(&app);
        notice["translations"] = translations.clone();
        let (status, answer) = create(&app, &notice).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{named}: {message}");
        if named.starts_with("translations.") && named.len() < "translations.de.".len() {
            assert!(message.starts_with(named), "{message}");
        }
    }
    assert!(notices(&app).await.is_empty(), "nothing stored");

    let mut notice = pcn(&app);
    notice["translations"] = german();
    let id = create(&app, &notice).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/notices/{id}");
    let bad = json!({"title": "Changed", "translations": {"de": {"title": "Nur Titel"}}});
    let r = app
        .api_send(reqwest::Method::PATCH, &path, Some(&bad))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answer: Value = r.json().await.unwrap();
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("translations.de.summary"),
        "{answer}"
    );
    let unknown = json!({"translations": {"ko": {"title": "Nouveau", "summary": "Oui"}}});
    let r = app
        .api_send(reqwest::Method::PATCH, &path, Some(&unknown))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answer: Value = r.json().await.unwrap();
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("translations.ko: "), "{message}");
    let kept: Value = app.api_get(&path).await.json().await.unwrap();
    assert_eq!(kept["title"], "New mould compound");
    assert_eq!(kept["translations"], german());

    let cleared = json!({"translations": {}});
    let r = app
        .api_send(reqwest::Method::PATCH, &path, Some(&cleared))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let read: Value = r.json().await.unwrap();
    assert_eq!(read["translations"], json!({}), "a PATCH replaces them all");
}

#[tokio::test]
async fn a_revision_keeps_the_translations_unless_it_brings_its_own() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "de@example.com", &["LM317"], "de").await;
    let mut notice = pcn(&app);
    notice["translations"] = german();
    let first = create(&app, &notice).await.1;
    let id1 = first["id"].as_str().unwrap().to_owned();
    send(&app, &id1).await;
    app.deliver_and_take().await;

    let mut revision = pcn(&app);
    revision["supersedes"] = json!(id1);
    let (status, second) = create(&app, &revision).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(second["translations"], german(), "kept from revision 1");

    let id2 = second["id"].as_str().unwrap().to_owned();
    let mut third = pcn(&app);
    third["supersedes"] = json!(id2);
    third["translations"] =
        json!({"de": {"title": "Neue Pressmasse (berichtigt)", "summary": "Berichtigt."}});
    let (status, third) = create(&app, &third).await;
    assert_eq!(status, StatusCode::CREATED, "{third}");
    assert_eq!(
        third["translations"]["de"]["title"],
        "Neue Pressmasse (berichtigt)"
    );
    assert!(third["translations"]["de"].get("reason").is_none());
    send(&app, third["id"].as_str().unwrap()).await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert!(
        mail.subject().ends_with("(berichtigt)"),
        "{}",
        mail.subject()
    );
    assert!(
        mail.text_body().contains("Supplier change"),
        "reason falls back"
    );
}

fn form(app: &TestApp, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let later = (app.clock.now().date_naive() + chrono::Duration::days(120)).to_string();
    let mut out: Vec<(&'static str, String)> = vec![
        ("kind", "pcn".into()),
        ("title", "New mould compound".into()),
        ("summary", "The mould compound changes.".into()),
        ("affected_parts", "LM317".into()),
        ("change_category", "material".into()),
        ("description_before", "Compound A".into()),
        ("description_after", "Compound B".into()),
        ("reason", "Supplier change".into()),
        ("impact_form", "none".into()),
        ("effective_date", later),
    ];
    out.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    out
}

#[tokio::test]
async fn the_admin_form_takes_a_german_version_and_refuses_a_half_filled_one() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let (status, page) = body(marketer.get("/admin/notices/new").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Version in Deutsch") && page.contains("name=\"title_de\""));

    let half = form(&app, &[("title_de", "Neue Pressmasse")]);
    let (status, page) = body(post(&marketer, "/admin/notices", &half).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Write a summary for this version"), "{page}");
    assert!(
        page.contains("value=\"Neue Pressmasse\""),
        "typed values kept"
    );
    assert!(notices(&app).await.is_empty(), "nothing stored");

    let full = form(
        &app,
        &[
            ("title_de", "Neue Pressmasse"),
            ("summary_de", "Die Pressmasse ändert sich."),
            ("reason_de", "Lieferantenwechsel"),
        ],
    );
    let response = post(&marketer, "/admin/notices", &full).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let stored = notices(&app).await.pop().unwrap();
    assert_eq!(stored["translations"], german());

    let (_, page) = body(marketer.get(&location).await).await;
    assert!(
        page.contains(r#"id="languages">English, Deutsch<"#),
        "{page}"
    );
    assert!(page.contains("Lieferantenwechsel"));
    let (_, edit) = body(marketer.get(&format!("{location}/edit")).await).await;
    assert!(
        edit.contains("Lieferantenwechsel") && edit.contains("<details class=\"version\" open")
    );

    // Emptying the version removes it.
    let response = post(&marketer, &format!("{location}/edit"), &form(&app, &[])).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let stored = notices(&app).await.pop().unwrap();
    assert_eq!(stored["translations"], json!({}));
    assert!(app.audit_text().await.contains("notice.update"));
}
