//! Confirmation: a GET shows a button and changes nothing, the POST confirms, repeats are
//! harmless, welcome e-mails, expired and forged links.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, body, link};

#[tokio::test]
async fn a_get_on_the_confirmation_link_changes_nothing_and_the_button_confirms() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.sign_up("jane@example.com", "weekly").await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    let confirm = link(&mail, "/confirm/");

    let (status, page) = body(app.get(&confirm).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<form method="post""#), "{page}");
    assert!(page.contains(&format!(r#"action="{confirm}""#)));
    assert!(page.contains("List weekly"));
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("pending")
    );

    let (status, page) = body(app.post_form(&confirm, &[]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("You are subscribed"));
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
}

#[tokio::test]
async fn confirming_twice_is_harmless() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let mail = app.confirmed_subscriber("jane@example.com", "weekly").await;
    let (status, page) = body(app.post_form(&link(&mail, "/confirm/"), &[]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("You are subscribed"));
    let confirmations = app
        .ledger("jane@example.com")
        .await
        .into_iter()
        .filter(|e| e["action"] == "confirmed")
        .count();
    assert_eq!(confirmations, 1, "a repeated confirmation adds no event");
    assert_eq!(app.deliver_all().await.sent, 0, "and sends nothing");
}

#[tokio::test]
async fn a_welcome_email_follows_confirmation_when_the_list_has_one() {
    let app = TestApp::spawn().await;
    app.create_list_with(json!({
        "slug": "weekly", "name": "Weekly", "kind": "newsletter", "legal_basis": "consent",
        "opt_in": "double", "welcome_message": "Glad <you> are here."
    }))
    .await;
    app.create_list("quiet").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let welcome = app.deliver_and_take().await;
    assert_eq!(welcome.len(), 1);
    assert!(welcome[0].text_body().contains("Glad <you> are here."));
    assert!(
        welcome[0]
            .html_body()
            .contains("Glad &lt;you&gt; are here.")
    );
    assert!(welcome[0].header("List-Unsubscribe").is_some());
    assert_eq!(
        welcome[0].header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );

    app.confirmed_subscriber("john@example.com", "quiet").await;
    assert!(
        app.deliver_and_take().await.is_empty(),
        "no welcome without a welcome message"
    );
}

#[tokio::test]
async fn an_expired_confirmation_link_gets_410_and_offers_a_fresh_link() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.sign_up("jane@example.com", "weekly").await;
    let first = link(&app.deliver_and_take().await.pop().unwrap(), "/confirm/");
    app.advance(chrono::Duration::days(8));

    let (status, page) = body(app.get(&first).await).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("expired"));
    let (status, _) = body(app.post_form(&first, &[]).await).await;
    assert_eq!(status, StatusCode::GONE, "an expired link confirms nothing");
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("pending")
    );

    let (status, page) = body(app.post_form(&format!("{first}/resend"), &[]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("new link"));
    let fresh = link(
        &app.deliver_and_take()
            .await
            .pop()
            .expect("a fresh confirmation"),
        "/confirm/",
    );
    assert_ne!(fresh, first);
    assert_eq!(app.post_form(&fresh, &[]).await.status(), StatusCode::OK);
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
}

#[tokio::test]
async fn tampered_and_foreign_tokens_get_a_friendly_page_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.sign_up("jane@example.com", "weekly").await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    let confirm = link(&mail, "/confirm/");
    let unsubscribe = link(&mail, "/unsubscribe/");

    let mut tampered = confirm.clone().into_bytes();
    let at = tampered.len() - 10;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let foreign = unsubscribe.replace("/unsubscribe/", "/confirm/");
    let other_key = TestApp::spawn().await;
    other_key.create_list("weekly").await;
    other_key.sign_up("jane@example.com", "weekly").await;
    let signed_elsewhere = link(
        &other_key.deliver_and_take().await.pop().unwrap(),
        "/confirm/",
    );
    let signed_elsewhere = format!("{}{}", app.base, &signed_elsewhere[other_key.base.len()..]);

    for bad in [
        tampered,
        foreign,
        signed_elsewhere,
        app.url("/confirm/not-a-token"),
    ] {
        for response in [app.get(&bad).await, app.post_form(&bad, &[]).await] {
            let (status, page) = body(response).await;
            assert!(status.is_client_error(), "{bad}: {status}");
            assert!(page.contains("This link does not work"), "{page}");
        }
    }
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("pending")
    );
}

#[tokio::test]
async fn the_ledger_records_request_and_confirmation_with_anonymised_network_and_user_agent() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.http
        .post(app.url("/subscribe"))
        .header("User-Agent", "TestBrowser/1.0")
        .form(&[
            ("email", "jane@example.com"),
            ("list", "weekly"),
            ("consent", "yes"),
        ])
        .send()
        .await
        .unwrap();
    let confirm = link(&app.deliver_and_take().await.pop().unwrap(), "/confirm/");
    app.http
        .post(&confirm)
        .header("User-Agent", "MailClient/2.0")
        .send()
        .await
        .unwrap();

    let events = app.ledger("jane@example.com").await;
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["requested", "confirmed"]);
    let requested = &events[0];
    assert_eq!(requested["legal_basis"], "consent");
    assert_eq!(requested["ip_anon"], "127.0.0.0");
    assert_eq!(requested["user_agent"], "TestBrowser/1.0");
    assert_eq!(requested["source"], "form");
    assert_eq!(requested["consent_text_hash"].as_str().unwrap().len(), 64);
    assert_eq!(events[1]["user_agent"], "MailClient/2.0");
    assert_eq!(events[1]["source"], "email_link");
    let raw = serde_json::to_string(&events).unwrap();
    assert!(
        !raw.contains("127.0.0.1"),
        "the full address is never stored"
    );
}

#[tokio::test]
async fn double_clicks_on_the_signup_and_the_confirmation_act_once() {
    let app = TestApp::spawn().await;
    app.create_list_with(json!({
        "slug": "weekly", "name": "Weekly", "kind": "newsletter",
        "legal_basis": "consent", "opt_in": "double", "welcome_message": "Welcome!"
    }))
    .await;
    let (first, second) = tokio::join!(
        app.sign_up("jane@example.com", "weekly"),
        app.sign_up("jane@example.com", "weekly"),
    );
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let mails = app.deliver_and_take().await;
    assert_eq!(
        mails.len(),
        1,
        "one confirmation e-mail within the cooldown"
    );
    let confirm = link(&mails[0], "/confirm/");

    let (first, second) = tokio::join!(app.post_form(&confirm, &[]), app.post_form(&confirm, &[]));
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let confirmed = app
        .ledger("jane@example.com")
        .await
        .iter()
        .filter(|e| e["action"] == "confirmed")
        .count();
    assert_eq!(confirmed, 1, "one confirmation in the ledger");
    assert_eq!(app.deliver_and_take().await.len(), 1, "one welcome e-mail");
}
