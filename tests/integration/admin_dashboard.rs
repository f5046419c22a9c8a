//! The dashboard leads with headline figures: people, growth over 30 days, and the
//! unsubscribe, bounce and complaint rates of the last sent campaigns.

use bulletin::domain::Role;
use reqwest::StatusCode;

use crate::{
    admin::Admin,
    support::{TestApp, body, list_unsubscribe_url},
};

/// The text of the element with `id` on `page`.
fn figure(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("{id}: {page}"));
    let rest = &page[at..];
    let open = rest.find('>').unwrap() + 1;
    rest[open..open + rest[open..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn the_dashboard_leads_with_people_growth_and_the_rates_of_the_last_campaigns() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    for who in ["alice", "bob", "carol", "dave"] {
        app.confirmed_subscriber(&format!("{who}@example.com"), "weekly")
            .await;
    }
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (status, page) = body(viewer.get("/admin/").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(figure(&page, "people"), "4");
    assert_eq!(figure(&page, "growth"), "+4");
    assert_eq!(figure(&page, "unsubscribe-rate"), "–");

    // A campaign: one address bounces, one of the three who got it leaves by its link.
    app.smtp.fail_next_rcpt(1, "550 5.1.1 No such user");
    app.start_campaign("weekly").await;
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 3);
    let leave = list_unsubscribe_url(&mails[0]);
    let left = app
        .post_form(&leave, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_eq!(left.status(), StatusCode::OK);
    app.run_job("campaigns").await;

    let (status, page) = body(viewer.get("/admin/").await).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(figure(&page, "people"), "3");
    assert_eq!(figure(&page, "growth"), "+3");
    assert_eq!(figure(&page, "unsubscribe-rate"), "33.33 %");
    assert_eq!(figure(&page, "bounce-rate"), "33.33 %");
    assert_eq!(figure(&page, "complaint-rate"), "0.00 %");
    assert!(
        page.contains("of 3 delivered, last 1 sent campaign"),
        "{page}"
    );

    // A month later one more person joins, on two lists: +1 person against the 3 before
    // (not +2: growth counts people, not subscriptions).
    app.advance(chrono::Duration::days(31));
    app.create_list("monthly").await;
    app.confirmed_subscriber("erin@example.com", "weekly").await;
    app.confirmed_subscriber("erin@example.com", "monthly")
        .await;
    // The session has expired meanwhile.
    let viewer = Admin::log_in(&app, "viewer@staff.example.com").await;
    let (_, page) = body(viewer.get("/admin/").await).await;
    assert_eq!(figure(&page, "people"), "4");
    assert_eq!(figure(&page, "growth"), "+1 (+33.3 %)");
    assert_eq!(figure(&page, "unsubscribe-rate"), "33.33 %");
}
