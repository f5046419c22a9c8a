//! A campaign's figures come from counts kept by triggers on its outbox rows (issue 19):
//! through bounces, a complaint, a cancel, an erasure, the migration's own count and a
//! deletion they stay equal to a count of the rows themselves.

use migrations::{Migrator, MigratorTrait};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::TestApp;

const PEOPLE: [&str; 4] = [
    "ann@example.com",
    "bob@example.com",
    "cat@example.com",
    "dan@example.com",
];

/// The figures the API shows for campaign `id`.
async fn shown(app: &TestApp, id: &str) -> Value {
    let body: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    body["counts"].clone()
}

/// The rows `sql` returns with `$1` bound to the campaign `id`.
async fn query(app: &TestApp, sql: &str, id: &str) -> Vec<sea_orm::QueryResult> {
    let db = &app.app.context().db;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace("$1", "?"),
    };
    let id = uuid::Uuid::parse_str(id).unwrap();
    let statement = Statement::from_sql_and_values(backend, sql, [id.into()]);
    db.query_all_raw(statement).await.unwrap()
}

/// The same figures, counted from the campaign's rows now.
async fn counted(app: &TestApp, id: &str) -> Value {
    let sql = "SELECT status, bounce, COUNT(*) AS n FROM deliveries WHERE campaign_id = $1 \
               GROUP BY status, bounce";
    let rows = query(app, sql, id).await;
    let mut figures = json!({"total": 0, "queued": 0, "sending": 0, "sent": 0, "deferred": 0,
        "failed": 0, "suppressed": 0, "bounced": 0, "blocked": 0, "complaints": 0});
    for row in rows {
        let status: String = row.try_get("", "status").unwrap();
        let bounce: Option<String> = row.try_get("", "bounce").unwrap();
        let n: i64 = row.try_get("", "n").unwrap();
        let mut add = |key: &str| figures[key] = json!(figures[key].as_i64().unwrap() + n);
        add("total");
        add(&status);
        match bounce.as_deref() {
            Some("hard" | "soft") => add("bounced"),
            Some("blocked") => add("blocked"),
            Some("complaint") => add("complaints"),
            _ => {}
        }
    }
    figures
}

/// Asserts that every figure the API shows for `id` equals a fresh count of its rows.
async fn assert_counts_match(app: &TestApp, id: &str) -> Value {
    let (shown, counted) = (shown(app, id).await, counted(app, id).await);
    for (key, n) in counted.as_object().unwrap() {
        assert_eq!(
            &shown[key], n,
            "{key} of {id}: shown {shown}, counted {counted}"
        );
    }
    shown
}

/// Starts and sends a campaign to `weekly` whose first `failing` recipients get `reply`.
async fn campaign_refusing(app: &TestApp, failing: usize, reply: &str) -> String {
    app.smtp.fail_next_rcpt(failing, reply);
    let id = app.start_campaign("weekly").await;
    app.deliver_all().await;
    id
}

#[tokio::test]
async fn figures_stay_equal_to_a_count_of_the_rows_through_every_change() {
    use bulletin::services::inbound::handle;
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    for email in PEOPLE {
        app.confirmed_subscriber(email, "weekly").await;
        app.deliver_and_take().await;
    }
    let hard = campaign_refusing(&app, 1, "550 5.1.1 User unknown").await;
    let sent = app.smtp.take_messages();
    assert_eq!(sent.len(), 3);
    // A complaint about one message, and the erasure of another recipient.
    let headers = sent[0].data.split("\r\n\r\n").next().unwrap().to_owned();
    let report = crate::bounces::arf(&headers);
    handle(
        app.app.context(),
        report.as_bytes(),
        Some("abuse@example.com"),
    )
    .await
    .unwrap();
    let blocked = campaign_refusing(&app, 1, "550 5.7.1 Relaying denied").await;
    let deferred = campaign_refusing(&app, 10, "451 4.3.0 Try again later").await;
    let cancel = format!("/api/v1/campaigns/{deferred}/cancel");
    assert!(
        app.api_post(&cancel, &json!({}))
            .await
            .status()
            .is_success()
    );

    let before = assert_counts_match(&app, &hard).await;
    assert_eq!(
        (before["sent"].as_u64(), before["bounced"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(before["complaints"], 1);
    let figures = assert_counts_match(&app, &blocked).await;
    assert_eq!(
        (figures["blocked"].as_u64(), figures["suppressed"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(assert_counts_match(&app, &deferred).await["deferred"].as_u64() > Some(0));

    let erased = sent[1].rcpt_to[0].clone();
    let person = app.subscriber(&erased).await.unwrap();
    let path = format!(
        "/api/v1/subscribers/{}/erase",
        person["id"].as_str().unwrap()
    );
    assert!(app.api_post(&path, &json!({})).await.status().is_success());
    let after = assert_counts_match(&app, &hard).await;
    assert_eq!(
        after["total"].as_u64(),
        Some(3),
        "the erased person's row went"
    );
    assert_counts_match(&app, &blocked).await;
    assert_counts_match(&app, &deferred).await;

    // Without the counts and back: the migration counts the rows already there.
    let db = &app.app.context().db;
    Migrator::down(db, Some(1)).await.unwrap();
    Migrator::up(db, None).await.unwrap();
    for id in [&hard, &blocked, &deferred] {
        assert_counts_match(&app, id).await;
    }

    // A cancelled campaign that sent nothing can be deleted: its counts go with it.
    let deleted = app
        .api_send(
            Method::DELETE,
            &format!("/api/v1/campaigns/{deferred}"),
            None,
        )
        .await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let left = query(
        &app,
        "SELECT n FROM campaign_delivery_counts WHERE campaign_id = $1",
        &deferred,
    )
    .await;
    assert!(left.is_empty(), "no counts of a deleted campaign");
    let gone = app.api_get(&format!("/api/v1/campaigns/{deferred}")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}
