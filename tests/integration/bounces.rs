//! What the relay's refusals say about an address, by their enhanced status codes (RFC 3463):
//! hard bounces suppress, soft bounces only in a row, policy refusals never (and pause a
//! campaign when they keep coming).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

/// Signs `email` up for `list` and confirms it.
async fn confirmed(app: &TestApp, email: &str, list: &str) {
    app.confirmed_subscriber(email, list).await;
    app.deliver_and_take().await;
}

/// Creates and starts a campaign to `list`; returns its id.
async fn start_campaign(app: &TestApp, list: &str) -> String {
    let response = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "News", "subject": "News", "body_markdown": "Hello", "lists": [list]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let scheduled = app
        .api_post(
            &format!("/api/v1/campaigns/{id}/schedule"),
            &json!({"send_at": null}),
        )
        .await;
    assert_eq!(scheduled.status(), StatusCode::OK);
    app.run_job("campaigns").await;
    id
}

async fn campaign(app: &TestApp, id: &str) -> Value {
    app.api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_policy_refusal_is_counted_as_blocked_and_leaves_the_subscriber_mailable() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "jane@example.com", "weekly").await;
    app.smtp.fail_next_rcpt(1, "550 5.7.1 Relaying denied");
    let id = start_campaign(&app, "weekly").await;
    assert_eq!(app.deliver_all().await.failed, 1);
    let counts = &campaign(&app, &id).await["counts"];
    assert_eq!(
        (counts["blocked"].as_u64(), counts["bounced"].as_u64()),
        (Some(1), Some(0))
    );
    // Still mailable: the next campaign reaches her.
    start_campaign(&app, "weekly").await;
    assert_eq!(app.deliver_all().await.sent, 1);
}

#[tokio::test]
async fn an_unknown_mailbox_is_a_hard_bounce_counted_and_suppressed() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "gone@example.com", "weekly").await;
    app.smtp
        .fail_next_rcpt(1, "550 5.1.1 <gone@example.com>: User unknown");
    let id = start_campaign(&app, "weekly").await;
    assert_eq!(app.deliver_all().await.failed, 1);
    assert_eq!(campaign(&app, &id).await["counts"]["bounced"], 1);
    start_campaign(&app, "weekly").await;
    assert_eq!(app.deliver_all().await.suppressed, 1, "never mailed again");
}

#[tokio::test]
async fn a_full_mailbox_suppresses_only_after_three_soft_bounces_in_a_row() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "full@example.com", "weekly").await;
    for round in 1..=3 {
        app.smtp.fail_next_rcpt(1, "552 5.2.2 Mailbox full");
        start_campaign(&app, "weekly").await;
        assert_eq!(
            app.deliver_all().await.failed,
            1,
            "round {round}: still tried"
        );
    }
    start_campaign(&app, "weekly").await;
    assert_eq!(
        app.deliver_all().await.suppressed,
        1,
        "suppressed after the third"
    );
}

#[tokio::test]
async fn a_delivery_between_soft_bounces_starts_the_count_again() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "full@example.com", "weekly").await;
    for fail in [true, true, false, true, true] {
        if fail {
            app.smtp.fail_next_rcpt(1, "552 5.2.2 Mailbox full");
            start_campaign(&app, "weekly").await;
            assert_eq!(app.deliver_all().await.failed, 1);
        } else {
            start_campaign(&app, "weekly").await;
            assert_eq!(app.deliver_all().await.sent, 1);
        }
        app.advance(chrono::Duration::minutes(1));
    }
    start_campaign(&app, "weekly").await;
    assert_eq!(
        app.deliver_all().await.sent,
        1,
        "two in a row since the delivery: still mailable"
    );
}

#[tokio::test]
async fn policy_refusals_in_a_row_pause_the_campaign() {
    let app = TestApp::spawn_with(|s| s.delivery.pause_after_failures = 3).await;
    app.create_list("weekly").await;
    for n in 0..5 {
        confirmed(&app, &format!("p{n}@example.com"), "weekly").await;
    }
    app.smtp
        .fail_next_rcpt(5, "554 5.7.1 Service unavailable; client host blocked");
    let id = start_campaign(&app, "weekly").await;
    app.deliver_all().await;
    let c = campaign(&app, &id).await;
    assert_eq!(c["status"], "paused", "{c}");
    assert!(
        c["paused_reason"]
            .as_str()
            .unwrap()
            .contains("policy refusals"),
        "{c}"
    );
}
