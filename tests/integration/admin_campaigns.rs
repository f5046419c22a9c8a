//! The marketer's campaign pages: compose with a preview of what is typed, edit, duplicate,
//! delete and cancel (asked first), the review before sending, the lists offered, errors
//! beside their fields, and a message after every move.

use bulletin::domain::Role;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::admin::Admin;
use crate::support::{TestApp, body};

const BODY: &str = "Hello **{{ subscriber.name }}**";

fn form<'a>(name: &'a str, lists: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("name", name),
        ("subject", "News"),
        ("body_markdown", BODY),
        ("from", ""),
        ("reply_to", ""),
    ];
    f.extend(lists.iter().map(|l| ("list", *l)));
    f
}

fn location(r: &reqwest::Response) -> String {
    r.headers()[header::LOCATION].to_str().unwrap().to_owned()
}

async fn campaigns(app: &TestApp) -> Vec<Value> {
    let listed: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    listed["campaigns"].as_array().unwrap().clone()
}

/// A draft saved through the composer; returns its page's path.
async fn draft(admin: &Admin<'_>, name: &str) -> String {
    let r = admin
        .post("/admin/campaigns", &form(name, &["weekly"]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    let (_, page) = body(admin.follow(r).await).await;
    assert!(page.contains("The draft is saved"), "{page}");
    to
}

/// Whether a preview frame's document is one whole HTML document.
fn is_one_document(html: &str) -> bool {
    html.trim_start()
        .to_ascii_lowercase()
        .starts_with("<!doctype html>")
        && html.to_ascii_lowercase().matches("<html").count() == 1
        && html.to_ascii_lowercase().matches("<body").count() == 1
}

/// Whether an admin page is one document whose paragraphs hold no block (a `<form>` or
/// `<div>` inside a `<p>` closes the paragraph early: the parser rebuilds the page).
fn is_well_formed_page(html: &str) -> Result<(), String> {
    if !is_one_document(html) {
        return Err("not one HTML document".into());
    }
    let mut rest = html;
    while let Some(at) = rest.find("<p") {
        let after = &rest[at + 2..];
        if !after.starts_with(['>', ' ']) {
            rest = after;
            continue;
        }
        let end = after.find("</p>").ok_or("a paragraph is not closed")?;
        let inside = &after[..end];
        for block in [
            "<form",
            "<div",
            "<table",
            "<fieldset",
            "<dl",
            "<ul",
            "<p ",
            "<p>",
            "<h2",
        ] {
            if inside.contains(block) {
                return Err(format!(
                    "{block} inside a paragraph: <p{}",
                    &inside[..inside.len().min(300)]
                ));
            }
        }
        rest = &after[end..];
    }
    Ok(())
}

async fn assert_well_formed(admin: &Admin<'_>, path: &str) {
    let (_, page) = body(admin.get(path).await).await;
    if let Err(e) = is_well_formed_page(&page) {
        panic!("{path}: {e}");
    }
}

#[tokio::test]
async fn every_campaign_page_is_a_well_formed_document_in_every_state() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    assert_well_formed(&admin, "/admin/campaigns/new").await;
    let page = draft(&admin, "November").await;
    for path in ["", "/edit", "/review", "/delete"] {
        assert_well_formed(&admin, &format!("{page}{path}")).await;
    }
    admin
        .post(
            &format!("{page}/schedule"),
            &[("send_at", "2099-01-02T10:30")],
        )
        .await;
    for path in ["", "/review", "/cancel"] {
        assert_well_formed(&admin, &format!("{page}{path}")).await;
    }
    admin.post(&format!("{page}/pause"), &[]).await;
    assert_well_formed(&admin, &page).await;
    admin.post(&format!("{page}/cancel"), &[]).await;
    for path in ["", "/edit", "/review"] {
        assert_well_formed(&admin, &format!("{page}{path}")).await;
    }
    let (_, refused) = body(admin.post("/admin/campaigns", &[("name", "")]).await).await;
    is_well_formed_page(&refused).unwrap();
}

#[tokio::test]
async fn a_draft_is_edited_through_the_composer_and_a_sent_one_is_refused() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let page = draft(&admin, "November").await;
    let (status, composer) = body(admin.get(&format!("{page}/edit")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        composer.contains("value=\"November\"")
            && composer.contains("value=\"weekly\" checked")
            && composer.contains("name=\"from\""),
        "{composer}"
    );
    let mut changed = form("November issue", &["monthly"]);
    changed.retain(|(k, _)| *k != "from");
    changed.push(("from", "Shop News <news@bulletin.localhost>"));
    let r = admin.post(&format!("{page}/edit"), &changed).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, shown) = body(admin.follow(r).await).await;
    assert!(
        shown.contains("The changes are saved") && shown.contains("November issue"),
        "{shown}"
    );
    let c = &campaigns(&app).await[0];
    assert_eq!(c["name"], "November issue");
    assert_eq!(c["lists"], json!(["monthly"]));
    assert_eq!(c["from"], "Shop News <news@bulletin.localhost>");

    // Once sent, the content stays as it went out.
    let id = c["id"].as_str().unwrap();
    app.api_post(
        &format!("/api/v1/campaigns/{id}/schedule"),
        &json!({"send_at": null}),
    )
    .await;
    app.run_job("campaigns").await;
    app.deliver_all().await;
    app.run_job("campaigns").await;
    let (status, refused) = body(admin.get(&format!("{page}/edit")).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(refused.contains("can no longer be changed") && refused.contains("Duplicate"));
    let r = admin
        .post(&format!("{page}/edit"), &form("Late", &["weekly"]))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(campaigns(&app).await[0]["name"], "November issue");
    let (_, sent) = body(admin.get(&page).await).await;
    assert!(
        !sent.contains("/edit\"") && !sent.contains("/delete\"") && sent.contains("/duplicate\""),
        "a sent campaign offers only what works on it: {sent}"
    );
}

#[tokio::test]
async fn duplicate_leads_to_the_copy_and_delete_asks_first() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let page = draft(&admin, "November").await;
    let r = admin.post(&format!("{page}/duplicate"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let copy = location(&r);
    assert!(copy.ends_with("/edit") && copy != format!("{page}/edit"));
    let (_, composer) = body(admin.follow(r).await).await;
    assert!(
        composer.contains("Copied into a new draft") && composer.contains("November (copy)"),
        "{composer}"
    );
    assert_eq!(campaigns(&app).await.len(), 2);

    let (status, question) = body(admin.get(&format!("{page}/delete")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(question.contains("Delete this campaign?"));
    assert_eq!(campaigns(&app).await.len(), 2, "asking deletes nothing");
    let r = admin.post(&format!("{page}/delete"), &[]).await;
    assert_eq!(location(&r), "/admin/campaigns");
    let (_, list) = body(admin.follow(r).await).await;
    assert!(list.contains("is deleted"), "{list}");
    assert_eq!(campaigns(&app).await.len(), 1);
    assert_eq!(admin.get(&page).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_review_shows_the_audience_and_its_confirmation_schedules_the_campaign() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    app.confirmed_subscriber("john@example.com", "weekly").await;
    app.confirmed_subscriber("jane@example.com", "monthly")
        .await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let r = admin
        .post(
            "/admin/campaigns",
            &form("November", &["weekly", "monthly"]),
        )
        .await;
    let page = location(&r);
    let (_, shown) = body(admin.get(&page).await).await;
    assert!(
        !shown.contains(">Recipients<") && shown.contains("id=\"audience-total\">2<"),
        "a draft shows its audience, not empty figures: {shown}"
    );
    assert!(shown.contains(&format!("href=\"{page}/review\"")));
    assert!(
        !shown.contains("/schedule\""),
        "sending goes through the review"
    );
    assert!(!shown.contains("/cancel\"") && !shown.contains("/resume\""));

    let (status, review) = body(admin.get(&format!("{page}/review")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        review.contains("id=\"audience-total\">2 people<"),
        "{review}"
    );
    assert!(
        review.contains("data-list=\"weekly\">2<") && review.contains("data-list=\"monthly\">1<")
    );
    assert!(review.contains("newsletter@bulletin.localhost") && review.contains("News"));
    assert!(review.contains(&format!("src=\"{page}/preview\"")));

    let r = admin
        .post(
            &format!("{page}/test"),
            &[("to", "a@example.com, b@example.com"), ("page", "review")],
        )
        .await;
    assert_eq!(location(&r), format!("{page}/review"));
    let (_, review) = body(admin.follow(r).await).await;
    assert!(review.contains("Test sent to 2 addresses."), "{review}");
    assert_eq!(app.smtp.take_messages().len(), 2);

    let r = admin
        .post(
            &format!("{page}/schedule"),
            &[("when", "at"), ("send_at", ""), ("page", "review")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let review = r.text().await.unwrap();
    assert!(review.contains("Choose the date and time") && review.contains("autofocus"));

    let r = admin
        .post(
            &format!("{page}/schedule"),
            &[
                ("when", "at"),
                ("send_at", "2099-01-02T10:30"),
                ("page", "review"),
            ],
        )
        .await;
    assert!(location(&r).starts_with(&page), "{}", location(&r));
    let (_, shown) = body(admin.follow(r).await).await;
    assert!(
        shown.contains("Scheduled for 2099-01-02 10:30 UTC."),
        "{shown}"
    );
    assert_eq!(campaigns(&app).await[0]["status"], "scheduled");

    let r = admin
        .post(
            &format!("{page}/schedule"),
            &[("when", "now"), ("send_at", "")],
        )
        .await;
    let (_, shown) = body(admin.follow(r).await).await;
    assert!(shown.contains("Sending now"), "{shown}");
    app.run_job("campaigns").await;
    app.deliver_all().await;
    assert_eq!(app.smtp.take_messages().len(), 2);
}

#[tokio::test]
async fn cancel_asks_first_and_pause_and_resume_say_what_they_did() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let page = draft(&admin, "November").await;
    admin
        .post(
            &format!("{page}/schedule"),
            &[("send_at", "2099-01-02T10:30")],
        )
        .await;
    let (_, shown) = body(admin.get(&page).await).await;
    assert!(shown.contains("/pause\"") && shown.contains(&format!("href=\"{page}/cancel\"")));
    let r = admin.post(&format!("{page}/pause"), &[]).await;
    let (_, shown) = body(admin.follow(r).await).await;
    assert!(
        shown.contains("Paused:") && shown.contains("/resume\""),
        "{shown}"
    );
    let r = admin.post(&format!("{page}/resume"), &[]).await;
    let (_, shown) = body(admin.follow(r).await).await;
    assert!(shown.contains("Resumed"), "{shown}");

    let (status, question) = body(admin.get(&format!("{page}/cancel")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(question.contains("Cancel this campaign?"));
    assert_eq!(campaigns(&app).await[0]["status"], "scheduled");
    let r = admin.post(&format!("{page}/cancel"), &[]).await;
    let (_, shown) = body(admin.follow(r).await).await;
    assert!(shown.contains("Cancelled:"), "{shown}");
    assert_eq!(campaigns(&app).await[0]["status"], "cancelled");
    assert!(
        shown.contains(&format!("href=\"{page}/delete\"")),
        "a cancelled campaign that sent nothing may go"
    );
}

#[tokio::test]
async fn the_preview_button_renders_what_is_typed_without_saving_it() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let (_, composer) = body(admin.get("/admin/campaigns/new").await).await;
    assert!(
        composer.contains("formaction=\"/admin/campaigns/preview-draft\"")
            && composer.contains("formtarget=\"preview\"")
            && composer.contains("name=\"preview\""),
        "{composer}"
    );
    let blank = admin.get("/admin/campaigns/preview-draft").await;
    assert!(is_one_document(&blank.text().await.unwrap()));
    let typed = [
        ("name", "Unsaved"),
        ("subject", "Typed subject"),
        ("body_markdown", "Draft for **{{ subscriber.name }}**"),
        ("list", "weekly"),
    ];
    let r = admin.post("/admin/campaigns/preview-draft", &typed).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("sandbox"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<strong>") && html.contains("Typed subject"),
        "{html}"
    );
    assert!(is_one_document(&html), "{html}");
    assert!(campaigns(&app).await.is_empty(), "a preview saves nothing");

    let broken = [("subject", "x"), ("body_markdown", "{% if %}")];
    let r = admin.post("/admin/campaigns/preview-draft", &broken).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("does not render") && is_one_document(&html),
        "{html}"
    );

    // An existing draft keeps its content while another text is previewed.
    let page = draft(&admin, "Saved").await;
    admin.post("/admin/campaigns/preview-draft", &typed).await;
    assert_eq!(campaigns(&app).await[0]["name"], "Saved");
    let saved = admin
        .get(&format!("{page}/preview"))
        .await
        .text()
        .await
        .unwrap();
    assert!(is_one_document(&saved), "{saved}");
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    assert_eq!(
        viewer
            .post("/admin/campaigns/preview-draft", &typed)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn only_consent_lists_are_offered_and_every_error_is_shown_at_its_field() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    crate::customers::catalogue(&app).await;
    let archived = app.create_list("old").await;
    let id = archived["id"].as_str().unwrap();
    let r = app
        .api_post(&format!("/api/v1/lists/{id}/archive"), &json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let (_, composer) = body(admin.get("/admin/campaigns/new").await).await;
    assert!(composer.contains("value=\"weekly\""));
    for hidden in ["value=\"pcn\"", "value=\"tech\"", "value=\"old\""] {
        assert!(
            !composer.contains(hidden),
            "{hidden} is offered: {composer}"
        );
    }

    // A forged form naming a legitimate-interest list, with other mistakes besides.
    let forged = [
        ("name", ""),
        ("subject", "Buy now"),
        ("from", "Shop <shop@elsewhere.example>"),
        ("reply_to", "not an address"),
        ("list", "pcn"),
        ("body_markdown", "Hi {{ subscriber.nmae }}"),
    ];
    let r = admin.post("/admin/campaigns", &forged).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("Give the campaign a name"), "{page}");
    assert!(
        page.contains("Bulletin does not send from elsewhere.example"),
        "{page}"
    );
    assert!(page.contains("Write one e-mail address"), "{page}");
    assert!(
        page.contains("may go only to lists people asked for"),
        "{page}"
    );
    assert!(!page.contains("legal_basis"), "plain words: {page}");
    assert_eq!(page.matches("autofocus").count(), 1);
    assert!(
        page.contains(
            "id=\"name\" name=\"name\" type=\"text\" value=\"\" aria-invalid=\"true\" autofocus"
        ),
        "{page}"
    );
    assert!(page.contains("value=\"Buy now\""), "what was typed is kept");
    assert!(campaigns(&app).await.is_empty());

    // With the rest right, the template's mistake is named in words.
    let r = admin
        .post(
            "/admin/campaigns",
            &[
                ("name", "Promo"),
                ("subject", "Buy"),
                ("list", "weekly"),
                ("body_markdown", "Hi {{ subscriber.nmae }}"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("The message uses a variable that does not exist"),
        "{page}"
    );
    assert!(
        page.contains(
            "textarea id=\"body_markdown\" name=\"body_markdown\" aria-invalid=\"true\" autofocus"
        ),
        "{page}"
    );
}

#[tokio::test]
async fn a_viewer_sees_no_campaign_controls_and_may_not_use_them() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let page = draft(&admin, "November").await;
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (status, shown) = body(viewer.get(&page).await).await;
    assert_eq!(status, StatusCode::OK);
    for control in [
        "/edit\"",
        "/review\"",
        "/duplicate\"",
        "/delete\"",
        "/test\"",
    ] {
        assert!(!shown.contains(control), "{control}");
    }
    for path in ["edit", "delete"] {
        assert_eq!(
            viewer.get(&format!("{page}/{path}")).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    for verb in ["duplicate", "delete", "schedule"] {
        assert_eq!(
            viewer.post(&format!("{page}/{verb}"), &[]).await.status(),
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn the_template_preview_is_one_html_document() {
    let app = TestApp::spawn().await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    for path in [
        "/admin/templates/en/campaign.html",
        "/admin/templates/en/confirmation.html",
        "/admin/templates/de/welcome.subject.txt",
    ] {
        let html = admin
            .get(&format!("{path}/preview"))
            .await
            .text()
            .await
            .unwrap();
        assert!(is_one_document(&html), "{path}: {html}");
        assert!(html.contains("Subject: "), "{path}");
        let typed = admin
            .post(
                &format!("{path}/preview"),
                &[("source", "<p>only a fragment</p>")],
            )
            .await
            .text()
            .await
            .unwrap();
        assert!(is_one_document(&typed), "{path}: {typed}");
    }
}

#[tokio::test]
async fn a_notices_mailing_is_changed_only_through_its_notice() {
    let app = TestApp::spawn().await;
    crate::customers::catalogue(&app).await;
    crate::customers::customer(&app, "buyer@example.com", &["LM317"], "en").await;
    let today = app.clock.now().date_naive();
    let notice = json!({
        "kind": "pcn", "title": "New mould compound", "affected_parts": ["LM317"],
        "change_category": "material", "description_before": "A", "description_after": "B",
        "reason": "Supplier change",
        "impact": {"form": "none", "fit": "none", "function": "none", "quality": "none",
                   "reliability": "none"},
        "effective_date": (today + chrono::Duration::days(120)).to_string(),
        "ack_deadline": (app.clock.now() + chrono::Duration::days(30)).to_rfc3339(),
    });
    let r = app.api_post("/api/v1/notices", &notice).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let listed = campaigns(&app).await;
    let id = listed[0]["id"].as_str().unwrap();
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let page = format!("/admin/campaigns/{id}");
    let (status, shown) = body(admin.get(&page).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(shown.contains("mailing of a product notice"), "{shown}");
    for control in ["/edit\"", "/review\"", "/duplicate\"", "/delete\""] {
        assert!(!shown.contains(control), "{control}: {shown}");
    }
    for path in ["edit", "review"] {
        let (status, refused) = body(admin.get(&format!("{page}/{path}")).await).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}");
        assert!(refused.contains("product notice") && !refused.contains("/duplicate\""));
    }
}
