//! A language added by dropping a folder into `mail.templates_dir`: its public pages, system
//! e-mails and campaign translations, with no change to the code. "fr" is the only language
//! the integration tests register; tests that need an unknown one use "ko".

use std::path::Path;

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::support::{TestApp, body, link};

/// A templates folder with a complete `fr/`: every English template with `[fr] ` before
/// each subject and `(fr) ` before each plain text, and the example page words.
fn templates_with_french() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("fr");
    std::fs::create_dir_all(&folder).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(root.join("emails/en")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        let marked = if name.ends_with(".subject.txt") {
            format!("[fr] {source}")
        } else if name.ends_with(".txt") {
            format!("(fr) {source}")
        } else {
            source
        };
        std::fs::write(folder.join(name), marked).unwrap();
    }
    std::fs::copy(
        root.join("docs/examples/pages.fr.toml"),
        folder.join("pages.toml"),
    )
    .unwrap();
    dir
}

/// Signs `email` up for `weekly` with a French browser and confirms; returns the
/// confirmation request.
async fn sign_up_in_french(app: &TestApp, email: &str) -> crate::support::smtp::ReceivedMail {
    let signed_up = app
        .http
        .post(app.url("/subscribe"))
        .header(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9")
        .form(&[("email", email), ("list", "weekly"), ("consent", "yes")])
        .send()
        .await
        .unwrap();
    let (status, page) = body(signed_up).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Veuillez consulter votre boîte de réception"),
        "{page}"
    );
    let confirmation = app.deliver_and_take().await.pop().unwrap();
    app.post_form(&link(&confirmation, "/confirm/"), &[]).await;
    confirmation
}

async fn spawn_with_french(templates: &tempfile::TempDir) -> TestApp {
    let dir = templates.path().to_owned();
    TestApp::spawn_with(move |s| s.mail.templates_dir = dir).await
}

#[tokio::test]
async fn a_french_visitor_signs_up_in_french_and_gets_french_mail() {
    let templates = templates_with_french();
    let app = spawn_with_french(&templates).await;
    app.create_list("weekly").await;

    let page = app
        .http
        .get(app.url("/subscribe?list=weekly"))
        .header(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<html lang="fr">"#), "{page}");
    assert!(page.contains("Adresse e-mail") && page.contains("(facultatif)"));

    let confirmation = sign_up_in_french(&app, "claire@example.fr").await;
    assert!(
        confirmation.subject().starts_with("[fr] "),
        "{}",
        confirmation.subject()
    );
    assert!(confirmation.text_body().starts_with("(fr) "));
    let (_, unsubscribe) = body(app.get(&link(&confirmation, "/unsubscribe/")).await).await;
    assert!(
        unsubscribe.contains("Se désabonner"),
        "the pages behind the mail's links speak French too"
    );

    let person = app.subscriber("claire@example.fr").await.unwrap();
    assert_eq!(person["locale"], "fr");

    let archive = app
        .http
        .get(app.url("/archive"))
        .header(header::ACCEPT_LANGUAGE, "fr")
        .send()
        .await
        .unwrap();
    let (_, archive) = body(archive).await;
    assert!(
        archive.contains("Archives de la newsletter"),
        "the archive's words come from [archive]: {archive}"
    );
    let privacy = app
        .http
        .get(app.url("/privacy"))
        .header(header::ACCEPT_LANGUAGE, "fr")
        .send()
        .await
        .unwrap();
    let (_, privacy) = body(privacy).await;
    assert!(
        privacy.contains("Gérer vos données"),
        "the data pages' words come from [privacy]: {privacy}"
    );
}

#[tokio::test]
async fn a_campaign_reaches_a_french_subscriber_in_french() {
    let templates = templates_with_french();
    let app = spawn_with_french(&templates).await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("anna@example.com", "weekly").await;
    sign_up_in_french(&app, "claire@example.fr").await;
    app.deliver_and_take().await;

    app.start_campaign_with(json!({
        "name": "News", "lists": ["weekly"],
        "subject": "News for you", "body_markdown": "Hello {{ subscriber.email }}",
        "translations": {"fr": {"subject": "Nouvelles", "body_markdown": "Bonjour {{ subscriber.email }}"}}
    }))
    .await;
    let mails = app.deliver_and_take().await;
    let to = |who: &str| {
        mails
            .iter()
            .find(|m| m.rcpt_to.iter().any(|r| r == who))
            .unwrap_or_else(|| panic!("no mail to {who}"))
    };
    let french = to("claire@example.fr");
    assert_eq!(french.subject(), "Nouvelles");
    assert!(french.text_body().starts_with("(fr) "), "the French layout");
    assert!(french.html_body().contains("Bonjour claire@example.fr"));
    let english = to("anna@example.com");
    assert_eq!(english.subject(), "News for you");
    assert!(english.html_body().contains("Hello anna@example.com"));
}

#[tokio::test]
async fn a_registered_language_is_accepted_and_an_unknown_one_still_refused() {
    let templates = templates_with_french();
    let app = spawn_with_french(&templates).await;
    app.create_list("weekly").await;
    let refused = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "N", "subject": "S", "body_markdown": "B", "lists": ["weekly"],
                    "translations": {"ko": {"subject": "S", "body_markdown": "B"}}}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = refused.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("fr"), "the choices include fr: {message}");

    app.confirmed_subscriber("anna@example.com", "weekly").await;
    let anna = app.subscriber("anna@example.com").await.unwrap();
    let path = format!("/api/v1/subscribers/{}", anna["id"].as_str().unwrap());
    let moved = app
        .api_send(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({"locale": "fr"})),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    assert_eq!(
        app.subscriber("anna@example.com").await.unwrap()["locale"],
        "fr"
    );

    let template: Value = app
        .api_get("/api/v1/templates/fr/welcome.subject.txt")
        .await
        .json()
        .await
        .unwrap();
    assert!(template.to_string().contains("[fr] "), "{template}");

    let login = app
        .http
        .get(app.url("/admin/login"))
        .header(header::ACCEPT_LANGUAGE, "fr")
        .send()
        .await
        .unwrap();
    let (_, login) = body(login).await;
    assert!(
        login.contains(r#"<html lang="en">"#),
        "the admin UI speaks English in an added language"
    );
}

#[tokio::test]
async fn the_composer_has_a_version_for_the_added_language() {
    let templates = templates_with_french();
    let app = spawn_with_french(&templates).await;
    app.create_list("weekly").await;
    let created: Value = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "N", "subject": "News", "body_markdown": "Hello", "lists": ["weekly"],
                    "translations": {"fr": {"subject": "Nouvelles", "body_markdown": "Bonjour"}}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let admin = crate::admin::Admin::with_role(&app, bulletin::domain::Role::Marketer).await;
    let page = admin
        .get(&format!("/admin/campaigns/{id}/edit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"name="subject_fr" type="text" value="Nouvelles""#),
        "the French subject in its field"
    );
    assert!(
        page.contains(r#"name="body_fr">Bonjour</textarea>"#),
        "the French text in its field"
    );
    assert!(
        page.contains("preview-draft?locale=fr"),
        "a preview of the French version"
    );

    let save = |subject_fr: &'static str, body_fr: &'static str| {
        let admin = &admin;
        async move {
            admin
                .post(
                    &format!("/admin/campaigns/{id}/edit"),
                    &[
                        ("name", "N"),
                        ("subject", "News, changed"),
                        ("body_markdown", "Hello"),
                        ("list", "weekly"),
                        ("subject_de", "Neuigkeiten"),
                        ("body_de", "Hallo"),
                        ("subject_fr", subject_fr),
                        ("body_fr", body_fr),
                    ],
                )
                .await
        }
    };
    let campaign = || async {
        app.api_get(&format!("/api/v1/campaigns/{id}"))
            .await
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(
        save("Nouvelles !", "Bonjour {{ subscriber.name }}")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let saved = campaign().await;
    assert_eq!(saved["subject"], "News, changed");
    assert_eq!(saved["translations"]["fr"]["subject"], "Nouvelles !");
    assert_eq!(saved["translations"]["de"]["subject"], "Neuigkeiten");

    // A half-filled French version is refused beside its empty field; nothing changes.
    let refused = save("Nouvelles", "").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains(r#"name="body_fr" aria-invalid="true""#),
        "the empty French text is marked"
    );
    assert_eq!(
        campaign().await["translations"]["fr"]["subject"],
        "Nouvelles !"
    );

    // Emptied, the French version is gone.
    assert_eq!(save("", "").await.status(), StatusCode::SEE_OTHER);
    let saved = campaign().await;
    assert!(saved["translations"].get("fr").is_none(), "{saved}");
    assert_eq!(saved["translations"]["de"]["subject"], "Neuigkeiten");
}
