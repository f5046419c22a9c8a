//! Signup with double opt-in: the form, the single confirmation e-mail, no enumeration,
//! cooldown and cap, bad input.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, body, link, list_unsubscribe_url};

#[tokio::test]
async fn signup_page_shows_the_consent_text_an_unticked_box_and_the_privacy_link() {
    let app = TestApp::spawn().await;
    app.create_list_with(json!({
        "slug": "weekly", "name": "Weekly", "kind": "newsletter", "legal_basis": "consent",
        "opt_in": "double", "consent_text": "I agree to get Weekly <every> week."
    }))
    .await;
    let (status, page) = body(app.get("/subscribe?list=weekly").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("I agree to get Weekly &lt;every&gt; week."),
        "consent text, escaped"
    );
    assert!(
        page.contains(r#"<input type="checkbox" name="consent" value="weekly">"#),
        "an unticked box of its own"
    );
    assert!(!page.contains("checked"));
    assert!(page.contains(r#"name="email""#) && page.contains(r#"name="name""#));
    assert!(page.contains(r#"<input type="hidden" name="list" value="weekly">"#));
    assert!(page.contains(&format!(r#"href="{}/privacy-notice""#, app.base)));
}

#[tokio::test]
async fn signup_enqueues_exactly_one_confirmation_with_one_click_headers() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let (status, page) = body(app.sign_up("Jane@Example.COM", "weekly").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("check your inbox"));
    assert!(app.mailbox().is_empty(), "no request handler sends mail");
    let report = app.deliver_all().await;
    assert_eq!(report.sent, 1);
    let mails = app.mailbox();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.rcpt_to, vec!["jane@example.com".to_owned()]);
    assert_eq!(mail.header("To").as_deref(), Some("jane@example.com"));
    assert!(list_unsubscribe_url(mail).starts_with(&format!("{}/unsubscribe/", app.base)));
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(mail.header("Message-ID").is_some());
    assert!(link(mail, "/confirm/").starts_with(&app.base));
    assert!(
        mail.text_body().contains(&list_unsubscribe_url(mail)),
        "visible unsubscribe link"
    );
    assert!(mail.html_body().contains("/unsubscribe/"));
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("pending")
    );
}

#[tokio::test]
async fn the_name_never_reaches_the_confirmation_email() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let spam = "Win a prize at spam.example now";
    app.subscribe(&[
        ("email", "victim@example.com"),
        ("name", spam),
        ("list", "weekly"),
        ("consent", "yes"),
    ])
    .await;
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert!(!mail.data.contains("spam.example"));
    assert!(!mail.data.contains("Win a prize"));
}

#[tokio::test]
async fn the_answer_is_the_same_for_new_pending_confirmed_and_unsubscribed_addresses() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let confirmation = app
        .confirmed_subscriber("confirmed@example.com", "weekly")
        .await;
    app.sign_up("pending@example.com", "weekly").await;
    app.sign_up("left@example.com", "weekly").await;
    let left = app
        .deliver_and_take()
        .await
        .into_iter()
        .find(|m| m.rcpt_to[0] == "left@example.com")
        .unwrap();
    app.post_form(
        &list_unsubscribe_url(&left),
        &[("List-Unsubscribe", "One-Click")],
    )
    .await;
    drop(confirmation);

    let mut answers = Vec::new();
    for email in [
        "new@example.com",
        "pending@example.com",
        "confirmed@example.com",
        "left@example.com",
    ] {
        answers.push(body(app.sign_up(email, "weekly").await).await);
    }
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "identical status and page"
    );
    assert_eq!(answers[0].0, StatusCode::OK);
    let recipients: Vec<String> = app
        .deliver_and_take()
        .await
        .into_iter()
        .map(|m| m.rcpt_to[0].clone())
        .collect();
    assert!(recipients.contains(&"new@example.com".to_owned()));
    assert!(
        recipients.contains(&"left@example.com".to_owned()),
        "a new request after leaving"
    );
    assert!(
        !recipients.contains(&"confirmed@example.com".to_owned()),
        "confirmed addresses get nothing"
    );
    assert!(
        !recipients.contains(&"pending@example.com".to_owned()),
        "within the cooldown"
    );
}

#[tokio::test]
async fn resubmitting_a_pending_address_sends_at_most_one_more_per_cooldown_and_three_in_all() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let mut sent = 0;
    for round in 0..5 {
        app.sign_up("jane@example.com", "weekly").await;
        app.sign_up("jane@example.com", "weekly").await;
        sent += app.deliver_and_take().await.len();
        assert_eq!(sent, (round + 1).min(3), "round {round}");
        app.advance(chrono::Duration::minutes(61));
    }
}

#[tokio::test]
async fn german_browsers_get_german_pages_and_emails() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let page = app
        .http
        .get(app.url("/subscribe?list=weekly"))
        .header("Accept-Language", "de-DE,de;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<html lang="de">"#));
    assert!(page.contains("E-Mail-Adresse"));
    app.http
        .post(app.url("/subscribe"))
        .header("Accept-Language", "de")
        .form(&[
            ("email", "jan@example.de"),
            ("list", "weekly"),
            ("consent", "yes"),
        ])
        .send()
        .await
        .unwrap();
    let mail = app.deliver_and_take().await.pop().unwrap();
    assert!(
        mail.text_body().contains("Guten Tag"),
        "{}",
        mail.text_body()
    );
    assert_eq!(
        app.subscriber("jan@example.de").await.unwrap()["locale"],
        "de"
    );
}

#[tokio::test]
async fn bad_signups_get_a_clear_4xx_and_store_and_send_nothing() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list_with(json!({
        "slug": "internal", "name": "Internal", "kind": "newsletter", "legal_basis": "consent",
        "opt_in": "double", "visibility": "private"
    }))
    .await;
    app.create_list_with(json!({
        "slug": "notices", "name": "Notices", "kind": "product_notices",
        "legal_basis": "legitimate_interest", "opt_in": "none"
    }))
    .await;
    let long_email = format!("{}@example.com", "a".repeat(250));
    let long_name = "n".repeat(101);
    let cases: Vec<(Vec<(&str, &str)>, StatusCode)> = vec![
        (
            vec![
                ("email", "not-an-address"),
                ("list", "weekly"),
                ("consent", "yes"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![("email", ""), ("list", "weekly"), ("consent", "yes")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![
                ("email", &long_email),
                ("list", "weekly"),
                ("consent", "yes"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![
                ("email", "bad@example.com"),
                ("name", &long_name),
                ("list", "weekly"),
                ("consent", "yes"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![
                ("email", "bad@example.com"),
                ("name", "a\r\nb"),
                ("list", "weekly"),
                ("consent", "yes"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![("email", "bad@example.com"), ("list", "weekly")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![
                ("email", "bad@example.com"),
                ("list", "weekly"),
                ("consent", "no"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![
                ("email", "bad@example.com"),
                ("list", "nope"),
                ("consent", "yes"),
            ],
            StatusCode::NOT_FOUND,
        ),
        (
            vec![
                ("email", "bad@example.com"),
                ("list", "weekly"),
                ("list", "nope"),
                ("consent", "yes"),
            ],
            StatusCode::NOT_FOUND,
        ),
        (
            vec![
                ("email", "bad@example.com"),
                ("list", "Bad Slug!"),
                ("consent", "yes"),
            ],
            StatusCode::NOT_FOUND,
        ),
        (
            vec![
                ("email", "bad@example.com"),
                ("list", "internal"),
                ("consent", "yes"),
            ],
            StatusCode::NOT_FOUND,
        ),
        (
            vec![
                ("email", "bad@example.com"),
                ("list", "notices"),
                ("consent", "yes"),
            ],
            StatusCode::NOT_FOUND,
        ),
        (
            vec![("email", "bad@example.com"), ("consent", "yes")],
            StatusCode::NOT_FOUND,
        ),
    ];
    for (form, expected) in cases {
        let (status, page) = body(app.subscribe(&form).await).await;
        assert_eq!(status, expected, "{form:?}");
        assert!(page.contains("<html"), "a page, not a bare error: {form:?}");
    }
    // The form keeps what was typed and says what is wrong.
    let (_, page) = body(
        app.subscribe(&[("email", "oops"), ("name", "Jane"), ("list", "weekly")])
            .await,
    )
    .await;
    assert!(page.contains(r#"value="oops""#) && page.contains(r#"value="Jane""#));
    assert!(page.contains("does not look like an e-mail address"));
    assert!(page.contains("tick the box"));

    let malformed = app
        .http
        .post(app.url("/subscribe"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'=', 0x00, b'%'])
        .send()
        .await
        .unwrap();
    assert!(
        malformed.status().is_client_error(),
        "{}",
        malformed.status()
    );
    let huge = app
        .http
        .post(app.url("/subscribe"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "email=a@example.com&list=weekly&consent=yes&name={}",
            "x".repeat(200_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert!(app.subscriber("bad@example.com").await.is_none());
    assert!(app.subscriber("a@example.com").await.is_none());
    assert_eq!(app.deliver_all().await.sent, 0);
    assert!(app.mailbox().is_empty());
}

#[tokio::test]
async fn signup_for_several_lists_sends_one_confirmation_for_all_of_them() {
    let app = TestApp::spawn().await;
    for slug in ["weekly", "monthly", "yearly"] {
        app.create_list(slug).await;
    }
    let response = app
        .subscribe(&[
            ("email", "jane@example.com"),
            ("list", "weekly"),
            ("list", "monthly"),
            ("list", "yearly"),
            ("consent", "yes"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 1, "one request, one e-mail");
    let mail = mails.pop().unwrap();
    let text = mail.text_body();
    for name in ["List weekly", "List monthly", "List yearly"] {
        assert!(text.contains(name), "the e-mail names {name}: {text}");
    }
    let confirm = link(&mail, "/confirm/");
    let (status, page) = body(app.get(&confirm).await).await;
    assert_eq!(status, StatusCode::OK);
    for name in ["List weekly", "List monthly", "List yearly"] {
        assert!(page.contains(name), "the page names {name}: {page}");
    }
    assert_eq!(app.post_form(&confirm, &[]).await.status(), StatusCode::OK);
    for slug in ["weekly", "monthly", "yearly"] {
        assert_eq!(
            app.subscription_status("jane@example.com", slug)
                .await
                .as_deref(),
            Some("confirmed"),
            "{slug}"
        );
    }
    let confirmed = app
        .ledger("jane@example.com")
        .await
        .into_iter()
        .filter(|e| e["action"] == "confirmed")
        .count();
    assert_eq!(confirmed, 3, "each list has its own ledger entry");
}

#[tokio::test]
async fn signups_are_limited_per_network_and_the_refused_one_stores_nothing() {
    let app = TestApp::spawn_with(|s| s.subscriptions.signups_per_hour = 2).await;
    app.create_list("weekly").await;
    for email in ["a@example.com", "b@example.com"] {
        assert_eq!(app.sign_up(email, "weekly").await.status(), StatusCode::OK);
    }
    let refused = app.sign_up("c@example.com", "weekly").await;
    let retry_after = refused.headers().get("retry-after").cloned();
    let (status, page) = body(refused).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let secs: u64 = retry_after.unwrap().to_str().unwrap().parse().unwrap();
    assert!(
        (1..=3600).contains(&secs),
        "Retry-After says when the hour ends: {secs}"
    );
    assert!(page.contains("Too many requests"), "{page}");
    assert!(app.subscriber("c@example.com").await.is_none());
    app.advance(chrono::Duration::minutes(61));
    assert_eq!(
        app.sign_up("c@example.com", "weekly").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_signup_for_several_lists_asks_consent_per_list_and_records_each_lists_text() {
    let app = TestApp::spawn().await;
    for (slug, text) in [
        ("weekly", "Weekly, yes please."),
        ("monthly", "Monthly, yes please."),
    ] {
        app.create_list_with(json!({
            "slug": slug, "name": format!("List {slug}"), "kind": "newsletter",
            "legal_basis": "consent", "opt_in": "double", "consent_text": text
        }))
        .await;
    }
    let (_, page) = body(app.get("/subscribe?list=weekly&list=monthly").await).await;
    for slug in ["weekly", "monthly"] {
        assert!(
            page.contains(&format!(r#"name="consent" value="{slug}""#)),
            "a box per list: {page}"
        );
    }
    // No box ticked: refused, in place, nothing stored.
    let form = [
        ("email", "jane@example.com"),
        ("list", "weekly"),
        ("list", "monthly"),
    ];
    let (status, page) = body(app.subscribe(&form).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("each newsletter"), "{page}");
    assert!(app.subscriber("jane@example.com").await.is_none());
    // Only monthly ticked: only monthly is requested, with its own text's hash.
    let mut ticked = form.to_vec();
    ticked.push(("consent", "monthly"));
    assert_eq!(app.subscribe(&ticked).await.status(), StatusCode::OK);
    assert_eq!(
        app.subscription_status("jane@example.com", "monthly")
            .await
            .as_deref(),
        Some("pending")
    );
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly").await,
        None
    );
    let requested: Vec<_> = app
        .ledger("jane@example.com")
        .await
        .into_iter()
        .filter(|e| e["action"] == "requested")
        .collect();
    assert_eq!(requested.len(), 1, "{requested:?}");
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest("Monthly, yes please."));
    assert_eq!(
        requested[0]["consent_text_hash"],
        hash.as_str(),
        "{requested:?}"
    );
}

#[tokio::test]
async fn public_pages_name_the_organisation() {
    let app = TestApp::spawn_with(|s| s.mail.organisation = "Acme <Parts> GmbH".into()).await;
    app.create_list("weekly").await;
    for path in [
        "/",
        "/subscribe?list=weekly",
        "/privacy",
        "/no-such-page-here",
    ] {
        let (_, page) = body(app.get(path).await).await;
        if path.starts_with("/no-such") {
            continue;
        }
        assert!(
            page.contains(r#"<footer class="site"><p>Acme &lt;Parts&gt; GmbH</p></footer>"#),
            "{path}: {page}"
        );
    }
    let bad = app.get("/confirm/not-a-token").await;
    let (_, page) = body(bad).await;
    assert!(
        page.contains("Acme &lt;Parts&gt; GmbH"),
        "error pages too: {page}"
    );
}

#[tokio::test]
async fn the_lists_admin_page_offers_a_signup_form_that_works_from_another_site() {
    let app = TestApp::spawn().await;
    let list = app.create_list("weekly").await;
    let admin = crate::admin::Admin::with_role(&app, bulletin::domain::Role::Admin).await;
    let (status, page) = body(
        admin
            .get(&format!("/admin/lists/{}", list["id"].as_str().unwrap()))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<textarea") && page.contains("readonly"),
        "{page}"
    );
    assert!(page.contains(&format!("{}/subscribe", app.base)), "{page}");
    assert!(
        page.contains(r#"name=&quot;consent&quot; value=&quot;weekly&quot;"#),
        "{page}"
    );
    // The snippet's form, posted cross-site (another Origin, no cookie, no token).
    let response = crate::support::client()
        .post(app.url("/subscribe"))
        .header("Origin", "https://www.example.org")
        .form(&[
            ("list", "weekly"),
            ("email", "jane@example.com"),
            ("name", ""),
            ("consent", "weekly"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("pending")
    );
}
