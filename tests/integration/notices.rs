//! Product notices: validation, targeting by product, objection, first-mail statement,
//! acknowledgement with reminders and deadline, revisions, archive and feed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    customers::{catalogue, customer},
    support::{TestApp, link, list_unsubscribe_url},
};

fn pcn(app: &TestApp, parts: &[&str], ack_days: Option<i64>) -> Value {
    let today = app.clock.now().date_naive();
    let mut body = json!({
        "kind": "pcn",
        "title": "New mould compound",
        "affected_parts": parts,
        "change_category": "material",
        "description_before": "Compound A",
        "description_after": "Compound B",
        "reason": "Supplier change",
        "impact": {"form": "none", "fit": "none", "function": "none", "quality": "none", "reliability": "none"},
        "qualification_summary": "JEDEC qualified",
        "effective_date": (today + chrono::Duration::days(120)).to_string(),
    });
    if let Some(days) = ack_days {
        body["ack_deadline"] = json!((app.clock.now() + chrono::Duration::days(days)).to_rfc3339());
    }
    body
}

async fn create(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let r = app.api_post("/api/v1/notices", body).await;
    (r.status(), r.json().await.unwrap())
}

async fn send(app: &TestApp, id: &str) -> (StatusCode, Value) {
    let r = app
        .api_post(&format!("/api/v1/notices/{id}/send"), &json!({}))
        .await;
    (r.status(), r.json().await.unwrap())
}

#[tokio::test]
async fn bad_notices_get_a_clear_4xx_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let (s, b) = create(&app, &pcn(&app, &["LM317", "BOGUS"], None)).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_part"))
    );
    let mut short = pcn(&app, &["LM317"], None);
    short["effective_date"] =
        json!((app.clock.now().date_naive() + chrono::Duration::days(30)).to_string());
    let (s, b) = create(&app, &short).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("short_notice"))
    );
    let (s, b) = create(&app, &pcn(&app, &["LM317"], Some(-1))).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("deadline_in_past"))
    );
    let r = app.api_get("/api/v1/notices").await;
    assert_eq!(r.json::<Value>().await.unwrap()["notices"], json!([]));
    short["force"] = json!(true);
    short["number"] = json!("ACME-1");
    let (s, b) = create(&app, &short).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["overridden_warnings"].as_array().unwrap().len(), 1);
    let mut again = pcn(&app, &["LM317"], None);
    again["number"] = json!("ACME-1");
    let (s, b) = create(&app, &again).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate_number"))
    );
    let id = create(&app, &pcn(&app, &["NE555"], None)).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = send(&app, &id).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_audience")),
        "draft kept, send refused"
    );
    assert_eq!(
        app.api_get(&format!("/api/v1/notices/{id}"))
            .await
            .json::<Value>()
            .await
            .unwrap()["status"],
        "draft"
    );
}

#[tokio::test]
async fn a_notice_reaches_only_users_of_the_affected_parts_in_their_language_with_the_right_to_object()
 {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "de@example.com", &["LM317"], "de").await;
    customer(&app, "en@example.com", &["LM317", "NE555"], "en").await;
    customer(&app, "other@example.com", &["NE555"], "en").await;
    let (s, n) = create(&app, &pcn(&app, &["LM317"], None)).await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    assert!(n["number"].as_str().unwrap().starts_with("PCN-"));
    let id = n["id"].as_str().unwrap();
    let audience: Value = app
        .api_get(&format!("/api/v1/notices/{id}/audience"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audience["total"], 2);
    let (s, sent) = send(&app, id).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{sent}");
    assert_eq!(sent["status"], "sending");
    let mails = app.deliver_and_take().await;
    let mut to: Vec<&str> = mails.iter().map(|m| m.rcpt_to[0].as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["de@example.com", "en@example.com"]);
    let de = mails
        .iter()
        .find(|m| m.rcpt_to[0] == "de@example.com")
        .unwrap();
    assert!(
        de.subject().starts_with("Produktänderungsmitteilung PCN-"),
        "{}",
        de.subject()
    );
    assert!(
        de.text_body().contains("IHR WIDERSPRUCHSRECHT"),
        "{}",
        de.text_body()
    );
    let en = mails
        .iter()
        .find(|m| m.rcpt_to[0] == "en@example.com")
        .unwrap();
    assert!(en.text_body().contains("YOUR RIGHT TO OBJECT"));
    assert!(en.text_body().contains("Compound A"));
    assert!(en.html_body().contains("Compound B"));
    assert!(list_unsubscribe_url(en).contains("/object/"));
    assert_eq!(app.run_job("campaigns").await.report["finished"], 1);

    // The second notice states the right briefly; the first-mail statement is not repeated.
    let id2 = create(&app, &pcn(&app, &["LM317"], None)).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&app, &id2).await;
    let second = app.deliver_and_take().await;
    let en2 = second
        .iter()
        .find(|m| m.rcpt_to[0] == "en@example.com")
        .unwrap();
    assert!(!en2.text_body().contains("YOUR RIGHT TO OBJECT"));
    assert!(
        en2.text_body()
            .contains("You may object to these notices at any time")
    );
}

#[tokio::test]
async fn objection_by_one_click_or_page_stops_notices_at_once_and_is_in_the_ledger() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "click@example.com", &["LM317"], "en").await;
    customer(&app, "page@example.com", &["LM317"], "en").await;
    let id = create(&app, &pcn(&app, &["LM317"], None)).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&app, &id).await;
    let mails = app.deliver_and_take().await;
    let click = mails
        .iter()
        .find(|m| m.rcpt_to[0] == "click@example.com")
        .unwrap();
    let r = app
        .post_form(
            &list_unsubscribe_url(click),
            &[("List-Unsubscribe", "One-Click")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.subscription_status("click@example.com", "pcn")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    assert_eq!(
        app.subscription_status("click@example.com", "tech")
            .await
            .as_deref(),
        Some("confirmed"),
        "only that kind"
    );
    let page = mails
        .iter()
        .find(|m| m.rcpt_to[0] == "page@example.com")
        .unwrap();
    let url = link(page, "/object/");
    let shown = app.get(&url).await;
    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(
        app.subscription_status("page@example.com", "pcn")
            .await
            .as_deref(),
        Some("confirmed"),
        "GET changes nothing"
    );
    assert_eq!(
        app.post_form(&url, &[("scope", "all")]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.subscription_status("page@example.com", "tech")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    let actions: Vec<String> = app
        .ledger("page@example.com")
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "objected").count(), 2);

    // The notice counts the people who objected by its links (once each, whatever the scope).
    let notice: Value = app
        .api_get(&format!("/api/v1/notices/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(notice["objections"], 2, "{notice}");
    let viewer = crate::admin::Admin::with_role(&app, bulletin::domain::Role::Viewer).await;
    let (_, page) = crate::support::body(viewer.get(&format!("/admin/notices/{id}")).await).await;
    assert!(page.contains("id=\"objections\">2<"), "{page}");

    // Nobody who objected is enrolled again or mailed again.
    let (_, again) = customer(&app, "click@example.com", &["LM317"], "en").await;
    assert_eq!(again["objected"], json!(["pcn"]));
    let id2 = create(&app, &pcn(&app, &["LM317"], None)).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = send(&app, &id2).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_audience"))
    );
}

#[tokio::test]
async fn acknowledgements_reminders_and_silence_after_the_deadline() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "yes@example.com", &["LM317"], "en").await;
    customer(&app, "quiet@example.com", &["LM317"], "en").await;
    let id = create(&app, &pcn(&app, &["LM317"], Some(10))).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&app, &id).await;
    let mails = app.deliver_and_take().await;
    let yes = mails
        .iter()
        .find(|m| m.rcpt_to[0] == "yes@example.com")
        .unwrap();
    let ack = link(yes, "/acknowledge/");
    let page = app.get(&ack).await;
    assert_eq!(page.status(), StatusCode::OK);
    let r = app
        .post_form(&ack, &[("decision", "reject"), ("comment", "")])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rejection needs a comment"
    );
    let r = app
        .post_form(
            &ack,
            &[
                ("decision", "approve_with_conditions"),
                ("comment", "after PPAP"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // Day 4: the 7-day reminder goes to the quiet one only, once.
    app.advance(chrono::Duration::days(4));
    assert_eq!(app.run_job("notices").await.report["reminders"], 1);
    assert_eq!(app.run_job("notices").await.report["reminders"], 0);
    let reminders = app.deliver_and_take().await;
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].rcpt_to[0], "quiet@example.com");
    assert!(
        reminders[0].subject().starts_with("Reminder"),
        "{}",
        reminders[0].subject()
    );

    // After the deadline silence is acceptance, and answers are closed.
    app.advance(chrono::Duration::days(7));
    assert_eq!(
        app.run_job("notices").await.report["accepted_by_silence"],
        1
    );
    let report: Value = app
        .api_get(&format!("/api/v1/notices/{id}/acknowledgements"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["outstanding"], 0);
    assert_eq!(report["counts"]["approved_with_conditions"], 1);
    assert_eq!(report["counts"]["accepted_by_silence"], 1);
    let csv = app
        .api_get(&format!("/api/v1/notices/{id}/acknowledgements?format=csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("quiet@example.com") && csv.contains("accepted_by_silence"),
        "{csv}"
    );
    let late = app.post_form(&ack, &[("decision", "approve")]).await;
    assert_eq!(late.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_revision_supersedes_and_says_so_and_the_archive_and_feed_show_it() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "rev@example.com", &["LM317"], "en").await;
    let first = create(&app, &pcn(&app, &["LM317"], None)).await.1;
    let id1 = first["id"].as_str().unwrap().to_owned();
    send(&app, &id1).await;
    app.deliver_and_take().await;
    let mut body = pcn(&app, &["LM317"], None);
    body["supersedes"] = json!(id1);
    body["title"] = json!("New mould compound (corrected)");
    let (s, second) = create(&app, &body).await;
    assert_eq!(s, StatusCode::CREATED, "{second}");
    assert_eq!(second["number"], first["number"]);
    assert_eq!(second["revision"], 2);
    let (s, _) = create(&app, &body).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "only the latest revision can be revised"
    );
    let id2 = second["id"].as_str().unwrap().to_owned();
    send(&app, &id2).await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert!(
        mail.text_body()
            .contains("This revision 2 supersedes revision 1"),
        "{}",
        mail.text_body()
    );
    let old: Value = app
        .api_get(&format!("/api/v1/notices/{id1}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old["superseded_by"], 2);

    let page = app.get(&format!("/notices/{id2}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("corrected"));
    let feed = app.get("/feeds/power.atom").await;
    assert_eq!(feed.status(), StatusCode::OK);
    let feed = feed.text().await.unwrap();
    assert_eq!(feed.matches("<entry>").count(), 2, "{feed}");
    assert_eq!(
        app.get("/feeds/timers.atom")
            .await
            .text()
            .await
            .unwrap()
            .matches("<entry>")
            .count(),
        0
    );
    let export: Value = app
        .api_get("/api/v1/notices/export")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(export["notices"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_signed_archive_opens_only_by_the_link_in_the_mail() {
    let app = TestApp::spawn_with(|s| s.notices.public_archive = false).await;
    catalogue(&app).await;
    customer(&app, "s@example.com", &["LM317"], "en").await;
    let id = create(&app, &pcn(&app, &["LM317"], None)).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&app, &id).await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert_eq!(
        app.get(&format!("/notices/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/feeds/power.atom").await.status(),
        StatusCode::NOT_FOUND
    );
    let url = link(&mail, "/notices/");
    assert_eq!(app.get(&url).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn tech_news_goes_through_its_own_list_and_an_objection_there_leaves_pcns_alone() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "tn@example.com", &["NE555"], "en").await;
    let (s, n) = create(
        &app,
        &json!({"kind": "tech_news", "title": "Release 2.1", "summary": "New timer modes.",
                "affected_parts": ["NE555"]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    assert!(n["number"].as_str().unwrap().starts_with("TN-"));
    send(&app, n["id"].as_str().unwrap()).await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert!(
        mail.subject().starts_with("Tech News TN-"),
        "{}",
        mail.subject()
    );
    assert!(mail.text_body().contains("New timer modes."));
    app.post_form(
        &list_unsubscribe_url(&mail),
        &[("List-Unsubscribe", "One-Click")],
    )
    .await;
    assert_eq!(
        app.subscription_status("tn@example.com", "tech")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    assert_eq!(
        app.subscription_status("tn@example.com", "pcn")
            .await
            .as_deref(),
        Some("confirmed")
    );
}

#[tokio::test]
async fn service_critical_marking_is_allowed_only_for_configured_kinds_and_is_shown() {
    let app = TestApp::spawn_with(|s| {
        s.notices.service_critical_kinds = vec![bulletin::domain::NoticeKind::Pdn];
    })
    .await;
    catalogue(&app).await;
    customer(&app, "crit@example.com", &["LM317"], "en").await;
    let mut marked = pcn(&app, &["LM317"], None);
    marked["service_critical"] = json!("safety recall");
    let (s, b) = create(&app, &marked).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("not_service_critical")
        )
    );
    let today = app.clock.now().date_naive();
    let pdn = json!({
        "kind": "pdn", "title": "End of life", "affected_parts": ["LM317"], "reason": "Demand",
        "last_time_buy_date": (today + chrono::Duration::days(180)).to_string(),
        "last_time_ship_date": (today + chrono::Duration::days(360)).to_string(),
        "replacement_parts": ["NE555"],
        "service_critical": "Supply continuity of a part in your products"
    });
    let (s, n) = create(&app, &pdn).await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    assert_eq!(
        n["service_critical"],
        "Supply continuity of a part in your products"
    );
    send(&app, n["id"].as_str().unwrap()).await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert!(
        mail.text_body()
            .contains("SERVICE-CRITICAL NOTICE: Supply continuity"),
        "{}",
        mail.text_body()
    );
    assert!(mail.text_body().contains("Last time buy:"));
    assert!(
        mail.text_body().contains("/object/"),
        "the objection link is there all the same"
    );
}

#[tokio::test]
async fn a_notice_campaign_cannot_be_scheduled_as_a_campaign_and_public_json_lists_sent_ones() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "j@example.com", &["LM317"], "en").await;
    let n = create(&app, &pcn(&app, &["LM317"], None)).await.1;
    let campaign = n["campaign_id"].as_str().unwrap();
    let r = app
        .api_post(
            &format!("/api/v1/campaigns/{campaign}/schedule"),
            &json!({"send_at": null}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let public: Value = app.get("/notices.json").await.json().await.unwrap();
    assert_eq!(public["notices"], json!([]), "drafts are not public");
    assert_eq!(
        app.get(&format!("/notices/{}", n["id"].as_str().unwrap()))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    send(&app, n["id"].as_str().unwrap()).await;
    app.deliver_and_take().await;
    let public: Value = app.get("/notices.json").await.json().await.unwrap();
    assert_eq!(public["notices"].as_array().unwrap().len(), 1);
    let (s, b) = send(&app, n["id"].as_str().unwrap()).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state")),
        "sent once"
    );
}

#[tokio::test]
async fn the_privacy_export_lists_the_products_a_customer_uses() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let (_, c) = customer(&app, "p@example.com", &["LM317", "NE555"], "en").await;
    let id = c["id"].as_str().unwrap();
    let export: Value = app
        .api_get(&format!("/api/v1/subscribers/{id}/export"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(export["products"], json!(["LM317", "NE555"]));
}

#[tokio::test]
async fn a_pcn_names_its_change_category_in_words_in_the_readers_language_not_by_its_key() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "en@example.com", &["LM317"], "en").await;
    customer(&app, "de@example.com", &["LM317"], "de").await;
    let mut site = pcn(&app, &["LM317"], None);
    site["change_category"] = json!("site");
    let id = create(&app, &site).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&app, &id).await;
    let mails = app.deliver_and_take().await;
    for (to, label, caption) in [
        ("en@example.com", "Manufacturing site", "Change category:"),
        ("de@example.com", "Fertigungsstandort", "Art der Änderung:"),
    ] {
        let mail = mails.iter().find(|m| m.rcpt_to[0] == to).unwrap();
        let text = mail.text_body();
        let line = text
            .lines()
            .find(|l| l.starts_with(caption))
            .unwrap_or_else(|| panic!("{caption} in {text}"));
        assert_eq!(line[caption.len()..].trim(), label, "{to}");
        let html = mail.html_body();
        assert!(html.contains(&format!(">{label}<")), "{to}: {html}");
        assert!(!html.contains(">site<"), "{to}: {html}");
    }
}

#[tokio::test]
async fn a_draft_notice_is_changed_all_or_nothing_and_deleted_but_a_sent_one_is_not() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "user@example.com", &["LM317"], "en").await;
    let (status, created) = create(&app, &pcn(&app, &["LM317"], None)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/notices/{id}");

    // All or nothing: one bad field and nothing changes.
    let bad = json!({"title": "Better title", "affected_parts": ["NOPE99"]});
    let r = app.api_send(Method::PATCH, &path, Some(&bad)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unknown_part", "{body}");
    let short = json!({"effective_date": app.clock.now().date_naive().to_string()});
    let r = app.api_send(Method::PATCH, &path, Some(&short)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .api_send(Method::PATCH, &path, Some(&json!({"kind": "pdn"})))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .api_send(Method::PATCH, &path, Some(&json!({"colour": "red"})))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let now: Value = app.api_get(&path).await.json().await.unwrap();
    assert_eq!(now["title"], "New mould compound");

    // A good change: only the fields sent change.
    let good = json!({"title": "Better title", "reason": "Second source"});
    let r = app.api_send(Method::PATCH, &path, Some(&good)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["title"], "Better title");
    assert_eq!(changed["reason"], "Second source");
    assert_eq!(changed["description_after"], "Compound B");
    assert!(app.audit_text().await.contains("notice.update"));

    // Delete a draft → 204, then 404.
    let (_, other) = create(&app, &pcn(&app, &["LM317"], None)).await;
    let other_path = format!("/api/v1/notices/{}", other["id"].as_str().unwrap());
    let r = app.api_send(Method::DELETE, &other_path, None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.api_get(&other_path).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(app.audit_text().await.contains("notice.delete"));

    // Once sent: neither changes nor goes.
    let (status, _) = send(&app, &id).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.deliver_and_take().await;
    let r = app.api_send(Method::PATCH, &path, Some(&good)).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_state", "{body}");
    let r = app.api_send(Method::DELETE, &path, None).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(app.api_get(&path).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_draft_that_a_later_revision_supersedes_is_not_deleted() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let (_, first) = create(&app, &pcn(&app, &["LM317"], None)).await;
    let id = first["id"].as_str().unwrap();
    let mut revision = pcn(&app, &["LM317"], None);
    revision["supersedes"] = json!(id);
    let (status, _) = create(&app, &revision).await;
    assert_eq!(status, StatusCode::CREATED);
    let r = app
        .api_send(Method::DELETE, &format!("/api/v1/notices/{id}"), None)
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_acknowledgement_page_preselects_nothing_and_keeps_the_choice_after_a_german_error() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    customer(&app, "kunde@example.com", &["LM317"], "de").await;
    let id = create(&app, &pcn(&app, &["LM317"], Some(10))).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&app, &id).await;
    let mails = app.deliver_and_take().await;
    let ack = link(&mails[0], "/acknowledge/");
    let page = app.get(&ack).await.text().await.unwrap();
    assert!(
        !page.contains("checked"),
        "no decision pre-selected: {page}"
    );

    let r = app.post_form(&ack, &[("comment", "")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("Bitte wählen Sie eine Antwort."), "{page}");

    let r = app
        .post_form(&ack, &[("decision", "reject"), ("comment", "  ")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Bitte nennen Sie Ihre Auflagen oder Gründe."),
        "{page}"
    );
    assert!(
        page.contains(r#"value="reject" required checked"#),
        "the choice is kept: {page}"
    );
    assert!(!page.contains(r#"value="approve" required checked"#));
}
