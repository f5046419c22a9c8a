//! Conditional requests on the API (issue 18): a GET of one resource carries a strong ETag
//! and answers If-None-Match with 304; PUT, PATCH and DELETE with a stale If-Match are
//! refused with 412 and change nothing.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::support::TestApp;

/// `method path` with `If-Match: tag` and, if given, a JSON body.
async fn send_if_match(
    app: &TestApp,
    method: Method,
    path: &str,
    tag: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let request = app
        .http
        .request(method, app.url(path))
        .bearer_auth(&app.token)
        .header(header::IF_MATCH, tag);
    let request = match body {
        Some(body) => request.json(body),
        None => request,
    };
    request.send().await.unwrap()
}

fn etag(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(header::ETAG)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// The ETag and JSON body of `GET path`, asserting a 200.
async fn current(app: &TestApp, path: &str) -> (String, Value) {
    let response = app.api_get(path).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tag = etag(&response).expect("a GET of one resource carries an ETag");
    (tag, response.json().await.unwrap())
}

/// A new list's path.
async fn list_path(app: &TestApp) -> String {
    let list = app.create_list("weekly").await;
    format!("/api/v1/lists/{}", list["id"].as_str().unwrap())
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_get_carries_a_strong_etag_and_if_none_match_answers_304() {
    let app = TestApp::spawn().await;
    let path = list_path(&app).await;
    let (tag, _) = current(&app, &path).await;
    assert!(tag.starts_with('"') && tag.ends_with('"'), "strong: {tag}");
    assert_eq!(
        current(&app, &path).await.0,
        tag,
        "the same representation, the same tag"
    );

    let response = app
        .http
        .get(app.url(&path))
        .bearer_auth(&app.token)
        .header(header::IF_NONE_MATCH, &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(etag(&response).as_deref(), Some(tag.as_str()));
    assert!(response.bytes().await.unwrap().is_empty());

    let response = app
        .http
        .get(app.url(&path))
        .bearer_auth(&app.token)
        .header(header::IF_NONE_MATCH, "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_patch_with_the_current_tag_succeeds_and_the_tag_changes() {
    let app = TestApp::spawn().await;
    let path = list_path(&app).await;
    let (tag, _) = current(&app, &path).await;
    let response = send_if_match(
        &app,
        Method::PATCH,
        &path,
        &tag,
        Some(&json!({ "name": "Weekly news" })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let answered = etag(&response);
    let (new_tag, body) = current(&app, &path).await;
    assert_eq!(body["name"], json!("Weekly news"));
    assert_ne!(new_tag, tag);
    assert_eq!(
        answered.as_deref(),
        Some(new_tag.as_str()),
        "the answer is the new representation, with its tag"
    );
}

#[tokio::test]
async fn a_patch_with_a_stale_tag_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let path = list_path(&app).await;
    let (stale, _) = current(&app, &path).await;
    let response = app
        .api_send(Method::PATCH, &path, Some(&json!({ "name": "First" })))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "no If-Match: as before");

    let response = send_if_match(
        &app,
        Method::PATCH,
        &path,
        &stale,
        Some(&json!({ "name": "Second" })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "precondition_failed");
    assert_eq!(current(&app, &path).await.1["name"], json!("First"));
}

#[tokio::test]
async fn if_match_star_matches_any_existing_resource() {
    let app = TestApp::spawn().await;
    let path = list_path(&app).await;
    let response = send_if_match(
        &app,
        Method::PATCH,
        &path,
        "*",
        Some(&json!({ "name": "Any" })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    // Nothing there: the write answers for itself.
    let missing = format!("/api/v1/lists/{}", uuid::Uuid::now_v7());
    let response = send_if_match(
        &app,
        Method::PATCH,
        &missing,
        "*",
        Some(&json!({ "name": "Any" })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_delete_with_a_stale_tag_is_refused() {
    let app = TestApp::spawn().await;
    let created = app
        .api_post(
            "/api/v1/segments",
            &json!({ "name": "Germans", "filter": { "all": [{ "locale": "de" }] } }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let path = format!("/api/v1/segments/{}", created["id"].as_str().unwrap());
    let (stale, _) = current(&app, &path).await;
    let response = app
        .api_send(Method::PATCH, &path, Some(&json!({ "name": "Deutsche" })))
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let response = send_if_match(&app, Method::DELETE, &path, &stale, None).await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let (fresh, _) = current(&app, &path).await;

    let response = send_if_match(&app, Method::DELETE, &path, &fresh, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.api_get(&path).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_single_resource_get_carries_an_etag() {
    let app = TestApp::spawn().await;
    let list = app.create_list("weekly").await;
    let campaign = app
        .api_post(
            "/api/v1/campaigns",
            &json!({ "name": "Hello", "subject": "Hello", "body_markdown": "Hi there",
                     "lists": ["weekly"] }),
        )
        .await;
    assert_eq!(campaign.status(), StatusCode::CREATED);
    let campaign: Value = campaign.json().await.unwrap();
    for path in [
        format!("/api/v1/lists/{}", list["id"].as_str().unwrap()),
        format!("/api/v1/campaigns/{}", campaign["id"].as_str().unwrap()),
    ] {
        current(&app, &path).await;
    }
}

#[tokio::test]
async fn the_openapi_document_declares_the_conditional_and_idempotency_headers() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let names = |method: &str| -> Vec<String> {
        doc["paths"]["/api/v1/lists/{id}"][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(names("get").contains(&"If-None-Match".to_owned()));
    assert!(names("patch").contains(&"If-Match".to_owned()));
    let patch = &doc["paths"]["/api/v1/lists/{id}"]["patch"]["responses"];
    assert!(patch.get("412").is_some(), "{patch}");
    let create = doc["paths"]["/api/v1/lists"]["post"]["parameters"].to_string();
    assert!(create.contains("Idempotency-Key"), "{create}");
}
