//! "Unsubscribed because of this campaign": the campaign's unsubscribe link carries the
//! campaign (signed), the ledger records it, the API and the admin page count it, with a
//! chart; links without a campaign keep working.

use bulletin::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    admin::Admin,
    support::{TestApp, body, link, list_unsubscribe_url},
};

async fn send_campaign(app: &TestApp, name: &str) -> String {
    let response = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": name, "subject": "News", "body_markdown": "Hello [leave]({{ unsubscribe_url }})", "lists": ["weekly"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let scheduled = app
        .api_post(
            &format!("/api/v1/campaigns/{id}/schedule"),
            &json!({"send_at": null}),
        )
        .await;
    assert_eq!(scheduled.status(), StatusCode::ACCEPTED);
    app.run_job("campaigns").await;
    id
}

async fn counts(app: &TestApp, id: &str) -> Value {
    let response = app.api_get(&format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.unwrap()["counts"].clone()
}

#[tokio::test]
async fn unsubscribes_by_a_campaigns_link_count_for_it_once_and_old_links_still_work() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let mut confirmations = Vec::new();
    for who in ["alice", "bob", "carol", "dave"] {
        confirmations.push(
            app.confirmed_subscriber(&format!("{who}@example.com"), "weekly")
                .await,
        );
    }
    app.deliver_and_take().await;
    let id = send_campaign(&app, "November").await;
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 4);
    let mail_of = |who: &str| {
        mails
            .iter()
            .find(|m| m.header("To").is_some_and(|t| t.contains(who)))
            .unwrap()
    };
    assert_eq!(counts(&app, &id).await["unsubscribed"], 0);
    app.advance(chrono::Duration::minutes(7));

    // Alice: the RFC 8058 one-click POST, twice (counted once).
    let url = list_unsubscribe_url(mail_of("alice"));
    for _ in 0..2 {
        let response = app
            .post_form(&url, &[("List-Unsubscribe", "One-Click")])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    // Bob: the link in the body, then the page's button.
    let page_url = link(mail_of("bob"), "/unsubscribe/");
    assert_eq!(app.get(&page_url).await.status(), StatusCode::OK);
    assert_eq!(app.post_form(&page_url, &[]).await.status(), StatusCode::OK);
    // Carol: the unsubscribe link of her old confirmation e-mail, which names no campaign.
    let old = list_unsubscribe_url(&confirmations[2]);
    assert_eq!(
        app.post_form(&old, &[("List-Unsubscribe", "One-Click")])
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.subscription_status("carol@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    // A tampered campaign link changes nothing.
    let mut tampered = list_unsubscribe_url(mail_of("dave"));
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let response = app
        .post_form(&tampered, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert!(response.status().is_client_error());

    let figures = counts(&app, &id).await;
    assert_eq!(figures["unsubscribed"], 2, "{figures}");
    assert_eq!(figures["sent"], 4);
    assert_eq!(
        app.subscription_status("dave@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    let ledger = app.ledger("alice@example.com").await;
    assert_eq!(
        ledger
            .iter()
            .filter(|e| e["action"] == "unsubscribed")
            .count(),
        1
    );

    // Another campaign to the rest counts its own.
    let second = send_campaign(&app, "December").await;
    app.deliver_and_take().await;
    assert_eq!(counts(&app, &second).await["unsubscribed"], 0);

    let marketer = Admin::with_role(&app, Role::Viewer).await;
    let (status, page) = body(marketer.get(&format!("/admin/campaigns/{id}")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Unsubscribed because of it"));
    assert!(page.contains(r#"id="unsubscribed">2<"#), "{page}");
    assert!(
        page.contains("<svg") && page.contains("2 unsubscribed"),
        "{page}"
    );
    assert!(page.contains("4 sent"));
}
