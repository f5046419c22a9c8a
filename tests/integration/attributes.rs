//! A subscriber's attributes: set and removed through the API (merged, all or nothing,
//! refusals naming the key), read by campaign templates, shown in the person's export and
//! data page, and erased with the person.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, body, link};

async fn id_of(app: &TestApp, email: &str) -> String {
    app.subscriber(email).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn patch(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.api_send(
        Method::PATCH,
        &format!("/api/v1/subscribers/{id}"),
        Some(&body),
    )
    .await
}

#[tokio::test]
async fn attributes_are_merged_by_the_api_and_a_refused_one_changes_nothing() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let id = id_of(&app, "jane@example.com").await;
    assert_eq!(
        app.subscriber("jane@example.com").await.unwrap()["attributes"],
        json!({})
    );

    let set = patch(
        &app,
        &id,
        json!({"attributes": {"plan": "pro", "seats": 12, "trial": false, "renews": "2027-01-31"}}),
    )
    .await;
    assert_eq!(set.status(), StatusCode::OK);
    let set: Value = set.json().await.unwrap();
    assert_eq!(set["attributes"]["seats"], 12);

    let merged: Value = patch(
        &app,
        &id,
        json!({"attributes": {"seats": null, "plan": "team"}}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        merged["attributes"],
        json!({"plan": "team", "trial": false, "renews": "2027-01-31"})
    );

    for (bad, part) in [
        (json!({"attributes": {"Plan": "x"}}), "attributes.Plan"),
        (
            json!({"attributes": {"ok": 1, "nested": {"a": 1}}}),
            "attributes.nested",
        ),
        (
            json!({"attributes": {"notes": "x".repeat(501)}}),
            "attributes.notes",
        ),
        (
            json!({"name": "Jane", "attributes": {"tags": ["a"]}}),
            "attributes.tags",
        ),
    ] {
        let refused = patch(&app, &id, bad).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let error: Value = refused.json().await.unwrap();
        assert!(
            error.to_string().contains(part),
            "the error names {part}: {error}"
        );
    }
    let after = app.subscriber("jane@example.com").await.unwrap();
    assert_eq!(after["attributes"], merged["attributes"], "nothing changed");
    assert_eq!(after["name"], merged["name"]);

    let missing = patch(
        &app,
        "0190d5e0-0000-7000-8000-000000000000",
        json!({"attributes": {"a": 1}}),
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let audit = app.audit_text().await;
    assert!(audit.contains("subscriber.attributes"), "{audit}");
    assert!(
        !audit.contains("team"),
        "the audit names keys, never values"
    );
}

#[tokio::test]
async fn a_campaign_reads_each_persons_attributes_and_a_missing_one_is_empty() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("acme@example.com", "weekly").await;
    app.confirmed_subscriber("solo@example.com", "weekly").await;
    let id = id_of(&app, "acme@example.com").await;
    patch(
        &app,
        &id,
        json!({"attributes": {"company": "Acme & Sons", "seats": 40}}),
    )
    .await;

    app.start_campaign_with(json!({
        "name": "Seats", "lists": ["weekly"],
        "subject": "{{ subscriber.attributes.seats }} seats",
        "body_markdown": "{% if subscriber.attributes.company %}Hello {{ subscriber.attributes.company }}{% else %}Hello there{% endif %}!"
    }))
    .await;
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 2);
    let to = |who: &str| {
        mails
            .iter()
            .find(|m| m.rcpt_to.iter().any(|r| r == who))
            .unwrap()
    };
    let acme = to("acme@example.com");
    assert!(acme.data.contains("Subject: 40 seats"), "{}", acme.data);
    assert!(acme.html_body().contains("Hello Acme &amp; Sons!"));
    let solo = to("solo@example.com");
    assert!(solo.data.contains("Subject: seats"), "{}", solo.data);
    assert!(solo.html_body().contains("Hello there!"));
}

#[tokio::test]
async fn the_person_sees_their_attributes_in_the_export_and_data_page_and_erasure_takes_them() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let id = id_of(&app, "jane@example.com").await;
    patch(
        &app,
        &id,
        json!({"attributes": {"plan": "pro", "seats": 3}}),
    )
    .await;

    let export: Value = app
        .api_get(&format!("/api/v1/subscribers/{id}/export"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        export["subscriber"]["attributes"],
        json!({"plan": "pro", "seats": 3})
    );
    let schema: Value = app
        .get("/privacy/export-schema/v1.json")
        .await
        .json()
        .await
        .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(
        validator.is_valid(&export),
        "the export still meets its schema"
    );
    let csv = app
        .api_get(&format!("/api/v1/subscribers/{id}/export?format=csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("subscriber,,attributes.plan,pro"), "{csv}");

    app.post_form("/privacy", &[("email", "jane@example.com")])
        .await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    let page_url = link(&mail, "/privacy/");
    let (status, page) = body(app.post_form(&page_url, &[]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<dt>plan</dt><dd>pro</dd>"), "{page}");
    assert!(page.contains("<dt>seats</dt><dd>3</dd>"), "{page}");

    let erased = app
        .api_post(&format!("/api/v1/subscribers/{id}/erase"), &json!({}))
        .await;
    assert!(erased.status().is_success());
    assert!(app.subscriber("jane@example.com").await.is_none());
    let db = &app.app.context().db;
    use sea_orm::{ConnectionTrait, Statement};
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT attributes FROM subscribers".to_owned(),
        ))
        .await
        .unwrap();
    assert!(rows.is_empty(), "no row keeps the attributes");
}

/// Imports `csv` into `weekly` through the API: the status and the report.
async fn import(app: &TestApp, csv: &str) -> (StatusCode, Value) {
    let response = app
        .api_post_csv("/api/v1/subscribers/import?list=weekly", csv.to_owned())
        .await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn import_columns_named_attr_set_typed_attributes_and_report_bad_cells_by_line() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let header = "email,consent_at,consent_source,consent_text,attr.plan,attr.seats:number,attr.trial:boolean,attr.renews:date\n";
    let proof = "2025-05-01T08:30:00Z,shop,Yes please";
    let csv = format!(
        "{header}\
         ann@example.com,{proof},pro,12,yes,2027-01-31\n\
         bob@example.com,{proof},free,many,no,2027-01-31\n\
         cid@example.com,{proof},free,1,maybe,\n\
         dan@example.com,{proof},team,,,2027-02-30\n\
         eve@example.com,{proof},,,,\n"
    );
    let (status, report) = import(&app, &csv).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["imported"], 2, "{report}");
    let problems: Vec<(u64, &str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["code"].as_str().unwrap(),
                e["error"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(problems.len(), 3, "{report}");
    assert_eq!((problems[0].0, problems[0].1), (3, "invalid_attribute"));
    assert!(problems[0].2.contains("attributes.seats"), "{report}");
    assert_eq!(problems[1].0, 4);
    assert!(problems[1].2.contains("attributes.trial"));
    assert_eq!(problems[2].0, 5);
    assert!(problems[2].2.contains("attributes.renews"));
    assert!(
        app.subscriber("bob@example.com").await.is_none(),
        "a bad row adds nobody"
    );

    let ann = app.subscriber("ann@example.com").await.unwrap();
    assert_eq!(
        ann["attributes"],
        json!({"plan": "pro", "seats": 12, "trial": true, "renews": "2027-01-31"})
    );
    assert_eq!(
        app.subscriber("eve@example.com").await.unwrap()["attributes"],
        json!({}),
        "empty cells set nothing"
    );

    // A second import updates what it names and keeps the rest.
    let again = format!(
        "email,consent_at,consent_source,consent_text,attr.plan,attr.region\nann@example.com,{proof},team,emea\n"
    );
    let (status, report) = import(&app, &again).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["unchanged"], 1, "{report}");
    assert_eq!(
        app.subscriber("ann@example.com").await.unwrap()["attributes"],
        json!({"plan": "team", "seats": 12, "trial": true, "renews": "2027-01-31", "region": "emea"})
    );

    for header in [
        "email,attr.plan-type",
        "email,attr.seats:integer",
        "email,attr.a,attr.a:number",
    ] {
        let (status, report) = import(&app, &format!("{header}\nzed@example.com,1\n")).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{header}: {report}"
        );
        assert!(report.to_string().contains("attr."), "{report}");
    }
    assert!(app.subscriber("zed@example.com").await.is_none());
}
