//! A campaign's layout: `standard` (a newsletter column) or `letter` (the text alone), chosen
//! through the API and the composer, kept by PATCH and duplicate, used for every recipient
//! in their language, and editable as a template like every other.

use bulletin::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    admin::Admin,
    support::{TestApp, body},
};

/// The mark of each layout in the HTML it sends.
const LETTER: &str = "font-family:Georgia";
const STANDARD: &str = "border-radius:8px";

#[tokio::test]
async fn a_campaign_sent_as_a_letter_arrives_as_a_letter_in_each_language() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("anna@example.com", "weekly").await;
    let signed_up = app
        .http
        .post(app.url("/subscribe"))
        .header(reqwest::header::ACCEPT_LANGUAGE, "de")
        .form(&[
            ("email", "bernd@example.de"),
            ("list", "weekly"),
            ("consent", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), StatusCode::OK);
    let confirmation = app.deliver_and_take().await.pop().unwrap();
    let confirm = crate::support::link(&confirmation, "/confirm/");
    app.post_form(&confirm, &[]).await;
    app.deliver_and_take().await;

    let refused = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "N", "subject": "S", "body_markdown": "B", "lists": ["weekly"],
                    "layout": "fancy"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let all: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    assert_eq!(
        all["campaigns"].as_array().unwrap().len(),
        0,
        "nothing created"
    );

    let created = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "Note", "subject": "A word", "body_markdown": "Dear reader,\n\nthanks.",
                    "lists": ["weekly"], "layout": "letter"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["layout"], "letter");
    let id = created["id"].as_str().unwrap().to_owned();

    let copy: Value = app
        .api_post(&format!("/api/v1/campaigns/{id}/duplicate"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(copy["layout"], "letter", "a copy keeps the layout");
    let renamed: Value = app
        .api_send(
            reqwest::Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(&json!({"name": "Note to readers"})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["layout"], "letter", "a PATCH without it keeps it");

    let scheduled = app
        .api_post(
            &format!("/api/v1/campaigns/{id}/schedule"),
            &json!({"send_at": null}),
        )
        .await;
    assert_eq!(scheduled.status(), StatusCode::ACCEPTED);
    app.run_job("campaigns").await;
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 2);
    for mail in &mails {
        let html = mail.html_body();
        assert!(html.contains(LETTER), "{html}");
        assert!(!html.contains(STANDARD), "{html}");
    }
    let german = mails
        .iter()
        .find(|m| m.rcpt_to.iter().any(|r| r == "bernd@example.de"))
        .unwrap();
    assert!(german.html_body().contains("Abmelden"), "the German letter");

    let standard: Value = app
        .api_send(
            reqwest::Method::PATCH,
            &format!("/api/v1/campaigns/{}", copy["id"].as_str().unwrap()),
            Some(&json!({"layout": "standard"})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(standard["layout"], "standard");
    let plain: Value = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "N", "subject": "S", "body_markdown": "B", "lists": ["weekly"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plain["layout"], "standard", "the default");
}

#[tokio::test]
async fn the_letter_layout_is_a_template_the_operator_can_open_and_preview() {
    let app = TestApp::spawn().await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    let (status, page) = body(admin.get("/admin/templates").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("campaign_letter.html"), "{page}");
    for path in [
        "/admin/templates/en/campaign_letter.html",
        "/admin/templates/de/campaign_letter.html/preview",
    ] {
        let (status, page) = body(admin.get(path).await).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
    }
    let (_, preview) = body(
        admin
            .get("/admin/templates/de/campaign_letter.html/preview")
            .await,
    )
    .await;
    assert!(preview.contains(LETTER), "{preview}");
}

#[tokio::test]
async fn the_composer_offers_the_layouts_and_the_review_names_the_chosen_one() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let (_, composer) = body(admin.get("/admin/campaigns/new").await).await;
    assert!(
        composer.contains(r#"<option value="standard" selected>"#),
        "{composer}"
    );
    assert!(composer.contains(r#"<option value="letter">"#));

    let form = [
        ("name", "Letter"),
        ("subject", "A word"),
        ("body_markdown", "Dear reader"),
        ("list", "weekly"),
        ("layout", "letter"),
    ];
    let saved = admin.post("/admin/campaigns", &form).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let page = saved.headers()["location"].to_str().unwrap().to_owned();
    let id = page.rsplit('/').next().unwrap();
    let campaign: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(campaign["layout"], "letter");
    let (_, editor) = body(admin.get(&format!("{page}/edit")).await).await;
    assert!(
        editor.contains(r#"<option value="letter" selected>"#),
        "{editor}"
    );
    let (_, review) = body(admin.get(&format!("{page}/review")).await).await;
    assert!(
        review.contains("Letter: the text alone on white"),
        "{review}"
    );

    let mut forged = form;
    forged[4] = ("layout", "fancy");
    let refused = admin.post("/admin/campaigns", &forged).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = body(refused).await;
    assert!(page.contains("Choose a layout from the list."), "{page}");
}
