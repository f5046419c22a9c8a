//! NUL characters, which no text column keeps (PostgreSQL refuses them), are refused where
//! they come in, with a clear 4xx, and change nothing: in paths and queries, forms, JSON,
//! and per row in CSV imports.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    api::api_error,
    support::{TestApp, body},
};

#[tokio::test]
async fn a_nul_in_a_query_form_or_json_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;

    let r = app
        .api_get("/api/v1/subscribers?email=a%00b@example.com")
        .await;
    assert_eq!(
        api_error(r, StatusCode::BAD_REQUEST).await["code"],
        "malformed_request"
    );
    let (status, _) = body(app.get("/subscribe?list=week%00ly").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, page) = body(
        app.post_form(
            "/subscribe",
            &[
                ("list", "weekly"),
                ("email", "jane@example.com"),
                ("name", "Ja\0ne"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("NUL"), "{page}");

    let r = app
        .api_post(
            "/api/v1/subscribers",
            &json!({"email": "jane@example.com", "name": "Ja\u{0}ne", "lists": ["weekly"]}),
        )
        .await;
    let error = api_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        error["message"].as_str().unwrap().contains("NUL"),
        "{error}"
    );
    assert!(app.subscriber("jane@example.com").await.is_none());
}

#[tokio::test]
async fn csv_rows_with_a_nul_are_reported_and_the_others_imported() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let csv = "email,name,locale,consent_at,consent_source,consent_text\n\
               a@example.com,A,en,2025-05-01T08:30:00Z,shop,Yes please\n\
               b@example.com,B,en,2025-05-01T08:30:00Z,shop,Yes\0please\n\
               c@example.com,C,en,-5000-01-01 00:00:00,shop,Yes please\n";
    let r = app
        .api_post_csv("/api/v1/subscribers/import?list=weekly", csv)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["imported"], 1, "{report}");
    let errors: Vec<(u64, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["error"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (3, "consent_text contains a NUL character"),
            (4, "consent_at lies before 1970")
        ]
    );

    crate::customers::catalogue(&app).await;
    let customers = "email,name,company,locale,products,source\n\
                     d@example.com,D,AC\0ME,en,LM317,crm\n";
    let r = app
        .api_post_csv("/api/v1/customers/import", customers)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["imported"], 0, "{report}");
    assert_eq!(report["errors"][0]["line"], 2, "{report}");
    assert!(
        report["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("NUL"),
        "{report}"
    );
}

#[tokio::test]
async fn a_bell_character_cannot_slip_into_a_notice_a_list_or_a_product() {
    let app = TestApp::spawn().await;
    let bell = "Recall\u{7} of the LM317";
    let list = serde_json::json!({"slug": "news", "name": bell, "kind": "newsletter",
        "legal_basis": "consent", "opt_in": "double"});
    let r = app.api_post("/api/v1/lists", &list).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("U+0007"),
        "{body}"
    );
    let product =
        serde_json::json!({"part_number": "LM317", "name": bell, "product_line": "power"});
    let r = app.api_post("/api/v1/products", &product).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let lists: Value = app.api_get("/api/v1/lists").await.json().await.unwrap();
    assert_eq!(
        lists["lists"].as_array().unwrap().len(),
        0,
        "nothing was kept"
    );
    // A line break in a text area stays allowed.
    let mut ok = list.clone();
    ok["name"] = "Recall".into();
    ok["description"] = "Line one\r\nLine two\tand a tab".into();
    assert_eq!(
        app.api_post("/api/v1/lists", &ok).await.status(),
        StatusCode::CREATED
    );
    // A form says the same as the API.
    let r = app
        .subscribe(&[
            ("email", "a@example.com"),
            ("name", "A\u{1b}[31m"),
            ("list", "news"),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
