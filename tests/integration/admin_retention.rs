//! The retention page (policy, a dry run of the purge, next run, review list) and the
//! privacy request log with its Close button, driven over HTTP as a browser would.

use bulletin::domain::Role;
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    admin::Admin,
    support::{TestApp, body},
};

#[tokio::test]
async fn the_retention_page_shows_what_the_next_purge_would_do_and_deletes_nothing() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("quiet@example.com", "weekly")
        .await;
    let quiet = app.subscriber("quiet@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance(Duration::days(1050));
    assert_eq!(
        app.sign_up("stale@example.com", "weekly").await.status(),
        StatusCode::OK
    );
    app.deliver_and_take().await;
    app.advance(Duration::days(31));

    let viewer = Admin::with_role(&app, Role::Viewer).await;
    for _ in 0..2 {
        let (status, page) = body(viewer.get("/admin/retention").await).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("<td>180 days</td>"),
            "the lapsed rule: {page}"
        );
        assert!(page.contains("flagged for review"));
        assert!(page.contains(r#"<td class="num pending-deleted">1</td>"#));
        assert!(page.contains(r#"<td class="num erased">1</td>"#));
        assert!(page.contains(r#"<td class="num flagged">0</td>"#));
        assert!(page.contains(r#"<span class="next-run">20"#), "a next run");
        assert!(
            page.contains(&quiet),
            "the review list names who is due soon"
        );
    }
    assert!(app.subscriber("stale@example.com").await.is_some());
    let run = app.run_job("retention").await;
    assert_eq!(
        (
            run.report["pending_deleted"].as_u64(),
            run.report["erased"].as_u64()
        ),
        (Some(1), Some(1)),
        "viewing the page left the purge its work: {}",
        run.report
    );
}

/// Logs a request through the API, received `days_ago`; returns its id.
async fn log_request(app: &TestApp, kind: &str, days_ago: i64) -> String {
    let received = app.clock.now() - Duration::days(days_ago);
    let r: Value = app
        .api_post(
            "/api/v1/privacy-requests",
            &json!({"kind": kind, "channel": "email", "received_at": received}),
        )
        .await
        .json()
        .await
        .unwrap();
    r["id"].as_str().unwrap().to_owned()
}

async fn request_status(app: &TestApp, id: &str) -> String {
    let all: Value = app
        .api_get("/api/v1/privacy-requests")
        .await
        .json()
        .await
        .unwrap();
    let found = all["requests"].as_array().unwrap().iter();
    found
        .filter(|r| r["id"] == id)
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .next()
        .unwrap()
}

#[tokio::test]
async fn an_admin_closes_an_open_privacy_request_from_the_log_and_it_is_audited() {
    let app = TestApp::spawn().await;
    let late = log_request(&app, "erasure", 40).await;
    let fresh = log_request(&app, "access", 2).await;
    let admin = Admin::with_role(&app, Role::Admin).await;

    let (status, page) = body(admin.get("/admin/privacy-requests").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("erasure") && page.contains("access"));
    assert!(
        page.contains(r#"<tr class="request open overdue">"#),
        "{page}"
    );
    assert!(page.contains(r#"<tr class="request open">"#));
    let close = format!("/admin/privacy-requests/{late}/close");
    assert!(page.contains(&format!(r#"action="{close}""#)));

    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (status, log) = body(viewer.get("/admin/privacy-requests").await).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the log names people: admins only"
    );
    assert!(!log.contains(&close));
    let refused = viewer.post(&close, &[("status", "completed")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let refused = marketer.post(&close, &[("status", "completed")]).await;
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "admins only, as in the API"
    );
    let no_token = admin.post_raw(&close, &[("status", "completed")]).await;
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    assert_eq!(request_status(&app, &late).await, "open");

    let closed = admin.post(&close, &[("status", "completed")]).await;
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);
    assert_eq!(request_status(&app, &late).await, "completed");
    assert_eq!(request_status(&app, &fresh).await, "open");
    let (_, page) = body(admin.get("/admin/privacy-requests").await).await;
    assert!(page.contains(r#"<tr class="request completed">"#));
    assert!(!page.contains(&format!(r#"action="{close}""#)));
    let again = admin.post(&close, &[("status", "rejected")]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let (_, audit) = body(admin.get("/admin/audit").await).await;
    assert!(audit.contains("privacy_request.close") && audit.contains(&late));
}
