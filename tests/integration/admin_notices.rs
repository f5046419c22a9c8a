//! Product notices in the admin UI: create with errors in place, the 90-day rule and its
//! recorded force, audience preview, send, the acknowledgement report and its CSV; a viewer
//! reads and may not write.

use bulletin::domain::Role;
use reqwest::StatusCode;

use crate::{
    admin::Admin,
    customers::{catalogue, customer},
    support::{TestApp, body, link},
};

fn pcn_form(effective: &str, ack: &str) -> Vec<(&'static str, String)> {
    vec![
        ("kind", "pcn".into()),
        ("title", "New mould compound".into()),
        ("affected_parts", "LM317".into()),
        ("change_category", "material".into()),
        ("description_before", "Compound A".into()),
        ("description_after", "Compound B".into()),
        ("reason", "Supplier change".into()),
        ("impact_form", "none".into()),
        ("impact_fit", "none".into()),
        ("impact_function", "none".into()),
        ("impact_quality", "none".into()),
        ("impact_reliability", "none".into()),
        ("effective_date", effective.into()),
        ("ack_deadline", ack.into()),
    ]
}

/// `POST`s a form of owned values as the admin.
pub async fn post(
    admin: &Admin<'_>,
    path: &str,
    form: &[(&'static str, String)],
) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin.post(path, &fields).await
}

#[tokio::test]
async fn a_marketer_creates_previews_and_sends_a_pcn_and_reads_the_acknowledgements() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "yes@example.com", &["LM317"], "en").await;
    customer(&app, "quiet@example.com", &["LM317"], "en").await;
    customer(&app, "other@example.com", &["NE555"], "en").await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    assert_eq!(
        marketer.get("/admin/notices/new").await.status(),
        StatusCode::OK
    );
    let today = app.clock.now().date_naive();
    let soon = (today + chrono::Duration::days(30)).to_string();
    let later = (today + chrono::Duration::days(120)).to_string();
    let ack = (app.clock.now() + chrono::Duration::days(10))
        .format("%Y-%m-%dT%H:%M")
        .to_string();

    // Bad fields: shown in place, typed values kept, nothing stored.
    let mut bad = pcn_form(&later, "");
    bad[2].1 = "LM317, NOPE99".into();
    bad.push(("last_time_buy_date", "31.12.2026".into()));
    let (status, page) = body(post(&marketer, "/admin/notices", &bad).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("is not a date"), "{page}");
    assert!(page.contains("value=\"LM317, NOPE99\""));
    assert!(page.contains("value=\"New mould compound\""));
    bad.pop();
    let (status, page) = body(post(&marketer, "/admin/notices", &bad).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("NOPE99") && page.contains("unknown part"),
        "{page}"
    );
    // The 90-day rule: refused, then accepted with the force box, which is recorded.
    let (status, page) =
        body(post(&marketer, "/admin/notices", &pcn_form(&soon, &ack)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("name=\"force\""));
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    let notices: serde_json::Value = app.api_get("/api/v1/notices").await.json().await.unwrap();
    assert_eq!(
        notices["notices"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );
    let mut forced = pcn_form(&soon, &ack);
    forced.push(("force", "yes".into()));
    let response = post(&marketer, "/admin/notices", &forced).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = location.trim_start_matches("/admin/notices/").to_owned();
    let notice: serde_json::Value = app
        .api_get(&format!("/api/v1/notices/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        notice["overridden_warnings"].as_array().unwrap().len(),
        1,
        "{notice}"
    );

    let (status, page) = body(marketer.get(&location).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Published with force"));
    assert!(page.contains(r#"id="audience">2<"#), "{page}");
    assert!(page.contains("yes@example.com") && !page.contains("other@example.com"));
    let (status, list) = body(marketer.get("/admin/notices").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("New mould compound"));

    let response = marketer.post(&format!("{location}/send"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let again = marketer.post(&format!("{location}/send"), &[]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "sent once only");
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 2);
    let yes = mails
        .iter()
        .find(|m| m.rcpt_to[0] == "yes@example.com")
        .unwrap();
    let r = app
        .post_form(
            &link(yes, "/acknowledge/"),
            &[("decision", "approve"), ("comment", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let (_, page) = body(marketer.get(&location).await).await;
    assert!(page.contains(r#"id="outstanding">1<"#), "{page}");
    assert!(page.contains("approved"));
    let csv = marketer
        .get(&format!("{location}/acknowledgements.csv"))
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("yes@example.com") && csv.contains("quiet@example.com"));

    let audit = app.audit_text().await;
    assert!(audit.contains("notice.create") && audit.contains("notice.send"));
    assert!(audit.contains("forced"), "the override is recorded");
}

#[tokio::test]
async fn a_viewer_reads_notices_and_gets_403_on_every_notice_write() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "yes@example.com", &["LM317"], "en").await;
    let later = (app.clock.now().date_naive() + chrono::Duration::days(120)).to_string();
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let response = post(&marketer, "/admin/notices", &pcn_form(&later, "")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();

    let viewer = Admin::with_role(&app, Role::Viewer).await;
    assert_eq!(viewer.get("/admin/notices").await.status(), StatusCode::OK);
    let (status, page) = body(viewer.get(&location).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("Send now"), "no write buttons for a viewer");
    assert_eq!(
        post(&viewer, "/admin/notices", &pcn_form(&later, ""))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer.post(&format!("{location}/send"), &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer
            .post("/admin/customers", &[("email", "x@example.com")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert!(app.deliver_and_take().await.is_empty(), "nothing was sent");
    assert_eq!(
        viewer.get("/admin/notices/not-an-id").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        viewer
            .get(&format!("{location}/acknowledgements.csv"))
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "this notice asks for no acknowledgement"
    );
}

#[tokio::test]
async fn a_marketer_adds_a_customer_who_is_enrolled_and_found_by_address() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let form = [
        ("email", "Buyer@Example.com"),
        ("name", "Bea Buyer"),
        ("company", "ACME"),
        ("locale", "de"),
        ("products", "LM317 NOPE1"),
        ("source", "order:42"),
    ];
    let (status, page) = body(marketer.post("/admin/customers", &form).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("NOPE1") && page.contains("value=\"Bea Buyer\""),
        "{page}"
    );
    assert!(
        app.subscriber("buyer@example.com").await.is_none(),
        "nothing stored"
    );
    let mut good = form;
    good[4].1 = "LM317";
    assert_eq!(
        marketer.post("/admin/customers", &good).await.status(),
        StatusCode::SEE_OTHER
    );
    let (status, page) = body(marketer.get("/admin/customers?q=buyer").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("buyer@example.com") && page.contains("LM317") && page.contains("order:42")
    );
    let (_, none) = body(marketer.get("/admin/customers?q=nobody").await).await;
    assert!(!none.contains("buyer@example.com"));
    let ledger = app.ledger("buyer@example.com").await;
    assert!(
        ledger
            .iter()
            .all(|e| e["action"] == "enrolled" && e["actor"] == "user:marketer@staff.example.com"),
        "{ledger:?}"
    );
    assert!(app.audit_text().await.contains("customer.add"));
}

#[tokio::test]
async fn the_notices_index_comes_in_pages_newest_first() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let later = (app.clock.now().date_naive() + chrono::Duration::days(120)).to_string();
    for n in 1..=51 {
        let mut form = pcn_form(&later, "");
        form[1].1 = format!("Notice number {n}.");
        let response = post(&marketer, "/admin/notices", &form).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "notice {n}");
    }
    let (status, first) = body(marketer.get("/admin/notices").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains("Notice number 51.") && first.contains("Notice number 2."));
    assert!(!first.contains("Notice number 1."), "one page holds 50");
    let at = first
        .find("/admin/notices?before=")
        .expect("a link to the older notices");
    let older = &first[at..];
    let older = &older[..older.find('"').unwrap()];
    let (status, second) = body(marketer.get(older).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(second.contains("Notice number 1.") && !second.contains("Notice number 2."));
    assert!(
        !second.contains("?before="),
        "the last page links no further"
    );
    let unknown = format!("/admin/notices?before={}", uuid::Uuid::now_v7());
    assert_eq!(marketer.get(&unknown).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_marketer_edits_and_deletes_a_draft_notice_with_a_message_after_each() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let later = (app.clock.now().date_naive() + chrono::Duration::days(120)).to_string();
    let response = post(&marketer, "/admin/notices", &pcn_form(&later, "")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, page) = body(marketer.get(&location).await).await;
    assert!(
        page.contains(&format!("{location}/edit")) && page.contains(&format!("{location}/delete"))
    );

    // The form comes filled; a bad value is shown in place and nothing changes.
    let (status, form) = body(marketer.get(&format!("{location}/edit")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("value=\"New mould compound\""), "{form}");
    let mut bad = pcn_form(&later, "");
    bad[1].1 = "Changed title".into();
    bad[2].1 = "NOPE99".into();
    let (status, page) = body(post(&marketer, &format!("{location}/edit"), &bad).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("unknown part") && page.contains("value=\"Changed title\""));
    let id = location.trim_start_matches("/admin/notices/");
    let notice: serde_json::Value = app
        .api_get(&format!("/api/v1/notices/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(notice["title"], "New mould compound");

    let mut good = pcn_form(&later, "");
    good[1].1 = "Changed title".into();
    let done = post(&marketer, &format!("{location}/edit"), &good).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let (_, page) = body(marketer.follow(done).await).await;
    assert!(
        page.contains("The draft is saved.") && page.contains("Changed title"),
        "{page}"
    );

    // Delete asks first, then says what it did.
    let (status, ask) = body(marketer.get(&format!("{location}/delete")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ask.contains("Delete the draft"));
    assert_eq!(
        app.api_get(&format!("/api/v1/notices/{id}")).await.status(),
        StatusCode::OK
    );
    let done = marketer.post(&format!("{location}/delete"), &[]).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let (_, page) = body(marketer.follow(done).await).await;
    assert!(page.contains("is deleted."), "{page}");
    assert_eq!(
        app.api_get(&format!("/api/v1/notices/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}
