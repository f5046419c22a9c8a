//! Bulk import (`POST /api/v1/subscribers/import`, `bulletin import`) and adding one
//! subscriber (`POST /api/v1/subscribers`): rows reported by line, nobody resubscribed,
//! evidence of consent in the ledger, and a malformed file that leaves nothing behind.

use bulletin::domain::ConsentText;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, list_unsubscribe_url};

const HEADER: &str = "email,name,locale,consent_at,consent_source,consent_text\n";
const PROOF: &str = "2025-05-01T08:30:00Z,shop checkout,Yes please";

/// Imports `csv` into `list` and returns the status and the JSON answer.
async fn import(app: &TestApp, list: &str, csv: impl Into<reqwest::Body>) -> (StatusCode, Value) {
    let response = app
        .api_post_csv(&format!("/api/v1/subscribers/import?list={list}"), csv)
        .await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Imports rows (after the standard header) and asserts a 200.
async fn import_rows(app: &TestApp, list: &str, rows: &str) -> Value {
    let (status, report) = import(app, list, format!("{HEADER}{rows}")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

/// `(line, code)` of each reported row.
fn problems(report: &Value) -> Vec<(u64, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn counts(report: &Value) -> [u64; 4] {
    ["rows", "imported", "unchanged", "skipped"].map(|k| report[k].as_u64().unwrap())
}

async fn actions(app: &TestApp, email: &str) -> Vec<String> {
    app.ledger(email)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

fn legitimate_interest(slug: &str) -> Value {
    json!({
        "slug": slug, "name": "Notices", "kind": "product_notices",
        "legal_basis": "legitimate_interest", "opt_in": "none", "visibility": "private"
    })
}

#[tokio::test]
async fn a_csv_with_a_bom_imports_good_rows_and_reports_bad_ones_by_line() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let csv = format!(
        "\u{feff}{HEADER}\
         ann@example.com,Ann,de,{PROOF}\n\
         not-an-address,Bob,,{PROOF}\n\
         carl@example.com,Carl,xx,2025-05-01 08:30:00,fair,Yes please\n\
         ANN@Example.com,Ann again,en,{PROOF}\n\
         ,Nobody,,{PROOF}\n"
    );
    let (status, report) = import(&app, "weekly", csv).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(counts(&report), [5, 2, 0, 3]);
    assert_eq!(report["list"], "weekly");
    assert_eq!(report["errors_truncated"], false);
    assert_eq!(
        problems(&report),
        [
            (3, "invalid_email".into()),
            (5, "duplicate".into()),
            (6, "invalid_email".into())
        ]
    );
    assert_eq!(report["errors"][0]["email"], "not-an-address");
    assert!(
        report["errors"][1]["error"]
            .as_str()
            .unwrap()
            .contains("line 2")
    );
    assert!(report["errors"][2].get("email").is_none());

    let ann = app.subscriber("ann@example.com").await.unwrap();
    assert_eq!(
        (ann["name"].as_str(), ann["locale"].as_str()),
        (Some("Ann"), Some("de"))
    );
    assert_eq!(
        app.subscription_status("ann@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    let carl = app.subscriber("carl@example.com").await.unwrap();
    assert_eq!(
        carl["locale"], "en",
        "an unknown locale falls back to the default"
    );

    let ledger = app.ledger("ann@example.com").await;
    assert_eq!(ledger.len(), 1);
    let event = &ledger[0];
    assert_eq!(event["action"], "imported");
    assert_eq!(event["legal_basis"], "consent");
    assert_eq!(event["actor"], "api:tests");
    assert_eq!(event["source"], "shop checkout");
    assert_eq!(
        event["consent_text_hash"],
        ConsentText::new("Yes please").hash()
    );
    assert_eq!(
        event["evidence"],
        json!({"consent_at": "2025-05-01T08:30:00Z", "consent_source": "shop checkout"})
    );
    let carl_event = &app.ledger("carl@example.com").await[0];
    assert_eq!(carl_event["evidence"]["consent_at"], "2025-05-01T08:30:00Z");
    assert!(
        app.mailbox().is_empty() && app.deliver_all().await.sent == 0,
        "an import sends nothing"
    );
}

#[tokio::test]
async fn an_import_never_resubscribes_and_never_overwrites_a_known_person() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let mail = app.confirmed_subscriber("left@example.com", "weekly").await;
    let url = list_unsubscribe_url(&mail);
    let response = app
        .post_form(&url, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.confirmed_subscriber("kept@example.com", "weekly").await;
    app.sign_up("pending@example.com", "weekly").await;
    app.deliver_all().await;

    let report = import_rows(
        &app,
        "weekly",
        &format!(
            "left@example.com,Other,de,{PROOF}\n\
             kept@example.com,Other,de,{PROOF}\n\
             pending@example.com,Other,de,{PROOF}\n"
        ),
    )
    .await;
    assert_eq!(counts(&report), [3, 1, 1, 1]);
    assert_eq!(problems(&report), [(2, "unsubscribed".into())]);
    assert_eq!(
        app.subscription_status("left@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    assert_eq!(
        app.subscription_status("pending@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    assert_eq!(
        actions(&app, "pending@example.com").await,
        ["requested", "imported"]
    );
    assert_eq!(
        actions(&app, "kept@example.com").await,
        ["requested", "confirmed"]
    );
    for email in [
        "left@example.com",
        "kept@example.com",
        "pending@example.com",
    ] {
        let person = app.subscriber(email).await.unwrap();
        assert_eq!(
            (person["name"].as_str(), person["locale"].as_str()),
            (Some("Jane Doe"), Some("en"))
        );
    }
}

#[tokio::test]
async fn a_hard_bounced_address_is_not_imported() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.smtp.fail_next_rcpt(1, "550 5.1.1 No such user");
    app.sign_up("bounced@example.com", "weekly").await;
    assert_eq!(app.deliver_all().await.failed, 1);

    let report = import_rows(&app, "weekly", &format!("bounced@example.com,B,,{PROOF}\n")).await;
    assert_eq!(counts(&report), [1, 0, 0, 1]);
    assert_eq!(problems(&report), [(2, "suppressed".into())]);
    assert_eq!(
        app.subscription_status("bounced@example.com", "weekly")
            .await
            .as_deref(),
        Some("pending")
    );
    assert_eq!(actions(&app, "bounced@example.com").await, ["requested"]);
}

#[tokio::test]
async fn a_consent_list_needs_the_proof_columns_and_a_legitimate_interest_list_does_not() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list_with(legitimate_interest("notices")).await;
    let csv = "email,name\nann@example.com,Ann\nbob@example.com,Bob\n";

    let (status, report) = import(&app, "weekly", csv).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(counts(&report), [2, 0, 0, 2]);
    assert_eq!(
        problems(&report),
        [
            (2, "missing_consent_proof".into()),
            (3, "missing_consent_proof".into())
        ]
    );
    assert!(
        report["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("consent_at, consent_source, consent_text")
    );
    assert!(app.subscriber("ann@example.com").await.is_none());

    let (_, report) = import(&app, "notices", csv).await;
    assert_eq!(counts(&report), [2, 2, 0, 0]);
    assert_eq!(
        app.subscription_status("ann@example.com", "notices")
            .await
            .as_deref(),
        Some("confirmed")
    );
    let event = &app.ledger("ann@example.com").await[0];
    assert_eq!(
        (event["action"].as_str(), event["legal_basis"].as_str()),
        (Some("imported"), Some("legitimate_interest"))
    );
    assert_eq!(
        (event["source"].as_str(), event["actor"].as_str()),
        (Some("import"), Some("api:tests"))
    );
    assert!(event["evidence"].is_null() && event["consent_text_hash"].is_null());

    let future = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let report = import_rows(
        &app,
        "weekly",
        &format!("carl@example.com,C,,{future},shop,Yes\ndora@example.com,D,,last week,shop,Yes\n"),
    )
    .await;
    assert_eq!(
        problems(&report),
        [
            (2, "invalid_consent_proof".into()),
            (3, "invalid_consent_proof".into())
        ]
    );
}

#[tokio::test]
async fn repeated_addresses_are_found_across_batches() {
    let app = TestApp::spawn_with(|s| s.import.batch_rows = 2).await;
    app.create_list("weekly").await;
    let rows = ["a", "b", "c", "a", "b", "d", "c"]
        .map(|n| format!("{n}@example.com,{n},,{PROOF}\n"))
        .concat();
    let report = import_rows(&app, "weekly", &rows).await;
    assert_eq!(counts(&report), [7, 4, 0, 3]);
    assert_eq!(
        problems(&report),
        [
            (5, "duplicate".into()),
            (6, "duplicate".into()),
            (8, "duplicate".into())
        ]
    );
    assert!(
        report["errors"][2]["error"]
            .as_str()
            .unwrap()
            .contains("earlier in the file")
    );

    let again = import_rows(&app, "weekly", &rows).await;
    assert_eq!(counts(&again), [7, 0, 4, 3], "a second run changes nothing");
    assert_eq!(
        problems(&again),
        [
            (5, "duplicate".into()),
            (6, "duplicate".into()),
            (8, "duplicate".into())
        ]
    );
    assert!(
        again["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("line 2")
    );
}

#[tokio::test]
async fn a_malformed_file_is_refused_as_a_whole_and_nothing_is_kept() {
    let app = TestApp::spawn_with(|s| s.import.batch_rows = 1).await;
    app.create_list("weekly").await;
    let good = format!("{HEADER}ann@example.com,Ann,,{PROOF}\nbob@example.com,Bob,,{PROOF}\n");
    let cases: [(&str, Vec<u8>, &str); 6] = [
        (
            "a short row",
            format!("{good}carl@example.com,Carl\n").into_bytes(),
            "line 4",
        ),
        (
            "an open quote",
            format!("{good}\"carl@example.com,Carl,,{PROOF}\n").into_bytes(),
            "line 4",
        ),
        (
            "no email column",
            b"name,locale\nAnn,de\n".to_vec(),
            "email column",
        ),
        ("an empty file", Vec::new(), "empty"),
        (
            "a header that is not UTF-8",
            b"\xff\xfe,email\n".to_vec(),
            "UTF-8",
        ),
        (
            "a row that is not UTF-8",
            [good.as_bytes(), b"carl@example.com,Ca\xefl,,a,b,c\n"].concat(),
            "line 4",
        ),
    ];
    for (case, csv, needle) in cases {
        let (status, body) = import(&app, "weekly", csv).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {body}");
        assert_eq!(body["error"]["code"], "invalid_csv", "{case}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{case}: {message}");
    }
    assert!(
        app.subscriber("ann@example.com").await.is_none(),
        "nothing half done"
    );
    let report = import_rows(&app, "weekly", &format!("ann@example.com,Ann,,{PROOF}\n")).await;
    assert_eq!(
        counts(&report),
        [1, 1, 0, 0],
        "the failed imports left nothing behind"
    );
}

#[tokio::test]
async fn an_unknown_or_missing_list_is_refused() {
    let app = TestApp::spawn().await;
    let csv = format!("{HEADER}ann@example.com,Ann,,{PROOF}\n");
    for list in ["nope", "Not%20a%20slug"] {
        let (status, body) = import(&app, list, csv.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    let response = app
        .api_post_csv("/api/v1/subscribers/import", csv.clone())
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app
        .http
        .post(app.url("/api/v1/subscribers/import?list=weekly"))
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn post_subscribers_adds_one_person_by_the_rules_of_an_import_row() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list_with(legitimate_interest("notices")).await;
    let proof = json!({"consent_at": "2025-05-01T08:30:00Z", "consent_source": "fair", "consent_text": "Yes"});
    let mut body = json!({"email": "Ann@Example.com", "name": "Ann", "locale": "de-AT", "lists": ["weekly", "notices"]});
    body.as_object_mut()
        .unwrap()
        .extend(proof.as_object().unwrap().clone());

    let response = app.api_post("/api/v1/subscribers", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        created,
        app.subscriber("ann@example.com").await.unwrap(),
        "as GET shows it"
    );
    assert_eq!(
        (created["locale"].as_str(), created["name"].as_str()),
        (Some("de"), Some("Ann"))
    );
    assert_eq!(created["subscriptions"].as_array().unwrap().len(), 2);
    assert_eq!(
        actions(&app, "ann@example.com").await,
        ["imported", "imported"]
    );
    assert_eq!(
        app.ledger("ann@example.com").await[0]["evidence"]["consent_source"],
        "fair"
    );

    let response = app.api_post("/api/v1/subscribers", &body).await;
    assert_eq!(response.status(), StatusCode::OK, "nothing changed");

    let cases = [
        (
            json!({"email": "x", "lists": ["notices"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"email": "bob@example.com", "lists": ["weekly"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"email": "bob@example.com", "lists": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            json!({"email": "bob@example.com", "lists": ["nope"]}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"email": "bob@example.com", "lists": ["notices"], "extra": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
    ];
    for (request, status, code) in cases {
        let response = app.api_post("/api/v1/subscribers", &request).await;
        assert_eq!(response.status(), status, "{request}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code, "{request}");
    }
    assert!(app.subscriber("bob@example.com").await.is_none());

    let response = app
        .api_post(
            "/api/v1/subscribers",
            &json!({"email": "bob@example.com", "lists": ["notices"]}),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "no evidence needed for legitimate interest"
    );
}

#[tokio::test]
async fn post_subscribers_says_why_an_address_is_refused_and_keeps_nothing() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list_with(legitimate_interest("notices")).await;
    let mail = app.confirmed_subscriber("left@example.com", "weekly").await;
    app.post_form(
        &list_unsubscribe_url(&mail),
        &[("List-Unsubscribe", "One-Click")],
    )
    .await;
    app.smtp.fail_next_rcpt(1, "550 5.1.1 No such user");
    app.sign_up("bounced@example.com", "weekly").await;
    assert_eq!(app.deliver_all().await.failed, 1);

    for (email, code) in [
        ("left@example.com", "unsubscribed"),
        ("bounced@example.com", "suppressed"),
    ] {
        let body = json!({
            "email": email, "lists": ["notices", "weekly"],
            "consent_at": "2025-05-01 08:30:00", "consent_source": "fair", "consent_text": "Yes"
        });
        let response = app.api_post("/api/v1/subscribers", &body).await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{email}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code);
        assert_eq!(
            app.subscription_status(email, "notices").await,
            None,
            "all lists or none"
        );
    }
}

/// Runs `bulletin ARGS` in `dir` against the app's database, with no inherited settings.
async fn cli(app: &TestApp, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_bulletin"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BULLETIN") {
            command.env_remove(key);
        }
    }
    // Capturing anyhow's backtrace on the error path takes longer than the rest of the run.
    command
        .env("RUST_LIB_BACKTRACE", "0")
        .args(args)
        .current_dir(dir)
        .env("BULLETIN__DATABASE__URL", &app.database_url)
        .env("BULLETIN__DATA__DIR", dir)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_cli_imports_a_file_into_the_configured_database() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(
        &file,
        format!("{HEADER}ann@example.com,Ann,de,{PROOF}\nbad,B,,{PROOF}\n"),
    )
    .unwrap();
    let output = cli(
        &app,
        dir.path(),
        &["import", "people.csv", "--list", "weekly"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).expect("the report as JSON on stdout");
    assert_eq!(counts(&report), [2, 1, 0, 1]);
    assert_eq!(problems(&report), [(3, "invalid_email".into())]);
    assert_eq!(
        app.subscription_status("ann@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    assert_eq!(app.ledger("ann@example.com").await[0]["actor"], "cli");

    let output = cli(
        &app,
        dir.path(),
        &["import", "people.csv", "--list", "nope"],
    )
    .await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("there is no list"));
}

#[tokio::test]
async fn a_dry_run_reports_what_an_import_would_do_across_batches_and_writes_nothing() {
    let app = TestApp::spawn_with(|s| s.import.batch_rows = 2).await;
    app.create_list("weekly").await;
    let rows = ["a", "b", "c", "a", "b", "d", "c"]
        .map(|n| format!("{n}@example.com,{n},,{PROOF}\n"))
        .concat();
    let csv = format!("{HEADER}{rows}not-an-address,x,,{PROOF}\n");
    let dry_run = |csv: String| {
        let app = &app;
        async move { import(app, "weekly&dry_run=true", csv).await }
    };
    let (status, checked) = dry_run(csv.clone()).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert_eq!(checked["dry_run"], true);
    assert_eq!(counts(&checked), [8, 4, 0, 4]);
    let expected: Vec<(u64, String)> = vec![
        (5, "duplicate".into()),
        (6, "duplicate".into()),
        (8, "duplicate".into()),
        (9, "invalid_email".into()),
    ];
    assert_eq!(problems(&checked), expected);
    assert!(
        app.subscriber("a@example.com").await.is_none(),
        "nothing written"
    );

    let (status, imported) = import(&app, "weekly", csv.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(imported["dry_run"], false);
    assert_eq!(
        counts(&imported),
        counts(&checked),
        "the check foretold the import"
    );
    assert_eq!(problems(&imported), expected);
    let (_, again) = dry_run(csv).await;
    assert_eq!(counts(&again), [8, 0, 4, 4]);
    assert_eq!(actions(&app, "a@example.com").await, ["imported"]);

    let (status, refused) = dry_run(format!(
        "{HEADER}x@example.com,too,many,fields,here,now,yes\n"
    ))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"]["code"], "invalid_csv");
    let (status, _) = import(&app, "weekly&dry_run=maybe", HEADER).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn two_imports_at_once_take_turns_and_both_succeed() {
    let app = TestApp::spawn_with(|s| s.import.batch_rows = 50).await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    let rows = |prefix: &str| {
        (0..1000)
            .map(|n| format!("{prefix}{n}@example.com,{prefix} {n},,{PROOF}\n"))
            .collect::<String>()
    };
    let (weekly, monthly) = (rows("w"), rows("m"));
    let (a, b) = tokio::join!(
        import_rows(&app, "weekly", &weekly),
        import_rows(&app, "monthly", &monthly),
    );
    assert_eq!(counts(&a), [1000, 1000, 0, 0]);
    assert_eq!(counts(&b), [1000, 1000, 0, 0]);
}

#[tokio::test]
async fn a_csv_trickled_into_the_import_holds_up_no_signup() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app =
        TestApp::spawn_with(|s| s.database.busy_timeout = std::time::Duration::from_secs(1)).await;
    app.create_list("weekly").await;
    let rows: String = (0..200)
        .map(|n| format!("p{n}@example.com,P {n},en,{PROOF}\n"))
        .collect();
    let csv = format!("{HEADER}{rows}");
    let (first, rest) = csv.split_at(csv.len() / 2);
    // A client that sends the head and half the file, then stalls.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut client = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/subscribers/import?list=weekly HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{first}",
        app.token,
        csv.len()
    );
    client.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Signups go on meanwhile, also after the database's busy timeout.
    for email in ["jane@example.com", "john@example.com"] {
        assert_eq!(app.sign_up(email, "weekly").await.status(), StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    }
    client.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    client.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""imported":200"#), "{answer}");
}

#[tokio::test]
async fn a_busy_database_is_answered_503_with_retry_after_and_changes_nothing() {
    let app =
        TestApp::spawn_with(|s| s.database.busy_timeout = std::time::Duration::from_secs(1)).await;
    app.create_list("weekly").await;
    // Something else holds the write lock (SQLite) or the subscribers table (PostgreSQL)
    // for longer than the busy timeout.
    let holder = app.hold_write_lock().await;
    let page = app.sign_up("jane@example.com", "weekly").await;
    let retry_after = page.headers().get("retry-after").cloned();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry_after.is_some(), "the page says when to retry");
    let api = app
        .api_post(
            "/api/v1/subscribers",
            &json!({"email": "john@example.com", "lists": ["weekly"],
                "consent_at": "2025-05-01T08:30:00Z", "consent_source": "shop", "consent_text": "Yes"}),
        )
        .await;
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(api.headers().contains_key("retry-after"));
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "busy");
    holder.release().await;
    assert!(app.subscriber("jane@example.com").await.is_none());
    assert!(app.subscriber("john@example.com").await.is_none());
    assert_eq!(
        app.sign_up("jane@example.com", "weekly").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_signup_that_waits_for_the_lock_past_the_request_timeout_is_answered_as_it_ended() {
    let app = TestApp::spawn_with(|s| {
        s.http.request_timeout = std::time::Duration::from_secs(1);
        s.database.busy_timeout = std::time::Duration::from_secs(10);
    })
    .await;
    app.create_list("weekly").await;
    let holder = app.hold_write_lock().await;
    let release = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        holder.release().await;
    });
    // The body arrived at once; the handler then waits two seconds for the lock. The answer
    // says what happened, never 408 for a change that commits.
    let answer = app.sign_up("jane@example.com", "weekly").await;
    release.await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(app.subscriber("jane@example.com").await.is_some());
}

/// The admin UI's progress page of a check or an import reloads itself only when the user
/// asked (`?watch=1`, where their click on "Check" or "Import now" leads), offers to start
/// and stop that, and never reloads once the run is over (WCAG 2.2.1).
#[tokio::test]
async fn the_import_progress_page_reloads_only_when_asked() {
    use reqwest::header;

    use crate::{admin::Admin, support::body};

    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let marketer = Admin::with_role(&app, bulletin::domain::Role::Marketer).await;
    let csv = format!("{HEADER}max@example.com,Max,en,{PROOF}\n");
    let r = marketer.upload("weekly", &csv, &marketer.csrf).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let watched = format!("{page}?watch=1");
    let refresh = "http-equiv=\"refresh\"";
    let finished = |path: String| {
        let marketer = &marketer;
        async move {
            for _ in 0..500 {
                let (status, html) = body(marketer.get(&path).await).await;
                assert_eq!(status, StatusCode::OK, "{html}");
                if !html.contains("<progress") {
                    return html;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            panic!("the run did not finish");
        }
    };
    // The user's click on "Check" asks for the reloads.
    let r = marketer.post(&format!("{page}/check"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], watched.as_str());
    let checked = finished(watched.clone()).await;
    assert!(
        checked.contains("id=\"imported\"") && !checked.contains(refresh),
        "{checked}"
    );
    // While the import waits for the database, the page shows its progress.
    let (hold, start) = crate::admin::start_import_behind_a_lock(&app, &marketer, &page).await;
    let mut once = String::new();
    for _ in 0..500 {
        once = body(marketer.get(&page).await).await.1;
        if once.contains("<progress") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // Unasked: the progress once, a link to refresh it and one to watch it.
    assert!(once.contains("<progress"), "{once}");
    assert!(!once.contains(refresh), "no reload unasked: {once}");
    assert!(
        once.contains(&format!("href=\"{page}\">Refresh</a>"))
            && once.contains(&format!("href=\"{watched}\">Watch it live</a>")),
        "{once}"
    );
    // Asked: it reloads, and offers to stop.
    let (status, live) = body(marketer.get(&watched).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        live.contains("<progress")
            && live.contains(refresh)
            && live.contains(&format!("href=\"{page}\">Stop reloading</a>")),
        "{live}"
    );
    hold.rollback().await.unwrap();
    let started = start.await.unwrap().unwrap();
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    assert_eq!(started.headers()[header::LOCATION], watched.as_str());
    // Over: the report, never reloading, even when watched.
    let done = finished(watched.clone()).await;
    assert!(
        done.contains("Import finished") && !done.contains(refresh),
        "{done}"
    );
    assert!(app.subscriber("max@example.com").await.is_some());
}
