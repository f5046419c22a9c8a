//! The sender's identity as mailbox providers read it: the headers that say what kind of
//! mail a message is (list mail carries `List-Id`; campaigns and notices are bulk with a
//! `Feedback-ID`; confirmations, welcomes and privacy links are `Auto-Submitted`; nothing
//! invites an out-of-office reply), and the domains a campaign may send from.

use serde_json::json;

use crate::support::{TestApp, link};

#[tokio::test]
async fn each_kind_of_mail_says_what_it_is() {
    let app = TestApp::spawn_with(|s| {
        s.mail.postal_address = "ACME GmbH\nHauptstraße 1\n50667 Köln".to_owned();
    })
    .await;
    app.create_list_with(json!({
        "slug": "weekly", "name": "Weekly \"News\"", "kind": "newsletter",
        "legal_basis": "consent", "opt_in": "double"
    }))
    .await;
    app.sign_up("jane@example.com", "weekly").await;
    let confirmation = app.deliver_and_take().await.pop().unwrap();
    app.post_form(&link(&confirmation, "/confirm/"), &[]).await;
    app.deliver_and_take().await;
    let id = app.start_campaign("weekly").await;
    app.deliver_all().await;
    let campaign = app.smtp.take_messages().pop().unwrap();
    app.post_form("/privacy", &[("email", "jane@example.com")])
        .await;
    let privacy = app.deliver_and_take().await.pop().unwrap();

    let domain = "bulletin.localhost";
    let list_id = format!("\"Weekly News\" <weekly.{domain}>");
    assert_eq!(confirmation.header("List-Id"), Some(list_id.clone()));
    assert_eq!(
        confirmation.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(confirmation.header("Precedence"), None);
    assert_eq!(confirmation.header("Feedback-ID"), None);

    assert_eq!(campaign.header("List-Id"), Some(list_id));
    assert_eq!(campaign.header("Precedence").as_deref(), Some("bulk"));
    assert_eq!(
        campaign.header("Feedback-ID"),
        Some(format!("{id}:weekly:campaign:{domain}"))
    );
    assert_eq!(campaign.header("Auto-Submitted"), None);

    assert_eq!(privacy.header("List-Id"), None);
    // The HTML part has the links its text part promises.
    for part in [privacy.text_body(), privacy.html_body()] {
        assert!(part.contains("/preferences/"), "{part}");
        assert!(part.contains("/privacy-notice"), "{part}");
    }
    assert_eq!(
        privacy.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    for mail in [&confirmation, &campaign, &privacy] {
        assert_eq!(
            mail.header("X-Auto-Response-Suppress").as_deref(),
            Some("OOF, AutoReply")
        );
        // The sender's postal address and imprint, in both parts of every mail.
        assert!(
            mail.text_body()
                .replace("\r\n", "\n")
                .contains("ACME GmbH\nHauptstraße 1\n50667 Köln"),
            "{}",
            mail.text_body()
        );
        assert!(
            mail.html_body().contains("Hauptstraße 1"),
            "{}",
            mail.html_body()
        );
    }
}

#[tokio::test]
async fn a_campaign_may_send_only_from_the_domains_bulletin_sends_for() {
    let app = TestApp::spawn_with(|s| {
        s.mail
            .allowed_from_domains
            .push("news.example.com".to_owned());
    })
    .await;
    app.create_list("weekly").await;
    let create = |from: &str| json!({"name": "N", "subject": "S", "body_markdown": "B", "lists": ["weekly"], "from": from});
    let refused = app
        .api_post("/api/v1/campaigns", &create("CEO <ceo@bank.example>"))
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "from_not_allowed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bank.example")
    );
    let listed = app.api_get("/api/v1/campaigns").await.text().await.unwrap();
    assert!(!listed.contains("ceo@bank.example"), "nothing was created");
    for from in [
        "News <news@bulletin.localhost>",
        "Product <product@news.example.com>",
    ] {
        let created = app.api_post("/api/v1/campaigns", &create(from)).await;
        assert_eq!(created.status(), reqwest::StatusCode::CREATED, "{from}");
    }
}

#[tokio::test]
async fn bulletin_greets_the_relay_with_its_public_name() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.sign_up("jane@example.com", "weekly").await;
    app.deliver_and_take().await;
    // The default public URL is http://127.0.0.1:8080: its host as an address literal, never
    // the machine's own name.
    assert_eq!(
        app.smtp.greetings().first().map(String::as_str),
        Some("[127.0.0.1]")
    );

    let named = TestApp::spawn_with(|s| s.mail.helo_name = "mail.example.com".to_owned()).await;
    named.create_list("weekly").await;
    named.sign_up("jane@example.com", "weekly").await;
    named.deliver_and_take().await;
    assert_eq!(
        named.smtp.greetings().first().map(String::as_str),
        Some("mail.example.com")
    );
}

#[tokio::test]
async fn the_links_of_a_test_send_answer_and_change_nothing() {
    let app = TestApp::spawn().await;
    for path in ["/unsubscribe/sample", "/preferences/sample"] {
        let page = app.get(path).await;
        assert_eq!(page.status(), reqwest::StatusCode::OK, "{path}");
        assert!(page.text().await.unwrap().contains("sample link"));
        let one_click = app
            .post_form(path, &[("List-Unsubscribe", "One-Click")])
            .await;
        assert_eq!(one_click.status(), reqwest::StatusCode::OK, "{path}");
    }
}
