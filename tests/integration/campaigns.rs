//! Campaigns: creation with template checks, scheduling, fan-out, personal delivery, the
//! lifecycle moves, and the relay-down pause.

use bulletin::services;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, body, link, list_unsubscribe_url};

/// Signs `email` up with `name` and confirms through the e-mailed link.
async fn confirmed(app: &TestApp, email: &str, name: &str, list: &str) {
    let form = [
        ("email", email),
        ("name", name),
        ("list", list),
        ("consent", "yes"),
    ];
    assert_eq!(app.subscribe(&form).await.status(), StatusCode::OK);
    let mail = app.deliver_and_take().await.pop().expect("a confirmation");
    assert_eq!(
        app.post_form(&link(&mail, "/confirm/"), &[]).await.status(),
        StatusCode::OK
    );
    app.deliver_and_take().await;
}

async fn create_campaign(app: &TestApp, body: Value) -> Value {
    let response = app.api_post("/api/v1/campaigns", &body).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{:?}",
        response.text().await
    );
    response.json().await.unwrap()
}

async fn simple_campaign(app: &TestApp, lists: &[&str]) -> String {
    let campaign = create_campaign(
        app,
        json!({
            "name": "November news",
            "subject": "News for {{ subscriber.name }}",
            "body_markdown": "# Hello {{ subscriber.name }}\n\nThis is **{{ list.name }}**.\n\n[Leave]({{ unsubscribe_url }})",
            "lists": lists,
        }),
    )
    .await;
    campaign["id"].as_str().unwrap().to_owned()
}

async fn act(app: &TestApp, id: &str, action: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .api_post(&format!("/api/v1/campaigns/{id}/{action}"), &body)
        .await;
    (response.status(), response.json().await.unwrap())
}

async fn campaign(app: &TestApp, id: &str) -> Value {
    let response = app.api_get(&format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_campaign_reaches_every_confirmed_subscriber_once_with_personal_links() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    confirmed(&app, "alice@example.com", "Alice", "weekly").await;
    confirmed(&app, "alice@example.com", "Alice", "monthly").await;
    confirmed(&app, "bob@example.com", "Bob <b>", "weekly").await;
    confirmed(&app, "carol@example.com", "Carol", "monthly").await;
    app.sign_up("pending@example.com", "weekly").await;
    app.deliver_and_take().await;

    let id = simple_campaign(&app, &["weekly", "monthly"]).await;
    assert_eq!(campaign(&app, &id).await["status"], "draft");
    let (status, scheduled) = act(&app, &id, "schedule", json!({"send_at": null})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(scheduled["status"], "scheduled");

    let run = app.run_job("campaigns").await;
    assert_eq!(run.report["started"], 1);
    assert_eq!(run.report["recipients_written"], 3);
    assert_eq!(campaign(&app, &id).await["status"], "sending");
    assert_eq!(app.deliver_all().await.sent, 3);
    assert_eq!(
        campaign(&app, &id).await["status"],
        "sending",
        "sent only after the job sees every row final"
    );
    assert_eq!(app.run_job("campaigns").await.report["finished"], 1);
    let done = campaign(&app, &id).await;
    assert_eq!(done["status"], "sent");
    assert_eq!(done["counts"]["total"], 3);
    assert_eq!(done["counts"]["sent"], 3);

    let mails = app.smtp.take_messages();
    let mut recipients: Vec<&str> = mails.iter().map(|m| m.rcpt_to[0].as_str()).collect();
    recipients.sort_unstable();
    assert_eq!(
        recipients,
        ["alice@example.com", "bob@example.com", "carol@example.com"]
    );
    let bob = mails
        .iter()
        .find(|m| m.rcpt_to[0] == "bob@example.com")
        .unwrap();
    assert_eq!(bob.subject(), "News for Bob <b>");
    assert!(
        bob.html_body().contains("<h1>Hello Bob &lt;b&gt;</h1>"),
        "{}",
        bob.html_body()
    );
    assert!(bob.text_body().contains("This is **List weekly**"));
    assert_eq!(
        bob.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(
        bob.text_body().contains(&list_unsubscribe_url(bob)),
        "a visible unsubscribe link"
    );
    let unsubscribe_links: std::collections::HashSet<String> =
        mails.iter().map(list_unsubscribe_url).collect();
    assert_eq!(
        unsubscribe_links.len(),
        3,
        "every recipient has their own link"
    );
    let message_ids: std::collections::HashSet<String> = mails
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(message_ids.len(), 3);

    app.post_form(
        &list_unsubscribe_url(bob),
        &[("List-Unsubscribe", "One-Click")],
    )
    .await;
    assert_eq!(
        app.subscription_status("bob@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    assert_eq!(
        app.run_job("campaigns").await.report["recipients_written"],
        0,
        "fan-out is idempotent"
    );
    assert_eq!(app.deliver_all().await.sent, 0, "nothing is sent twice");
}

#[tokio::test]
async fn bad_campaigns_are_refused_at_creation_with_the_reason() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let base = json!({"name": "n", "subject": "s", "body_markdown": "b", "lists": ["weekly"]});
    let with = |key: &str, value: Value| {
        let mut b = base.clone();
        b[key] = value;
        b
    };
    let cases = [
        (
            with("body_markdown", json!("Hi\n{{ subscriber.name ")),
            "template_error",
            Some("body:2"),
        ),
        (
            with("body_markdown", json!("{{ subscriber.nmae }}")),
            "template_error",
            None,
        ),
        (with("subject", json!("{% for %}")), "template_error", None),
        (with("lists", json!(["nope"])), "unknown_list", None),
        (with("lists", json!([])), "invalid_field", None),
        (with("subject", json!("two\nlines")), "invalid_field", None),
        (with("name", json!("")), "invalid_field", None),
        (with("from", json!("not a mailbox")), "invalid_field", None),
    ];
    for (request, code, detail) in cases {
        let response = app.api_post("/api/v1/campaigns", &request).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{request}"
        );
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code, "{error}");
        if let Some(detail) = detail {
            assert!(
                error["error"]["message"].as_str().unwrap().contains(detail),
                "{error}"
            );
        }
    }
    let listed: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    assert_eq!(
        listed["campaigns"].as_array().unwrap().len(),
        0,
        "nothing half created"
    );

    let id = simple_campaign(&app, &["weekly"]).await;
    let (status, error) = act(
        &app,
        &id,
        "schedule",
        json!({"send_at": "2001-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(campaign(&app, &id).await["status"], "draft");
    let (status, _) = act(&app, &id, "pause", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a draft cannot be paused");
    let (status, _) = act(&app, &id, "schedule", json!({"send_at": "tomorrow"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app
        .api_get("/api/v1/campaigns/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.api_get("/api/v1/campaigns/nope").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_scheduled_campaign_waits_for_its_time() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "alice@example.com", "Alice", "weekly").await;
    let id = simple_campaign(&app, &["weekly"]).await;
    let at = (app.clock.now() + chrono::Duration::hours(1)).to_rfc3339();
    act(&app, &id, "schedule", json!({"send_at": at})).await;
    assert_eq!(app.run_job("campaigns").await.report["started"], 0);
    assert_eq!(app.deliver_all().await.sent, 0);
    app.advance(chrono::Duration::minutes(61));
    assert_eq!(app.run_job("campaigns").await.report["started"], 1);
    assert_eq!(app.deliver_all().await.sent, 1);
}

#[tokio::test]
async fn an_unsubscribe_that_lands_mid_campaign_wins() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let confirmation = {
        app.sign_up("alice@example.com", "weekly").await;
        let mail = app.deliver_and_take().await.pop().unwrap();
        app.post_form(&link(&mail, "/confirm/"), &[]).await;
        mail
    };
    confirmed(&app, "bob@example.com", "Bob", "weekly").await;
    let id = simple_campaign(&app, &["weekly"]).await;
    act(&app, &id, "schedule", json!({"send_at": null})).await;
    app.run_job("campaigns").await;
    app.post_form(
        &list_unsubscribe_url(&confirmation),
        &[("List-Unsubscribe", "One-Click")],
    )
    .await;
    let report = app.deliver_all().await;
    assert_eq!((report.sent, report.suppressed), (1, 1));
    app.run_job("campaigns").await;
    let done = campaign(&app, &id).await;
    assert_eq!(done["status"], "sent");
    assert_eq!(done["counts"]["suppressed"], 1);
}

#[tokio::test]
async fn pause_holds_the_queue_and_resume_continues_where_it_stopped() {
    let app = TestApp::spawn_with(|s| s.delivery.batch_size = 2).await;
    app.create_list("weekly").await;
    for n in 0..4 {
        confirmed(&app, &format!("p{n}@example.com"), "P", "weekly").await;
    }
    let id = simple_campaign(&app, &["weekly"]).await;
    act(&app, &id, "schedule", json!({"send_at": null})).await;
    app.run_job("campaigns").await;
    let (status, paused) = act(&app, &id, "pause", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(paused["status"], "paused");
    assert!(paused["paused_reason"].as_str().unwrap().contains("tests"));
    assert_eq!(
        app.deliver_all().await.sent,
        0,
        "nothing goes out while paused"
    );
    let (_, resumed) = act(&app, &id, "resume", json!({})).await;
    assert_eq!(resumed["status"], "sending");
    assert_eq!(app.deliver_all().await.sent, 4);
    app.run_job("campaigns").await;
    assert_eq!(campaign(&app, &id).await["status"], "sent");
}

#[tokio::test]
async fn a_cancelled_campaign_sends_nothing_more() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "alice@example.com", "Alice", "weekly").await;
    let id = simple_campaign(&app, &["weekly"]).await;
    act(&app, &id, "schedule", json!({"send_at": null})).await;
    app.run_job("campaigns").await;
    let (status, cancelled) = act(&app, &id, "cancel", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(app.deliver_all().await.sent, 0);
    let (status, _) = act(&app, &id, "resume", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_campaign_that_missed_its_time_while_down_waits_for_a_person() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "alice@example.com", "Alice", "weekly").await;
    let late = simple_campaign(&app, &["weekly"]).await;
    let slightly_late = simple_campaign(&app, &["weekly"]).await;
    let at = (app.clock.now() + chrono::Duration::minutes(10)).to_rfc3339();
    act(&app, &late, "schedule", json!({"send_at": at})).await;
    app.advance(chrono::Duration::hours(3));
    let at = (app.clock.now() - chrono::Duration::seconds(30)).to_rfc3339();
    act(&app, &slightly_late, "schedule", json!({"send_at": at})).await;
    assert_eq!(
        services::campaigns::hold_missed(app.app.context())
            .await
            .unwrap(),
        1
    );
    let held = campaign(&app, &late).await;
    assert_eq!(held["status"], "paused");
    assert!(
        held["paused_reason"]
            .as_str()
            .unwrap()
            .contains("send time passed")
    );
    assert_eq!(
        campaign(&app, &slightly_late).await["status"],
        "scheduled",
        "within the grace"
    );
    assert_eq!(app.run_job("campaigns").await.report["started"], 1);
}

#[tokio::test]
async fn preview_and_test_send_use_sample_values() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let id = simple_campaign(&app, &["weekly"]).await;
    let preview: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}/preview"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview["subject"], "News for Jane Doe");
    assert!(
        preview["html"]
            .as_str()
            .unwrap()
            .contains("<h1>Hello Jane Doe</h1>")
    );
    assert!(preview["text"].as_str().unwrap().contains("Unsubscribe"));
    let (status, sent) = act(
        &app,
        &id,
        "test",
        json!({"emails": ["qa@example.com", "boss@example.com"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let mails = app.smtp.take_messages();
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].subject(), "[Test] News for Jane Doe");
    assert!(mails[0].header("List-Unsubscribe").is_some());
    let (status, _) = act(&app, &id, "test", json!({"emails": ["nope"]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        campaign(&app, &id).await["status"],
        "draft",
        "a test send changes nothing"
    );
}

#[tokio::test]
async fn a_campaign_pauses_itself_when_the_relay_keeps_failing_and_resumes_later() {
    let app = TestApp::spawn_with(|s| {
        s.delivery.pause_after_failures = 3;
        s.delivery.batch_size = 1;
        s.delivery.concurrency = 1;
    })
    .await;
    app.create_list("weekly").await;
    for n in 0..5 {
        confirmed(&app, &format!("r{n}@example.com"), "R", "weekly").await;
    }
    let id = simple_campaign(&app, &["weekly"]).await;
    act(&app, &id, "schedule", json!({"send_at": null})).await;
    app.run_job("campaigns").await;
    app.smtp.refuse_connections(true);
    let report = app.deliver_all().await;
    assert_eq!(report.deferred, 3, "it stops after three failures in a row");
    let paused = campaign(&app, &id).await;
    assert_eq!(paused["status"], "paused");
    assert!(
        paused["paused_reason"]
            .as_str()
            .unwrap()
            .contains("3 temporary send failures"),
        "{paused}"
    );

    app.smtp.refuse_connections(false);
    act(&app, &id, "resume", json!({})).await;
    // The deferred messages go at once, without waiting out their backoff.
    assert_eq!(app.deliver_all().await.sent, 5);
    app.run_job("campaigns").await;
    assert_eq!(campaign(&app, &id).await["counts"]["sent"], 5);
}

#[tokio::test]
async fn a_hard_bounce_in_a_campaign_suppresses_the_address_for_later_campaigns() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "gone@example.com", "Gone", "weekly").await;
    let first = simple_campaign(&app, &["weekly"]).await;
    act(&app, &first, "schedule", json!({"send_at": null})).await;
    app.run_job("campaigns").await;
    app.smtp.fail_next_rcpt(1, "550 5.1.1 No such user");
    let report = app.deliver_all().await;
    assert_eq!(report.failed, 1, "{report:?}");
    let second = simple_campaign(&app, &["weekly"]).await;
    act(&app, &second, "schedule", json!({"send_at": null})).await;
    app.run_job("campaigns").await;
    let report = app.deliver_all().await;
    assert_eq!((report.sent, report.suppressed), (0, 1));
    let (_, page) = body(app.api_get("/api/v1/jobs?job=campaigns").await).await;
    let jobs: Value = serde_json::from_str(&page).unwrap();
    assert!(jobs["runs"].as_array().unwrap().len() >= 2);
    assert_eq!(jobs["runs"][0]["status"], "ok");
}

#[tokio::test]
async fn a_pause_stops_a_batch_that_waits_for_the_rate_limit_and_resume_sends_the_rest_once() {
    let app = TestApp::spawn_with(|s| {
        s.delivery.max_per_second = 1;
        s.delivery.concurrency = 1;
    })
    .await;
    app.create_list("weekly").await;
    for n in 0..4 {
        confirmed(&app, &format!("p{n}@example.com"), "P", "weekly").await;
    }
    let id = simple_campaign(&app, &["weekly"]).await;
    act(&app, &id, "schedule", json!({"send_at": null})).await;
    app.run_job("campaigns").await;
    let meanwhile = async {
        // The first message went; the others wait for the rate limit.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (status, _) = act(&app, &id, "pause", json!({})).await;
        assert_eq!(status, StatusCode::OK);
        app.advance(chrono::Duration::seconds(2));
    };
    let (report, ()) = tokio::join!(app.deliver_all(), meanwhile);
    assert!(report.sent < 4, "the pause held the rest back: {report:?}");
    let sent_before = report.sent;
    act(&app, &id, "resume", json!({})).await;
    assert_eq!(app.deliver_all().await.sent + sent_before, 4);
    let mut received: Vec<String> = app.mailbox().iter().map(|m| m.rcpt_to[0].clone()).collect();
    received.sort();
    received.dedup();
    assert_eq!(received.len(), 4, "everyone once");
    assert_eq!(app.mailbox().len(), 4, "nobody twice");
}

#[tokio::test]
async fn test_sends_are_limited_and_never_reach_a_suppressed_or_blocked_person() {
    let app = TestApp::spawn_with(|s| s.delivery.test_sends_per_hour = 3).await;
    app.create_list("weekly").await;
    let id = simple_campaign(&app, &["weekly"]).await;
    for email in ["blocked@example.com", "gone@example.com"] {
        app.confirmed_subscriber(email, "weekly").await;
    }
    let app = &app;
    let person = |email: &'static str| async move {
        app.subscriber(email).await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let blocked = person("blocked@example.com").await;
    let r = app
        .api_post(
            &format!("/api/v1/subscribers/{blocked}/block"),
            &Value::Null,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let gone = person("gone@example.com").await;
    let r = app
        .api_post(&format!("/api/v1/subscribers/{gone}/erase"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    for email in ["blocked@example.com", "gone@example.com"] {
        let (status, body) = act(app, &id, "test", json!({ "emails": [email] })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{email}: {body}");
    }
    assert!(app.smtp.take_messages().is_empty(), "nothing reached them");
    for _ in 0..3 {
        let (status, body) = act(app, &id, "test", json!({"emails": ["qa@example.com"]})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let refused = app
        .api_post(
            &format!("/api/v1/campaigns/{id}/test"),
            &json!({"emails": ["qa@example.com"]}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().get("retry-after").is_some());
    assert_eq!(app.smtp.take_messages().len(), 3);
}

#[tokio::test]
async fn a_name_typed_as_markdown_stays_text_in_a_campaign_whose_template_has_logic() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let name = "[Claim your prize](https://evil.example) **now**";
    confirmed(&app, "mallory@example.com", name, "weekly").await;
    let campaign = create_campaign(
        &app,
        json!({
            "name": "Logic",
            "subject": "News",
            "body_markdown": "{% if subscriber.name %}Dear {{ subscriber.name }},{% else %}Hello,{% endif %}\n\n[Leave]({{ unsubscribe_url }})",
            "lists": ["weekly"],
        }),
    )
    .await;
    let id = campaign["id"].as_str().unwrap();
    let (status, _) = act(&app, id, "schedule", json!({"send_at": null})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.run_job("campaigns").await;
    let mail = app.deliver_and_take().await.pop().expect("the campaign");
    let html = mail.html_body();
    assert!(
        !html.contains("evil.example\""),
        "no link from the name: {html}"
    );
    assert!(!html.contains("<strong>now</strong>"), "{html}");
    assert!(
        html.contains("Dear [Claim your prize](https://evil.example) **now**,"),
        "{html}"
    );
    assert!(
        html.contains("/unsubscribe/"),
        "the template's own link stays: {html}"
    );
}

async fn patch(app: &TestApp, id: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .api_send(
            reqwest::Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(&body),
        )
        .await;
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn delete(app: &TestApp, id: &str) -> StatusCode {
    app.api_send(
        reqwest::Method::DELETE,
        &format!("/api/v1/campaigns/{id}"),
        None,
    )
    .await
    .status()
}

#[tokio::test]
async fn a_draft_is_edited_duplicated_and_deleted_and_a_sent_campaign_is_not() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    confirmed(&app, "jane@example.com", "Jane", "weekly").await;
    let id = simple_campaign(&app, &["weekly"]).await;

    // Partial changes; absent fields stay, null clears.
    let (status, body) = patch(
        &app,
        &id,
        json!({"subject": "Better subject", "reply_to": "help@desk.example"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["subject"], "Better subject");
    assert_eq!(body["name"], "November news");
    assert_eq!(body["reply_to"], "help@desk.example");
    let (_, body) = patch(
        &app,
        &id,
        json!({"reply_to": null, "lists": ["weekly", "monthly"]}),
    )
    .await;
    assert_eq!(body["reply_to"], Value::Null);
    assert_eq!(body["lists"], json!(["weekly", "monthly"]));

    // Bad input changes nothing.
    for (bad, code) in [
        (json!({"subject": ""}), "invalid_field"),
        (json!({"lists": ["nope"]}), "unknown_list"),
        (json!({"lists": []}), "invalid_field"),
        (json!({"body_markdown": "{{ nope("}), "template_error"),
        (
            json!({"from": "CEO <ceo@bank.example>"}),
            "from_not_allowed",
        ),
    ] {
        let (status, body) = patch(&app, &id, bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(body["error"]["code"], code, "{bad}: {body}");
    }
    let (status, _) = patch(&app, &id, json!({"colour": "red"})).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );
    let unchanged = campaign(&app, &id).await;
    assert_eq!(unchanged["subject"], "Better subject");
    assert_eq!(unchanged["lists"], json!(["weekly", "monthly"]));

    // A scheduled campaign returns to draft when changed.
    let later = (app.clock.now() + chrono::Duration::days(1)).to_rfc3339();
    act(&app, &id, "schedule", json!({"send_at": later})).await;
    let (_, body) = patch(&app, &id, json!({"name": "Renamed"})).await;
    assert_eq!(body["status"], "draft");
    assert_eq!(body["send_at"], Value::Null);

    // A copy is a new draft with the same content.
    let r = app
        .api_post(&format!("/api/v1/campaigns/{id}/duplicate"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let copy: Value = r.json().await.unwrap();
    assert_ne!(copy["id"], json!(id));
    assert_eq!(copy["name"], "Renamed (copy)");
    assert_eq!(copy["status"], "draft");
    assert_eq!(copy["subject"], "Better subject");
    assert_eq!(copy["lists"], json!(["weekly", "monthly"]));

    // Sent: no change, no deletion; its copy can go.
    act(&app, &id, "schedule", json!({"send_at": null})).await;
    app.run_job("campaigns").await;
    app.deliver_all().await;
    let (status, body) = patch(&app, &id, json!({"subject": "Too late"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    assert_eq!(delete(&app, &id).await, StatusCode::CONFLICT);
    act(&app, &id, "cancel", json!({})).await;
    assert_eq!(
        delete(&app, &id).await,
        StatusCode::CONFLICT,
        "a cancelled campaign that sent messages stays on record"
    );
    let copy_id = copy["id"].as_str().unwrap();
    assert_eq!(delete(&app, copy_id).await, StatusCode::NO_CONTENT);
    assert_eq!(
        app.api_get(&format!("/api/v1/campaigns/{copy_id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(delete(&app, copy_id).await, StatusCode::NOT_FOUND);
    let audit = app.audit_text().await;
    for action in ["campaign.update", "campaign.delete"] {
        assert!(audit.contains(action), "{action}");
    }
}

#[tokio::test]
async fn a_campaign_never_targets_a_legitimate_interest_list() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    crate::customers::catalogue(&app).await;
    let r = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "Promo", "subject": "Buy", "body_markdown": "Now", "lists": ["weekly", "pcn"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "wrong_legal_basis", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("pcn"));
    let id = simple_campaign(&app, &["weekly"]).await;
    let (status, body) = patch(&app, &id, json!({"lists": ["tech"]})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("wrong_legal_basis"))
    );
    let listed: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    assert_eq!(listed["campaigns"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_audience_counts_who_would_be_reached_now_per_list() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    for who in ["a", "b", "c"] {
        confirmed(&app, &format!("{who}@example.com"), "X", "weekly").await;
    }
    confirmed(&app, "a@example.com", "A", "monthly").await;
    confirmed(&app, "d@example.com", "D", "monthly").await;
    // Pending, blocked and suppressed people are not counted.
    app.sign_up("pending@example.com", "weekly").await;
    app.deliver_and_take().await;
    let b = app.subscriber("b@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .api_post(&format!("/api/v1/subscribers/{b}/block"), &json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let r = app
        .api_post(
            "/api/v1/suppressions",
            &json!({"email": "c@example.com", "note": "asked by phone"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let id = simple_campaign(&app, &["weekly", "monthly"]).await;
    let audience: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}/audience"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        audience,
        json!({"total": 2, "by_list": {"weekly": 1, "monthly": 2}})
    );
    assert_eq!(
        app.api_get("/api/v1/campaigns/00000000-0000-0000-0000-000000000000/audience")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
