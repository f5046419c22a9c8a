//! One error shape everywhere under `/api/`: the answers the router and the layers make
//! themselves are the JSON error too; a 401 says how to authenticate; page sizes outside
//! 1..=1000 are refused.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::TestApp;

/// The `error.code` of a JSON error answer, checking that it is one.
async fn error_code(response: reqwest::Response) -> String {
    let kind = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        kind.starts_with("application/json"),
        "content type {kind:?}"
    );
    let body: Value = response.json().await.unwrap();
    body["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_router_and_the_layers_answer_with_the_json_error() {
    let app =
        TestApp::spawn_with(|s| s.http.request_timeout = std::time::Duration::from_secs(1)).await;

    // 405, with the methods that are allowed.
    let response = app
        .http
        .put(format!("{}/api/v1/segments", app.base))
        .bearer_auth(&app.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = response.headers()[header::ALLOW]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_eq!(error_code(response).await, "method_not_allowed");

    // 413: a body past `http.body_limit_bytes`.
    let limit = app.app.context().settings.http.body_limit_bytes;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(limit + 10));
    let response = app
        .http
        .post(format!("{}/api/v1/lists", app.base))
        .bearer_auth(&app.token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(response).await, "payload_too_large");

    // 415: a body that is not JSON.
    let response = app
        .http
        .post(format!("{}/api/v1/lists", app.base))
        .bearer_auth(&app.token)
        .header(header::CONTENT_TYPE, "text/plain")
        .body("slug=weekly")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(response).await, "unsupported_media_type");

    // 408: a body that does not arrive within `http.request_timeout`.
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/lists HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{",
        app.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("application/json") && answer.contains("\"request_timeout\""),
        "{answer}"
    );

    // An unknown route is the JSON 404.
    let response = app.api_get("/api/v1/no-such-thing").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "not_found");
    // No list was made by any of it.
    let lists: Value = app.api_get("/api/v1/lists").await.json().await.unwrap();
    assert_eq!(lists["lists"], json!([]), "{lists}");
}

#[tokio::test]
async fn a_401_names_the_bearer_scheme_whose_name_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(format!("{}/api/v1/lists", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(error_code(response).await, "unauthorized");

    for scheme in ["bearer", "BEARER", "Bearer"] {
        let response = app
            .http
            .get(format!("{}/api/v1/lists", app.base))
            .header(header::AUTHORIZATION, format!("{scheme} {}", app.token))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
    }
    let response = app
        .http
        .get(format!("{}/api/v1/lists", app.base))
        .header(header::AUTHORIZATION, format!("Basic {}", app.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_page_size_outside_1_to_1000_is_refused() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/lists", "/api/v1/subscribers", "/api/v1/jobs"] {
        for bad in ["0", "1001", "18446744073709551616", "-1", "ten"] {
            let response = app.api_get(&format!("{path}?limit={bad}")).await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}?limit={bad}"
            );
            assert_eq!(error_code(response).await, "invalid_field");
        }
        for good in ["1", "1000"] {
            let response = app.api_get(&format!("{path}?limit={good}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}?limit={good}");
        }
    }
}

#[tokio::test]
async fn a_patch_of_a_list_changes_what_it_names_and_keeps_the_rest() {
    let app = TestApp::spawn().await;
    let list = app
        .create_list_with(json!({
            "slug": "weekly", "name": "Weekly", "kind": "newsletter",
            "legal_basis": "consent", "opt_in": "double",
            "description": "Every Monday", "consent_text": "Yes, send me the weekly news.",
            "reply_to": "editor@example.org"
        }))
        .await;
    let path = format!("/api/v1/lists/{}", list["id"].as_str().unwrap());
    let patch = |body: Value| {
        let (app, path) = (&app, &path);
        async move {
            app.api_send(reqwest::Method::PATCH, path, Some(&body))
                .await
        }
    };

    let renamed: Value = patch(json!({"name": "The weekly"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "The weekly");
    for kept in [
        "description",
        "consent_text",
        "reply_to",
        "visibility",
        "slug",
    ] {
        assert_eq!(renamed[kept], list[kept], "{kept}");
    }

    let cleared: Value = patch(json!({"reply_to": null})).await.json().await.unwrap();
    assert_eq!(cleared["reply_to"], Value::Null);
    assert_eq!(cleared["consent_text"], list["consent_text"]);
    assert_eq!(cleared["name"], "The weekly");

    for bad in [
        json!({"visibility": "secret"}),
        json!({"reply_to": "not an address"}),
        json!({"name": ""}),
        json!({"colour": "blue"}),
    ] {
        let response = patch(bad.clone()).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let now: Value = app.api_get(&path).await.json().await.unwrap();
    assert_eq!(now, cleared, "a refused patch changes nothing");
    let audit = app.audit_text().await;
    assert!(audit.contains("list.update"), "{audit}");
}

#[tokio::test]
async fn every_201_names_what_it_made_in_location() {
    let app = TestApp::spawn().await;
    let located = |response: reqwest::Response| async move {
        assert_eq!(response.status(), StatusCode::CREATED);
        let location = response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        (location, body)
    };
    let made = [
        (
            "/api/v1/lists",
            json!({"slug": "weekly", "name": "Weekly", "kind": "newsletter",
                   "legal_basis": "consent", "opt_in": "double"}),
        ),
        (
            "/api/v1/campaigns",
            json!({"name": "N", "subject": "S", "body_markdown": "B", "lists": ["weekly"]}),
        ),
        (
            "/api/v1/segments",
            json!({"name": "Germans", "filter": {"locale": "de"}}),
        ),
        (
            "/api/v1/subscribers",
            json!({"email": "ann@example.com", "lists": ["weekly"],
                   "consent_at": "2026-01-01T00:00:00Z", "consent_source": "shop",
                   "consent_text": "Yes, send me the weekly news."}),
        ),
    ];
    for (path, body) in made {
        let (location, created) = located(app.api_post(path, &body).await).await;
        assert_eq!(
            location,
            format!("{path}/{}", created["id"].as_str().unwrap()),
            "{path}"
        );
        let read = app.api_get(&location).await;
        assert_eq!(read.status(), StatusCode::OK, "GET {location}");
        if path == "/api/v1/campaigns" {
            let copy = app
                .api_post(&format!("{location}/duplicate"), &json!({}))
                .await;
            let (copy_location, copy) = located(copy).await;
            assert_eq!(
                copy_location,
                format!("/api/v1/campaigns/{}", copy["id"].as_str().unwrap())
            );
        }
    }
}

#[tokio::test]
async fn unknown_filters_and_filter_values_are_refused() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    for path in [
        "/api/v1/subscribers?stauts=confirmed",
        "/api/v1/subscribers?status=maybe",
        "/api/v1/subscribers?list=no-such-list",
        "/api/v1/suppressions?reason=boredom",
        "/api/v1/jobs?job=no-such-job",
        "/api/v1/campaigns?sort=name",
        "/api/v1/lists?limit=5&page=2",
        "/api/v1/audit?actor=someone",
    ] {
        let response = app.api_get(path).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}"
        );
    }
    let id = confirmed_id(&app, "jane@example.com", "weekly").await;
    for query in ["format=xml", "format=csv&extra=1"] {
        let path = format!("/api/v1/subscribers/{id}/export?{query}");
        let response = app.api_get(&path).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}"
        );
    }
    let proof = format!("/api/v1/subscribers/{id}/consent-proof?list=weekly&format=pdf");
    assert_eq!(
        app.api_get(&proof).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The values that exist still work.
    assert_eq!(
        app.api_get("/api/v1/jobs?job=campaigns").await.status(),
        StatusCode::OK
    );
    let csv = app
        .api_get(&format!("/api/v1/subscribers/{id}/export?format=csv"))
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_list_is_named_by_slug_or_id_everywhere() {
    let app = TestApp::spawn().await;
    let list = app.create_list("weekly").await;
    let list_id = list["id"].as_str().unwrap().to_owned();
    let id = confirmed_id(&app, "jane@example.com", "weekly").await;
    for name in ["weekly", list_id.as_str()] {
        let got = app.api_get(&format!("/api/v1/lists/{name}")).await;
        assert_eq!(got.status(), StatusCode::OK, "{name}");
        assert_eq!(got.json::<Value>().await.unwrap()["id"], list_id.as_str());
        let found: Value = app
            .api_get(&format!("/api/v1/subscribers?list={name}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            found["subscribers"][0]["email"], "jane@example.com",
            "{name}"
        );
        let proof = app
            .api_get(&format!(
                "/api/v1/subscribers/{id}/consent-proof?list={name}"
            ))
            .await;
        assert_eq!(proof.status(), StatusCode::OK, "{name}");
        let campaign = app
            .api_post(
                "/api/v1/campaigns",
                &json!({"name": "N", "subject": "S", "body_markdown": "B", "lists": [name]}),
            )
            .await;
        assert_eq!(campaign.status(), StatusCode::CREATED, "{name}");
        let campaign: Value = campaign.json().await.unwrap();
        assert_eq!(campaign["lists"], json!(["weekly"]), "{name}");
        let imported = app
            .api_post_csv(
                &format!("/api/v1/subscribers/import?list={name}&dry_run=true"),
                "email\nnew@example.com\n",
            )
            .await;
        assert_eq!(imported.status(), StatusCode::OK, "{name}");
    }
    let renamed = app
        .api_send(
            Method::PATCH,
            "/api/v1/lists/weekly",
            Some(&json!({"name": "The Weekly"})),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(
        app.api_get("/api/v1/lists/monthly").await.status(),
        StatusCode::NOT_FOUND
    );
}

/// Confirms `email` on `list` and returns the person's id.
async fn confirmed_id(app: &TestApp, email: &str, list: &str) -> String {
    app.confirmed_subscriber(email, list).await;
    app.subscriber(email).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
