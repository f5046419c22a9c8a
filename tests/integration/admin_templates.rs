//! E-mail template overrides in the admin UI and the API: list, edit, refuse broken ones
//! with the line, preview, revert, and the overrides used when mail is sent.

use bulletin::{domain::Role, store};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    admin::Admin,
    support::{TestApp, body},
};

const SUBJECT: &str = "/admin/templates/en/confirmation.subject.txt";

async fn api_send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app
        .http
        .request(method, app.url(path))
        .bearer_auth(&app.token);
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn audit_actions(admin: &Admin<'_>) -> String {
    body(admin.get("/admin/audit").await).await.1
}

#[tokio::test]
async fn a_marketer_overrides_the_confirmation_subject_and_the_next_signup_gets_it_until_reverted()
{
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let (status, page) = body(marketer.get("/admin/templates").await).await;
    assert_eq!(status, StatusCode::OK);
    for message in [
        "confirmation",
        "welcome",
        "campaign",
        "notice",
        "privacy_link",
    ] {
        assert!(page.contains(message), "{message} listed");
    }
    assert!(page.contains("/admin/templates/de/welcome.html"));

    let response = marketer
        .post(
            SUBJECT,
            &[(
                "source",
                "Confirm {{ list_name }} at {{ organisation }}, please",
            )],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = body(marketer.get(SUBJECT).await).await;
    assert!(page.contains("overridden") && page.contains("user:marketer@staff.example.com"));

    app.sign_up("jane@example.com", "weekly").await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert_eq!(mail.subject(), "Confirm List weekly at Bulletin, please");

    let response = marketer.post(&format!("{SUBJECT}/revert"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    app.sign_up("joe@example.com", "weekly").await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert_eq!(
        mail.subject(),
        "Please confirm your subscription to List weekly"
    );

    let audit = app.audit_text().await;
    assert!(
        audit.contains("template.save") && audit.contains("template.revert"),
        "{audit}"
    );
    assert!(audit.contains("en/confirmation.subject.txt"));
}

#[tokio::test]
async fn a_broken_template_is_refused_with_the_line_and_reason_and_what_was_typed_is_kept() {
    let app = TestApp::spawn().await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let path = "/admin/templates/en/welcome.txt";
    let cases = [
        ("Hello\nthere {{ list_name \n", "line 2", "syntax error"),
        (
            "Hi\n\n{{ organisation | shout }}",
            "line 3",
            "unknown filter",
        ),
        (
            "{{ list_name }}\n{{ no_such_variable }}",
            "line 2",
            "undefined",
        ),
    ];
    for (source, line, reason) in cases {
        let (status, page) = body(marketer.post(path, &[("source", source)]).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{source}");
        assert!(page.contains(line), "{line} in {page}");
        assert!(page.contains(reason), "{reason} in {page}");
        let first_line = source.lines().next().unwrap();
        assert!(page.contains(first_line), "the typed text is kept");
        assert!(page.contains("aria-invalid=\"true\""));
    }
    let (status, template) = api_send(
        &app,
        reqwest::Method::GET,
        "/api/v1/templates/en/welcome.txt",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(template["overridden"], false, "nothing was stored");
    let (status, _) = body(marketer.get("/admin/templates/xx/welcome.txt").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = body(
        marketer
            .post("/admin/templates/en/..%2Fsecret", &[("source", "x")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_viewer_reads_templates_and_previews_but_may_not_save_or_revert() {
    let app = TestApp::spawn().await;
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    assert_eq!(viewer.get(SUBJECT).await.status(), StatusCode::OK);
    assert_eq!(
        viewer.get(&format!("{SUBJECT}/preview")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        viewer.post(SUBJECT, &[("source", "x")]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer
            .post(&format!("{SUBJECT}/revert"), &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let admin = Admin::with_role(&app, Role::Admin).await;
    let no_csrf = admin.post_raw(SUBJECT, &[("source", "x")]).await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    let (_, t) = api_send(
        &app,
        reqwest::Method::GET,
        "/api/v1/templates/en/confirmation.subject.txt",
        None,
    )
    .await;
    assert_eq!(t["overridden"], false);
}

#[tokio::test]
async fn the_preview_is_sandboxed_and_shows_the_saved_override_with_sample_values() {
    let app = TestApp::spawn().await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    let path = "/admin/templates/en/welcome.html";
    let source = "<p>Welcome to {{ list_name }}!</p><script>alert(1)</script>\n<a href=\"{{ unsubscribe_url }}\">leave</a>";
    assert_eq!(
        admin.post(path, &[("source", source)]).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, page) = body(admin.get(path).await).await;
    assert!(page.contains("<iframe") && page.contains("sandbox=\"\""));
    let preview = admin.get(&format!("{path}/preview")).await;
    let csp = preview.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.starts_with("sandbox") && csp.contains("frame-ancestors 'self'"),
        "{csp}"
    );
    let html = preview.text().await.unwrap();
    assert!(html.contains("Welcome to Sample!"), "{html}");
    assert!(html.contains("Subject: "));
}

#[tokio::test]
async fn what_is_typed_is_previewed_in_the_iframe_without_saving() {
    let app = TestApp::spawn().await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let path = "/admin/templates/en/welcome.html";
    let (_, page) = body(admin.get(path).await).await;
    assert!(
        page.contains(&format!("formaction=\"{path}/preview\""))
            && page.contains("formtarget=\"template-preview\"")
            && page.contains("name=\"template-preview\""),
        "{page}"
    );
    let draft = "<p>Draft for {{ list_name }} &amp; friends</p>\r\n<a href=\"{{ unsubscribe_url }}\">leave</a>";
    let preview = admin
        .post(&format!("{path}/preview"), &[("source", draft)])
        .await;
    assert_eq!(preview.status(), StatusCode::OK);
    let csp = preview.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("sandbox"), "{csp}");
    let html = preview.text().await.unwrap();
    assert!(html.contains("Draft for Sample &amp; friends"), "{html}");

    let broken = admin
        .post(
            &format!("{path}/preview"),
            &[("source", "<p>\n{% if %}</p>")],
        )
        .await;
    assert_eq!(broken.status(), StatusCode::OK);
    let html = broken.text().await.unwrap();
    assert!(
        html.contains("does not render") && html.contains("line 2"),
        "{html}"
    );
    let no_csrf = admin
        .post_raw(&format!("{path}/preview"), &[("source", draft)])
        .await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);

    let (_, t) = api_send(
        &app,
        reqwest::Method::GET,
        "/api/v1/templates/en/welcome.html",
        None,
    )
    .await;
    assert_eq!(t["overridden"], false, "a preview saves nothing");
    assert!(!audit_actions(&admin).await.contains("template.save"));
}

#[tokio::test]
async fn an_override_saved_by_another_instance_is_used_by_the_sender_here() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    // Another instance saves straight into the shared database.
    let db = &app.app.context().db;
    let layout = store::templates::TemplateOverride {
        path: "en/campaign.txt".into(),
        source:
            "{{ content }}\n-- Sent with care by {{ organisation }}. Leave: {{ unsubscribe_url }}"
                .into(),
        updated_at: app.clock.now(),
        updated_by: "user:other@example.com".into(),
    };
    store::templates::put(db, &layout).await.unwrap();
    let response = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "N", "subject": "News", "body_markdown": "Hello", "lists": ["weekly"]}),
        )
        .await;
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.api_post(
        &format!("/api/v1/campaigns/{id}/schedule"),
        &json!({"send_at": null}),
    )
    .await;
    app.run_job("campaigns").await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert!(
        mail.text_body().contains("-- Sent with care by Bulletin."),
        "{}",
        mail.text_body()
    );
    assert!(mail.text_body().contains("/unsubscribe/"));
}

#[tokio::test]
async fn the_template_api_lists_gets_checks_saves_previews_and_reverts() {
    let app = TestApp::spawn().await;
    let (status, all) = api_send(&app, reqwest::Method::GET, "/api/v1/templates", None).await;
    assert_eq!(status, StatusCode::OK);
    let all = all["templates"].as_array().unwrap();
    assert!(
        all.iter()
            .any(|t| t["path"] == "de/notice.html" && t["overridden"] == false)
    );
    let path = "/api/v1/templates/de/welcome.subject.txt";
    let (status, error) = api_send(
        &app,
        reqwest::Method::PUT,
        path,
        Some(json!({"source": "{% if %}"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["code"], "template_error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 1:"),
        "{error}"
    );
    let (status, draft) = api_send(
        &app,
        reqwest::Method::POST,
        &format!("{path}/preview"),
        Some(json!({"source": "Willkommen bei {{ list_name }}"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(draft["subject"], "Willkommen bei Sample");
    let (_, current) = api_send(&app, reqwest::Method::GET, path, None).await;
    assert_eq!(current["overridden"], false, "a preview stores nothing");
    let (status, saved) = api_send(
        &app,
        reqwest::Method::PUT,
        path,
        Some(json!({"source": "Hallo {{ list_name }}"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(saved["overridden"], true);
    assert_eq!(saved["source"], "Hallo {{ list_name }}");
    assert_eq!(saved["updated_by"], "api:tests");
    let (status, reverted) = api_send(&app, reqwest::Method::DELETE, path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reverted["overridden"], false);
    assert_eq!(reverted["source"], reverted["builtin_source"]);
    let (status, _) = api_send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/templates/en/nope.txt",
        Some(json!({"source": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api_send(
        &app,
        reqwest::Method::PUT,
        path,
        Some(json!({"source": "x", "extra": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"]["/api/v1/templates/{locale}/{file}"]["put"].is_object());
    assert!(doc["paths"]["/api/v1/templates/{locale}/{file}/preview"]["post"].is_object());
}
