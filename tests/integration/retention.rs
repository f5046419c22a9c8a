//! Retention: stale requests are deleted, lapsed and inactive people are erased or flagged,
//! erasure leaves a suppression and a pseudonymised ledger but no address or name anywhere,
//! the job is recorded and harmless to repeat, and `bulletin purge --dry-run` changes nothing.

use bulletin::{
    domain::{
        ConsentAction, EmailAddress, ListId, Locale, Subscriber, SubscriberId, SubscriberName,
        SubscriberStatus, Subscription, SubscriptionId, SubscriptionStatus, SuppressionReason,
        retention::ErasureReason,
    },
    services,
    store::{self, entities::subscribers},
};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use serde_json::Value;

use crate::support::{TestApp, link, list_unsubscribe_url};

fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// Signs `email` up as `name` for `list`; returns the confirmation e-mail.
async fn request(
    app: &TestApp,
    email: &str,
    name: &str,
    list: &str,
) -> crate::support::smtp::ReceivedMail {
    let form = [
        ("email", email),
        ("name", name),
        ("list", list),
        ("consent", "yes"),
    ];
    assert_eq!(app.subscribe(&form).await.status(), StatusCode::OK);
    app.deliver_and_take()
        .await
        .pop()
        .expect("a confirmation e-mail")
}

/// Signs up and confirms; returns the confirmation e-mail (its unsubscribe link works).
async fn confirmed(
    app: &TestApp,
    email: &str,
    name: &str,
    list: &str,
) -> crate::support::smtp::ReceivedMail {
    let mail = request(app, email, name, list).await;
    assert_eq!(
        app.post_form(&link(&mail, "/confirm/"), &[]).await.status(),
        StatusCode::OK
    );
    app.deliver_and_take().await;
    mail
}

async fn subscriber_id(app: &TestApp, email: &str) -> SubscriberId {
    let found = app.subscriber(email).await.expect("the subscriber exists");
    SubscriberId::from_uuid(found["id"].as_str().unwrap().parse().unwrap())
}

async fn purge(app: &TestApp) -> Value {
    let run = app.run_job("retention").await;
    assert_eq!(run.status, "ok", "{}", run.report);
    run.report
}

fn counts(report: &Value) -> (u64, u64, u64) {
    let n = |key: &str| {
        report[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no {key} in {report}"))
    };
    (n("pending_deleted"), n("erased"), n("flagged"))
}

/// Every text value stored in every table (found in the catalogue, so tables added later are
/// searched too), lower-cased.
pub(crate) async fn stored_text(app: &TestApp) -> String {
    let db = &app.app.context().db;
    let backend = db.get_database_backend();
    let tables = match backend {
        DbBackend::Postgres => {
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema()"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let mut text = String::new();
    for table in db
        .query_all_raw(Statement::from_string(backend, tables))
        .await
        .unwrap()
    {
        let name: String = table.try_get("", "name").unwrap();
        let rows = match backend {
            // The whole row as text, whatever the column types.
            DbBackend::Postgres => format!(r#"SELECT CAST(t AS TEXT) AS "row" FROM "{name}" t"#),
            _ => format!(r#"SELECT * FROM "{name}""#),
        };
        for row in db
            .query_all_raw(Statement::from_string(backend, rows))
            .await
            .unwrap()
        {
            for i in 0..row.column_names().len() {
                if let Ok(Some(value)) = row.try_get_by_index::<Option<String>>(i) {
                    text.push_str(&value);
                } else if let Ok(Some(bytes)) = row.try_get_by_index::<Option<Vec<u8>>>(i) {
                    text.push_str(&String::from_utf8_lossy(&bytes));
                }
                text.push('\n');
            }
        }
    }
    text.to_lowercase()
}

pub(crate) fn address_hash(app: &TestApp, email: &str) -> String {
    app.app
        .context()
        .address_hasher
        .hash(&EmailAddress::parse(email).unwrap())
}

async fn is_suppressed(app: &TestApp, email: &str) -> bool {
    store::suppressions::contains(&app.app.context().db, &address_hash(app, email))
        .await
        .unwrap()
}

/// Checks that the ledger of an erased subscriber is pseudonymised and ends with `erased`;
/// returns its actions.
async fn assert_pseudonymised(app: &TestApp, id: SubscriberId, email: &str) -> Vec<ConsentAction> {
    let events = store::consent_events::for_subscriber(&app.app.context().db, id)
        .await
        .unwrap();
    let hash = address_hash(app, email);
    for event in &events {
        assert_eq!(
            event.subject_hash.as_deref(),
            Some(hash.as_str()),
            "{event:?}"
        );
        assert!(
            event.ip_anon.is_none() && event.user_agent.is_none(),
            "{event:?}"
        );
    }
    let erased = events.last().expect("ledger entries");
    assert_eq!(erased.action, ConsentAction::Erased);
    assert_eq!(
        (erased.actor.as_str(), erased.source.as_str()),
        ("system:retention", "retention")
    );
    let db = &app.app.context().db;
    assert!(
        store::subscriptions::of_subscriber(db, id)
            .await
            .unwrap()
            .is_empty(),
        "subscriptions cascade"
    );
    assert!(
        store::deliveries::of_subscriber(db, id)
            .await
            .unwrap()
            .is_empty(),
        "outbox rows cascade"
    );
    events.iter().map(|e| e.action).collect()
}

#[tokio::test]
async fn a_request_unconfirmed_for_30_days_goes_with_the_person_and_one_of_29_days_stays() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let stale = request(&app, "stale@example.com", "Stella Stale", "weekly").await;
    let stale_id = subscriber_id(&app, "stale@example.com").await;
    app.advance(days(2));
    request(&app, "fresh@example.com", "Fred Fresh", "weekly").await;
    app.advance(days(29));

    assert_eq!(counts(&purge(&app).await), (1, 1, 0));
    assert!(app.subscriber("stale@example.com").await.is_none());
    assert_eq!(
        app.subscription_status("fresh@example.com", "weekly")
            .await
            .as_deref(),
        Some("pending")
    );
    let actions = assert_pseudonymised(&app, stale_id, "stale@example.com").await;
    assert_eq!(
        actions,
        [
            ConsentAction::Requested,
            ConsentAction::Purged,
            ConsentAction::Erased
        ]
    );
    let text = stored_text(&app).await;
    assert!(!text.contains("stale@example.com") && !text.contains("stella stale"));

    let old_link = app.post_form(&link(&stale, "/confirm/"), &[]).await;
    assert!(!old_link.status().is_server_error() && old_link.status() != StatusCode::OK);
    assert!(
        app.subscriber("stale@example.com").await.is_none(),
        "an old link recreates nothing"
    );
    // Nobody confirmed, so nothing is suppressed: the address owner may still sign up.
    assert!(!is_suppressed(&app, "stale@example.com").await);
    request(&app, "stale@example.com", "Stella Stale", "weekly").await;
}

#[tokio::test]
async fn a_stale_request_of_a_confirmed_subscriber_goes_alone() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    confirmed(&app, "jane@example.com", "Jane Doe", "weekly").await;
    request(&app, "jane@example.com", "Jane Doe", "monthly").await;
    app.advance(days(31));

    assert_eq!(counts(&purge(&app).await), (1, 0, 0));
    let jane = app
        .subscriber("jane@example.com")
        .await
        .expect("Jane stays");
    assert_eq!(jane["subscriptions"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    let actions: Vec<Value> = app
        .ledger("jane@example.com")
        .await
        .into_iter()
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(actions.last().unwrap(), "purged");
}

#[tokio::test]
async fn an_unsubscribed_person_is_erased_after_the_lapse_and_not_before() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let mail = confirmed(&app, "leaver@example.com", "Lea Leaver", "weekly").await;
    let id = subscriber_id(&app, "leaver@example.com").await;
    app.post_form(
        &list_unsubscribe_url(&mail),
        &[("List-Unsubscribe", "One-Click")],
    )
    .await;
    assert_eq!(
        app.subscription_status("leaver@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    let before = stored_text(&app).await;
    assert!(
        before.contains("leaver@example.com") && before.contains("lea leaver"),
        "the search sees the data"
    );

    app.advance(days(180));
    assert_eq!(counts(&purge(&app).await), (0, 0, 0));
    assert!(app.subscriber("leaver@example.com").await.is_some());
    app.advance(days(1));
    assert_eq!(counts(&purge(&app).await), (0, 1, 0));
    assert!(app.subscriber("leaver@example.com").await.is_none());

    let text = stored_text(&app).await;
    assert!(
        !text.contains("leaver@example.com"),
        "the address is stored nowhere"
    );
    assert!(!text.contains("lea leaver"), "the name is stored nowhere");
    let actions = assert_pseudonymised(&app, id, "leaver@example.com").await;
    assert_eq!(
        actions,
        [
            ConsentAction::Requested,
            ConsentAction::Confirmed,
            ConsentAction::Unsubscribed,
            ConsentAction::Erased
        ]
    );
    assert!(is_suppressed(&app, "leaver@example.com").await);

    // A new signup of the address gets only the request to confirm it, and the address stays
    // suppressed until the person does.
    let form = [
        ("email", "Leaver@Example.com"),
        ("name", "Lea"),
        ("list", "weekly"),
        ("consent", "yes"),
    ];
    assert_eq!(app.subscribe(&form).await.status(), StatusCode::OK);
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].links().iter().any(|l| l.contains("/confirm/")));
    assert!(is_suppressed(&app, "leaver@example.com").await);
}

#[tokio::test]
async fn a_confirmed_active_subscriber_is_untouched() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "stay@example.com", "Stan Stay", "weekly").await;
    let ledger = app.ledger("stay@example.com").await;
    for step in [31, 150, 900] {
        app.advance(days(step));
        assert_eq!(counts(&purge(&app).await), (0, 0, 0));
    }
    assert_eq!(
        app.subscription_status("stay@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    assert_eq!(
        app.ledger("stay@example.com").await,
        ledger,
        "the ledger is unchanged"
    );
}

async fn review_flagged_at(app: &TestApp, id: SubscriberId) -> Option<chrono::DateTime<Utc>> {
    subscribers::Entity::find_by_id(id.as_uuid())
        .one(&app.app.context().db)
        .await
        .unwrap()
        .expect("the subscriber row")
        .review_flagged_at
}

#[tokio::test]
async fn three_years_of_inactivity_flag_a_subscriber_once_and_activity_clears_the_flag() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    confirmed(&app, "quiet@example.com", "Quinn Quiet", "weekly").await;
    let id = subscriber_id(&app, "quiet@example.com").await;
    app.advance(days(1095));
    assert_eq!(counts(&purge(&app).await), (0, 0, 0));
    app.advance(days(1));
    assert_eq!(counts(&purge(&app).await), (0, 0, 1));
    assert_eq!(review_flagged_at(&app, id).await, Some(app.clock.now()));
    assert_eq!(counts(&purge(&app).await), (0, 0, 0), "flagged once");
    assert_eq!(
        app.subscription_status("quiet@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );

    confirmed(&app, "quiet@example.com", "Quinn Quiet", "monthly").await;
    assert_eq!(
        review_flagged_at(&app, id).await,
        None,
        "acting again answers the flag"
    );
}

#[tokio::test]
async fn three_years_of_inactivity_erase_when_the_policy_says_so() {
    let app = TestApp::spawn_with(|s| s.retention.policy.erase_after_review = true).await;
    app.create_list("weekly").await;
    confirmed(&app, "gone@example.com", "Gina Gone", "weekly").await;
    let id = subscriber_id(&app, "gone@example.com").await;
    // A bounce message kept with a suppression may quote the address; erasure clears it.
    let bounce = "550 5.1.1 <gone@example.com>: no such user";
    let db = &app.app.context().db;
    let hash = address_hash(&app, "gone@example.com");
    store::suppressions::add(
        db,
        &hash,
        (SuppressionReason::HardBounce, Some(bounce)),
        None,
        app.clock.now(),
    )
    .await
    .unwrap();
    app.advance(days(1096));
    assert_eq!(counts(&purge(&app).await), (0, 1, 0));
    assert!(app.subscriber("gone@example.com").await.is_none());
    assert_pseudonymised(&app, id, "gone@example.com").await;
    assert!(is_suppressed(&app, "gone@example.com").await);
    assert!(!stored_text(&app).await.contains("gone@example.com"));
}

#[tokio::test]
async fn the_job_is_recorded_and_running_it_twice_is_harmless() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    request(&app, "old@example.com", "Olga Old", "weekly").await;
    confirmed(&app, "kept@example.com", "Kurt Kept", "weekly").await;
    app.advance(days(31));

    assert_eq!(counts(&purge(&app).await), (1, 1, 0));
    assert_eq!(counts(&purge(&app).await), (0, 0, 0), "nothing left to do");
    assert!(app.subscriber("kept@example.com").await.is_some());

    let response = app.api_get("/api/v1/jobs?job=retention").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let runs = body["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{body}");
    assert!(
        runs.iter()
            .all(|r| r["job"] == "retention" && r["status"] == "ok")
    );
    assert_eq!(counts(&runs[1]["report"]), (1, 1, 0), "oldest last: {body}");
    assert_eq!(runs[1]["report"]["dry_run"], false);
}

#[tokio::test]
async fn erasing_a_subscriber_directly_works_once_and_then_finds_nobody() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "asked@example.com", "Ada Asked", "weekly").await;
    let id = subscriber_id(&app, "asked@example.com").await;
    let (state, now) = (app.app.context(), app.clock.now());
    services::retention::erase_subscriber(state, id, ErasureReason::Lapsed, now)
        .await
        .unwrap();
    assert!(app.subscriber("asked@example.com").await.is_none());
    assert_pseudonymised(&app, id, "asked@example.com").await;
    assert!(is_suppressed(&app, "asked@example.com").await);
    let again = services::retention::erase_subscriber(state, id, ErasureReason::Lapsed, now).await;
    assert!(
        matches!(again, Err(services::retention::RetentionError::NotFound)),
        "{again:?}"
    );
}

#[tokio::test]
async fn two_purges_at_once_do_each_thing_once() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    for n in 0..6 {
        request(&app, &format!("p{n}@example.com"), "Pat Pending", "weekly").await;
    }
    app.advance(days(31));
    // Straight to the service, past the job's lease: as if the lease had lapsed mid-run.
    let state = app.app.context();
    let now = app.clock.now();
    let (a, b) = tokio::join!(
        services::retention::purge(state, now, false),
        services::retention::purge(state, now, false)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.erased + b.erased, 6, "{a:?} {b:?}");
    assert_eq!(a.pending_deleted + b.pending_deleted, 6, "{a:?} {b:?}");
    assert_eq!(counts(&purge(&app).await), (0, 0, 0));
}

/// Stores a subscriber with a pending request made `age` ago by the system clock (the CLI
/// reads the system clock, not the test's).
async fn old_request(app: &TestApp, list: &Value, email: &str, age: Duration) -> SubscriberId {
    let db = &app.app.context().db;
    let then = Utc::now() - age;
    let subscriber = Subscriber {
        id: SubscriberId::new(),
        email: EmailAddress::parse(email).unwrap(),
        name: SubscriberName::parse("Otto Old").unwrap(),
        locale: Locale::default(),
        status: SubscriberStatus::Active,
        created_at: then,
        attributes: Default::default(),
    };
    store::subscribers::insert(db, &subscriber, then)
        .await
        .unwrap();
    let subscription = Subscription {
        id: SubscriptionId::new(),
        subscriber_id: subscriber.id,
        list_id: ListId::from_uuid(list["id"].as_str().unwrap().parse().unwrap()),
        status: SubscriptionStatus::Pending,
        source: "form".into(),
        requested_at: Some(then),
        confirmed_at: None,
        unsubscribed_at: None,
        confirmations_sent: 1,
        last_confirmation_at: Some(then),
    };
    store::subscriptions::insert(db, &subscription, then)
        .await
        .unwrap();
    subscriber.id
}

async fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_bulletin"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BULLETIN") {
            command.env_remove(key);
        }
    }
    let output = command
        // Capturing anyhow's backtrace on the error path takes longer than the rest of the run.
        .env("RUST_LIB_BACKTRACE", "0")
        .args(args)
        .current_dir(app.app.context().settings.data_dir.parent().unwrap())
        .env("BULLETIN__DATABASE__URL", &app.database_url)
        .env("BULLETIN__DATA__DIR", &app.app.context().settings.data_dir)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test]
async fn purge_dry_run_prints_counts_and_ids_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let list = app.create_list("weekly").await;
    request(&app, "recent@example.com", "Rita Recent", "weekly").await;
    let old = old_request(&app, &list, "otto@example.com", days(40)).await;
    let before = stored_text(&app).await;

    let output = cli(&app, &["purge", "--dry-run"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("dry run: nothing was changed"),
        "{stdout}"
    );
    assert!(stdout.contains("pending_deleted: 1\n"), "{stdout}");
    assert!(stdout.contains("erased: 1\n"), "{stdout}");
    assert!(stdout.contains("flagged: 0\n"), "{stdout}");
    assert!(
        stdout.contains(&format!("  {old}\n")),
        "the subscriber's id: {stdout}"
    );
    assert!(!stdout.contains('@'), "never an address: {stdout}");
    assert_eq!(stored_text(&app).await, before, "nothing changed");
    let runs: Value = app
        .api_get("/api/v1/jobs?job=retention")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        runs["runs"].as_array().unwrap().len(),
        0,
        "a dry run is not a job run"
    );

    let output = cli(&app, &["purge"]).await;
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(counts(&report), (1, 1, 0), "{report}");
    assert!(app.subscriber("otto@example.com").await.is_none());
    assert!(app.subscriber("recent@example.com").await.is_some());
    let runs: Value = app
        .api_get("/api/v1/jobs?job=retention")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(counts(&runs["runs"][0]["report"]), (1, 1, 0), "{runs}");
}
