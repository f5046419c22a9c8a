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
