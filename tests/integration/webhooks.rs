//! Bounces and complaints posted by e-mail providers to `/webhooks/{provider}`: each call
//! proven the provider's way (SNS signatures, Postmark basic authentication, Mailgun HMAC,
//! SendGrid ECDSA) is acted on like a report to the bounce domain; any other call is 401
//! and changes nothing.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{StatusCode, header};
use ring::{
    rand::SystemRandom,
    signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair},
};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::support::TestApp;

const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:ses-feedback";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A server taking every provider's calls, with a confirmed subscriber of `weekly` for each
/// address, who has been sent one campaign.
async fn app_with_mailed(people: &[&str]) -> (TestApp, String, EcdsaKeyPair) {
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let sendgrid = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        pkcs8.as_ref(),
        &rng,
    )
    .unwrap();
    let point = sendgrid.public_key().as_ref().to_vec();
    let app = TestApp::spawn_with(|s| {
        s.webhooks.ses = Some(bulletin::config::SesWebhook {
            topic_arns: vec![TOPIC.to_owned()],
            certificate_pem: Some(fixture("sns-test-certificate.pem")),
        });
        s.webhooks.postmark = Some((
            "hook".to_owned(),
            SecretString::from("pm-secret-0123456789"),
        ));
        s.webhooks.mailgun = Some(SecretString::from("mg-key"));
        s.webhooks.sendgrid = Some(point);
    })
    .await;
    app.create_list("weekly").await;
    for email in people {
        app.confirmed_subscriber(email, "weekly").await;
    }
    let id = app.start_campaign("weekly").await;
    assert_eq!(app.deliver_all().await.sent, people.len());
    (app, id, sendgrid)
}

/// The `X-Bulletin-Ref` of the campaign mail `email` got.
fn reference_of(app: &TestApp, email: &str) -> String {
    app.mailbox()
        .iter()
        .rev()
        .find(|m| m.rcpt_to.iter().any(|t| t == email) && m.header("X-Bulletin-Ref").is_some())
        .and_then(|m| m.header("X-Bulletin-Ref"))
        .expect("a campaign mail with a reference")
}

async fn suppressed(app: &TestApp, email: &str) -> Value {
    app.subscriber(email).await.unwrap()["suppressed"].clone()
}

async fn counts(app: &TestApp, id: &str) -> Value {
    app.api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json::<Value>()
        .await
        .unwrap()["counts"]
        .clone()
}

/// An SNS notification carrying `message`, signed (SignatureVersion 2) with the test key.
fn sns(app: &TestApp, message: &Value) -> Value {
    let mut envelope = json!({
        "Type": "Notification",
        "MessageId": uuid::Uuid::new_v4().to_string(),
        "TopicArn": TOPIC,
        "Message": message.to_string(),
        "Timestamp": app.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "SignatureVersion": "2",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem",
    });
    let text: String = ["Message", "MessageId", "Timestamp", "TopicArn", "Type"]
        .iter()
        .map(|k| format!("{k}\n{}\n", envelope[*k].as_str().unwrap()))
        .collect();
    let key = RsaKeyPair::from_pkcs8(&fixture("sns-test-key.pk8")).unwrap();
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        text.as_bytes(),
        &mut sig,
    )
    .unwrap();
    envelope["Signature"] = base64::engine::general_purpose::STANDARD.encode(sig).into();
    envelope
}

async fn post(
    app: &TestApp,
    provider: &str,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> (StatusCode, Value) {
    let mut request = app
        .http
        .post(app.url(&format!("/webhooks/{provider}")))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_signed_ses_bounce_suppresses_and_counts_and_an_altered_one_changes_nothing() {
    let (app, id, _) = app_with_mailed(&["jane@example.com", "john@example.com"]).await;
    let bounce = |email: &str, reference: &str| {
        json!({
            "notificationType": "Bounce",
            "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": email, "action": "failed",
                    "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]},
            "mail": {"headers": [{"name": "X-Bulletin-Ref", "value": reference}]}
        })
    };
    let jane = reference_of(&app, "jane@example.com");
    let body = sns(&app, &bounce("jane@example.com", &jane));
    let (status, answer) = post(&app, "ses", body.to_string().into_bytes(), &[]).await;
    assert_eq!(
        (status, answer["acted"].as_u64()),
        (StatusCode::OK, Some(1))
    );
    assert_eq!(
        suppressed(&app, "jane@example.com").await["reason"],
        "hard_bounce"
    );
    assert_eq!(counts(&app, &id).await["bounced"], 1);

    // The same signature over another person's bounce: refused, nothing changes.
    let john = reference_of(&app, "john@example.com");
    let mut forged = sns(&app, &bounce("jane@example.com", &jane));
    forged["Message"] = bounce("john@example.com", &john).to_string().into();
    let (status, answer) = post(&app, "ses", forged.to_string().into_bytes(), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["error"]["code"], "unauthenticated");
    // Another topic, or a certificate from anywhere but SNS: refused as well.
    let mut other_topic = sns(&app, &bounce("john@example.com", &john));
    other_topic["TopicArn"] = "arn:aws:sns:eu-west-1:123456789012:other".into();
    let mut elsewhere = sns(&app, &bounce("john@example.com", &john));
    elsewhere["SigningCertURL"] = "https://attacker.example/cert.pem".into();
    for body in [other_topic, elsewhere, json!({"Type": "Notification"})] {
        let (status, _) = post(&app, "ses", body.to_string().into_bytes(), &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(suppressed(&app, "john@example.com").await, Value::Null);
    assert_eq!(counts(&app, &id).await["bounced"], 1);
}

#[tokio::test]
async fn an_ses_complaint_suppresses_and_ends_every_subscription() {
    let (app, id, _) = app_with_mailed(&["jane@example.com"]).await;
    // Without original headers: the address names the person, the last mail the delivery.
    let complaint = json!({
        "notificationType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": "jane@example.com"}],
            "complaintFeedbackType": "abuse"},
        "mail": {"headers": []}
    });
    let (status, _) = post(
        &app,
        "ses",
        sns(&app, &complaint).to_string().into_bytes(),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        suppressed(&app, "jane@example.com").await["reason"],
        "complaint"
    );
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    assert_eq!(counts(&app, &id).await["complaints"], 1);
    let ledger = app.ledger("jane@example.com").await;
    assert!(
        ledger.iter().any(|e| e["source"] == "complaint"),
        "{ledger:?}"
    );
}

#[tokio::test]
async fn postmark_needs_its_basic_authentication() {
    let (app, _, _) = app_with_mailed(&["jane@example.com", "john@example.com"]).await;
    let hard = |email: &str| {
        json!({"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1, "Email": email,
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist"})
        .to_string()
        .into_bytes()
    };
    let basic = |credentials: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    };
    let response = app
        .http
        .post(app.url("/webhooks/postmark"))
        .header(header::AUTHORIZATION, basic("hook:wrong"))
        .body(hard("john@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    let (status, _) = post(&app, "postmark", hard("john@example.com"), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(suppressed(&app, "john@example.com").await, Value::Null);

    let auth = [("authorization", basic("hook:pm-secret-0123456789"))];
    let (status, answer) = post(&app, "postmark", hard("jane@example.com"), &auth).await;
    assert_eq!(
        (status, answer["acted"].as_u64()),
        (StatusCode::OK, Some(1))
    );
    assert_eq!(
        suppressed(&app, "jane@example.com").await["reason"],
        "hard_bounce"
    );
    // A policy refusal never suppresses; an authentic but unreadable body is 400.
    let blocked = json!({"RecordType": "Bounce", "Type": "Blocked", "Email": "john@example.com",
        "Details": "smtp;550 5.7.1 message refused by policy"});
    let (status, _) = post(&app, "postmark", blocked.to_string().into_bytes(), &auth).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(suppressed(&app, "john@example.com").await, Value::Null);
    let (status, _) = post(&app, "postmark", b"{\"RecordType\": [".to_vec(), &auth).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn mailgun_calls_must_be_signed_and_each_token_is_taken_once() {
    let (app, _, _) = app_with_mailed(&["jane@example.com", "john@example.com"]).await;
    let signed = |key: &[u8], token: &str, email: &str| {
        let timestamp = app.clock.now().timestamp().to_string();
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
        mac.update(format!("{timestamp}{token}").as_bytes());
        json!({
            "signature": {"timestamp": timestamp, "token": token,
                "signature": hex::encode(mac.finalize().into_bytes())},
            "event-data": {"event": "failed", "severity": "permanent", "recipient": email,
                "delivery-status": {"code": 550, "message": "5.1.1 No such user"}}
        })
        .to_string()
        .into_bytes()
    };
    let (status, _) = post(
        &app,
        "mailgun",
        signed(b"other-key", "t1", "john@example.com"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(
        &app,
        "mailgun",
        signed(b"mg-key", "t2", "jane@example.com"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        suppressed(&app, "jane@example.com").await["reason"],
        "hard_bounce"
    );
    // A captured token used again, now naming someone else: refused.
    let (status, _) = post(
        &app,
        "mailgun",
        signed(b"mg-key", "t2", "john@example.com"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(suppressed(&app, "john@example.com").await, Value::Null);
}

#[tokio::test]
async fn sendgrid_batches_must_carry_a_valid_signature() {
    let (app, id, key) = app_with_mailed(&["jane@example.com", "john@example.com"]).await;
    let body = json!([
        {"email": "jane@example.com", "event": "bounce", "type": "bounce", "status": "5.0.0",
            "reason": "550 5.1.1 The email account does not exist"},
        {"email": "john@example.com", "event": "spamreport"},
        {"email": "john@example.com", "event": "open"},
        {"email": "stranger@example.com", "event": "spamreport"}
    ])
    .to_string()
    .into_bytes();
    let timestamp = app.clock.now().timestamp().to_string();
    let sign = |payload: &[u8]| {
        let sig = key
            .sign(
                &SystemRandom::new(),
                &[timestamp.as_bytes(), payload].concat(),
            )
            .unwrap();
        base64::engine::general_purpose::STANDARD.encode(sig.as_ref())
    };
    let headers = |sig: String| {
        vec![
            ("x-twilio-email-event-webhook-signature", sig),
            ("x-twilio-email-event-webhook-timestamp", timestamp.clone()),
        ]
    };
    // Signed over another body: refused.
    let (status, _) = post(&app, "sendgrid", body.clone(), &headers(sign(b"[]"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(counts(&app, &id).await["complaints"], 0);
    let (status, answer) = post(&app, "sendgrid", body.clone(), &headers(sign(&body))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (answer["acted"].as_u64(), answer["ignored"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        suppressed(&app, "jane@example.com").await["reason"],
        "hard_bounce"
    );
    assert_eq!(
        suppressed(&app, "john@example.com").await["reason"],
        "complaint"
    );
    // The same signed batch again: refused, even though its signature is fresh.
    let (status, _) = post(&app, "sendgrid", body.clone(), &headers(sign(&body))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let figures = counts(&app, &id).await;
    assert_eq!(
        (figures["bounced"].as_u64(), figures["complaints"].as_u64()),
        (Some(1), Some(1))
    );
}

#[tokio::test]
async fn a_provider_that_is_not_configured_is_not_found() {
    let app = TestApp::spawn().await;
    for provider in ["ses", "postmark", "mailgun", "sendgrid", "other"] {
        let (status, answer) = post(&app, provider, b"{}".to_vec(), &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{provider}");
        assert_eq!(answer["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn an_operator_block_replaces_a_complaint_so_a_later_opt_in_cannot_lift_it() {
    let (app, _, _) = app_with_mailed(&["jane@example.com"]).await;
    let auth = [(
        "authorization",
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("hook:pm-secret-0123456789")
        ),
    )];
    let spam = json!({"RecordType": "SpamComplaint", "Type": "SpamComplaint",
        "Email": "jane@example.com"});
    let (status, _) = post(&app, "postmark", spam.to_string().into_bytes(), &auth).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        suppressed(&app, "jane@example.com").await["reason"],
        "complaint"
    );
    let response = app
        .api_post(
            "/api/v1/suppressions",
            &json!({"email": "jane@example.com", "reason": "manual", "note": "legal asked"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        suppressed(&app, "jane@example.com").await["reason"],
        "manual"
    );
    // A hard bounce does not give way to a later complaint either.
    let (status, _) = post(&app, "postmark", spam.to_string().into_bytes(), &auth).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        suppressed(&app, "jane@example.com").await["reason"],
        "manual"
    );
}
