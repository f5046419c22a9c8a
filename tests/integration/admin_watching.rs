//! Watching a send: a sending campaign's page shows its rate and the time left and, when the
//! user asks (`?watch=1`, where sending it leads), reloads itself (no script) until it is
//! sent; the campaign list shows each campaign's sent,
//! bounced, complaints and unsubscribes, and so does `GET /api/v1/campaigns`.

use bulletin::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    admin::Admin,
    support::{TestApp, body, list_unsubscribe_url},
};

const REFRESH: &str = r#"<meta http-equiv="refresh" content="5">"#;

#[tokio::test]
async fn a_sending_campaigns_page_reloads_itself_with_rate_and_time_left_until_it_is_sent() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    for who in ["alice", "bob", "carol"] {
        app.confirmed_subscriber(&format!("{who}@example.com"), "weekly")
            .await;
    }
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let id = app.start_campaign("weekly").await;
    // Unasked, the page does not reload (WCAG 2.2.1); it offers to.
    let (status, page) = body(viewer.get(&format!("/admin/campaigns/{id}")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("http-equiv=\"refresh\""), "{page}");
    assert!(page.contains("Watch it live"), "{page}");
    let watch = format!("/admin/campaigns/{id}?watch=1");
    let (status, page) = body(viewer.get(&watch).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(REFRESH), "{page}");
    assert!(page.contains("Stop reloading"), "{page}");
    assert!(page.contains("no message sent yet"), "{page}");

    // Two go out a minute after the start; the relay defers the third.
    app.advance(chrono::Duration::seconds(60));
    app.smtp.fail_next_rcpt(1, "451 4.3.0 Try again later");
    let report = app.deliver_all().await;
    assert_eq!((report.sent, report.deferred), (2, 1));
    let (_, page) = body(viewer.get(&watch).await).await;
    assert!(page.contains(REFRESH), "{page}");
    assert!(
        page.contains("2.0 messages/min · less than a minute left"),
        "{page}"
    );

    app.advance(chrono::Duration::minutes(5));
    assert_eq!(app.deliver_all().await.sent, 1);
    app.run_job("campaigns").await;
    let (_, page) = body(viewer.get(&watch).await).await;
    assert!(page.contains("status sent"), "{page}");
    assert!(!page.contains("http-equiv=\"refresh\""), "{page}");
    assert!(!page.contains("messages/"), "{page}");
}

#[tokio::test]
async fn a_campaign_scheduled_far_ahead_does_not_reload_but_one_due_soon_does() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    let created = app
        .api_post(
            "/api/v1/campaigns",
            &serde_json::json!({"name": "Later", "subject": "S", "body_markdown": "B", "lists": ["weekly"]}),
        )
        .await;
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = app.clock.now() + chrono::Duration::hours(2);
    let scheduled = app
        .api_post(
            &format!("/api/v1/campaigns/{id}/schedule"),
            &serde_json::json!({ "send_at": at }),
        )
        .await;
    assert_eq!(scheduled.status(), StatusCode::ACCEPTED);
    let watch = format!("/admin/campaigns/{id}?watch=1");
    let (_, page) = body(admin.get(&watch).await).await;
    assert!(!page.contains("http-equiv=\"refresh\""), "{page}");
    app.advance(chrono::Duration::minutes(115));
    let (_, page) = body(admin.get(&watch).await).await;
    assert!(page.contains(REFRESH), "{page}");
}

/// The figures in the row of campaign `id` on the list page: (sent, bounced, complaints,
/// unsubscribes).
fn row_figures(page: &str, id: &str) -> (String, String, String, String) {
    let start = page.find(&format!("/admin/campaigns/{id}\"")).unwrap();
    let row = &page[start..page[start..].find("</tr>").unwrap() + start];
    let cell = |class: &str| {
        let at = row.find(&format!("class=\"num {class}\">")).unwrap();
        let rest = &row[at..];
        let open = rest.find('>').unwrap() + 1;
        rest[open..open + rest[open..].find('<').unwrap()].to_owned()
    };
    (
        cell("sent"),
        cell("bounced"),
        cell("complaints"),
        cell("unsubscribes"),
    )
}

#[tokio::test]
async fn the_campaign_list_shows_each_campaigns_sent_bounced_complaints_and_unsubscribes() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    for who in ["alice", "bob", "carol"] {
        app.confirmed_subscriber(&format!("{who}@example.com"), "weekly")
            .await;
    }
    app.smtp.fail_next_rcpt(1, "550 5.1.1 No such user");
    let first = app.start_campaign("weekly").await;
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 2);
    let leave = list_unsubscribe_url(&mails[0]);
    let left = app
        .post_form(&leave, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_eq!(left.status(), StatusCode::OK);
    app.run_job("campaigns").await;
    let second = app.start_campaign("weekly").await;
    assert_eq!(app.deliver_all().await.sent, 1);

    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (status, page) = body(viewer.get("/admin/campaigns").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Unsubscribes") && page.contains("Complaints"));
    let s = |a: &str, b: &str, c: &str, d: &str| {
        (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned())
    };
    assert_eq!(row_figures(&page, &first), s("2", "1", "0", "1"), "{page}");
    assert_eq!(row_figures(&page, &second), s("1", "0", "0", "0"), "{page}");

    let listed: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    let of = |id: &str| {
        listed["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["counts"]
            .clone()
    };
    assert_eq!(of(&first)["sent"], 2);
    assert_eq!(of(&first)["bounced"], 1);
    assert_eq!(of(&first)["unsubscribed"], 1);
    assert_eq!(of(&second)["sent"], 1);
}
