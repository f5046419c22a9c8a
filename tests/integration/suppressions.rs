//! Suppressions and the people they name: the subscriber list filters on them, a person's own
//! new confirmed double opt-in lifts a complaint or an erasure (and nothing else lifts
//! anything), and the retention job names the people of older suppressions once.

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::support::{TestApp, body, link};

/// A complaint (ARF) quoting the original message's headers.
fn arf(original_headers: &str) -> String {
    format!(
        "From: fbl@isp.example\r\nSubject: complaint\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\r\n\
         --F\r\nContent-Type: text/plain\r\n\r\nThis is a complaint.\r\n\
         --F\r\nContent-Type: message/feedback-report\r\n\r\n\
         Feedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\n\r\n\
         --F\r\nContent-Type: text/rfc822-headers\r\n\r\n{original_headers}\r\n--F--\r\n"
    )
}

/// `email`, confirmed on `list`, receives a campaign and reports it as spam.
async fn complained(app: &TestApp, email: &str, list: &str) {
    use bulletin::services::inbound::{Handled, handle};
    app.confirmed_subscriber(email, list).await;
    app.deliver_and_take().await;
    app.start_campaign(list).await;
    app.deliver_all().await;
    let mail = app.smtp.take_messages().pop().unwrap();
    let headers = mail.data.split("\r\n\r\n").next().unwrap().to_owned();
    let handled = handle(app.app.context(), arf(&headers).as_bytes(), None)
        .await
        .unwrap();
    assert_eq!(handled, Handled::Complaint);
    assert_eq!(
        suppression_of(app, email).await.as_deref(),
        Some("complaint")
    );
}

/// Why `email`'s subscriber is suppressed, as the API shows it.
async fn suppression_of(app: &TestApp, email: &str) -> Option<String> {
    app.subscriber(email).await.unwrap()["suppressed"]["reason"]
        .as_str()
        .map(str::to_owned)
}

/// Every address a subscriber search finds, page by page (`limit` a page).
async fn search(app: &TestApp, query: &str, limit: u32) -> Vec<String> {
    let mut found = Vec::new();
    let mut cursor = String::new();
    loop {
        let response = app
            .api_get(&format!(
                "/api/v1/subscribers?{query}&limit={limit}{cursor}"
            ))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let page: Value = response.json().await.unwrap();
        for s in page["subscribers"].as_array().unwrap() {
            found.push(s["email"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return found,
        }
    }
}

/// Suppresses `email` by hand through the API.
async fn suppress(app: &TestApp, email: &str) {
    let response = app
        .api_post(
            "/api/v1/suppressions",
            &json!({"email": email, "reason": "manual", "note": "asked by phone"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// Imports a suppression list with one complaint.
async fn import_complaint(app: &TestApp, email: &str) {
    let csv = format!("email,reason\n{email},spam complaint\n");
    let response = app.api_post_csv("/api/v1/suppressions/import", csv).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_subscriber_list_filters_on_suppression_with_the_other_filters_and_paging() {
    let app = TestApp::spawn().await;
    let list = app.create_list("weekly").await;
    app.create_list("monthly").await;
    for email in [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    ] {
        app.confirmed_subscriber(email, "weekly").await;
    }
    app.confirmed_subscriber("e@example.com", "monthly").await;
    app.deliver_and_take().await;
    suppress(&app, "b@example.com").await;
    import_complaint(&app, "c@example.com").await;
    suppress(&app, "e@example.com").await;
    // A stranger's address names nobody and finds nobody.
    suppress(&app, "stranger@example.com").await;

    let list_id = list["id"].as_str().unwrap();
    assert_eq!(
        search(&app, "suppressed=true", 100).await,
        ["e@example.com", "c@example.com", "b@example.com"]
    );
    assert_eq!(
        search(&app, "suppressed=false", 1).await,
        ["d@example.com", "a@example.com"],
        "page by page"
    );
    let on_list = format!("suppressed=true&list={list_id}&status=confirmed");
    assert_eq!(
        search(&app, &on_list, 1).await,
        ["c@example.com", "b@example.com"]
    );
    assert_eq!(
        search(&app, "suppressed=false&q=a%40", 100).await,
        ["a@example.com"]
    );
    assert!(search(&app, "suppressed=true&q=a%40", 100).await.is_empty());
    for bad in ["maybe", "1", "TRUE"] {
        let response = app
            .api_get(&format!("/api/v1/subscribers?suppressed={bad}"))
            .await;
        let (status, text) = body(response).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {text}");
        assert!(text.contains("suppressed"), "{text}");
    }

    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let params = doc["paths"]["/api/v1/subscribers"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(
        params.iter().any(|p| p["name"] == "suppressed"),
        "{params:?}"
    );

    // The admin list has the same filter.
    let admin = crate::admin::Admin::with_role(&app, bulletin::domain::Role::Marketer).await;
    let (status, page) = body(admin.get("/admin/subscribers?suppressed=true").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"name="suppressed""#), "{page}");
    for (email, shown) in [
        ("a@example.com", false),
        ("b@example.com", true),
        ("c@example.com", true),
        ("d@example.com", false),
    ] {
        assert_eq!(page.contains(email), shown, "{email}");
    }
    let page = admin
        .get("/admin/subscribers?suppressed=false")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("a@example.com") && !page.contains("b@example.com"));
}

#[tokio::test]
async fn a_complaint_is_lifted_by_the_persons_own_new_confirmed_opt_in() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    complained(&app, "angry@example.com", "weekly").await;
    assert_eq!(
        app.subscription_status("angry@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );

    // The page is the one a stranger sees.
    let (_, fresh_page) = body(app.sign_up("fresh@example.com", "weekly").await).await;
    app.deliver_and_take().await;
    let (status, page) = body(app.sign_up("angry@example.com", "weekly").await).await;
    assert_eq!((status, page), (StatusCode::OK, fresh_page));
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 1, "the confirmation request goes out");
    assert!(mails[0].rcpt_to.iter().any(|r| r == "angry@example.com"));
    assert_eq!(
        suppression_of(&app, "angry@example.com").await.as_deref(),
        Some("complaint"),
        "asking is not yet consent"
    );

    let confirm = link(&mails[0], "/confirm/");
    assert_eq!(app.post_form(&confirm, &[]).await.status(), StatusCode::OK);
    assert_eq!(suppression_of(&app, "angry@example.com").await, None);
    assert_eq!(
        app.subscription_status("angry@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    let confirmed = app
        .ledger("angry@example.com")
        .await
        .into_iter()
        .rfind(|e| e["action"] == "confirmed")
        .unwrap();
    assert_eq!(
        confirmed["evidence"]["suppression_lifted"]["reason"], "complaint",
        "{confirmed}"
    );
    let listing: Value = app
        .api_get("/api/v1/suppressions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listing["suppressions"], json!([]));
    assert!(
        search(&app, "suppressed=false", 100)
            .await
            .contains(&"angry@example.com".into())
    );

    app.start_campaign("weekly").await;
    let report = app.deliver_all().await;
    assert_eq!(
        (report.sent, report.suppressed),
        (1, 0),
        "a campaign reaches her"
    );
}

#[tokio::test]
async fn an_erased_person_who_signs_up_again_is_not_named_by_the_erasure_and_confirming_lifts_it() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("gone@example.com", "weekly").await;
    app.deliver_and_take().await;
    let id = app.subscriber("gone@example.com").await.unwrap()["id"].clone();
    let erased = app
        .api_post(
            &format!("/api/v1/subscribers/{}/erase", id.as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(erased.status(), StatusCode::OK);

    assert_eq!(
        app.sign_up("gone@example.com", "weekly").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        suppression_of(&app, "gone@example.com").await.as_deref(),
        Some("erased")
    );
    assert!(
        search(&app, "suppressed=true", 100).await.is_empty(),
        "a stranger may have typed the address in: the erasure names no one before the owner confirms"
    );
    let mail = app
        .deliver_and_take()
        .await
        .pop()
        .expect("a confirmation request");
    assert_eq!(
        app.post_form(&link(&mail, "/confirm/"), &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(suppression_of(&app, "gone@example.com").await, None);
    assert!(search(&app, "suppressed=true", 100).await.is_empty());
}

#[tokio::test]
async fn a_hard_bounced_or_manually_suppressed_address_gets_no_mail_by_signing_up() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("bounced@example.com", "weekly")
        .await;
    app.deliver_and_take().await;
    app.smtp
        .fail_next_rcpt(1, "550 5.1.1 <bounced@example.com>: User unknown");
    app.start_campaign("weekly").await;
    app.deliver_all().await;
    app.smtp.take_messages();
    assert_eq!(
        suppression_of(&app, "bounced@example.com").await.as_deref(),
        Some("hard_bounce")
    );
    suppress(&app, "asked@example.com").await;

    let (_, fresh_page) = body(app.sign_up("fresh@example.com", "weekly").await).await;
    app.deliver_and_take().await;
    for email in ["bounced@example.com", "asked@example.com"] {
        let (status, page) = body(app.sign_up(email, "weekly").await).await;
        assert_eq!(
            (status, page),
            (StatusCode::OK, fresh_page.clone()),
            "{email}"
        );
    }
    assert!(app.deliver_and_take().await.is_empty(), "nothing is sent");
    assert_eq!(
        suppression_of(&app, "bounced@example.com").await.as_deref(),
        Some("hard_bounce")
    );
    assert!(
        app.subscriber("asked@example.com").await.is_none(),
        "nobody is recorded for a manually suppressed address"
    );
    let manual: Value = app
        .api_get("/api/v1/suppressions?reason=manual")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(manual["suppressions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_import_or_the_api_never_lifts_a_complaint() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    complained(&app, "angry@example.com", "weekly").await;
    import_complaint(&app, "elsewhere@example.com").await;

    let csv = "email,name,locale,consent_at,consent_source,consent_text\n\
               angry@example.com,A,en,2025-05-01T08:30:00Z,shop,Yes\n\
               elsewhere@example.com,E,en,2025-05-01T08:30:00Z,shop,Yes\n";
    let response = app
        .api_post_csv("/api/v1/subscribers/import?list=weekly", csv)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["skipped"], 2, "{report}");
    let added = app
        .api_post(
            "/api/v1/subscribers",
            &json!({"email": "angry@example.com", "lists": ["weekly"],
                    "consent_at": "2025-05-01T08:30:00Z", "consent_source": "shop",
                    "consent_text": "Yes please"}),
        )
        .await;
    let (status, text) = body(added).await;
    assert_eq!(status, StatusCode::CONFLICT, "{text}");

    assert_eq!(
        suppression_of(&app, "angry@example.com").await.as_deref(),
        Some("complaint")
    );
    assert!(app.subscriber("elsewhere@example.com").await.is_none());
    let complaints: Value = app
        .api_get("/api/v1/suppressions?reason=complaint")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(complaints["suppressions"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.subscription_status("angry@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
}

#[tokio::test]
async fn the_retention_job_names_the_people_of_older_suppressions_once() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("old@example.com", "weekly").await;
    app.deliver_and_take().await;
    suppress(&app, "old@example.com").await;
    suppress(&app, "stranger@example.com").await;
    // As rows written before suppressions named their person.
    let db = &app.app.context().db;
    db.execute_unprepared("UPDATE suppressions SET subscriber_id = NULL")
        .await
        .unwrap();
    assert!(search(&app, "suppressed=true", 100).await.is_empty());

    let run = app.run_job("retention").await;
    assert_eq!(run.report["suppressions_linked"], 1, "{}", run.report);
    assert_eq!(
        search(&app, "suppressed=true", 100).await,
        ["old@example.com"]
    );
    // Done once: what stays unnamed is a stranger's, and the next runs skip the scan.
    db.execute_unprepared("UPDATE suppressions SET subscriber_id = NULL")
        .await
        .unwrap();
    let run = app.run_job("retention").await;
    assert_eq!(run.report["suppressions_linked"], 0, "{}", run.report);
}
