//! Transactional mail through the API: templates, `POST /api/v1/transactional` (202), the
//! outbox with its retries, no unsubscribe, 409 `not_mailable`, the status, the data page.

use bulletin::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, client};

async fn order_template(app: &TestApp) -> Value {
    let response = app
        .api_post(
            "/api/v1/transactional-templates",
            &json!({
                "name": "order-shipped",
                "subject": "Order {{ data.order_id }} is on its way",
                "body_markdown": "Hello {{ subscriber.email }},\n\n**{{ data.order_id }}** left with {{ data.carrier }}.",
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let template: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!(
            "/api/v1/transactional-templates/{}",
            template["id"].as_str().unwrap()
        )
    );
    template
}

async fn send(app: &TestApp, body: &Value) -> reqwest::Response {
    app.api_post("/api/v1/transactional", body).await
}

#[tokio::test]
async fn a_message_is_queued_sent_without_unsubscribe_and_logged_for_the_person() {
    let app = TestApp::spawn().await;
    order_template(&app).await;
    let response = send(
        &app,
        &json!({"template": "order-shipped", "to": "Buyer@Example.com",
                "data": {"order_id": "A-17", "carrier": "<Post & Co>"}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let queued: Value = response.json().await.unwrap();
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["subject"], "Order A-17 is on its way");
    assert_eq!(
        location,
        format!("/api/v1/transactional/{}", queued["id"].as_str().unwrap())
    );

    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.rcpt_to, vec!["buyer@example.com".to_owned()]);
    assert_eq!(mail.subject(), "Order A-17 is on its way");
    assert!(
        mail.header("List-Unsubscribe").is_none(),
        "not a list message"
    );
    assert!(mail.header("List-Unsubscribe-Post").is_none());
    assert!(mail.header("Precedence").is_none());
    assert!(
        mail.html_body().contains("&lt;Post &amp; Co&gt;"),
        "{}",
        mail.html_body()
    );
    assert!(mail.text_body().contains("left with <Post & Co>"));

    let status: Value = app.api_get(&location).await.json().await.unwrap();
    assert_eq!(status["status"], "sent");
    assert!(status["sent_at"].is_string());

    // The person is known now, with no subscription, and the message is on their data page.
    let person = app.subscriber("buyer@example.com").await.unwrap();
    assert!(person["subscriptions"].as_array().unwrap().is_empty());
    let id = person["id"].as_str().unwrap();
    let export: Value = app
        .api_get(&format!("/api/v1/subscribers/{id}/export"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(export["messages"][0]["kind"], "transactional");
    assert_eq!(export["messages"][0]["status"], "sent");

    // Erasure takes the message's content with the person.
    let erased = app
        .api_post(&format!("/api/v1/subscribers/{id}/erase"), &json!({}))
        .await;
    assert!(erased.status().is_success(), "{:?}", erased.text().await);
    assert_eq!(app.api_get(&location).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_temporary_failure_is_retried_through_the_outbox() {
    let app = TestApp::spawn().await;
    order_template(&app).await;
    app.smtp.fail_next_rcpt(1, "451 4.3.0 Try again later");
    let queued: Value = send(
        &app,
        &json!({"template": "order-shipped", "to": "b@example.com",
                "data": {"order_id": "B-2", "carrier": "Post"}}),
    )
    .await
    .json()
    .await
    .unwrap();
    let location = format!("/api/v1/transactional/{}", queued["id"].as_str().unwrap());
    assert_eq!(app.deliver_all().await.deferred, 1);
    let status: Value = app.api_get(&location).await.json().await.unwrap();
    assert_eq!(status["status"], "deferred");
    assert!(status["last_error"].as_str().unwrap().contains("451"));
    app.advance(chrono::Duration::minutes(2));
    assert_eq!(app.deliver_all().await.sent, 1);
    let status: Value = app.api_get(&location).await.json().await.unwrap();
    assert_eq!(status["status"], "sent");
    assert_eq!(app.mailbox().len(), 1, "once");
}

#[tokio::test]
async fn suppressed_blocked_and_restricted_people_are_not_mailable() {
    let app = TestApp::spawn().await;
    order_template(&app).await;
    let message = |to: &str| {
        json!({"template": "order-shipped", "to": to,
               "data": {"order_id": "C-3", "carrier": "Post"}})
    };
    let added = app
        .api_post(
            "/api/v1/suppressions",
            &json!({"email": "gone@example.com"}),
        )
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let refused = send(&app, &message("gone@example.com")).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["code"], "not_mailable");
    assert!(app.subscriber("gone@example.com").await.is_none());

    for (who, path, body) in [
        ("blocked@example.com", "block", json!({})),
        (
            "restricted@example.com",
            "restriction",
            json!({"restricted": true}),
        ),
    ] {
        assert_eq!(
            send(&app, &message(who)).await.status(),
            StatusCode::ACCEPTED
        );
        let id = app.subscriber(who).await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let changed = app
            .api_post(&format!("/api/v1/subscribers/{id}/{path}"), &body)
            .await;
        assert!(
            changed.status().is_success(),
            "{who}: {:?}",
            changed.text().await
        );
        let refused = send(&app, &message(who)).await;
        assert_eq!(refused.status(), StatusCode::CONFLICT, "{who}");
    }
    // The messages asked for before the block and the restriction are re-checked when due.
    let report = app.deliver_all().await;
    assert_eq!(report.sent, 0, "{report:?}");
    assert!(app.mailbox().is_empty());
}

#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    order_template(&app).await;
    for (body, names) in [
        (
            json!({"template": "nope", "to": "a@example.com"}),
            "template",
        ),
        (
            json!({"template": "order-shipped", "to": "not an address"}),
            "to",
        ),
        (
            json!({"template": "order-shipped", "to": "a@example.com", "data": {"order_id": 1}}),
            "carrier",
        ),
        (
            json!({"template": "order-shipped", "to": "a@example.com", "data": [1]}),
            "data",
        ),
    ] {
        let response = send(&app, &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let message = response.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(names), "{body}: {message}");
    }
    assert!(
        app.subscriber("a@example.com").await.is_none(),
        "nobody recorded"
    );
    assert!(app.deliver_and_take().await.is_empty());

    for (body, names) in [
        (
            json!({"name": "Bad Name", "subject": "s", "body_markdown": "b"}),
            "name",
        ),
        (
            json!({"name": "x", "subject": "{% if %}", "body_markdown": "b"}),
            "subject",
        ),
        (
            json!({"name": "x", "subject": "s", "body_markdown": "{{ subscribr.name }}"}),
            "subscribr",
        ),
        (
            json!({"name": "x", "subject": "", "body_markdown": "b"}),
            "subject",
        ),
    ] {
        let response = app.api_post("/api/v1/transactional-templates", &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let message = response.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(names), "{body}: {message}");
    }
    let taken = app
        .api_post(
            "/api/v1/transactional-templates",
            &json!({"name": "order-shipped", "subject": "s", "body_markdown": "b"}),
        )
        .await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);

    let viewer = app.token_of(Role::Viewer).await;
    let forbidden = client()
        .post(app.url("/api/v1/transactional"))
        .bearer_auth(viewer)
        .json(&json!({"template": "order-shipped", "to": "a@example.com",
                      "data": {"order_id": "1", "carrier": "c"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn templates_are_listed_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let created = order_template(&app).await;
    let listed: Value = app
        .api_get("/api/v1/transactional-templates")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["templates"][0]["name"], "order-shipped");
    let changed = app
        .api_send(
            Method::PATCH,
            "/api/v1/transactional-templates/order-shipped",
            Some(&json!({"subject": "Shipped: {{ data.order_id }}"})),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["subject"], "Shipped: {{ data.order_id }}");
    assert_eq!(changed["body_markdown"], created["body_markdown"], "kept");
    let by_id = app
        .api_get(&format!(
            "/api/v1/transactional-templates/{}",
            created["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(by_id.status(), StatusCode::OK);
    let deleted = app
        .api_send(
            Method::DELETE,
            "/api/v1/transactional-templates/order-shipped",
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(
        app.audit_text()
            .await
            .contains("transactional_template.delete")
    );
}
