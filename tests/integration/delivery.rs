//! The outbox worker: retries on temporary SMTP failures, gives up on permanent ones, and
//! re-checks eligibility before each send.

use reqwest::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn a_temporary_smtp_failure_defers_the_message_and_a_retry_delivers_it() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.smtp.fail_next_rcpt(1, "451 4.3.0 Try again later");
    app.sign_up("jane@example.com", "weekly").await;
    let report = app.deliver_all().await;
    assert_eq!((report.sent, report.deferred), (0, 1));
    assert!(app.mailbox().is_empty());

    assert_eq!(
        app.deliver_all().await.sent,
        0,
        "not before the backoff has passed"
    );
    app.advance(chrono::Duration::minutes(2));
    assert_eq!(app.deliver_all().await.sent, 1);
    assert_eq!(app.mailbox().len(), 1);
}

#[tokio::test]
async fn a_lost_connection_is_retried_too() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.smtp.refuse_connections(true);
    app.sign_up("jane@example.com", "weekly").await;
    assert_eq!(app.deliver_all().await.deferred, 1);
    app.smtp.refuse_connections(false);
    app.advance(chrono::Duration::minutes(2));
    assert_eq!(app.deliver_all().await.sent, 1);
}

#[tokio::test]
async fn a_permanent_smtp_failure_gives_up_without_retrying() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.smtp.fail_next_rcpt(1, "550 5.1.1 No such user");
    app.sign_up("nobody@example.com", "weekly").await;
    assert_eq!(app.deliver_all().await.failed, 1);
    app.advance(chrono::Duration::days(1));
    assert_eq!(
        app.deliver_all().await,
        Default::default(),
        "nothing left to retry"
    );
    assert!(app.mailbox().is_empty());

    // 550 is a hard bounce: the address is suppressed, so a new signup sends nothing.
    let response = app.sign_up("nobody@example.com", "weekly").await;
    assert_eq!(response.status(), StatusCode::OK, "the same answer as ever");
    assert_eq!(app.deliver_all().await.sent, 0);
    assert!(app.mailbox().is_empty());
}

#[tokio::test]
async fn a_permanent_failure_that_is_not_about_the_recipient_does_not_suppress() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.smtp.fail_next_data(1, "554 5.7.1 Message rejected");
    app.sign_up("jane@example.com", "weekly").await;
    assert_eq!(app.deliver_all().await.failed, 1);
    app.advance(chrono::Duration::hours(2));
    app.sign_up("jane@example.com", "weekly").await;
    assert_eq!(app.deliver_all().await.sent, 1);
}

#[tokio::test]
async fn temporary_failures_give_up_after_the_attempt_limit() {
    let app = TestApp::spawn_with(|s| s.delivery.max_attempts = 3).await;
    app.create_list("weekly").await;
    app.smtp.fail_next_rcpt(10, "421 4.7.0 Busy");
    app.sign_up("jane@example.com", "weekly").await;
    let mut failed = 0;
    for _ in 0..5 {
        failed += app.deliver_all().await.failed;
        app.advance(chrono::Duration::hours(7));
    }
    assert_eq!(failed, 1);
    assert!(app.mailbox().is_empty());
}

#[tokio::test]
async fn a_queued_confirmation_is_not_sent_once_the_subscription_is_confirmed() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.sign_up("jane@example.com", "weekly").await;
    let first = app.deliver_and_take().await.pop().unwrap();
    app.advance(chrono::Duration::hours(2));
    app.sign_up("jane@example.com", "weekly").await;
    let confirm = crate::support::link(&first, "/confirm/");
    assert_eq!(app.post_form(&confirm, &[]).await.status(), StatusCode::OK);
    let report = app.deliver_all().await;
    assert_eq!(
        (report.sent, report.suppressed),
        (0, 1),
        "may_send is checked again before sending"
    );
}

/// Signs up `emails` in order (each queues a confirmation e-mail).
async fn queue_confirmations(app: &TestApp, emails: &[&str]) {
    app.create_list("weekly").await;
    for email in emails {
        assert_eq!(app.sign_up(email, "weekly").await.status(), StatusCode::OK);
    }
}

/// How many messages each address received.
fn received(app: &TestApp) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for mail in app.mailbox() {
        *counts.entry(mail.rcpt_to[0].clone()).or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn a_block_while_messages_wait_for_the_rate_limit_wins_over_the_prepared_batch() {
    let app = TestApp::spawn_with(|s| {
        s.delivery.max_per_second = 2;
        s.delivery.concurrency = 1;
    })
    .await;
    let emails = [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
        "e@example.com",
    ];
    queue_confirmations(&app, &emails).await;
    let last = app.subscriber("e@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The whole batch is claimed and checked at once; then the rate limit holds it back.
    let meanwhile = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let r = app
            .api_post(
                &format!("/api/v1/subscribers/{last}/block"),
                &serde_json::Value::Null,
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        app.advance(chrono::Duration::seconds(2));
    };
    let (report, ()) = tokio::join!(app.deliver_all(), meanwhile);
    assert_eq!((report.sent, report.suppressed), (4, 1), "{report:?}");
    assert!(!received(&app).contains_key("e@example.com"));
}

#[tokio::test]
async fn a_message_whose_lease_ran_out_while_it_waited_is_sent_once_by_the_worker_that_took_it_over()
 {
    let app = TestApp::spawn_with(|s| {
        s.delivery.max_per_second = 1;
        s.delivery.concurrency = 1;
    })
    .await;
    let emails = ["a@example.com", "b@example.com", "c@example.com"];
    queue_confirmations(&app, &emails).await;
    let first = app.deliver_all();
    let second = async {
        // The first worker has claimed all three and waits for the rate limit; its lease
        // runs out, and a second worker takes the rows over.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        app.advance(chrono::Duration::seconds(301));
        app.deliver_all().await
    };
    let (one, two) = tokio::join!(first, second);
    assert_eq!(one.sent + two.sent, 3, "{one:?} {two:?}");
    let counts = received(&app);
    assert!(
        counts.values().all(|n| *n == 1),
        "each exactly once: {counts:?}"
    );
    assert_eq!(counts.len(), 3, "{counts:?}");
}
