//! The JSON API under `/api/v1`: bearer authentication, lists, subscriber look-up, the
//! consent ledger, and tokens made with the `token create` command.

use std::collections::BTreeSet;

use bulletin::domain::Role;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{TestApp, link};

/// The API's router, as text: every `.route("…", get(…).post(…))` in it is an operation.
const API_ROUTES: &str = include_str!("../../src/web/api/mod.rs");

/// The (path, method) pairs `web::api::routes` registers, read from its source, without
/// the OpenAPI document itself. A route added there without documentation fails the test
/// below.
fn routed_operations() -> BTreeSet<(String, String)> {
    let body = &API_ROUTES[API_ROUTES.find("pub fn routes(").unwrap()..];
    let body = &body[..body.find("\n}\n").unwrap()];
    let mut found = BTreeSet::new();
    for chunk in body.split(".route(").skip(1) {
        let chunk = chunk.trim_start();
        let path_end = chunk[1..].find('"').unwrap() + 1;
        let path = format!("/api/v1{}", &chunk[1..path_end]);
        // The handlers, up to the `)` that closes `.route(`.
        let mut depth = 1;
        let end = chunk
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .unwrap()
            .0;
        let handlers = &chunk[path_end..end];
        for method in ["get", "post", "put", "patch", "delete"] {
            let call = format!("{method}(");
            let called = handlers.match_indices(&call).any(|(i, _)| {
                !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if called && path != "/api/v1/openapi.json" {
                found.insert((path.clone(), method.to_owned()));
            }
        }
    }
    found
}

/// The (path, method) pairs the OpenAPI document describes.
fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            found.insert((path.clone(), method.clone()));
        }
    }
    found
}

/// A request with `token`, and a JSON body unless it is `Value::Null`.
pub async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    let mut request = app.http.request(method, app.url(path)).bearer_auth(token);
    if !body.is_null() {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

/// Asserts the `{"error":{"code","message"}}` shape and returns the error object.
pub async fn api_error(response: reqwest::Response, expected: StatusCode) -> Value {
    assert_eq!(response.status(), expected);
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = response.json().await.unwrap();
    let error = body["error"].clone();
    assert!(
        error["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{body}"
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    error
}

/// The slugs of every list, as `GET /api/v1/lists` shows them.
async fn list_slugs(app: &TestApp) -> Vec<String> {
    let response = app.api_get("/api/v1/lists").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["slug"].as_str().unwrap().to_owned())
        .collect()
}

fn weekly() -> Value {
    json!({
        "slug": "weekly", "name": "Weekly", "kind": "newsletter",
        "legal_basis": "consent", "opt_in": "double"
    })
}

#[tokio::test]
async fn requests_without_a_valid_bearer_token_get_401_json() {
    let app = TestApp::spawn().await;
    let url = app.url("/api/v1/lists");
    let requests = [
        ("no header", app.http.get(&url)),
        ("wrong token", app.http.get(&url).bearer_auth("not-a-token")),
        (
            "basic scheme",
            app.http
                .get(&url)
                .header(header::AUTHORIZATION, format!("Basic {}", app.token)),
        ),
        (
            "bare token",
            app.http.get(&url).header(header::AUTHORIZATION, &app.token),
        ),
        (
            "empty bearer",
            app.http.get(&url).header(header::AUTHORIZATION, "Bearer "),
        ),
    ];
    for (case, request) in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        let error = api_error(response, StatusCode::UNAUTHORIZED).await;
        assert_eq!(error["code"], "unauthorized", "{case}");
    }
    assert_eq!(app.api_get("/api/v1/lists").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn creating_a_list_answers_201_with_the_list_and_lists_show_it() {
    let app = TestApp::spawn().await;
    let response = app.api_post("/api/v1/lists", &weekly()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let list: Value = response.json().await.unwrap();
    assert!(
        list["id"]
            .as_str()
            .is_some_and(|id| id.parse::<uuid::Uuid>().is_ok()),
        "{list}"
    );
    assert_eq!(list["slug"], "weekly");
    assert_eq!(list["name"], "Weekly");
    assert_eq!(list["kind"], "newsletter");
    assert_eq!(list["legal_basis"], "consent");
    assert_eq!(list["opt_in"], "double");
    assert_eq!(list["visibility"], "public", "the default");

    let response = app.api_get("/api/v1/lists").await;
    assert_eq!(response.status(), StatusCode::OK);
    let all: Value = response.json().await.unwrap();
    let lists = all["lists"].as_array().unwrap();
    assert_eq!(lists.len(), 1, "{all}");
    assert_eq!(lists[0]["id"], list["id"]);
    assert_eq!(lists[0]["slug"], "weekly");
}

#[tokio::test]
async fn bad_list_requests_are_refused_with_the_right_status_and_create_nothing() {
    let app = TestApp::spawn().await;
    app.create_list_with(weekly()).await;

    let duplicate = app.api_post("/api/v1/lists", &weekly()).await;
    api_error(duplicate, StatusCode::CONFLICT).await;

    let with = |change: Value| {
        let mut body = weekly();
        body["slug"] = json!("other");
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let no_opt_in = app
        .api_post("/api/v1/lists", &with(json!({"opt_in": "none"})))
        .await;
    let error = api_error(no_opt_in, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        error["message"].as_str().unwrap().contains("opt_in"),
        "{error}"
    );
    for (case, body) in [
        ("unknown kind", with(json!({"kind": "podcast"}))),
        ("unknown field", with(json!({"colour": "blue"}))),
        ("bad slug", with(json!({"slug": "Bad Slug"}))),
        ("unknown legal basis", with(json!({"legal_basis": "whim"}))),
    ] {
        let response = app.api_post("/api/v1/lists", &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case}"
        );
        api_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }

    let malformed = app
        .http
        .post(app.url("/api/v1/lists"))
        .bearer_auth(&app.token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"slug": "other", "name": "#)
        .send()
        .await
        .unwrap();
    api_error(malformed, StatusCode::BAD_REQUEST).await;

    let wrong_type = app
        .http
        .post(app.url("/api/v1/lists"))
        .bearer_auth(&app.token)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(with(json!({})).to_string())
        .send()
        .await
        .unwrap();
    api_error(wrong_type, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    assert_eq!(list_slugs(&app).await, vec!["weekly".to_owned()]);
}

#[tokio::test]
async fn a_subscriber_is_found_by_address_with_their_subscriptions() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    app.sign_up("jane@example.com", "monthly").await;
    app.deliver_all().await;

    let url = |email: &str| {
        url::Url::parse_with_params(&app.url("/api/v1/subscribers"), &[("email", email)]).unwrap()
    };
    let response = app
        .http
        .get(url("Jane@Example.com"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let subscriber: Value = response.json().await.unwrap();
    assert_eq!(subscriber["email"], "jane@example.com");
    assert!(
        subscriber["id"]
            .as_str()
            .is_some_and(|id| id.parse::<uuid::Uuid>().is_ok())
    );
    let mut subscriptions = subscriber["subscriptions"].as_array().unwrap().clone();
    subscriptions.sort_by_key(|s| s["list"].as_str().unwrap().to_owned());
    assert_eq!(
        subscriptions,
        vec![
            json!({"list": "monthly", "status": "pending"}),
            json!({"list": "weekly", "status": "confirmed"}),
        ]
    );

    let unknown = app
        .http
        .get(url("nobody@example.com"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    api_error(unknown, StatusCode::NOT_FOUND).await;
    let invalid = app
        .http
        .get(url("not-an-address"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    api_error(invalid, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Without `email`, the same route searches, a page at a time.
    let page: Value = app
        .api_get("/api/v1/subscribers")
        .await
        .json()
        .await
        .unwrap();
    assert!(page["subscribers"].is_array(), "{page}");
}

#[tokio::test]
async fn the_consent_ledger_shows_request_and_confirmation_with_anonymised_ip_and_user_agent() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let agent = "BulletinTest/1.0 (integration; +https://example.com)";
    let response = app
        .http
        .post(app.url("/subscribe"))
        .header(header::USER_AGENT, agent)
        .form(&[
            ("email", "jane@example.com"),
            ("list", "weekly"),
            ("consent", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mail = app.deliver_and_take().await.pop().unwrap();
    let confirmed = app
        .http
        .post(link(&mail, "/confirm/"))
        .header(header::USER_AGENT, agent)
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);

    let subscriber = app.subscriber("jane@example.com").await.unwrap();
    let id = subscriber["id"].as_str().unwrap();
    let response = app
        .api_get(&format!("/api/v1/subscribers/{id}/consent-events"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("127.0.0.1"),
        "never the full address: {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    let events = body["events"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["requested", "confirmed"], "oldest first");
    for event in events {
        assert_eq!(event["ip_anon"], "127.0.0.0", "{event}");
        assert_eq!(event["user_agent"], agent, "{event}");
        assert_eq!(event["legal_basis"], "consent", "{event}");
        assert_eq!(event["actor"], "subscriber", "{event}");
        assert!(event["list_id"].is_string(), "{event}");
        assert!(event["occurred_at"].is_string(), "{event}");
    }
    let requested = &events[0];
    assert_eq!(requested["source"], "form");
    let hash = requested["consent_text_hash"].as_str().unwrap();
    assert!(
        hash.len() == 64 && hash.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
        "{hash}"
    );
    assert_eq!(events[1]["source"], "email_link");
}

#[tokio::test]
async fn consent_events_of_an_unknown_or_malformed_id_are_404_json() {
    let app = TestApp::spawn().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    for id in [unknown.as_str(), "not-a-uuid"] {
        let response = app
            .api_get(&format!("/api/v1/subscribers/{id}/consent-events"))
            .await;
        let error = api_error(response, StatusCode::NOT_FOUND).await;
        assert_eq!(error["code"], "not_found", "{id}");
    }
}

#[tokio::test]
async fn a_token_made_with_the_cli_works_against_the_running_server() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_bulletin"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BULLETIN") {
            command.env_remove(key);
        }
    }
    // Capturing anyhow's backtrace on the error path takes longer than the rest of the run.
    command.env("RUST_LIB_BACKTRACE", "0");
    let output = command
        .args(["token", "create", "--name", "ci", "--role", "marketer"])
        .current_dir(dir.path())
        .env("BULLETIN__DATABASE__URL", &app.database_url)
        .env("BULLETIN__DATA__DIR", dir.path())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let token = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .expect("the token on the last line")
        .trim();
    assert_ne!(token, app.token);

    let response = app
        .http
        .get(app.url("/api/v1/lists"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["lists"].is_array(), "{body}");
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route_with_the_error_shape() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/lists", "post"),
        ("/api/v1/lists", "get"),
        ("/api/v1/campaigns/{id}/schedule", "post"),
        ("/api/v1/subscribers", "get"),
        ("/api/v1/subscribers/import", "post"),
        ("/api/v1/subscribers/{id}/erase", "post"),
        ("/api/v1/subscribers/{id}/block", "post"),
        ("/api/v1/subscribers/{id}/unblock", "post"),
        ("/api/v1/privacy-requests/{id}/close", "post"),
        ("/api/v1/retention/review", "get"),
        ("/api/v1/jobs", "get"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is not described"
        );
    }
    let documented = documented_operations(&doc);
    let routed = routed_operations();
    assert!(routed.len() > 50, "the route parser found {routed:?}");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes in src/web/api/mod.rs without #[utoipa::path]: {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
    let components = &doc["components"];
    let mut operation_ids = BTreeSet::new();
    for (path, method) in &documented {
        let op = &paths[path.as_str()][method.as_str()];
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(
            operation_ids.insert(id),
            "{method} {path}: operationId not unique"
        );
        assert_eq!(
            op["responses"]["401"]["$ref"], "#/components/responses/Unauthorized",
            "{method} {path} does not describe its errors"
        );
        for (status, response) in op["responses"].as_object().unwrap() {
            // Every error answer is the one error response of its status, never a copy.
            let response = match response["$ref"].as_str() {
                Some(target) => {
                    let name = target.strip_prefix("#/components/responses/").unwrap();
                    &components["responses"][name]
                }
                None => {
                    // Successes and 304 Not Modified (no body) are the operation's own.
                    assert!(
                        status.starts_with('2') || status == "304",
                        "{method} {path} {status} is inline"
                    );
                    response
                }
            };
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{method} {path} {status} has no description"
            );
        }
    }
    let schemas = &components["schemas"];
    assert!(schemas["ErrorBody"].is_object() && schemas["CreateListRequest"].is_object());
    for (name, response) in components["responses"].as_object().unwrap() {
        assert_eq!(
            response["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{name}"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn lists_and_campaigns_come_in_cursor_pages() {
    let app = TestApp::spawn().await;
    for slug in ["c-list", "a-list", "b-list"] {
        app.create_list(slug).await;
    }
    let first: Value = app
        .api_get("/api/v1/lists?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = first["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["a-list", "b-list"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .api_get(&format!("/api/v1/lists?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["lists"][0]["slug"], "c-list");
    assert!(second["next_cursor"].is_null());
    for name in ["one", "two", "three"] {
        let body =
            json!({"name": name, "subject": "S", "body_markdown": "Hi", "lists": ["a-list"]});
        assert_eq!(
            app.api_post("/api/v1/campaigns", &body).await.status(),
            StatusCode::CREATED
        );
    }
    let first: Value = app
        .api_get("/api/v1/campaigns?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["campaigns"][0]["name"], "three");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .api_get(&format!("/api/v1/campaigns?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["campaigns"].as_array().unwrap().len(), 1);
    assert_eq!(second["campaigns"][0]["name"], "one");
    assert!(second["next_cursor"].is_null());
    let bad = app.api_get("/api/v1/campaigns?cursor=nonsense").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Follows `next_cursor` through every page of `path` (which has a `?`), collecting `field`.
async fn all_pages(app: &TestApp, path: &str, field: &str) -> (Vec<Vec<Value>>, usize) {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let response = app.api_get(&url).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page: Value = response.json().await.unwrap();
        pages.push(page[field].as_array().unwrap().clone());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let total = pages.iter().map(Vec::len).sum();
    (pages, total)
}

#[tokio::test]
async fn job_runs_and_privacy_requests_come_in_cursor_pages() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.run_job("campaigns").await;
    }
    app.run_job("notices").await;
    app.advance(chrono::Duration::seconds(1));
    app.run_job("campaigns").await;
    let (pages, total) = all_pages(&app, "/api/v1/jobs?limit=2", "runs").await;
    assert_eq!((pages.len(), total), (3, 5));
    let runs: Vec<&Value> = pages.iter().flatten().collect();
    assert!(
        runs.windows(2)
            .all(|w| w[0]["started_at"].as_str() >= w[1]["started_at"].as_str()),
        "newest first"
    );
    let ids: std::collections::HashSet<&str> =
        runs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 5, "no run twice");
    let (_, campaigns) = all_pages(&app, "/api/v1/jobs?job=campaigns&limit=3", "runs").await;
    assert_eq!(campaigns, 4);
    for bad in ["nonsense", &uuid::Uuid::now_v7().to_string()] {
        let r = app.api_get(&format!("/api/v1/jobs?cursor={bad}")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    for kind in ["access", "erasure", "objection"] {
        let r = app
            .api_post(
                "/api/v1/privacy-requests",
                &json!({"kind": kind, "channel": "email"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let (pages, total) = all_pages(&app, "/api/v1/privacy-requests?limit=2", "requests").await;
    assert_eq!((pages.len(), total), (2, 3));
    let kinds: Vec<&str> = pages
        .iter()
        .flatten()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["access", "erasure", "objection"],
        "earliest deadline, then id"
    );
    let (_, open) = all_pages(
        &app,
        "/api/v1/privacy-requests?status=open&limit=1",
        "requests",
    )
    .await;
    assert_eq!(open, 3);
    let r = app
        .api_get("/api/v1/privacy-requests?cursor=nonsense")
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn every_documented_operation_is_answered_by_a_route_not_the_fallback() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let nil = "00000000-0000-7000-8000-000000000000";
    for (path, method) in documented_operations(&doc) {
        let concrete = path
            .replace("{id}", nil)
            .replace("{locale}", "en")
            .replace("{file}", "no-such-file.txt");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = call(&app, &app.token, method.clone(), &concrete, &json!({})).await;
        assert_ne!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert!(
            !r.status().is_server_error(),
            "{method} {path}: {}",
            r.status()
        );
        if r.status() == StatusCode::NOT_FOUND {
            let body: Value = r.json().await.unwrap();
            assert_ne!(
                body["error"]["message"], "route not found",
                "{method} {path} hit the fallback"
            );
        }
    }
}

#[tokio::test]
async fn a_list_is_edited_archived_and_brought_back_through_the_api() {
    let app = TestApp::spawn().await;
    let list = app.create_list("weekly").await;
    let id = list["id"].as_str().unwrap();
    let path = format!("/api/v1/lists/{id}");
    let viewer = app.token_of(Role::Viewer).await;
    let edit = json!({"name": "Weekly news", "description": "Every Monday",
        "visibility": "private", "consent_text": "Yes, send me the weekly news."});
    let r = call(&app, &viewer, Method::PUT, &path, &edit).await;
    api_error(r, StatusCode::FORBIDDEN).await;
    let bad = json!({"name": "", "visibility": "public"});
    let r = call(&app, &app.token, Method::PUT, &path, &bad).await;
    api_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = call(
        &app,
        &app.token,
        Method::PUT,
        &path,
        &json!({"name": "X", "visibility": "nope"}),
    )
    .await;
    api_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let unchanged: Value = app.api_get(&path).await.json().await.unwrap();
    assert_eq!(unchanged["name"], list["name"]);
    assert_eq!(unchanged["visibility"], "public");

    let r = call(&app, &app.token, Method::PUT, &path, &edit).await;
    assert_eq!(r.status(), StatusCode::OK);
    let saved: Value = app.api_get(&path).await.json().await.unwrap();
    assert_eq!(saved["name"], "Weekly news");
    assert_eq!(saved["visibility"], "private");
    assert_eq!(saved["consent_text"], "Yes, send me the weekly news.");
    assert_eq!(saved["slug"], "weekly");

    let archived: Value = app
        .api_post(&format!("{path}/archive"), &Value::Null)
        .await
        .json()
        .await
        .unwrap();
    assert!(archived["archived_at"].is_string(), "{archived}");
    let back: Value = app
        .api_post(&format!("{path}/unarchive"), &Value::Null)
        .await
        .json()
        .await
        .unwrap();
    assert!(back["archived_at"].is_null(), "{back}");
    let r = app
        .api_post(
            "/api/v1/lists/00000000-0000-7000-8000-000000000000/archive",
            &Value::Null,
        )
        .await;
    api_error(r, StatusCode::NOT_FOUND).await;

    let audit: Value = app.api_get("/api/v1/audit").await.json().await.unwrap();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        &actions[..3],
        ["list.unarchive", "list.archive", "list.update"],
        "refused writes leave no entry"
    );
}

#[tokio::test]
async fn a_subscriber_is_read_corrected_and_unsubscribed_from_every_list_through_the_api() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    let r = app.api_post("/api/v1/subscribers", &json!({"email": "ann@example.com", "name": "Ann",
        "lists": ["weekly", "monthly"], "consent_at": "2026-01-02T03:04:05Z", "consent_text": "Yes, please.", "consent_source": "paper form"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let id = app.subscriber("ann@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/subscribers/{id}");
    let one: Value = app.api_get(&path).await.json().await.unwrap();
    assert_eq!(one["email"], "ann@example.com");
    assert_eq!(one["subscriptions"].as_array().unwrap().len(), 2);

    let viewer = app.token_of(Role::Viewer).await;
    let r = call(
        &app,
        &viewer,
        Method::PUT,
        &path,
        &json!({"name": "Anne", "locale": "de"}),
    )
    .await;
    api_error(r, StatusCode::FORBIDDEN).await;
    let r = call(
        &app,
        &app.token,
        Method::PUT,
        &path,
        &json!({"name": "Anne", "locale": "ko"}),
    )
    .await;
    api_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = call(
        &app,
        &app.token,
        Method::PUT,
        &path,
        &json!({"name": "Anne", "locale": "de"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let one: Value = app.api_get(&path).await.json().await.unwrap();
    assert_eq!(
        (one["name"].as_str(), one["locale"].as_str()),
        (Some("Anne"), Some("de"))
    );

    let r = call(
        &app,
        &viewer,
        Method::POST,
        &format!("{path}/unsubscribe"),
        &Value::Null,
    )
    .await;
    api_error(r, StatusCode::FORBIDDEN).await;
    let r: Value = app
        .api_post(&format!("{path}/unsubscribe"), &Value::Null)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["unsubscribed"], 2);
    let one: Value = app.api_get(&path).await.json().await.unwrap();
    assert!(
        one["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "unsubscribed"),
        "{one}"
    );
    let ledger = app.ledger("ann@example.com").await;
    assert!(
        ledger.iter().any(|e| e["action"] == "rectified"),
        "{ledger:?}"
    );
    let r = app
        .api_get("/api/v1/subscribers/00000000-0000-7000-8000-000000000000")
        .await;
    api_error(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn users_and_tokens_are_managed_with_admin_tokens_only() {
    let app = TestApp::spawn().await;
    let marketer = app.token_of(Role::Marketer).await;
    let r = call(&app, &marketer, Method::GET, "/api/v1/users", &Value::Null).await;
    api_error(r, StatusCode::FORBIDDEN).await;
    let new_user = json!({"email": "mia@example.com", "role": "marketer", "password": "correct horse battery"});
    let r = call(&app, &marketer, Method::POST, "/api/v1/users", &new_user).await;
    api_error(r, StatusCode::FORBIDDEN).await;
    let r = call(
        &app,
        &marketer,
        Method::POST,
        "/api/v1/tokens",
        &json!({"name": "x", "role": "admin"}),
    )
    .await;
    api_error(r, StatusCode::FORBIDDEN).await;

    let r = app.api_post("/api/v1/users", &json!({"email": "mia@example.com", "role": "root", "password": "correct horse battery"})).await;
    api_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = app
        .api_post(
            "/api/v1/users",
            &json!({"email": "mia@example.com", "role": "marketer", "password": "short"}),
        )
        .await;
    api_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let users: Value = app.api_get("/api/v1/users").await.json().await.unwrap();
    assert_eq!(users["users"], json!([]), "nothing was added");
    let r = app.api_post("/api/v1/users", &new_user).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let user: Value = r.json().await.unwrap();
    assert_eq!(user["role"], "marketer");
    let r = app.api_post("/api/v1/users", &new_user).await;
    assert_eq!(
        api_error(r, StatusCode::CONFLICT).await["code"],
        "email_taken"
    );

    let r = app
        .api_post(
            "/api/v1/tokens",
            &json!({"name": "ci", "role": "viewer", "user_id": user["id"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.unwrap();
    let secret = made["secret"].as_str().unwrap();
    let r = call(&app, secret, Method::GET, "/api/v1/lists", &Value::Null).await;
    assert_eq!(r.status(), StatusCode::OK);
    let listed: Value = app.api_get("/api/v1/tokens").await.json().await.unwrap();
    let names: Vec<&str> = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ci"), "{listed}");
    assert!(
        !listed.to_string().contains(secret),
        "secrets are never listed"
    );

    let revoke = format!("/api/v1/tokens/{}/revoke", made["id"].as_str().unwrap());
    assert_eq!(
        app.api_post(&revoke, &Value::Null).await.status(),
        StatusCode::OK
    );
    let r = call(&app, secret, Method::GET, "/api/v1/lists", &Value::Null).await;
    api_error(r, StatusCode::UNAUTHORIZED).await;
    api_error(
        app.api_post(&revoke, &Value::Null).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn the_audit_log_and_subscriber_search_page_by_cursor() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    for n in 0..5 {
        let r = app
            .api_post(
                "/api/v1/subscribers",
                &json!({"email": format!("p{n}@example.com"),
            "lists": ["weekly"], "consent_at": "2026-01-02T03:04:05Z", "consent_text": "Yes, please.", "consent_source": "form"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // Seven changes: the harness's token (made as the CLI does), the list and five subscribers.
    let mut seen = Vec::new();
    let mut path = "/api/v1/audit?limit=4".to_owned();
    loop {
        let page: Value = app.api_get(&path).await.json().await.unwrap();
        let entries = page["entries"].as_array().unwrap();
        assert!(entries.len() <= 4);
        seen.extend(entries.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        let Some(next) = page["next_cursor"].as_str() else {
            break;
        };
        path = format!("/api/v1/audit?limit=4&cursor={next}");
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        7,
        "no entry twice"
    );

    let mut emails = Vec::new();
    let mut path = "/api/v1/subscribers?q=p&limit=2".to_owned();
    loop {
        let page: Value = app.api_get(&path).await.json().await.unwrap();
        let rows = page["subscribers"].as_array().unwrap();
        assert!(rows.len() <= 2);
        emails.extend(rows.iter().map(|s| s["email"].as_str().unwrap().to_owned()));
        let Some(next) = page["next_cursor"].as_str() else {
            break;
        };
        path = format!("/api/v1/subscribers?q=p&limit=2&cursor={next}");
    }
    assert_eq!(
        emails,
        [
            "p4@example.com",
            "p3@example.com",
            "p2@example.com",
            "p1@example.com",
            "p0@example.com"
        ]
    );
    let r = app.api_get("/api/v1/subscribers?cursor=nonsense").await;
    assert_eq!(
        api_error(r, StatusCode::UNPROCESSABLE_ENTITY).await["message"],
        "cursor: not a cursor"
    );
    let r = app.api_get("/api/v1/subscribers?status=gone").await;
    api_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn products_customers_and_a_ledger_page_by_cursor() {
    let app = TestApp::spawn().await;
    crate::customers::catalogue(&app).await;
    for part in ["AD590", "BC547"] {
        let r = app
            .api_post(
                "/api/v1/products",
                &json!({"part_number": part, "name": part, "product_line": "misc"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let first: Value = app
        .api_get("/api/v1/products?limit=3")
        .await
        .json()
        .await
        .unwrap();
    let parts = |v: &Value| {
        v["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["part_number"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(parts(&first), ["AD590", "BC547", "LM317"]);
    let next = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .api_get(&format!("/api/v1/products?limit=3&cursor={next}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(parts(&second), ["NE555"]);
    assert!(second["next_cursor"].is_null());

    for n in 0..3 {
        let (status, _) =
            crate::customers::customer(&app, &format!("c{n}@example.com"), &["LM317"], "en").await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let first: Value = app
        .api_get("/api/v1/customers?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["customers"].as_array().unwrap().len(), 2);
    assert_eq!(first["customers"][0]["products"], json!(["LM317"]));
    let next = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .api_get(&format!("/api/v1/customers?limit=2&cursor={next}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["customers"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
    let found: Value = app
        .api_get("/api/v1/customers?q=c1@")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["customers"][0]["email"], "c1@example.com");

    let id = app.subscriber("c0@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let all: Value = app
        .api_get(&format!("/api/v1/subscribers/{id}/consent-events"))
        .await
        .json()
        .await
        .unwrap();
    let total = all["events"].as_array().unwrap().len();
    assert!(total >= 2, "{all}");
    let first: Value = app
        .api_get(&format!("/api/v1/subscribers/{id}/consent-events?limit=1"))
        .await
        .json()
        .await
        .unwrap();
    let next = first["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .api_get(&format!(
            "/api/v1/subscribers/{id}/consent-events?cursor={next}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["events"].as_array().unwrap().len(), total - 1);
    assert_eq!(first["events"][0], all["events"][0]);
}

#[tokio::test]
async fn the_api_and_the_admin_ui_answer_each_role_alike() {
    use crate::admin::Admin;
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    for role in [Role::Viewer, Role::Marketer] {
        let token = app.token_of(role).await;
        let session = Admin::with_role(&app, role).await;
        for (api_path, ui_path) in [
            ("/api/v1/audit", "/admin/audit"),
            ("/api/v1/users", "/admin/users"),
            ("/api/v1/privacy-requests", "/admin/privacy-requests"),
        ] {
            let api = call(&app, &token, Method::GET, api_path, &Value::Null).await;
            let page = session.get(ui_path).await;
            assert_eq!(
                (api.status(), page.status()),
                (StatusCode::FORBIDDEN, StatusCode::FORBIDDEN),
                "{role}: {api_path} and {ui_path} are for admins"
            );
        }
        let api = call(&app, &token, Method::GET, "/api/v1/lists", &Value::Null).await;
        let page = session.get("/admin/lists").await;
        assert_eq!(
            (api.status(), page.status()),
            (StatusCode::OK, StatusCode::OK),
            "{role} reads the lists"
        );
    }
    let marketer = app.token_of(Role::Marketer).await;
    let body = json!({"slug": "autumn", "name": "Autumn", "kind": "newsletter",
        "legal_basis": "consent", "opt_in": "double"});
    let r = call(&app, &marketer, Method::POST, "/api/v1/lists", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let audit: Value = app.api_get("/api/v1/audit").await.json().await.unwrap();
    let newest = &audit["entries"][0];
    assert_eq!(
        (newest["actor"].as_str(), newest["action"].as_str()),
        (Some("api:marketer"), Some("list.create")),
        "the service audits the change it made: {audit}"
    );
}
