//! A campaign's content in each subscriber's language: a default subject and body plus
//! optional translations; each recipient gets their language's, else the default.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, link};

/// Signs `email` up for `list` with the browser language `language` and confirms.
async fn confirmed_in(app: &TestApp, email: &str, list: &str, language: &str) {
    let signed_up = app
        .http
        .post(app.url("/subscribe"))
        .header(reqwest::header::ACCEPT_LANGUAGE, language)
        .form(&[("email", email), ("list", list), ("consent", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), StatusCode::OK);
    let confirmation = app.deliver_and_take().await.pop().unwrap();
    app.post_form(&link(&confirmation, "/confirm/"), &[]).await;
    app.deliver_and_take().await;
}

#[tokio::test]
async fn a_german_subscriber_gets_the_german_translation_and_an_english_one_the_default() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed_in(&app, "anna@example.com", "weekly", "en").await;
    confirmed_in(&app, "bernd@example.de", "weekly", "de-DE").await;

    for (bad, part) in [
        (
            json!({"ko": {"subject": "Salut", "body_markdown": "B"}}),
            "translations.ko",
        ),
        (
            json!({"de": {"subject": "", "body_markdown": "B"}}),
            "translations.de.subject",
        ),
        (
            json!({"de": {"subject": "S", "body_markdown": "{{ nope }}"}}),
            "translations.de",
        ),
    ] {
        let refused = app
            .api_post(
                "/api/v1/campaigns",
                &json!({"name": "N", "subject": "S", "body_markdown": "B", "lists": ["weekly"],
                        "translations": bad}),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let error: Value = refused.json().await.unwrap();
        assert!(error.to_string().contains(part), "{part}: {error}");
    }

    let id = app
        .start_campaign_with(json!({
            "name": "News", "lists": ["weekly"],
            "subject": "News for you", "body_markdown": "Hello {{ subscriber.email }}",
            "translations": {"de": {"subject": "Neuigkeiten", "body_markdown": "Hallo {{ subscriber.email }}"}}
        }))
        .await;
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 2);
    let to = |who: &str| {
        mails
            .iter()
            .find(|m| m.rcpt_to.iter().any(|r| r == who))
            .unwrap()
    };
    let german = to("bernd@example.de");
    assert!(
        german.data.contains("Subject: Neuigkeiten"),
        "{}",
        german.data
    );
    assert!(german.html_body().contains("Hallo bernd@example.de"));
    assert!(german.html_body().contains("Abmelden"), "the German layout");
    let english = to("anna@example.com");
    assert!(english.data.contains("Subject: News for you"));
    assert!(english.html_body().contains("Hello anna@example.com"));

    let campaign: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(campaign["translations"]["de"]["subject"], "Neuigkeiten");
    let copy: Value = app
        .api_post(&format!("/api/v1/campaigns/{id}/duplicate"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        copy["translations"], campaign["translations"],
        "a copy keeps them"
    );
    let cleared: Value = app
        .api_send(
            Method::PATCH,
            &format!("/api/v1/campaigns/{}", copy["id"].as_str().unwrap()),
            Some(&json!({"translations": {}})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["translations"], json!({}));
}

#[tokio::test]
async fn the_composer_writes_a_version_per_language_and_previews_each() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let admin = crate::admin::Admin::with_role(&app, bulletin::domain::Role::Marketer).await;
    let (_, composer) = crate::support::body(admin.get("/admin/campaigns/new").await).await;
    assert!(composer.contains(r#"name="subject_de""#), "{composer}");

    let half = [
        ("name", "N"),
        ("subject", "News"),
        ("body_markdown", "Hello"),
        ("list", "weekly"),
        ("subject_de", "Neuigkeiten"),
        ("body_de", ""),
    ];
    let refused = admin.post("/admin/campaigns", &half).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = crate::support::body(refused).await;
    assert!(page.contains("Write the text of this version"), "{page}");

    let mut full = half;
    full[5] = ("body_de", "Hallo");
    let preview = admin
        .post("/admin/campaigns/preview-draft?locale=de", &full)
        .await;
    let (_, preview) = crate::support::body(preview).await;
    assert!(preview.contains("Hallo"), "{preview}");
    assert!(preview.contains("Abmelden"), "the German layout: {preview}");

    let saved = admin.post("/admin/campaigns", &full).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let page = saved.headers()["location"].to_str().unwrap().to_owned();
    let id = page.rsplit('/').next().unwrap();
    let campaign: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        campaign["translations"],
        json!({"de": {"subject": "Neuigkeiten", "body_markdown": "Hallo"}})
    );
    let (_, shown) = crate::support::body(admin.get(&page).await).await;
    assert!(shown.contains("?locale=de"), "{shown}");
    let (_, german) =
        crate::support::body(admin.get(&format!("{page}/preview?locale=de")).await).await;
    assert!(german.contains("Hallo"), "{german}");
    let api: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}/preview?locale=de"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["subject"], "Neuigkeiten");
}
