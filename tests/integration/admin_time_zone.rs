//! Each admin user's time zone: set on the account page (an IANA name from a list), used
//! for every time the admin pages show and for the times typed into schedule forms, which
//! are stored in UTC.

use bulletin::domain::Role;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    admin::Admin,
    support::{TestApp, body},
};

#[tokio::test]
async fn a_user_in_berlin_schedules_in_berlin_time_and_sees_times_in_it() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let admin = Admin::with_role(&app, Role::Admin).await;

    let (status, page) = body(admin.get("/admin/account").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<option value="UTC" selected>"#), "{page}");
    assert!(page.contains(r#"<option value="Europe/Berlin">"#));

    let refused = admin
        .post("/admin/account/time-zone", &[("time_zone", "Mars/Olympus")])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = body(refused).await;
    assert!(page.contains("choose a time zone from the list"), "{page}");

    let saved = admin
        .post(
            "/admin/account/time-zone",
            &[("time_zone", "Europe/Berlin")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(saved.headers()[header::LOCATION], "/admin/account");
    let (_, page) = body(admin.follow(saved).await).await;
    assert!(page.contains("Times are now shown and entered in Europe/Berlin."));
    assert!(page.contains(r#"<option value="Europe/Berlin" selected>"#));

    let created = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "Winter", "subject": "S", "body_markdown": "B", "lists": ["weekly"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = format!("/admin/campaigns/{id}");
    let scheduled = admin
        .post(
            &format!("{page}/schedule"),
            &[("when", "at"), ("send_at", "2099-01-15T10:00")],
        )
        .await;
    assert_eq!(scheduled.status(), StatusCode::SEE_OTHER);
    let (_, shown) = body(admin.follow(scheduled).await).await;
    assert!(
        shown.contains("Scheduled for 2099-01-15 10:00 CET."),
        "{shown}"
    );

    // Stored in UTC: 10:00 in Berlin in winter is 09:00Z.
    let stored: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let send_at = stored["send_at"].as_str().unwrap();
    assert!(send_at.starts_with("2099-01-15T09:00:00"), "{send_at}");

    // Pages show it in the user's zone, with the zone's abbreviation; another user in UTC
    // sees the same moment in UTC.
    let (_, list) = body(admin.get("/admin/campaigns").await).await;
    assert!(list.contains("2099-01-15 10:00 CET"), "{list}");
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (_, list) = body(viewer.get("/admin/campaigns").await).await;
    assert!(list.contains("2099-01-15 09:00 UTC"), "{list}");

    // Summer time: 10:00 in Berlin in July is 08:00Z.
    let scheduled = admin
        .post(
            &format!("{page}/schedule"),
            &[("when", "at"), ("send_at", "2099-07-15T10:00")],
        )
        .await;
    assert_eq!(scheduled.status(), StatusCode::SEE_OTHER);
    let stored: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let send_at = stored["send_at"].as_str().unwrap();
    assert!(send_at.starts_with("2099-07-15T08:00:00"), "{send_at}");
    let (_, shown) = body(admin.get(&page).await).await;
    assert!(shown.contains("2099-07-15 10:00 CEST"), "{shown}");

    // A time the clocks skip is refused in words.
    let skipped = admin
        .post(
            &format!("{page}/schedule"),
            &[("when", "at"), ("send_at", "2099-03-29T02:30")],
        )
        .await;
    assert_eq!(skipped.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = body(skipped).await;
    assert!(page.contains("the clocks skip it"), "{page}");
}

#[tokio::test]
async fn a_notices_acknowledgement_deadline_is_typed_and_shown_in_the_users_zone() {
    let app = TestApp::spawn().await;
    crate::customers::catalogue(&app).await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    let saved = admin
        .post(
            "/admin/account/time-zone",
            &[("time_zone", "Europe/Berlin")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let today = app.clock.now().date_naive();
    let effective = (today + chrono::Duration::days(120)).to_string();
    let day = today + chrono::Duration::days(60);
    let typed = format!("{day}T10:00");
    let form = [
        ("kind", "pcn"),
        ("title", "New mould compound"),
        ("affected_parts", "LM317"),
        ("change_category", "material"),
        ("description_before", "Compound A"),
        ("description_after", "Compound B"),
        ("reason", "Supplier change"),
        ("impact_form", "none"),
        ("impact_fit", "none"),
        ("impact_function", "none"),
        ("impact_quality", "none"),
        ("impact_reliability", "none"),
        ("effective_date", &effective),
        ("ack_deadline", &typed),
    ];
    let response = admin.post("/admin/notices", &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let id = location.trim_start_matches("/admin/notices/");
    let notice: Value = app
        .api_get(&format!("/api/v1/notices/{id}"))
        .await
        .json()
        .await
        .unwrap();
    use chrono::TimeZone as _;
    let expected = chrono_tz::Europe::Berlin
        .from_local_datetime(&day.and_hms_opt(10, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&chrono::Utc);
    let stored: chrono::DateTime<chrono::Utc> =
        notice["ack_deadline"].as_str().unwrap().parse().unwrap();
    assert_eq!(stored, expected, "{notice}");
    let (_, form) = body(admin.get(&format!("{location}/edit")).await).await;
    assert!(form.contains(&format!("value=\"{typed}\"")), "{form}");
    assert!(form.contains("Acknowledge by (Europe/Berlin;"), "{form}");
}
