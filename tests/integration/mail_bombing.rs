//! Mail bombing: whatever path a stranger takes (signups, privacy links, address changes,
//! cancelling and asking again), an address gets at most its daily share of e-mails it did
//! not ask for, and one client network at most its hourly share.

use reqwest::StatusCode;

use crate::support::{TestApp, body, link, list_unsubscribe_url};

const VICTIM: &str = "victim@example.com";

/// Signs `email` up for `list` as a client of `network` (behind a trusted proxy).
async fn sign_up_from(app: &TestApp, network: &str, email: &str, list: &str) -> StatusCode {
    app.http
        .post(app.url("/subscribe"))
        .header("X-Forwarded-For", network)
        .form(&[("email", email), ("list", list), ("consent", "yes")])
        .send()
        .await
        .unwrap()
        .status()
}

/// Asks for the privacy link of `email` as a client of `network`.
async fn privacy_link_from(app: &TestApp, network: &str, email: &str) -> StatusCode {
    app.http
        .post(app.url("/privacy"))
        .header("X-Forwarded-For", network)
        .form(&[("email", email)])
        .send()
        .await
        .unwrap()
        .status()
}

/// How many of `mails` went to `to`.
fn to(mails: &[crate::support::smtp::ReceivedMail], to: &str) -> usize {
    mails
        .iter()
        .filter(|m| m.rcpt_to == [to.to_owned()])
        .count()
}

#[tokio::test]
async fn mail_bombing_one_address_by_every_path_from_many_networks_stops_at_its_daily_share() {
    let app = TestApp::spawn_with(|s| {
        s.limits.mails_per_recipient_per_day = 3;
        s.http.trust_forwarded_for = true;
    })
    .await;
    for slug in ["a", "b", "c", "d"] {
        app.create_list(slug).await;
    }
    // The attacker has a confirmed address of his own, and its privacy page.
    app.confirmed_subscriber("mallory@example.com", "a").await;
    assert_eq!(
        privacy_link_from(&app, "192.0.2.1", "mallory@example.com").await,
        StatusCode::OK
    );
    let own_page = link(&app.deliver_and_take().await.pop().unwrap(), "/privacy/");

    // Each request from a new network, each answered as usual.
    assert_eq!(
        sign_up_from(&app, "198.51.1.1", VICTIM, "a").await,
        StatusCode::OK
    );
    assert_eq!(
        privacy_link_from(&app, "198.51.2.1", VICTIM).await,
        StatusCode::OK
    );
    assert_eq!(
        sign_up_from(&app, "198.51.3.1", VICTIM, "b").await,
        StatusCode::OK
    );
    assert_eq!(
        sign_up_from(&app, "198.51.4.1", VICTIM, "c").await,
        StatusCode::OK
    );
    assert_eq!(
        privacy_link_from(&app, "198.51.5.1", VICTIM).await,
        StatusCode::OK
    );
    let (status, page) = body(
        app.http
            .post(format!("{own_page}/address"))
            .header("X-Forwarded-For", "198.51.6.1")
            .form(&[("email", VICTIM)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("try again tomorrow"), "{page}");
    let mails = app.deliver_and_take().await;
    assert_eq!(
        to(&mails, VICTIM),
        3,
        "the victim's daily share, not one more"
    );

    // A day later the person can sign up for real.
    app.advance(chrono::Duration::hours(24) + chrono::Duration::minutes(1));
    assert_eq!(
        sign_up_from(&app, "198.51.7.1", VICTIM, "d").await,
        StatusCode::OK
    );
    assert_eq!(to(&app.deliver_and_take().await, VICTIM), 1);
}

#[tokio::test]
async fn mail_bombing_many_addresses_from_one_network_stops_at_the_networks_share() {
    let app = TestApp::spawn_with(|s| s.limits.mails_per_network_per_hour = 2).await;
    app.create_list("weekly").await;
    for n in 0..5 {
        let email = format!("target{n}@example.com");
        assert_eq!(app.sign_up(&email, "weekly").await.status(), StatusCode::OK);
    }
    assert_eq!(app.deliver_and_take().await.len(), 2);
    app.advance(chrono::Duration::minutes(61));
    assert_eq!(
        app.sign_up("target9@example.com", "weekly").await.status(),
        StatusCode::OK
    );
    assert_eq!(app.deliver_and_take().await.len(), 1);
}

#[tokio::test]
async fn mail_bombing_by_signing_up_and_cancelling_again_stops_at_the_confirmation_cap() {
    // No daily share per recipient here: the confirmation cap alone must hold.
    let app = TestApp::spawn_with(|s| s.limits.mails_per_recipient_per_day = 0).await;
    app.create_list("weekly").await;
    let mut received = 0;
    for _ in 0..6 {
        assert_eq!(app.sign_up(VICTIM, "weekly").await.status(), StatusCode::OK);
        for mail in app.deliver_and_take().await {
            received += 1;
            let cancel = list_unsubscribe_url(&mail);
            let one_click = [("List-Unsubscribe", "One-Click")];
            assert_eq!(
                app.post_form(&cancel, &one_click).await.status(),
                StatusCode::OK
            );
        }
    }
    assert_eq!(
        received, 3,
        "subscriptions.max_confirmations, cancelling resets nothing"
    );
}

#[tokio::test]
async fn mail_bombing_with_one_signup_naming_every_list_sends_one_mail() {
    let app = TestApp::spawn().await;
    let mut form = vec![("email", VICTIM), ("consent", "yes")];
    let slugs = ["l1", "l2", "l3", "l4", "l5"];
    for slug in slugs {
        app.create_list(slug).await;
        form.push(("list", slug));
    }
    assert_eq!(app.subscribe(&form).await.status(), StatusCode::OK);
    assert_eq!(app.deliver_and_take().await.len(), 1);
}
