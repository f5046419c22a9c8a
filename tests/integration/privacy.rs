//! Data-subject rights end to end through the e-mailed link: the same answer for any address,
//! access, export (validated against its JSON Schema), restriction that stops every kind of
//! mail, withdrawal, correction and a confirmed change of address, erasure that leaves only
//! the keyed hash, and the operator's API (export, erasure, restriction, proof of consent,
//! the request log with its deadlines, the retention review).

use bulletin::{domain::Role, store};
use chrono::Duration;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    retention::{address_hash, stored_text},
    support::{TestApp, body, link, list_unsubscribe_url, smtp::ReceivedMail},
};

/// Asks for the privacy link of `email` at `/privacy`; returns the page's status and text.
async fn ask(app: &TestApp, email: &str) -> (StatusCode, String) {
    body(app.post_form("/privacy", &[("email", email)]).await).await
}

/// Asks for and delivers the privacy link of a known address; returns the link.
async fn privacy_link(app: &TestApp, email: &str) -> String {
    let (status, _) = ask(app, email).await;
    assert_eq!(status, StatusCode::OK);
    let mails = app.deliver_and_take().await;
    let mail = mails
        .iter()
        .find(|m| m.rcpt_to == [email.to_owned()] && m.text_body().contains("/privacy/"))
        .unwrap_or_else(|| panic!("a privacy link for {email} in {mails:?}"));
    link(mail, "/privacy/")
}

/// Signs up and confirms `email` on `list`, then gets the privacy link.
async fn subscriber_with_link(app: &TestApp, email: &str, list: &str) -> String {
    app.confirmed_subscriber(email, list).await;
    app.deliver_and_take().await;
    privacy_link(app, email).await
}

async fn post(app: &TestApp, url: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    body(app.post_form(url, form).await).await
}

async fn subscriber_id(app: &TestApp, email: &str) -> String {
    app.subscriber(email).await.expect("the subscriber")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn actions(ledger: &[Value]) -> Vec<String> {
    ledger
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn export_schema(app: &TestApp) -> jsonschema::Validator {
    let response = app.get("/privacy/export-schema/v1.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let schema: Value = response.json().await.unwrap();
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

fn assert_valid(validator: &jsonschema::Validator, document: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");
}

#[tokio::test]
async fn asking_for_the_link_answers_the_same_for_any_address_and_mails_only_a_known_one() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    app.deliver_and_take().await;

    let known = ask(&app, "jane@example.com").await;
    let unknown = ask(&app, "nobody@example.com").await;
    assert_eq!(known, unknown, "no enumeration");
    assert_eq!(known.0, StatusCode::OK);
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 1, "only the known address gets a mail");
    let mail = &mails[0];
    assert_eq!(mail.rcpt_to, ["jane@example.com"]);
    assert!(mail.header("List-Unsubscribe").is_some());
    let url = link(mail, "/privacy/");
    assert!(!url.contains("jane"), "the token carries no address");

    // Within the cooldown: the same page, no second mail.
    assert_eq!(ask(&app, "jane@example.com").await, unknown);
    assert!(app.deliver_and_take().await.is_empty());
    app.advance(Duration::minutes(6));
    ask(&app, "jane@example.com").await;
    assert_eq!(app.deliver_and_take().await.len(), 1);

    // Bad input: a clear error, nothing sent.
    let (status, page) = ask(&app, "not an address").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("<form"), "{page}");
}

#[tokio::test]
async fn requests_for_links_are_rate_limited_per_network_whatever_the_address() {
    let app = TestApp::spawn_with(|s| s.privacy.requests_per_hour = 2).await;
    assert_eq!(ask(&app, "a@example.com").await.0, StatusCode::OK);
    assert_eq!(ask(&app, "b@example.com").await.0, StatusCode::OK);
    assert_eq!(
        ask(&app, "c@example.com").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.advance(Duration::minutes(61));
    assert_eq!(ask(&app, "c@example.com").await.0, StatusCode::OK);
}

#[tokio::test]
async fn behind_a_proxy_the_limit_counts_the_address_the_proxy_saw_not_what_the_client_wrote() {
    let app = TestApp::spawn_with(|s| {
        s.privacy.requests_per_hour = 2;
        s.http.trust_forwarded_for = true;
    })
    .await;
    let ask_as = |forwarded: &'static str, email: &'static str| {
        app.http
            .post(app.url("/privacy"))
            .header("X-Forwarded-For", forwarded)
            .form(&[("email", email)])
            .send()
    };
    // The client writes a different first entry each time; the proxy appends 203.0.113.9.
    for (forwarded, email) in [
        ("198.51.100.1, 203.0.113.9", "a@example.com"),
        ("198.51.100.2, 203.0.113.9", "b@example.com"),
    ] {
        assert_eq!(
            ask_as(forwarded, email).await.unwrap().status(),
            StatusCode::OK
        );
    }
    let r = ask_as("198.51.100.3, 203.0.113.9", "c@example.com")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = ask_as("192.0.2.7", "c@example.com").await.unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another network has its own count"
    );
}

#[tokio::test]
async fn a_client_cannot_pick_its_address_with_its_own_x_forwarded_for_line() {
    let app = TestApp::spawn_with(|s| {
        s.privacy.requests_per_hour = 2;
        s.http.trust_forwarded_for = true;
    })
    .await;
    // The client sends its own header line each time; the proxy adds a line of its own.
    let ask_as = |client_line: &'static str, email: &'static str| {
        app.http
            .post(app.url("/privacy"))
            .header("X-Forwarded-For", client_line)
            .header("X-Forwarded-For", "203.0.113.9")
            .form(&[("email", email)])
            .send()
    };
    for (line, email) in [
        ("198.51.100.1", "a@example.com"),
        ("198.51.100.2", "b@example.com"),
    ] {
        assert_eq!(ask_as(line, email).await.unwrap().status(), StatusCode::OK);
    }
    let r = ask_as("198.51.100.3", "c@example.com").await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the proxy's address is counted, whatever the client's line says"
    );
}

#[tokio::test]
async fn the_privacy_link_expires_after_an_hour_and_a_forged_one_never_works() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let url = subscriber_with_link(&app, "jane@example.com", "weekly").await;
    assert_eq!(app.get(&url).await.status(), StatusCode::OK);
    let forged = format!("{}x", &url[..url.len() - 1]);
    assert_eq!(app.get(&forged).await.status(), StatusCode::NOT_FOUND);
    app.advance(Duration::minutes(61));
    let (status, page) = body(app.get(&url).await).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("/privacy"), "offers a fresh request: {page}");
    let (status, _) = post(&app, &format!("{url}/restrict"), &[("restricted", "yes")]).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(
        app.subscriber("jane@example.com").await.unwrap()["status"],
        "active"
    );
}

#[tokio::test]
async fn access_shows_everything_in_plain_language_and_is_recorded_only_on_the_button() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let url = subscriber_with_link(&app, "jane@example.com", "weekly").await;

    let response = app.get(&url).await;
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let (status, landing) = body(response).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !landing.contains("jane@example.com"),
        "a GET shows a button only"
    );
    assert!(!actions(&app.ledger("jane@example.com").await).contains(&"accessed".into()));

    let (status, page) = post(&app, &url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        "jane@example.com",
        "Jane Doe",
        "List weekly",
        "your consent (Art. 6(1)(a) GDPR)",
        "asked to subscribe",
        "confirmed the subscription",
        "confirmation request",
        "link to this page",
        "127.0.0.0",
        "We keep no customer or product data about you.",
    ] {
        assert!(page.contains(expected), "missing {expected:?} in {page}");
    }
    let ledger = app.ledger("jane@example.com").await;
    let accessed = ledger.last().unwrap();
    assert_eq!(accessed["action"], "accessed");
    assert_eq!(accessed["actor"], "subscriber");
    assert_eq!(accessed["source"], "privacy_page");
    let log: Value = app
        .api_get("/api/v1/privacy-requests?status=completed")
        .await
        .json()
        .await
        .unwrap();
    let entry = &log["requests"][0];
    assert_eq!(entry["kind"], "access");
    assert_eq!(entry["channel"], "self_service");
    assert_eq!(
        entry["subscriber_id"],
        subscriber_id(&app, "jane@example.com").await
    );
}

#[tokio::test]
async fn the_export_validates_against_its_json_schema_and_the_csv_holds_the_same_data() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let url = subscriber_with_link(&app, "jane@example.com", "weekly").await;
    let validator = export_schema(&app).await;

    let response = app
        .post_form(&format!("{url}/export"), &[("format", "json")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.contains("personal-data.json"), "{disposition}");
    let document: Value = response.json().await.unwrap();
    assert_valid(&validator, &document);
    assert_eq!(document["schema_version"], 1);
    assert!(
        document["$schema"]
            .as_str()
            .unwrap()
            .ends_with("/privacy/export-schema/v1.json")
    );
    assert_eq!(document["subscriber"]["email"], "jane@example.com");
    assert_eq!(document["subscriptions"][0]["list"]["slug"], "weekly");
    assert_eq!(
        document["subscriptions"][0]["list"]["legal_basis"],
        "consent"
    );
    assert_eq!(document["subscriptions"][0]["status"], "confirmed");
    assert_eq!(document["consent_events"][0]["action"], "requested");
    assert_eq!(document["messages"][0]["kind"], "confirmation");
    assert_eq!(document["messages"][0]["status"], "sent");

    let response = app
        .post_form(&format!("{url}/export"), &[("format", "csv")])
        .await;
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("section,item,field,value\r\n"), "{csv}");
    assert!(
        csv.contains("subscriber,,email,jane@example.com\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("subscriptions,1,list.slug,weekly\r\n"),
        "{csv}"
    );

    let ledger = actions(&app.ledger("jane@example.com").await);
    assert_eq!(ledger.iter().filter(|a| *a == "exported").count(), 2);
}

/// Schedules a campaign to `list` now and runs the fan-out; returns its id.
pub(crate) async fn campaign_now(app: &TestApp, list: &str) -> String {
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
    assert_eq!(scheduled.status(), StatusCode::ACCEPTED);
    app.run_job("campaigns").await;
    id
}

#[tokio::test]
async fn restriction_stops_every_kind_of_mail_and_lifting_it_is_one_click() {
    let app = TestApp::spawn().await;
    app.create_list_with(json!({
        "slug": "weekly", "name": "Weekly", "kind": "newsletter", "legal_basis": "consent",
        "opt_in": "double", "welcome_message": "Hi"
    }))
    .await;
    app.create_list("monthly").await;
    app.sign_up("jane@example.com", "weekly").await;
    let confirmation = app.deliver_and_take().await.pop().unwrap();
    let url = privacy_link(&app, "jane@example.com").await;
    // A welcome and another confirmation wait in the outbox when the restriction lands.
    app.post_form(&link(&confirmation, "/confirm/"), &[]).await;
    app.sign_up("jane@example.com", "monthly").await;

    let (status, _) = post(&app, &format!("{url}/restrict"), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "neither yes nor no");
    assert_eq!(
        app.subscriber("jane@example.com").await.unwrap()["status"],
        "active"
    );
    let (status, page) = post(&app, &format!("{url}/restrict"), &[("restricted", "yes")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Processing of your data is now restricted."),
        "{page}"
    );
    assert_eq!(
        app.subscriber("jane@example.com").await.unwrap()["status"],
        "restricted"
    );
    let campaign = campaign_now(&app, "weekly").await;
    app.sign_up("jane@example.com", "monthly").await;
    let report = app.deliver_all().await;
    assert!(app.smtp.take_messages().is_empty(), "{report:?}");
    let counts = app
        .api_get(&format!("/api/v1/campaigns/{campaign}"))
        .await
        .json::<Value>()
        .await
        .unwrap()["counts"]
        .clone();
    assert_eq!(counts["suppressed"], 1, "{counts}");
    // The person can still reach their data page, to lift the restriction.
    app.advance(Duration::minutes(10));
    let url = privacy_link(&app, "jane@example.com").await;
    let ledger = actions(&app.ledger("jane@example.com").await);
    assert!(ledger.contains(&"restricted".to_owned()), "{ledger:?}");

    let (status, page) = post(&app, &format!("{url}/restrict"), &[("restricted", "no")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("The restriction is lifted."));
    assert_eq!(
        app.subscriber("jane@example.com").await.unwrap()["status"],
        "active"
    );
    campaign_now(&app, "weekly").await;
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 1, "the next campaign arrives again");
    assert_eq!(mails[0].subject(), "News");
    let ledger = actions(&app.ledger("jane@example.com").await);
    assert!(
        ledger.contains(&"restriction_lifted".to_owned()),
        "{ledger:?}"
    );
}

#[tokio::test]
async fn consent_is_withdrawn_per_list_or_for_everything() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    app.confirmed_subscriber("jane@example.com", "monthly")
        .await;
    let url = subscriber_with_link(&app, "jane@example.com", "weekly").await;
    let (_, page) = post(&app, &url, &[]).await;
    let marker = r#"name="subscription" value=""#;
    let at = page.find(marker).expect("a checkbox") + marker.len();
    let first = &page[at..at + 36];

    let (status, page) = post(&app, &format!("{url}/withdraw"), &[("subscription", first)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("the chosen subscriptions are ended"),
        "{page}"
    );
    let statuses = [
        app.subscription_status("jane@example.com", "weekly").await,
        app.subscription_status("jane@example.com", "monthly").await,
    ];
    assert_eq!(
        statuses
            .iter()
            .filter(|s| s.as_deref() == Some("unsubscribed"))
            .count(),
        1,
        "{statuses:?}"
    );

    post(&app, &format!("{url}/withdraw"), &[("all", "yes")]).await;
    for list in ["weekly", "monthly"] {
        assert_eq!(
            app.subscription_status("jane@example.com", list)
                .await
                .as_deref(),
            Some("unsubscribed")
        );
    }
    let left: Vec<Value> = app
        .ledger("jane@example.com")
        .await
        .into_iter()
        .filter(|e| e["action"] == "unsubscribed")
        .collect();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|e| e["source"] == "privacy_page"));
}

#[tokio::test]
async fn name_and_language_are_corrected_at_once() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let url = subscriber_with_link(&app, "jane@example.com", "weekly").await;
    let (status, page) = post(
        &app,
        &format!("{url}/correct"),
        &[("name", "Jane Roe"), ("locale", "de")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Ihre Daten sind berichtigt."), "{page}");
    let found = app.subscriber("jane@example.com").await.unwrap();
    assert_eq!(
        (found["name"].as_str(), found["locale"].as_str()),
        (Some("Jane Roe"), Some("de"))
    );
    let rectified = app.ledger("jane@example.com").await.pop().unwrap();
    assert_eq!(rectified["action"], "rectified");
    assert_eq!(rectified["evidence"], json!({"fields": ["name", "locale"]}));
    assert!(
        !rectified.to_string().contains("Jane Roe"),
        "no values in the ledger"
    );

    let (status, _) = post(
        &app,
        &format!("{url}/correct"),
        &[("name", &"x".repeat(101))],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.subscriber("jane@example.com").await.unwrap()["name"],
        "Jane Roe"
    );
}

async fn address_change_mail(app: &TestApp, url: &str, new: &str) -> ReceivedMail {
    let (status, page) = post(app, &format!("{url}/address"), &[("email", new)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mut mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 1);
    let mail = mails.pop().unwrap();
    assert_eq!(mail.rcpt_to, [new.to_owned()]);
    mail
}

#[tokio::test]
async fn a_new_address_takes_effect_only_when_confirmed_from_that_address() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let url = subscriber_with_link(&app, "jane@example.com", "weekly").await;
    let id = subscriber_id(&app, "jane@example.com").await;

    let mail = address_change_mail(&app, &url, "jane.new@example.com").await;
    assert!(
        !mail.text_body().contains("/preferences/"),
        "nothing of the old address's data"
    );
    assert!(
        app.subscriber("jane.new@example.com").await.is_none(),
        "not yet"
    );
    let change = link(&mail, "/privacy/address/");
    let (status, page) = body(app.get(&change).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("jane.new@example.com") && !page.contains("jane@example.com"));
    assert!(
        app.subscriber("jane.new@example.com").await.is_none(),
        "a GET changes nothing"
    );

    let (status, page) = post(&app, &change, &[("decision", "confirm")]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(app.subscriber("jane@example.com").await.is_none());
    let moved = app.subscriber("jane.new@example.com").await.unwrap();
    assert_eq!(moved["id"], id);
    let rectified = app.ledger("jane.new@example.com").await.pop().unwrap();
    assert_eq!(rectified["action"], "rectified");
    assert_eq!(rectified["source"], "address_link");
    assert_eq!(rectified["evidence"], json!({"fields": ["email"]}));
    let log: Value = app
        .api_get("/api/v1/privacy-requests?status=completed")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        log["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "rectification")
    );
    // The link is used up.
    assert_eq!(app.get(&change).await.status(), StatusCode::NOT_FOUND);
    // Asking for the current address again is refused with a reason.
    let (status, page) = post(
        &app,
        &format!("{url}/address"),
        &[("email", "jane.new@example.com")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("already your address"), "{page}");
}

#[tokio::test]
async fn the_address_form_cannot_flood_another_address_with_mail() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let url = subscriber_with_link(&app, "jane@example.com", "weekly").await;
    address_change_mail(&app, &url, "victim@example.com").await;
    for _ in 0..3 {
        let (status, page) = post(
            &app,
            &format!("{url}/address"),
            &[("email", "victim@example.com")],
        )
        .await;
        assert!(status.is_client_error(), "{status}");
        assert!(page.contains("a few minutes ago"), "{page}");
    }
    assert!(app.deliver_and_take().await.is_empty(), "no more e-mail");
    app.advance(Duration::minutes(6));
    address_change_mail(&app, &url, "victim@example.com").await;
}

#[tokio::test]
async fn an_address_in_use_or_refused_changes_nothing() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("bob@example.com", "weekly").await;
    let url = subscriber_with_link(&app, "jane@example.com", "weekly").await;

    let mail = address_change_mail(&app, &url, "bob@example.com").await;
    let (status, page) = post(
        &app,
        &link(&mail, "/privacy/address/"),
        &[("decision", "confirm")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(app.subscriber("jane@example.com").await.is_some());
    assert!(app.subscriber("bob@example.com").await.is_some());

    let mail = address_change_mail(&app, &url, "typo@example.com").await;
    let one_click = list_unsubscribe_url(&mail);
    let response = app
        .post_form(&one_click, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, _) = post(
        &app,
        &link(&mail, "/privacy/address/"),
        &[("decision", "confirm")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the refused change is gone");
    assert!(app.subscriber("typo@example.com").await.is_none());
    assert!(app.subscriber("jane@example.com").await.is_some());
}

#[tokio::test]
async fn erasure_after_a_confirming_click_leaves_only_the_keyed_hash() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let form = [
        ("email", "zelda.erasable@example.com"),
        ("name", "Zelda Unforgettable"),
        ("list", "weekly"),
        ("consent", "yes"),
    ];
    app.subscribe(&form).await;
    let confirmation = app.deliver_and_take().await.pop().unwrap();
    app.post_form(&link(&confirmation, "/confirm/"), &[]).await;
    let url = privacy_link(&app, "zelda.erasable@example.com").await;
    let id = subscriber_id(&app, "zelda.erasable@example.com").await;
    // A pending address change must go too.
    address_change_mail(&app, &url, "zelda.other@example.com").await;

    let (status, page) = post(&app, &format!("{url}/erase"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Yes, erase everything"), "{page}");
    assert!(
        app.subscriber("zelda.erasable@example.com").await.is_some(),
        "not before the click"
    );

    let (status, page) = post(&app, &format!("{url}/erase"), &[("confirm", "yes")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("keyed hash of your address"), "{page}");
    assert!(page.contains("Art. 7(1)"), "{page}");
    assert!(app.subscriber("zelda.erasable@example.com").await.is_none());

    let stored = stored_text(&app).await;
    for gone in ["zelda.erasable", "zelda.other", "unforgettable"] {
        assert!(!stored.contains(gone), "{gone:?} is still stored");
    }
    let hash = address_hash(&app, "zelda.erasable@example.com");
    assert!(
        stored.contains(&hash),
        "the suppression and the ledger keep the hash"
    );
    let db = &app.app.context().db;
    assert!(store::suppressions::contains(db, &hash).await.unwrap());
    let events = store::consent_events::for_subscriber(
        db,
        id.parse::<uuid::Uuid>()
            .map(bulletin::domain::SubscriberId::from_uuid)
            .unwrap(),
    )
    .await
    .unwrap();
    let erased = events.last().unwrap();
    assert_eq!(erased.action, bulletin::domain::ConsentAction::Erased);
    assert_eq!(
        (erased.actor.as_str(), erased.source.as_str()),
        ("subscriber", "privacy_page")
    );
    assert!(
        events
            .iter()
            .all(|e| e.subject_hash.as_deref() == Some(hash.as_str())
                && e.ip_anon.is_none()
                && e.user_agent.is_none())
    );

    // A second erasure: a clear answer, nothing else.
    let (status, _) = post(&app, &format!("{url}/erase"), &[("confirm", "yes")]).await;
    assert_eq!(status, StatusCode::GONE);
    let again = app
        .api_post(&format!("/api/v1/subscribers/{id}/erase"), &json!({}))
        .await;
    assert_eq!(again.status(), StatusCode::GONE);
    // A signup gets only the request to confirm it, and the address stays suppressed until
    // the person does; nothing else mails it.
    app.subscribe(&form).await;
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 1);
    link(&mails[0], "/confirm/");
    assert!(store::suppressions::contains(db, &hash).await.unwrap());
    let (status, _) = ask(&app, "zelda.erasable@example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.deliver_and_take().await.is_empty());
}

#[tokio::test]
async fn the_operator_exports_erases_and_restricts_by_api_with_an_admin_token() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let id = subscriber_id(&app, "jane@example.com").await;
    let validator = export_schema(&app).await;

    let response = app
        .api_get(&format!("/api/v1/subscribers/{id}/export"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert_valid(&validator, &document);
    assert_eq!(document["subscriber"]["id"], id);
    let csv = app
        .api_get(&format!("/api/v1/subscribers/{id}/export?format=csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("subscriber,,email,jane@example.com"), "{csv}");
    assert!(
        !actions(&app.ledger("jane@example.com").await).contains(&"exported".into()),
        "the operator's GET changes nothing"
    );

    let restricted = app
        .api_post(
            &format!("/api/v1/subscribers/{id}/restriction"),
            &json!({"restricted": true}),
        )
        .await;
    assert_eq!(restricted.status(), StatusCode::OK);
    assert_eq!(
        restricted.json::<Value>().await.unwrap()["status"],
        "restricted"
    );
    let event = app.ledger("jane@example.com").await.pop().unwrap();
    assert_eq!(
        (event["action"].as_str(), event["actor"].as_str()),
        (Some("restricted"), Some("api:tests"))
    );

    let marketer = app.token_of(Role::Marketer).await;
    let forbidden = app
        .http
        .get(app.url(&format!("/api/v1/subscribers/{id}/export")))
        .bearer_auth(marketer)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

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
    assert!(app.subscriber("jane@example.com").await.is_none());
    let open: Value = app
        .api_get("/api/v1/privacy-requests?status=open")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        open["requests"],
        json!([]),
        "the erasure answered the logged request"
    );
    let unknown = app
        .api_post(
            &format!("/api/v1/subscribers/{}/erase", uuid::Uuid::now_v7()),
            &json!({}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn proof_of_consent_shows_who_when_how_the_text_and_the_withdrawal() {
    let app = TestApp::spawn().await;
    app.create_list_with(json!({
        "slug": "weekly", "name": "Weekly", "kind": "newsletter", "legal_basis": "consent",
        "opt_in": "double", "consent_text": "Yes, send me the Weekly."
    }))
    .await;
    let mail = app.confirmed_subscriber("jane@example.com", "weekly").await;
    let id = subscriber_id(&app, "jane@example.com").await;
    let path = format!("/api/v1/subscribers/{id}/consent-proof?list=weekly");

    let proof: Value = app.api_get(&path).await.json().await.unwrap();
    assert_eq!(proof["subscriber"]["email"], "jane@example.com");
    assert_eq!(proof["list"]["legal_basis"], "consent");
    assert_eq!(proof["status"], "confirmed");
    assert_eq!(proof["requested"]["source"], "form");
    assert_eq!(proof["requested"]["ip_anon"], "127.0.0.0");
    assert_eq!(proof["confirmed"]["source"], "email_link");
    assert_eq!(proof["confirmed"]["ip_anon"], "127.0.0.0");
    assert_eq!(proof["consent_text"]["body"], "Yes, send me the Weekly.");
    assert_eq!(
        proof["consent_text"]["sha256"],
        proof["requested"]["consent_text_hash"]
    );
    assert!(proof["withdrawn"].is_null());

    app.post_form(
        &list_unsubscribe_url(&mail),
        &[("List-Unsubscribe", "One-Click")],
    )
    .await;
    let proof: Value = app.api_get(&path).await.json().await.unwrap();
    assert_eq!(proof["withdrawn"]["action"], "unsubscribed");
    assert_eq!(proof["withdrawn"]["source"], "one_click");

    let response = app.api_get(&format!("{path}&format=html")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    for expected in [
        "Proof of consent",
        "jane@example.com",
        "Yes, send me the Weekly.",
        "email_link",
        "one_click",
    ] {
        assert!(page.contains(expected), "missing {expected:?}");
    }
    let missing = app
        .api_get(&format!("/api/v1/subscribers/{id}/consent-proof?list=nope"))
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn requests_by_other_channels_are_logged_with_their_30_day_deadline() {
    let app = TestApp::spawn().await;
    let received = app.clock.now() - Duration::days(25);
    let response = app
        .api_post(
            "/api/v1/privacy-requests",
            &json!({"kind": "access", "channel": "post", "received_at": received, "note": "letter"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let logged: Value = response.json().await.unwrap();
    assert_eq!(logged["status"], "open");
    assert_eq!(logged["days_left"], 5);
    assert_eq!(logged["overdue"], false);
    app.api_post(
        "/api/v1/privacy-requests",
        &json!({"kind": "erasure", "channel": "email"}),
    )
    .await;

    let open: Value = app
        .api_get("/api/v1/privacy-requests?status=open")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        open["requests"][0]["id"], logged["id"],
        "earliest deadline first"
    );
    assert_eq!(open["requests"].as_array().unwrap().len(), 2);

    app.advance(Duration::days(6));
    let open: Value = app
        .api_get("/api/v1/privacy-requests?status=open")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["requests"][0]["overdue"], true);
    assert_eq!(open["requests"][0]["days_left"], -1);

    let id = logged["id"].as_str().unwrap();
    let close = |status: &'static str| {
        let app = &app;
        async move {
            app.api_post(
                &format!("/api/v1/privacy-requests/{id}/close"),
                &json!({"status": status}),
            )
            .await
        }
    };
    let closed = close("completed").await;
    assert_eq!(closed.status(), StatusCode::OK);
    assert_eq!(closed.json::<Value>().await.unwrap()["note"], "letter");
    assert_eq!(close("rejected").await.status(), StatusCode::CONFLICT);
    let open: Value = app
        .api_get("/api/v1/privacy-requests?status=open")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["requests"].as_array().unwrap().len(), 1);

    for bad in [
        json!({"kind": "wish", "channel": "email"}),
        json!({"kind": "access", "channel": "email", "subscriber_id": uuid::Uuid::now_v7()}),
        json!({"kind": "access", "channel": "email", "received_at": app.clock.now() + Duration::days(1)}),
    ] {
        let response = app.api_post("/api/v1/privacy-requests", &bad).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn the_retention_review_lists_who_the_three_year_rule_reaches_and_when() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let id = subscriber_id(&app, "jane@example.com").await;
    let review = |days: i64| {
        let app = &app;
        async move {
            let response = app
                .api_get(&format!("/api/v1/retention/review?within_days={days}"))
                .await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(review(30).await["items"], json!([]));

    app.advance(Duration::days(1095 - 10));
    let listed = review(30).await;
    assert_eq!(listed["review_after_days"], 1095);
    assert_eq!(listed["items"][0]["subscriber_id"], id);
    assert_eq!(listed["items"][0]["action"], "flag");
    assert_eq!(review(5).await["items"], json!([]), "not within 5 days");

    app.advance(Duration::days(11));
    app.run_job("retention").await;
    let listed = review(0).await;
    assert_eq!(listed["items"][0]["action"], "awaiting_review");
    assert!(listed["items"][0]["flagged_at"].is_string());
}

#[tokio::test]
async fn a_restricted_person_is_kept_by_the_retention_policy_until_they_lift_it() {
    let app = TestApp::spawn_with(|s| s.retention.policy.erase_after_review = true).await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let id = subscriber_id(&app, "jane@example.com").await;
    let restrict = |restricted: bool| {
        let (app, id) = (&app, &id);
        async move {
            let response = app
                .api_post(
                    &format!("/api/v1/subscribers/{id}/restriction"),
                    &json!({"restricted": restricted}),
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    };
    restrict(true).await;
    app.advance(Duration::days(1100));
    let review: Value = app
        .api_get("/api/v1/retention/review?within_days=0")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(review["items"][0]["action"], "kept_while_restricted");
    app.run_job("retention").await;
    assert!(
        app.subscriber("jane@example.com").await.is_some(),
        "kept while restricted"
    );

    restrict(false).await;
    app.advance(Duration::days(1100));
    app.run_job("retention").await;
    assert!(
        app.subscriber("jane@example.com").await.is_none(),
        "erased once lifted"
    );
}

#[tokio::test]
async fn an_erased_person_leaves_nothing_readable_in_the_database_files() {
    let app = TestApp::spawn().await;
    let Some(file) = app
        .database_url
        .strip_prefix("sqlite://")
        .and_then(|p| p.split('?').next())
        .map(std::path::PathBuf::from)
    else {
        return; // PostgreSQL: its files are the server's, not Bulletin's.
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the database file is its owner's only: {mode:o}"
        );
    }
    app.create_list("weekly").await;
    let address = "zebedee.quux@example.com";
    app.confirmed_subscriber(address, "weekly").await;
    let id = app.subscriber(address).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .api_post(
            &format!("/api/v1/subscribers/{id}/erase"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let contains = |haystack: &[u8], needle: &str| {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    let mut files = vec![file.clone()];
    for suffix in ["-wal", "-shm"] {
        files.push(std::path::PathBuf::from(format!(
            "{}{suffix}",
            file.display()
        )));
    }
    for path in files.iter().filter(|p| p.exists()) {
        let bytes = std::fs::read(path).unwrap();
        assert!(
            !contains(&bytes, address) && !contains(&bytes, "zebedee.quux"),
            "{} still holds the erased address",
            path.display()
        );
    }
}
