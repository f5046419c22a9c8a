//! The `mailto:` unsubscribe address (RFC 2369) at the bounce domain: every list mail offers
//! it after the one-click URL, and a mail to it, handed to the bounce receiver, leaves the
//! list exactly as the one-click POST does. A forged or bounce reference changes nothing.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    bounces::smtp_talk,
    customers::{catalogue, customer},
    support::{TestApp, list_unsubscribe, smtp::ReceivedMail},
};

const DOMAIN: &str = "bounces.example.com";

async fn app_with_receiver() -> TestApp {
    TestApp::spawn_with(|s| {
        s.mail.bounce_domain = Some(DOMAIN.into());
        s.inbound.bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await
}

/// The `mailto:` URI of a message's `List-Unsubscribe`, and the address it names.
fn mailto(mail: &ReceivedMail) -> (String, String) {
    let uris = list_unsubscribe(mail);
    assert_eq!(uris.len(), 2, "{uris:?}");
    assert!(uris[0].starts_with("http"), "the URL comes first: {uris:?}");
    let uri = uris[1].clone();
    let address = uri
        .strip_prefix("mailto:")
        .and_then(|rest| rest.split_once('?'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_else(|| panic!("a mailto: URI with a subject: {uri}"));
    (uri, address)
}

/// Hands a short mail for `to` to the bounce receiver, as a mail client's MTA would.
async fn mail_to(app: &TestApp, to: &str) -> String {
    let addr = app.app.inbound_addr().expect("the receiver runs");
    let rcpt = format!("RCPT TO:<{to}>");
    let data = format!(
        "From: Jane <jane@example.com>\r\nTo: <{to}>\r\nSubject: unsubscribe\r\n\r\nPlease.\r\n."
    );
    let replies = smtp_talk(
        addr,
        &[
            "EHLO mail.example.com",
            "MAIL FROM:<jane@example.com>",
            &rcpt,
            "DATA",
            &data,
            "QUIT",
        ],
    )
    .await;
    replies[5].clone()
}

#[tokio::test]
async fn a_mail_to_the_unsubscribe_address_leaves_the_list_like_one_click() {
    let app = app_with_receiver().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    app.confirmed_subscriber("jane@example.com", "monthly")
        .await;
    let welcome = app.deliver_and_take().await;
    assert!(
        welcome
            .iter()
            .filter(|m| m.header("List-Unsubscribe").is_some())
            .all(|m| list_unsubscribe(m).len() == 2),
        "the confirmation and welcome mails offer the address too"
    );
    let id = app.start_campaign("weekly").await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    let (uri, address) = mailto(&mail);
    assert!(uri.ends_with("?subject=unsubscribe"), "{uri}");
    assert!(address.starts_with("u-"), "{address}");
    assert!(address.ends_with(&format!("@{DOMAIN}")), "{address}");
    assert!(
        address.split('@').next().unwrap().len() <= 64,
        "a local part fits RFC 5321"
    );
    assert!(
        mail.header("List-Unsubscribe-Post").is_some(),
        "one-click stays"
    );

    // A forged tag and a bounce reference in its place change nothing, and are still taken
    // (the MTA must not bounce them back to the person).
    let local = address.split('@').next().unwrap();
    let forged = format!("{}0000000000000000@{DOMAIN}", &local[..local.len() - 16]);
    assert!(mail_to(&app, &forged).await.starts_with("250"));
    let verp = mail.mail_from.clone();
    let bounce_ref = verp.trim_start_matches("b-").split('@').next().unwrap();
    let swapped = format!("u-{bounce_ref}@{DOMAIN}");
    assert!(mail_to(&app, &swapped).await.starts_with("250"));
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );

    // The real address, in whatever case the mail system chose, twice: left once.
    assert!(
        mail_to(&app, &address.to_uppercase())
            .await
            .starts_with("250")
    );
    assert!(mail_to(&app, &address).await.starts_with("250"));
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    assert_eq!(
        app.subscription_status("jane@example.com", "monthly")
            .await
            .as_deref(),
        Some("confirmed"),
        "only the list of the mail"
    );
    let left: Vec<Value> = app
        .ledger("jane@example.com")
        .await
        .into_iter()
        .filter(|e| e["action"] == "unsubscribed")
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["source"], "mailto");
    let campaign: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        campaign["counts"]["unsubscribed"], 1,
        "counted for the campaign"
    );
}

#[tokio::test]
async fn a_mail_to_a_notices_unsubscribe_address_objects_to_that_kind() {
    let app = app_with_receiver().await;
    catalogue(&app).await;
    customer(&app, "buyer@example.com", &["LM317"], "en").await;
    let today = app.clock.now().date_naive();
    let notice = serde_json::json!({
        "kind": "pcn",
        "title": "New mould compound",
        "affected_parts": ["LM317"],
        "change_category": "material",
        "description_before": "Compound A",
        "description_after": "Compound B",
        "reason": "Supplier change",
        "impact": {"form": "none", "fit": "none", "function": "none", "quality": "none",
                   "reliability": "none"},
        "effective_date": (today + chrono::Duration::days(120)).to_string(),
    });
    let r = app.api_post("/api/v1/notices", &notice).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = app
        .api_post(
            &format!("/api/v1/notices/{id}/send"),
            &serde_json::json!({}),
        )
        .await;
    assert!(sent.status().is_success(), "{}", sent.status());
    let mail = app.deliver_and_take().await.pop().unwrap();
    let (_, address) = mailto(&mail);
    assert!(mail_to(&app, &address).await.starts_with("250"));
    assert_eq!(
        app.subscription_status("buyer@example.com", "pcn")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    assert_eq!(
        app.subscription_status("buyer@example.com", "tech")
            .await
            .as_deref(),
        Some("confirmed"),
        "only that kind, as its one-click"
    );
    let objected: Vec<Value> = app
        .ledger("buyer@example.com")
        .await
        .into_iter()
        .filter(|e| e["action"] == "objected")
        .collect();
    assert_eq!(objected.len(), 1, "{objected:?}");
    assert_eq!(objected[0]["source"], "mailto");
}

#[tokio::test]
async fn without_a_bounce_domain_list_mail_offers_only_the_url() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    app.deliver_and_take().await;
    app.start_campaign("weekly").await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert_eq!(list_unsubscribe(&mail).len(), 1);
}
