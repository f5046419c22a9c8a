//! Signed outgoing webhooks (Standard Webhooks) against a real receiver on loopback, their
//! retries, order and attempts; the SSRF guard; the events feed and its cursor.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU32, Ordering},
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode as AxumStatus},
    routing::post,
};
use base64::Engine as _;
use bulletin::delivery::hooks::{self, HookReport};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::TestApp;

/// One request the receiver saw: its `webhook-id`, whether the signature held, what it
/// answered and the body.
#[derive(Debug, Clone)]
struct Seen {
    id: String,
    signed: bool,
    answered: u16,
    body: Value,
}

#[derive(Clone, Default)]
struct Receiver {
    secret: Arc<Mutex<String>>,
    failures_left: Arc<AtomicU32>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    /// Listens on loopback; answers 500 to the first `failures` requests.
    async fn start(failures: u32) -> (Self, String) {
        let receiver = Self::default();
        receiver.failures_left.store(failures, Ordering::SeqCst);
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn accepted(&self) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|s| s.answered == 200).cloned().collect()
    }

    fn all(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Verifies a request as the Standard Webhooks specification says, as an integrator would.
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(timestamp), Some(signatures)) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    ) else {
        return false;
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    signatures.split(' ').any(|s| s == expected)
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> AxumStatus {
    let secret = receiver.secret.lock().unwrap().clone();
    let signed = verify(&secret, &headers, &body);
    let fail = receiver
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let answered = match (signed, fail) {
        (false, _) => AxumStatus::UNAUTHORIZED,
        (true, true) => AxumStatus::INTERNAL_SERVER_ERROR,
        (true, false) => AxumStatus::OK,
    };
    receiver.seen.lock().unwrap().push(Seen {
        id: headers
            .get("webhook-id")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        signed,
        answered: answered.as_u16(),
        body: serde_json::from_slice(&body).unwrap(),
    });
    answered
}

async fn private_targets_app() -> TestApp {
    TestApp::spawn_with(|s| s.webhooks.allow_private_targets = true).await
}

/// Registers `url` for `events` and hands the secret to `receiver`; returns the 201's JSON.
async fn register(app: &TestApp, receiver: &Receiver, url: &str, events: &[&str]) -> Value {
    let response = app
        .api_post("/api/v1/webhooks", &json!({"url": url, "events": events}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().contains_key("location"));
    let created: Value = response.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    secret.clone_into(&mut receiver.secret.lock().unwrap());
    created
}

async fn send_hooks(app: &TestApp) -> HookReport {
    let client = hooks::client(true).unwrap();
    hooks::drain(app.app.context(), &client).await.unwrap()
}

async fn subscriber_id(app: &TestApp, email: &str) -> String {
    app.subscriber(email).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn events_page(app: &TestApp, query: &str) -> Value {
    let response = app.api_get(&format!("/api/v1/events{query}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_webhook_is_signed_retried_after_failures_and_delivered_once_in_order() {
    let app = private_targets_app().await;
    let (receiver, url) = Receiver::start(2).await;
    let events = ["subscription.confirmed", "subscription.unsubscribed"];
    let created = register(&app, &receiver, &url, &events).await;
    let hook = created["id"].as_str().unwrap();
    let shown = app.api_get(&format!("/api/v1/webhooks/{hook}")).await;
    let shown: Value = shown.json().await.unwrap();
    assert!(shown.get("secret").is_none(), "the secret is shown once");
    assert_eq!(shown["enabled"], true);

    app.create_list("news").await;
    app.confirmed_subscriber("ada@example.com", "news").await;
    let person = subscriber_id(&app, "ada@example.com").await;
    let unsubscribe = format!("/api/v1/subscribers/{person}/unsubscribe");
    assert_eq!(
        app.api_post(&unsubscribe, &Value::Null).await.status(),
        StatusCode::OK
    );

    // The first try fails; the unsubscribe waits behind the confirmation (same person).
    let first = send_hooks(&app).await;
    assert_eq!((first.delivered, first.failed), (0, 1));
    assert_eq!(send_hooks(&app).await, HookReport::default(), "backing off");
    app.advance(chrono::Duration::seconds(31));
    assert_eq!(send_hooks(&app).await.failed, 1);
    app.advance(chrono::Duration::seconds(61));
    let recovered = send_hooks(&app).await;
    assert_eq!((recovered.delivered, recovered.failed), (2, 0));
    assert_eq!(send_hooks(&app).await, HookReport::default());

    let all = receiver.all();
    assert!(all.iter().all(|s| s.signed), "every request verifies");
    let accepted = receiver.accepted();
    let types: Vec<&str> = accepted
        .iter()
        .map(|s| s.body["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, events, "once each, in order");
    assert_eq!(accepted[0].body["data"]["subscriber_id"], person.as_str());
    assert!(
        !accepted[0].body.to_string().contains("ada@"),
        "no address in the payload"
    );
    let confirmation_id = &accepted[0].id;
    assert_eq!(
        all.iter().filter(|s| &s.id == confirmation_id).count(),
        3,
        "the same webhook-id on every retry"
    );
    let feed = events_page(&app, "").await;
    assert_eq!(feed["events"][0]["id"], confirmation_id.as_str());

    let attempts = app
        .api_get(&format!("/api/v1/webhooks/{hook}/attempts"))
        .await;
    assert_eq!(attempts.status(), StatusCode::OK);
    let attempts: Value = attempts.json().await.unwrap();
    let summary: Vec<(String, u64, Value)> = attempts["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["event_type"].as_str().unwrap().to_owned(),
                a["attempt"].as_u64().unwrap(),
                a["status_code"].clone(),
            )
        })
        .collect();
    let confirmed = || "subscription.confirmed".to_owned();
    assert_eq!(
        summary,
        vec![
            ("subscription.unsubscribed".to_owned(), 1, json!(200)),
            (confirmed(), 3, json!(200)),
            (confirmed(), 2, json!(500)),
            (confirmed(), 1, json!(500)),
        ]
    );
}

#[tokio::test]
async fn an_endpoint_failing_for_a_day_is_disabled_and_can_be_enabled_again() {
    let app = private_targets_app().await;
    let (receiver, url) = Receiver::start(u32::MAX).await;
    let created = register(&app, &receiver, &url, &["subscription.confirmed"]).await;
    let hook = created["id"].as_str().unwrap();
    app.create_list("news").await;
    app.confirmed_subscriber("bob@example.com", "news").await;

    let mut disabled = 0;
    for _ in 0..40 {
        disabled += send_hooks(&app).await.disabled;
        app.advance(chrono::Duration::hours(1));
    }
    assert_eq!(disabled, 1);
    let path = format!("/api/v1/webhooks/{hook}");
    let shown: Value = app.api_get(&path).await.json().await.unwrap();
    assert_eq!(shown["enabled"], false);
    assert!(shown["disabled_at"].is_string());
    assert_eq!(
        send_hooks(&app).await,
        HookReport::default(),
        "nothing sent"
    );

    receiver.failures_left.store(0, Ordering::SeqCst);
    let enabled = app
        .api_send(Method::PATCH, &path, Some(&json!({"enabled": true})))
        .await;
    assert_eq!(enabled.status(), StatusCode::OK);
    assert_eq!(send_hooks(&app).await.delivered, 1);
    assert_eq!(receiver.accepted().len(), 1);
}

#[tokio::test]
async fn webhook_targets_must_be_public_and_events_known() {
    let app = TestApp::spawn().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]/",
        "http://169.254.169.254/latest",
    ] {
        let response = app
            .api_post(
                "/api/v1/webhooks",
                &json!({"url": url, "events": ["subscription.confirmed"]}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
    }
    for body in [
        json!({"url": "https://example.com/hook", "events": ["subscription.created"]}),
        json!({"url": "https://example.com/hook", "events": []}),
        json!({"url": "ftp://example.com/hook", "events": ["campaign.sent"]}),
    ] {
        let response = app.api_post("/api/v1/webhooks", &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
    }
    let marketer = app.token_of(bulletin::domain::Role::Marketer).await;
    let response = app
        .http
        .get(app.url("/api/v1/webhooks"))
        .bearer_auth(&marketer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let listed: Value = app.api_get("/api/v1/webhooks").await.json().await.unwrap();
    assert_eq!(listed["webhooks"], json!([]), "nothing was registered");
}

#[tokio::test]
async fn the_events_feed_lists_events_in_order_with_a_working_cursor() {
    let app = TestApp::spawn().await;
    app.create_list("news").await;
    app.confirmed_subscriber("a@example.com", "news").await;
    app.confirmed_subscriber("b@example.com", "news").await;
    let a = subscriber_id(&app, "a@example.com").await;
    let unsubscribe = format!("/api/v1/subscribers/{a}/unsubscribe");
    app.api_post(&unsubscribe, &Value::Null).await;

    let first = events_page(&app, "?limit=2").await;
    let types = |page: &Value| -> Vec<String> {
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        types(&first),
        ["subscription.confirmed", "subscription.confirmed"]
    );
    assert_eq!(first["events"][0]["subscriber_id"], a.as_str());
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = events_page(&app, &format!("?after={cursor}")).await;
    assert_eq!(types(&rest), ["subscription.unsubscribed"]);
    assert_eq!(rest["events"][0]["data"]["subscriber_id"], a.as_str());
    let last = rest["next_cursor"].as_str().unwrap();
    let none = events_page(&app, &format!("?after={last}")).await;
    assert_eq!(none["events"], json!([]));
    assert_eq!(none["next_cursor"], last, "a poller keeps its place");

    for bad in ["?limit=0", "?after=abc", "?limit=1001"] {
        let response = app.api_get(&format!("/api/v1/events{bad}")).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let viewer = app.token_of(bulletin::domain::Role::Viewer).await;
    let response = app
        .http
        .get(app.url("/api/v1/events"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn admins_add_see_disable_and_delete_webhooks_in_the_admin_ui() {
    let app = private_targets_app().await;
    let admin = crate::admin::Admin::with_role(&app, bulletin::domain::Role::Admin).await;
    let page = admin.get("/admin/webhooks").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("No webhooks."));

    let (_receiver, url) = Receiver::start(0).await;
    let added = admin
        .post(
            "/admin/webhooks",
            &[
                ("url", &url),
                ("events", "campaign.sent"),
                ("events", "notice.objected"),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let text = added.text().await.unwrap();
    assert!(text.contains("whsec_"), "the secret is shown once");
    let listed: Value = app.api_get("/api/v1/webhooks").await.json().await.unwrap();
    let hook = listed["webhooks"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        listed["webhooks"][0]["events"],
        json!(["campaign.sent", "notice.objected"])
    );
    let list = admin.get("/admin/webhooks").await.text().await.unwrap();
    assert!(
        list.contains(&url) && !list.contains("whsec_"),
        "not shown again"
    );

    let page = admin.get(&format!("/admin/webhooks/{hook}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("No attempts yet."));
    let disabled = admin
        .post(&format!("/admin/webhooks/{hook}/disable"), &[])
        .await;
    assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
    let shown: Value = app
        .api_get(&format!("/api/v1/webhooks/{hook}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["enabled"], false);
    let deleted = admin
        .post(&format!("/admin/webhooks/{hook}/delete"), &[])
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    let listed: Value = app.api_get("/api/v1/webhooks").await.json().await.unwrap();
    assert_eq!(listed["webhooks"], json!([]));

    let marketer = crate::admin::Admin::with_role(&app, bulletin::domain::Role::Marketer).await;
    assert_eq!(
        marketer.get("/admin/webhooks").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn sends_suppressions_privacy_requests_and_erasures_raise_their_events() {
    let app = TestApp::spawn().await;
    app.create_list("news").await;
    app.confirmed_subscriber("c@example.com", "news").await;
    let id = subscriber_id(&app, "c@example.com").await;
    let campaign = app.start_campaign("news").await;
    app.deliver_all().await;
    app.run_job("campaigns").await;
    let suppressed = app
        .api_post(
            "/api/v1/suppressions",
            &json!({"email": "x@example.com", "reason": "manual", "note": "by phone"}),
        )
        .await;
    assert_eq!(suppressed.status(), StatusCode::CREATED);
    let logged: Value = app
        .api_post(
            "/api/v1/privacy-requests",
            &json!({"subscriber_id": id, "kind": "erasure", "channel": "email"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let erased = app
        .api_post(
            &format!("/api/v1/subscribers/{id}/erase"),
            &json!({"request_id": logged["id"]}),
        )
        .await;
    assert_eq!(erased.status(), StatusCode::OK);

    let feed = events_page(&app, "").await;
    let events = feed["events"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["type"] == kind).collect() };
    assert_eq!(
        of("campaign.sent")[0]["data"]["campaign_id"],
        campaign.as_str()
    );
    assert_eq!(of("suppression.added")[0]["data"]["reason"], "manual");
    assert_eq!(of("suppression.added")[1]["data"]["reason"], "erased");
    let request = of("privacy_request.created")[0];
    assert_eq!(request["data"]["privacy_request_id"], logged["id"]);
    assert_eq!(request["subscriber_id"], id.as_str());
    assert_eq!(of("subscriber.erased")[0]["subscriber_id"], id.as_str());
    let sequences: Vec<i64> = events
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "in order");
    let text = feed.to_string();
    assert!(!text.contains("c@example.com") && !text.contains("x@example.com"));
}

#[tokio::test]
async fn acknowledging_and_objecting_to_a_notice_raise_their_events() {
    use crate::customers::{catalogue, customer};
    use crate::support::{link, list_unsubscribe_url};

    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "yes@example.com", &["LM317"], "en").await;
    customer(&app, "no@example.com", &["LM317"], "en").await;
    let deadline = (app.clock.now() + chrono::Duration::days(10)).to_rfc3339();
    let notice = json!({
        "kind": "pcn", "title": "New mould compound", "affected_parts": ["LM317"],
        "change_category": "material", "description_before": "A", "description_after": "B",
        "reason": "Supplier change",
        "impact": {"form": "none", "fit": "none", "function": "none", "quality": "none", "reliability": "none"},
        "qualification_summary": "JEDEC qualified",
        "effective_date": (app.clock.now().date_naive() + chrono::Duration::days(120)).to_string(),
        "ack_deadline": deadline,
    });
    let created: Value = app
        .api_post("/api/v1/notices", &notice)
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let sent = app
        .api_post(&format!("/api/v1/notices/{id}/send"), &json!({}))
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let mails = app.deliver_and_take().await;
    let to = |who: &str| mails.iter().find(|m| m.rcpt_to[0] == who).unwrap();
    let ack = link(to("yes@example.com"), "/acknowledge/");
    let answered = app
        .post_form(&ack, &[("decision", "approve"), ("comment", "")])
        .await;
    assert_eq!(answered.status(), StatusCode::OK);
    let objected = app
        .post_form(
            &list_unsubscribe_url(to("no@example.com")),
            &[("List-Unsubscribe", "One-Click")],
        )
        .await;
    assert_eq!(objected.status(), StatusCode::OK);

    let feed = events_page(&app, "").await;
    let find = |kind: &str| {
        feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {feed}"))
            .clone()
    };
    let acknowledged = find("notice.acknowledged");
    assert_eq!(acknowledged["data"]["notice_id"], id);
    assert_eq!(acknowledged["data"]["status"], "approved");
    let objection = find("notice.objected");
    let no = subscriber_id(&app, "no@example.com").await;
    assert_eq!(objection["subscriber_id"], no.as_str());
}

#[tokio::test]
async fn the_webhook_client_refuses_names_that_resolve_to_loopback_at_connect_time() {
    let (receiver, url) = Receiver::start(0).await;
    // A name, not an address: only the resolver can see where it leads (DNS rebinding).
    let by_name = url.replace("127.0.0.1", "localhost");
    let guarded = hooks::client(false).unwrap();
    assert!(guarded.post(&by_name).body("{}").send().await.is_err());
    let open = hooks::client(true).unwrap();
    let answered = open.post(&by_name).body("{}").send().await.unwrap();
    assert_eq!(answered.status(), StatusCode::UNAUTHORIZED, "unsigned");
    assert_eq!(
        receiver.all().len(),
        1,
        "only the allowed client got through"
    );
}
