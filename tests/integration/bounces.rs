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

/// `DELETE /api/v1/suppressions/{id}` with `token` and `body`.
async fn lift(app: &TestApp, token: &str, id: &str, body: Option<Value>) -> StatusCode {
    let mut request = app
        .http
        .delete(app.url(&format!("/api/v1/suppressions/{id}")))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn suppressions_can_be_seen_added_and_lifted_by_an_admin_with_a_note() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "gone@example.com", "weekly").await;
    app.smtp.fail_next_rcpt(1, "550 5.1.1 User unknown");
    start_campaign(&app, "weekly").await;
    app.deliver_all().await;

    let listing: Value = app
        .api_get("/api/v1/suppressions")
        .await
        .json()
        .await
        .unwrap();
    let all = listing["suppressions"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{listing}");
    let bounce = &all[0];
    assert_eq!(bounce["reason"], "hard_bounce");
    assert_eq!(bounce["email"], "gone@example.com");
    assert!(
        bounce["detail"].as_str().unwrap().contains("5.1.1"),
        "{bounce}"
    );
    let person = app.subscriber("gone@example.com").await.unwrap();
    assert_eq!(person["suppressed"]["reason"], "hard_bounce");
    assert_eq!(bounce["subscriber_id"], person["id"]);

    let added = app
        .api_post(
            "/api/v1/suppressions",
            &json!({"email": "Stranger@Example.com", "reason": "manual", "note": "asked by phone"}),
        )
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let added: Value = added.json().await.unwrap();
    assert_eq!(
        (added["reason"].as_str(), added["email"].as_str()),
        (Some("manual"), None)
    );
    let manual: Value = app
        .api_get("/api/v1/suppressions?reason=manual")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(manual["suppressions"].as_array().unwrap().len(), 1);
    let bad = app.api_get("/api/v1/suppressions?reason=nonsense").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let id = bounce["id"].as_str().unwrap();
    let marketer = app.token_of(bulletin::domain::Role::Marketer).await;
    let note = Some(json!({"note": "the mailbox exists again"}));
    assert_eq!(
        lift(&app, &marketer, id, note.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        lift(&app, &app.token, id, None).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        lift(&app, &app.token, id, Some(json!({"note": " "}))).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        lift(&app, &app.token, &"0".repeat(64), note.clone()).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        lift(&app, &app.token, id, note).await,
        StatusCode::NO_CONTENT
    );
    assert!(app.audit_text().await.contains("suppression.lift"));
    assert_eq!(
        app.subscriber("gone@example.com").await.unwrap()["suppressed"],
        Value::Null
    );
    start_campaign(&app, "weekly").await;
    assert_eq!(app.deliver_all().await.sent, 1, "mailable again");
}

#[tokio::test]
async fn the_admin_ui_shows_suppressions_on_their_page_and_the_person() {
    use crate::admin::Admin;
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "gone@example.com", "weekly").await;
    app.smtp.fail_next_rcpt(1, "550 5.1.1 User unknown");
    start_campaign(&app, "weekly").await;
    app.deliver_all().await;
    let admin = Admin::with_role(&app, bulletin::domain::Role::Admin).await;
    let page = admin.get("/admin/suppressions").await.text().await.unwrap();
    assert!(
        page.contains("gone@example.com") && page.contains("hard_bounce"),
        "{page}"
    );
    let id = app.subscriber("gone@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let person = admin
        .get(&format!("/admin/subscribers/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(person.contains("the address is suppressed"), "{person}");
    // Lifting needs a note.
    let listing: Value = app
        .api_get("/api/v1/suppressions")
        .await
        .json()
        .await
        .unwrap();
    let sid = listing["suppressions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/admin/suppressions/{sid}/lift");
    assert_eq!(
        admin.post(&path, &[("note", "")]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        admin
            .post(&path, &[("note", "exists again")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let after: Value = app
        .api_get("/api/v1/suppressions")
        .await
        .json()
        .await
        .unwrap();
    assert!(after["suppressions"].as_array().unwrap().is_empty());
    // A marketer adds one by hand, and sees no lift button.
    let marketer = Admin::with_role(&app, bulletin::domain::Role::Marketer).await;
    let added = marketer
        .post(
            "/admin/suppressions",
            &[("email", "x@example.com"), ("note", "asked")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let page = marketer
        .get("/admin/suppressions")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("manual") && !page.contains("/lift"), "{page}");
}
