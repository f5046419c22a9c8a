//! `Idempotency-Key` on the API's POST requests (issue 18): the same key and body within
//! 24 hours get the first answer again and create nothing twice; another body is refused;
//! keys are per token; without the header nothing changes.

use bulletin::domain::Role;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::support::TestApp;

const REPLAYED: &str = "idempotent-replayed";

/// `POST path` with `body` as `token`, with `key` as `Idempotency-Key`.
async fn post_with_key(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Status, `Location`, whether it was replayed, and the JSON body of an answer.
async fn answer(response: reqwest::Response) -> (StatusCode, Option<String>, bool, Value) {
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let replayed = response
        .headers()
        .get(REPLAYED)
        .is_some_and(|v| v.as_bytes() == b"true");
    (status, location, replayed, response.json().await.unwrap())
}

fn list(slug: &str) -> Value {
    json!({
        "slug": slug, "name": format!("List {slug}"), "kind": "newsletter",
        "legal_basis": "consent", "opt_in": "double"
    })
}

/// The slugs of every list, as `GET /api/v1/lists` shows them.
async fn list_slugs(app: &TestApp, token: &str) -> Vec<String> {
    let response = app
        .http
        .get(app.url("/api/v1/lists"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["slug"].as_str().unwrap().to_owned())
        .collect()
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_same_key_and_body_get_the_first_answer_and_create_once() {
    let app = TestApp::spawn().await;
    let first =
        answer(post_with_key(&app, &app.token, "/api/v1/lists", "k-1", &list("weekly")).await)
            .await;
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.3);
    assert!(first.1.is_some(), "a 201 names what it made");
    assert!(!first.2, "the first answer is not a replay");

    let again =
        answer(post_with_key(&app, &app.token, "/api/v1/lists", "k-1", &list("weekly")).await)
            .await;
    assert_eq!(again.0, StatusCode::CREATED, "{}", again.3);
    assert_eq!(again.1, first.1);
    assert!(again.2, "the second answer says it is a replay");
    assert_eq!(again.3, first.3);
    assert_eq!(list_slugs(&app, &app.token).await, ["weekly"]);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let first = post_with_key(&app, &app.token, "/api/v1/lists", "k-2", &list("weekly")).await;
    assert_eq!(first.status(), StatusCode::CREATED);

    let other =
        answer(post_with_key(&app, &app.token, "/api/v1/lists", "k-2", &list("daily")).await).await;
    assert_eq!(other.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.3);
    assert_eq!(error_code(&other.3), "idempotency_key_reused");
    assert!(!other.2);
    assert_eq!(list_slugs(&app, &app.token).await, ["weekly"]);
}

#[tokio::test]
async fn another_token_with_the_same_key_gets_its_own_answer() {
    let app = TestApp::spawn().await;
    let marketer = app.token_of(Role::Marketer).await;
    let mine =
        answer(post_with_key(&app, &app.token, "/api/v1/lists", "shared", &list("weekly")).await)
            .await;
    assert_eq!(mine.0, StatusCode::CREATED);

    // The same key and body: not a replay of the admin's answer, but a request of its own
    // (which meets the slug the admin took).
    let theirs =
        answer(post_with_key(&app, &marketer, "/api/v1/lists", "shared", &list("weekly")).await)
            .await;
    assert!(!theirs.2, "another token never gets a kept answer");
    assert_eq!(theirs.0, StatusCode::CONFLICT, "{}", theirs.3);

    // With another body under the same key, its own record.
    let theirs =
        answer(post_with_key(&app, &marketer, "/api/v1/lists", "mine", &list("daily")).await).await;
    assert_eq!(theirs.0, StatusCode::CREATED, "{}", theirs.3);
    let admin_again =
        answer(post_with_key(&app, &app.token, "/api/v1/lists", "mine", &list("monthly")).await)
            .await;
    assert_eq!(admin_again.0, StatusCode::CREATED, "{}", admin_again.3);
    let mut slugs = list_slugs(&app, &app.token).await;
    slugs.sort();
    assert_eq!(slugs, ["daily", "monthly", "weekly"]);
}

#[tokio::test]
async fn a_refused_body_is_refused_again_from_the_kept_answer() {
    let app = TestApp::spawn().await;
    let bad = json!({ "slug": "Not A Slug!", "name": "x", "kind": "newsletter",
        "legal_basis": "consent", "opt_in": "double" });
    let first = answer(post_with_key(&app, &app.token, "/api/v1/lists", "k-3", &bad).await).await;
    assert_eq!(first.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", first.3);
    assert!(!first.2);
    let again = answer(post_with_key(&app, &app.token, "/api/v1/lists", "k-3", &bad).await).await;
    assert_eq!(again.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.2, "the 422 is given again");
    assert_eq!(again.3, first.3);
    assert!(list_slugs(&app, &app.token).await.is_empty());
}

#[tokio::test]
async fn without_the_header_every_post_runs() {
    let app = TestApp::spawn().await;
    let first = app.api_post("/api/v1/lists", &list("weekly")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get(REPLAYED).is_none());
    let second = app.api_post("/api/v1/lists", &list("weekly")).await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert!(second.headers().get(REPLAYED).is_none());
}

#[tokio::test]
async fn a_key_that_is_not_1_to_255_visible_characters_is_refused() {
    let app = TestApp::spawn().await;
    for key in [String::new(), "a b".to_owned(), "k".repeat(256)] {
        let response =
            post_with_key(&app, &app.token, "/api/v1/lists", &key, &list("weekly")).await;
        let (status, _, _, body) = answer(response).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{key:?}: {body}");
        assert_eq!(error_code(&body), "invalid_field");
    }
    assert!(list_slugs(&app, &app.token).await.is_empty());
}

#[tokio::test]
async fn a_key_is_free_again_after_24_hours() {
    let app = TestApp::spawn().await;
    let first = post_with_key(&app, &app.token, "/api/v1/lists", "k-4", &list("weekly")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    app.advance(chrono::Duration::hours(25));
    let later =
        answer(post_with_key(&app, &app.token, "/api/v1/lists", "k-4", &list("daily")).await).await;
    assert_eq!(later.0, StatusCode::CREATED, "{}", later.3);
    assert!(!later.2);

    // The retention job deletes what is past its 24 hours.
    app.advance(chrono::Duration::hours(25));
    let run = app.run_job("retention").await;
    assert_eq!(
        run.report["idempotency_keys_deleted"],
        json!(1),
        "{:?}",
        run.report
    );
}

/// `POST /api/v1/subscribers/import?list=weekly` with `csv` and `key`.
async fn import_with_key(app: &TestApp, key: &str, csv: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/subscribers/import?list=weekly"))
        .bearer_auth(&app.token)
        .header(header::CONTENT_TYPE, "text/csv")
        .header("Idempotency-Key", key)
        .body(csv.to_owned())
        .send()
        .await
        .unwrap()
}

/// How many people `GET /api/v1/subscribers` finds.
async fn subscriber_count(app: &TestApp) -> usize {
    let response = app.api_get("/api/v1/subscribers").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["subscribers"].as_array().unwrap().len()
}

#[tokio::test]
async fn an_import_with_a_key_imports_once() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let csv = "email,name,consent_at,consent_source,consent_text\n\
               ann@example.com,Ann,2025-05-01T08:30:00Z,shop,Yes please\n\
               bob@example.com,Bob,2025-05-01T08:30:00Z,shop,Yes please\n";
    let first = answer(import_with_key(&app, "import-1", csv).await).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.3);
    assert_eq!(first.3["imported"], json!(2), "{}", first.3);
    assert_eq!(subscriber_count(&app).await, 2);

    let again = answer(import_with_key(&app, "import-1", csv).await).await;
    assert!(again.2, "the import's report is given again");
    assert_eq!(again.3, first.3);

    let more = format!("{csv}cat@example.com,Cat,2025-05-01T08:30:00Z,shop,Yes please\n");
    let other = answer(import_with_key(&app, "import-1", &more).await).await;
    assert_eq!(other.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.3);
    assert_eq!(error_code(&other.3), "idempotency_key_reused");
    assert_eq!(subscriber_count(&app).await, 2);
}

#[tokio::test]
async fn a_key_whose_request_still_runs_is_in_use_until_its_lease_ends() {
    use bulletin::services::idempotency::{self, IdempotencyKey, KeyScope};
    let app = TestApp::spawn().await;
    // A request with the key is running: claimed as the API claims it, never finished.
    let authorization = format!("Bearer {}", app.token);
    let scope = KeyScope::new(authorization.as_bytes(), "POST", "/lists");
    let key = IdempotencyKey::parse(b"running").unwrap();
    idempotency::claim(app.app.context(), scope, key)
        .await
        .unwrap();

    let response = post_with_key(
        &app,
        &app.token,
        "/api/v1/lists",
        "running",
        &list("weekly"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    let (_, _, _, body) = answer(response).await;
    assert_eq!(error_code(&body), "idempotency_key_in_use");
    assert!(list_slugs(&app, &app.token).await.is_empty());

    // A process that died mid-request frees its key after the lease.
    app.advance(idempotency::IN_PROGRESS_LEASE + chrono::Duration::minutes(1));
    let response = post_with_key(
        &app,
        &app.token,
        "/api/v1/lists",
        "running",
        &list("weekly"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_revoked_token_gets_401_not_its_kept_answer() {
    use bulletin::{domain::Actor, services::api_tokens};
    let app = TestApp::spawn().await;
    let (token, secret) = api_tokens::issue(
        app.app.context(),
        &Actor::Cli,
        "leaving",
        Role::Marketer,
        None,
    )
    .await
    .unwrap();
    let first = post_with_key(&app, &secret, "/api/v1/lists", "k-5", &list("weekly")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    api_tokens::revoke(app.app.context(), &Actor::Cli, token.id)
        .await
        .unwrap();

    let again = post_with_key(&app, &secret, "/api/v1/lists", "k-5", &list("weekly")).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(again.headers().get(REPLAYED).is_none());
}
