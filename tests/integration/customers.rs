//! Products and customers: enrolment on the basis of legitimate interest, the CSV import,
//! and that nobody who objected or was erased is enrolled again.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

/// The two legitimate-interest lists and two products.
pub async fn catalogue(app: &TestApp) {
    for (slug, kind) in [("pcn", "product_notices"), ("tech", "tech_news")] {
        app.create_list_with(json!({
            "slug": slug, "name": format!("List {slug}"), "kind": kind,
            "legal_basis": "legitimate_interest", "opt_in": "none", "visibility": "private"
        }))
        .await;
    }
    for (part, line) in [("LM317", "power"), ("NE555", "timers")] {
        let r = app
            .api_post(
                "/api/v1/products",
                &json!({"part_number": part, "name": format!("Part {part}"), "product_line": line}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
}

pub async fn customer(
    app: &TestApp,
    email: &str,
    parts: &[&str],
    locale: &str,
) -> (StatusCode, Value) {
    let r = app
        .api_post(
            "/api/v1/customers",
            &json!({"email": email, "name": "Cust", "company": "ACME", "locale": locale,
                    "products": parts, "source": "order:12345"}),
        )
        .await;
    (r.status(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_customer_is_enrolled_with_basis_source_and_assessment_in_the_ledger() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let (status, body) = customer(&app, "buyer@example.com", &["LM317"], "de").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["enrolled"], json!(["pcn", "tech"]));
    assert_eq!(body["products"], json!(["LM317"]));
    let ledger = app.ledger("buyer@example.com").await;
    assert_eq!(ledger.len(), 2);
    for e in &ledger {
        assert_eq!(e["action"], "enrolled");
        assert_eq!(e["legal_basis"], "legitimate_interest");
        assert_eq!(e["source"], "order:12345");
        assert!(
            e["evidence"]["lia_reference"]
                .as_str()
                .unwrap()
                .contains("LIA")
        );
    }
    let (status, body) = customer(&app, "buyer@example.com", &["NE555"], "de").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["enrolled"], json!([]));
    assert_eq!(body["products"], json!(["LM317", "NE555"]));
    assert_eq!(
        app.ledger("buyer@example.com").await.len(),
        2,
        "no second enrolment"
    );
}

#[tokio::test]
async fn unknown_part_numbers_are_reported_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let (status, body) = customer(&app, "x@example.com", &["LM317", "NOPE-1"], "en").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "unknown_part");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("NOPE-1")
    );
    assert!(app.subscriber("x@example.com").await.is_none());
    let dup = app
        .api_post(
            "/api/v1/products",
            &json!({"part_number": "LM317", "name": "again", "product_line": "power"}),
        )
        .await;
    assert_eq!(dup.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_csv_import_enrols_each_row_and_reports_bad_ones_by_line() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let csv = "email,name,company,locale,products,source\n\
               a@example.com,A,ACME,de,LM317;NE555,crm\n\
               not-an-address,B,,en,LM317,crm\n\
               c@example.com,C,,en,ZZZ9,crm\n";
    let r = app.api_post_csv("/api/v1/customers/import", csv).await;
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["rows"], 3);
    assert_eq!(report["imported"], 1);
    assert_eq!(report["enrolled"], 2);
    let codes: Vec<(u64, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(codes, [(3, "invalid_field"), (4, "unknown_part")]);
    assert_eq!(
        app.subscription_status("a@example.com", "pcn")
            .await
            .as_deref(),
        Some("confirmed")
    );
    let bad = app
        .api_post_csv("/api/v1/customers/import", "name\nx\n")
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_erased_customer_is_never_enrolled_again() {
    let app = TestApp::spawn().await;
    catalogue(&app).await;
    let (_, body) = customer(&app, "gone@example.com", &["LM317"], "en").await;
    let id = body["id"].as_str().unwrap();
    let r = app
        .api_post(&format!("/api/v1/subscribers/{id}/erase"), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, body) = customer(&app, "gone@example.com", &["LM317"], "en").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "suppressed");
    assert!(app.subscriber("gone@example.com").await.is_none());
}
