//! `POST /api/v1/subscriptions`: a website's backend starts the double opt-in for its
//! visitors, with the same mail and the same ledger evidence as the form, limited per token.

use bulletin::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{TestApp, client, link};

/// Posts a signup with `token`.
async fn sign_up_with(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    client()
        .post(app.url("/api/v1/subscriptions"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_backend_starts_the_double_opt_in_with_the_visitors_evidence() {
    let app = TestApp::spawn().await;
    let list = app.create_list("weekly").await;
    let marketer = app.token_of(Role::Marketer).await;
    let shown = "Yes, send me the Weekly from Example Corp.";
    let body = json!({
        "email": "Visitor@Example.com", "name": "Vera Visitor",
        "lists": [list["id"]], "locale": "de",
        "ip": "203.0.113.77", "user_agent": "Mozilla/5.0 (the visitor's browser)",
        "consent_text": shown,
    });
    let response = sign_up_with(&app, &marketer, &body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["status"], "confirmation_requested");
    assert_eq!(
        app.subscription_status("visitor@example.com", "weekly")
            .await
            .as_deref(),
        Some("pending"),
        "the list was named by its id"
    );

    let requested = app
        .ledger("visitor@example.com")
        .await
        .into_iter()
        .find(|e| e["action"] == "requested")
        .expect("a requested event");
    assert_eq!(requested["ip_anon"], "203.0.113.0", "the visitor's network");
    assert_eq!(
        requested["user_agent"],
        "Mozilla/5.0 (the visitor's browser)"
    );
    assert_eq!(requested["source"], "api:marketer");
    assert_eq!(
        requested["consent_text_hash"],
        hex::encode(Sha256::digest(shown.as_bytes())),
        "the text the website showed"
    );
    let person = app.subscriber("visitor@example.com").await.unwrap();
    assert_eq!(person["locale"], "de");

    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 1, "one confirmation e-mail");
    assert_eq!(mails[0].rcpt_to, vec!["visitor@example.com".to_owned()]);
    let confirm = link(&mails[0], "/confirm/");
    assert_eq!(app.post_form(&confirm, &[]).await.status(), StatusCode::OK);
    assert_eq!(
        app.subscription_status("visitor@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );

    // The consent proof shows the website's text.
    let id = person["id"].as_str().unwrap();
    let proof = app
        .api_get(&format!(
            "/api/v1/subscribers/{id}/consent-proof?list=weekly"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(proof.contains(shown), "{proof}");
}

#[tokio::test]
async fn the_limit_is_per_token_not_per_network() {
    let app = TestApp::spawn_with(|s| {
        s.subscriptions.signups_per_hour = 1;
        s.subscriptions.api_signups_per_token_per_hour = 3;
    })
    .await;
    app.create_list("weekly").await;
    let website = app.token_of(Role::Marketer).await;
    let shop = app.token_of(Role::Admin).await;
    for n in 0..3 {
        let body = json!({"email": format!("v{n}@example.com"), "lists": ["weekly"]});
        let response = sign_up_with(&app, &website, &body).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "signup {n}");
    }
    let body = json!({"email": "v3@example.com", "lists": ["weekly"]});
    let refused = sign_up_with(&app, &website, &body).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(
        app.subscriber("v3@example.com").await.is_none(),
        "nothing stored"
    );
    // Another token has its own share.
    let other = sign_up_with(&app, &shop, &body).await;
    assert_eq!(other.status(), StatusCode::ACCEPTED);
    assert_eq!(app.deliver_and_take().await.len(), 4);
}

#[tokio::test]
async fn bad_signups_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list_with(json!({
        "slug": "pcn", "name": "PCN", "kind": "product_notices",
        "legal_basis": "legitimate_interest", "opt_in": "none"
    }))
    .await;
    let viewer = app.token_of(Role::Viewer).await;
    let forbidden = sign_up_with(
        &app,
        &viewer,
        &json!({"email": "a@example.com", "lists": ["weekly"]}),
    )
    .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    let marketer = app.token_of(Role::Marketer).await;
    for (body, names) in [
        (
            json!({"email": "not an address", "lists": ["weekly"]}),
            "email",
        ),
        (json!({"email": "a@example.com", "lists": []}), "lists"),
        (
            json!({"email": "a@example.com", "lists": ["nope"]}),
            "lists",
        ),
        (json!({"email": "a@example.com", "lists": ["pcn"]}), "lists"),
        (
            json!({"email": "a@example.com", "lists": ["weekly"], "locale": "ko"}),
            "locale",
        ),
        (
            json!({"email": "a@example.com", "lists": ["weekly"], "ip": "300.1.1.1"}),
            "ip",
        ),
        (
            json!({"email": "a@example.com", "lists": ["weekly"], "consent_text": " "}),
            "consent_text",
        ),
        (
            json!({"email": "a@example.com", "lists": ["weekly"], "extra": 1}),
            "extra",
        ),
    ] {
        let response = sign_up_with(&app, &marketer, &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let error: Value = response.json().await.unwrap();
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(names), "{body}: {message}");
    }
    assert!(app.subscriber("a@example.com").await.is_none());
    assert!(app.deliver_and_take().await.is_empty());
}
