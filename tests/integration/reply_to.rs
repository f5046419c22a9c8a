//! Where replies go: the `Reply-To` of a campaign, else of the list a message is for, else
//! `mail.reply_to`, else none; at any domain (a helpdesk need not be one Bulletin sends
//! from); set through the API and the admin forms, and refused with 422 when it is no address.

use bulletin::domain::{EmailAddress, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    admin::Admin,
    customers::{catalogue, customer},
    support::{TestApp, body, smtp::ReceivedMail},
};

const CONFIGURED: &str = "office@bulletin.localhost";

/// A list `weekly` with `reply_to` (or none), and a confirmed subscriber whose confirmation
/// request is returned.
async fn weekly_with_subscriber(app: &TestApp, reply_to: Option<&str>) -> ReceivedMail {
    app.create_list_with(json!({
        "slug": "weekly", "name": "Weekly", "kind": "newsletter",
        "legal_basis": "consent", "opt_in": "double", "reply_to": reply_to
    }))
    .await;
    app.confirmed_subscriber("jane@example.com", "weekly").await
}

/// Starts `campaign` (to `weekly`) and returns its one message.
async fn campaign_mail(app: &TestApp, campaign: Value) -> ReceivedMail {
    app.start_campaign_with(campaign).await;
    app.deliver_all().await;
    let mut mails = app.smtp.take_messages();
    assert_eq!(mails.len(), 1);
    mails.pop().unwrap()
}

fn news(reply_to: Option<&str>) -> Value {
    json!({"name": "News", "subject": "News", "body_markdown": "Hello", "lists": ["weekly"],
           "reply_to": reply_to})
}

async fn list_id(app: &TestApp, slug: &str) -> String {
    let lists: Value = app.api_get("/api/v1/lists").await.json().await.unwrap();
    lists["lists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["slug"] == slug)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn put_list(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.http
        .put(app.url(&format!("/api/v1/lists/{id}")))
        .bearer_auth(&app.token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_campaigns_reply_to_wins_over_its_lists_and_the_configured_one() {
    let app = TestApp::spawn_with(|s| s.mail.reply_to = EmailAddress::parse(CONFIGURED).ok()).await;
    // Neither helpdesk is at a domain Bulletin sends from (mail.allowed_from_domains).
    weekly_with_subscriber(&app, Some("list@help.example")).await;
    let created = app
        .api_post("/api/v1/campaigns", &news(Some(" Desk@Help.Example ")))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["reply_to"], "desk@help.example");
    let id = created["id"].as_str().unwrap();
    let shown: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["reply_to"], "desk@help.example");

    let tested = app
        .api_post(
            &format!("/api/v1/campaigns/{id}/test"),
            &json!({"emails": ["qa@example.com"]}),
        )
        .await;
    assert_eq!(tested.status(), StatusCode::OK);
    let test = app.smtp.take_messages().pop().unwrap();
    assert_eq!(
        test.header("Reply-To").as_deref(),
        Some("desk@help.example")
    );

    let mail = campaign_mail(&app, news(Some("desk@help.example"))).await;
    assert_eq!(
        mail.header("Reply-To").as_deref(),
        Some("desk@help.example")
    );
}

#[tokio::test]
async fn a_lists_reply_to_is_used_when_the_campaign_names_none() {
    let app = TestApp::spawn_with(|s| s.mail.reply_to = EmailAddress::parse(CONFIGURED).ok()).await;
    let confirmation = weekly_with_subscriber(&app, Some("list@help.example")).await;
    assert_eq!(
        confirmation.header("Reply-To").as_deref(),
        Some("list@help.example")
    );
    let mail = campaign_mail(&app, news(None)).await;
    assert_eq!(
        mail.header("Reply-To").as_deref(),
        Some("list@help.example")
    );
    // An empty address is none.
    let mail = campaign_mail(&app, news(Some(""))).await;
    assert_eq!(
        mail.header("Reply-To").as_deref(),
        Some("list@help.example")
    );
    // The privacy link belongs to no list: the configured address.
    app.post_form("/privacy", &[("email", "jane@example.com")])
        .await;
    let privacy = app.deliver_and_take().await.pop().unwrap();
    assert_eq!(privacy.header("Reply-To").as_deref(), Some(CONFIGURED));
}

#[tokio::test]
async fn the_configured_reply_to_is_the_fallback_for_every_kind_of_mail() {
    let app = TestApp::spawn_with(|s| s.mail.reply_to = EmailAddress::parse(CONFIGURED).ok()).await;
    let confirmation = weekly_with_subscriber(&app, None).await;
    let campaign = campaign_mail(&app, news(None)).await;
    app.post_form("/privacy", &[("email", "jane@example.com")])
        .await;
    let privacy = app.deliver_and_take().await.pop().unwrap();
    for mail in [&confirmation, &campaign, &privacy] {
        assert_eq!(mail.header("Reply-To").as_deref(), Some(CONFIGURED));
    }
}

#[tokio::test]
async fn no_reply_to_when_nothing_names_one() {
    let app = TestApp::spawn().await;
    let confirmation = weekly_with_subscriber(&app, None).await;
    let campaign = campaign_mail(&app, news(None)).await;
    app.post_form("/privacy", &[("email", "jane@example.com")])
        .await;
    let privacy = app.deliver_and_take().await.pop().unwrap();
    for mail in [&confirmation, &campaign, &privacy] {
        assert_eq!(mail.header("Reply-To"), None, "{}", mail.data);
    }
}

#[tokio::test]
async fn a_notice_replies_to_its_lists_address_set_by_an_update() {
    let app = TestApp::spawn_with(|s| s.mail.reply_to = EmailAddress::parse(CONFIGURED).ok()).await;
    catalogue(&app).await;
    customer(&app, "buyer@example.com", &["LM317"], "en").await;
    let pcn = list_id(&app, "pcn").await;
    let updated = put_list(
        &app,
        &pcn,
        json!({"name": "List pcn", "visibility": "private", "reply_to": "pcn@quality.example"}),
    )
    .await;
    assert_eq!(updated.status(), StatusCode::OK);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["reply_to"], "pcn@quality.example");
    let today = app.clock.now().date_naive();
    let notice: Value = app
        .api_post(
            "/api/v1/notices",
            &json!({
                "kind": "pcn", "title": "New mould compound", "affected_parts": ["LM317"],
                "change_category": "material", "description_before": "A",
                "description_after": "B", "reason": "Supplier change",
                "impact": {"form": "none", "fit": "none", "function": "none", "quality": "none",
                           "reliability": "none"},
                "qualification_summary": "JEDEC qualified",
                "effective_date": (today + chrono::Duration::days(120)).to_string(),
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = notice["id"].as_str().unwrap();
    let sent = app
        .api_post(&format!("/api/v1/notices/{id}/send"), &json!({}))
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert_eq!(
        mail.header("Reply-To").as_deref(),
        Some("pcn@quality.example")
    );
}

#[tokio::test]
async fn a_reply_to_that_is_no_address_is_refused_with_422_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let refused = app
        .api_post(
            "/api/v1/lists",
            &json!({"slug": "weekly", "name": "Weekly", "kind": "newsletter",
                    "legal_basis": "consent", "opt_in": "double", "reply_to": "help desk"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["code"], "invalid_field");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("reply_to:"),
        "{error}"
    );
    let lists: Value = app.api_get("/api/v1/lists").await.json().await.unwrap();
    assert_eq!(lists["lists"], json!([]), "no list was created");

    app.create_list_with(json!({
        "slug": "weekly", "name": "Weekly", "kind": "newsletter",
        "legal_basis": "consent", "opt_in": "double", "reply_to": "help@desk.example"
    }))
    .await;
    let id = list_id(&app, "weekly").await;
    let refused = put_list(
        &app,
        &id,
        json!({"name": "Renamed", "visibility": "public", "reply_to": "Help <help@x.example>"}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let list: Value = app
        .api_get(&format!("/api/v1/lists/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&list["name"], &list["reply_to"]),
        (&json!("Weekly"), &json!("help@desk.example"))
    );

    let refused = app
        .api_post("/api/v1/campaigns", &news(Some("desk@")))
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["code"], "invalid_field");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("reply_to:"),
        "{error}"
    );
    let campaigns: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    assert_eq!(campaigns["campaigns"], json!([]), "no campaign was created");
}

#[tokio::test]
async fn the_admin_forms_set_change_and_show_a_reply_to() {
    let app = TestApp::spawn().await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let list_form = |reply_to: &'static str| {
        [
            ("name", "Weekly"),
            ("slug", "weekly"),
            ("kind", "newsletter"),
            ("legal_basis", "consent"),
            ("opt_in", "double"),
            ("visibility", "public"),
            ("reply_to", reply_to),
        ]
    };
    let (status, page) = body(admin.post("/admin/lists", &list_form("no address")).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("value=\"no address\"") && page.contains("field-error"));
    let created = admin
        .post("/admin/lists", &list_form("help@desk.example"))
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let id = list_id(&app, "weekly").await;
    let (_, page) = body(admin.get(&format!("/admin/lists/{id}")).await).await;
    assert!(page.contains("value=\"help@desk.example\""), "{page}");

    let edit = |reply_to: &'static str| {
        [
            ("name", "Weekly"),
            ("description", ""),
            ("visibility", "public"),
            ("consent_text", ""),
            ("reply_to", reply_to),
        ]
    };
    let (status, page) = body(admin.post(&format!("/admin/lists/{id}"), &edit("x@")).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("value=\"x@\"") && page.contains("field-error"));
    let saved = admin
        .post(&format!("/admin/lists/{id}"), &edit("news@desk.example"))
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let list: Value = app
        .api_get(&format!("/api/v1/lists/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["reply_to"], "news@desk.example");
    let cleared = admin.post(&format!("/admin/lists/{id}"), &edit("")).await;
    assert_eq!(cleared.status(), StatusCode::SEE_OTHER);
    let list: Value = app
        .api_get(&format!("/api/v1/lists/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["reply_to"], Value::Null);

    let compose = |reply_to: &'static str| {
        [
            ("name", "November"),
            ("subject", "News"),
            ("list", "weekly"),
            ("body_markdown", "Hello"),
            ("reply_to", reply_to),
        ]
    };
    let (status, page) = body(admin.post("/admin/campaigns", &compose("desk")).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("value=\"desk\"") && page.contains("field-error"));
    let campaigns: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    assert_eq!(campaigns["campaigns"], json!([]), "no campaign was created");
    let created = admin
        .post("/admin/campaigns", &compose("campaign@desk.example"))
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let location = created.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let (_, page) = body(admin.get(&location).await).await;
    assert!(page.contains("campaign@desk.example"), "{page}");
    let campaigns: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    assert_eq!(
        campaigns["campaigns"][0]["reply_to"],
        "campaign@desk.example"
    );
    // The confirmation of a signup replies to the list's address: none now.
    app.sign_up("jane@example.com", "weekly").await;
    let confirmation = app.deliver_and_take().await.pop().unwrap();
    assert_eq!(confirmation.header("Reply-To"), None);
}

#[tokio::test]
async fn the_openapi_document_describes_reply_to_on_lists_and_campaigns() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for schema in [
        "CreateListRequest",
        "UpdateListRequest",
        "ListResponse",
        "CreateCampaignRequest",
        "CampaignResponse",
    ] {
        let field = &doc["components"]["schemas"][schema]["properties"]["reply_to"];
        assert!(field.is_object(), "{schema}: {field}");
        assert!(
            field["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{schema}: {field}"
        );
    }
}
