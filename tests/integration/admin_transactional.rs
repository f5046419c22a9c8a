//! Transactional templates in the admin UI: written, refused in place with nothing saved,
//! changed and deleted by a marketer; read-only for a viewer; and what the admin UI saves is
//! what the API sends.

use bulletin::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    admin::Admin,
    support::{TestApp, body},
};

/// Saves the template `order-shipped` through the API, for the pages that show it.
pub(crate) async fn example_template(app: &TestApp) {
    let template = json!({
        "name": "order-shipped",
        "subject": "Order {{ data.order_id }} is on its way",
        "body_markdown": "Hello,\n\nyour order **{{ data.order_id }}** has left.",
    });
    let saved = app
        .api_post("/api/v1/transactional-templates", &template)
        .await;
    assert_eq!(saved.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_marketer_writes_changes_and_deletes_a_template_that_the_api_sends() {
    let app = TestApp::spawn().await;
    let marketer = Admin::with_role(&app, Role::Marketer).await;
    let (status, page) = body(marketer.get("/admin/transactional").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No transactional templates yet."));

    let refused = marketer
        .post(
            "/admin/transactional",
            &[
                ("name", "welcome-pack"),
                ("subject", "Hi"),
                ("body_markdown", "{{ subscribr.name }}"),
            ],
        )
        .await;
    let (status, page) = body(refused).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("subscribr"), "the problem is named: {page}");
    assert!(page.contains("welcome-pack"), "what was typed stays");
    let none: Value = app
        .api_get("/api/v1/transactional-templates")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        none["templates"].as_array().unwrap().is_empty(),
        "nothing saved"
    );

    let saved = marketer
        .post(
            "/admin/transactional",
            &[
                ("name", "welcome-pack"),
                ("subject", "Your pack {{ data.code }}"),
                ("body_markdown", "Here it is: **{{ data.code }}**"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (status, page) = body(marketer.follow(saved).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Your pack {{ data.code }}"));
    assert!(page.contains("/api/v1/transactional"), "how to send it");

    let changed = marketer
        .post(
            "/admin/transactional/welcome-pack",
            &[
                ("subject", "Pack {{ data.code }}"),
                ("body_markdown", "Code **{{ data.code }}**"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let sent = app
        .api_post(
            "/api/v1/transactional",
            &json!({"template": "welcome-pack", "to": "p@example.com", "data": {"code": "X1"}}),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert_eq!(mail.subject(), "Pack X1");
    assert!(mail.html_body().contains("<strong>X1</strong>"));

    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (status, page) = body(viewer.get("/admin/transactional/welcome-pack").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("Save template"), "read-only");
    let forbidden = viewer
        .post("/admin/transactional/welcome-pack/delete", &[])
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    let deleted = marketer
        .post("/admin/transactional/welcome-pack/delete", &[])
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    let gone = marketer.get("/admin/transactional/welcome-pack").await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}
