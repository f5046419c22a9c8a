//! Signing keys: a generated key survives restarts, and links signed with an earlier key
//! keep working after a new key is configured.

use bulletin::{config::Settings, startup::App};
use reqwest::StatusCode;
use secrecy::SecretString;

use crate::support::{TestApp, link};

/// Starts a second server on the same database with changed settings; returns it and its base URL.
async fn restart(app: &TestApp, adjust: impl FnOnce(&mut Settings)) -> (App, String) {
    let mut settings = (*app.app.context().settings).clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    settings.http.public_url = base.parse().unwrap();
    adjust(&mut settings);
    let restarted = App::build_on(listener, settings, app.clock.clone())
        .await
        .unwrap();
    (restarted, base)
}

#[tokio::test]
async fn a_generated_key_is_kept_so_links_survive_a_restart() {
    let app = TestApp::spawn().await;
    assert!(
        app.app.context().settings.signing.key.is_none(),
        "no key configured"
    );
    app.create_list("weekly").await;
    app.sign_up("jane@example.com", "weekly").await;
    let confirm = link(&app.deliver_and_take().await.pop().unwrap(), "/confirm/");
    let (_restarted, base) = restart(&app, |_| {}).await;
    let moved = confirm.replace(&app.base, &base);
    assert_eq!(
        app.http.post(&moved).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
}

#[tokio::test]
async fn links_signed_with_a_previous_key_still_work_after_rotation() {
    let old_key = "c2lnbmluZy1rZXktZm9yLXRlc3RzLW9ubHktMzItYnl0ZXMhIQ";
    let new_key = "YW5vdGhlci1rZXktZm9yLXRlc3RzLW9ubHktMzItYnl0ZXMhIQ";
    let app = TestApp::spawn_with(|s| s.signing.key = Some(SecretString::from(old_key))).await;
    app.create_list("weekly").await;
    let mail = app.confirmed_subscriber("jane@example.com", "weekly").await;
    let unsubscribe = link(&mail, "/unsubscribe/");

    let (_without, base) =
        restart(&app, |s| s.signing.key = Some(SecretString::from(new_key))).await;
    let status = app
        .http
        .get(unsubscribe.replace(&app.base, &base))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND, "an unknown key is refused");

    let (_rotated, base) = restart(&app, |s| {
        s.signing.key = Some(SecretString::from(new_key));
        s.signing.previous_keys = vec![SecretString::from(old_key)];
    })
    .await;
    let response = app
        .http
        .post(unsubscribe.replace(&app.base, &base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
}
