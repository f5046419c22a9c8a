//! The JSON API under `/api/v1`: bearer authentication, lists, subscriber look-up, the
//! consent ledger, and tokens made with the `token create` command.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::support::{TestApp, link};

/// Asserts the `{"error":{"code","message"}}` shape and returns the error object.
async fn api_error(response: reqwest::Response, expected: StatusCode) -> Value {
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
    let missing = app.api_get("/api/v1/subscribers").await;
    api_error(missing, StatusCode::UNPROCESSABLE_ENTITY).await;
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
    // Every route of `web::api::routes` but this document itself.
    assert_eq!(paths.len(), 25);
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["ErrorBody"].is_object() && schemas["CreateListRequest"].is_object());
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
