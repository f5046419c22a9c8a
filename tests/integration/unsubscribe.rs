//! Leaving: the RFC 8058 one-click POST, the unsubscribe page, the preferences page, bad
//! links, links that never expire, and an unsubscribe that beats a queued message.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::support::{TestApp, body, link, list_unsubscribe_url};

/// The RFC 8058 §3.1 one-click POST: this exact form body, no cookies, no other headers.
async fn one_click(app: &TestApp, url: &str) -> reqwest::Response {
    app.post_form(url, &[("List-Unsubscribe", "One-Click")])
        .await
}

/// The ledger entries of `email` with `action` for `list` (a list as the API returned it).
async fn events(app: &TestApp, email: &str, action: &str, list: &Value) -> Vec<Value> {
    app.ledger(email)
        .await
        .into_iter()
        .filter(|e| e["action"] == action && e["list_id"] == list["id"])
        .collect()
}

/// The `action` of the first `<form method="post">` on a page, unescaped.
fn form_action(page: &str) -> String {
    let form = &page[page
        .find(r#"<form method="post""#)
        .unwrap_or_else(|| panic!("no POST form in {page}"))..];
    let start = form.find(r#"action=""#).expect("a form action") + r#"action=""#.len();
    let end = start + form[start..].find('"').expect("a closing quote");
    form[start..end].replace("&amp;", "&")
}

/// The preferences page's checkboxes: (subscription id, list name) pairs.
fn checkboxes(page: &str) -> Vec<(String, String)> {
    let marker = r#"name="subscription" value=""#;
    page.match_indices(marker)
        .map(|(at, _)| {
            let rest = &page[at + marker.len()..];
            let id = &rest[..rest.find('"').expect("a closing quote")];
            let label = &rest[rest.find('>').expect("end of the input") + 1..];
            let label = &label[..label.find('<').expect("end of the label")];
            (id.to_owned(), label.trim().to_owned())
        })
        .collect()
}

/// The token at the end of an e-mailed link.
fn token_of(url: &str) -> &str {
    url.rsplit('/').next().expect("a token segment")
}

#[tokio::test]
async fn one_click_unsubscribes_at_once_without_a_redirect_and_repeating_it_changes_nothing() {
    let app = TestApp::spawn().await;
    let list = app.create_list("weekly").await;
    let mail = app.confirmed_subscriber("jane@example.com", "weekly").await;
    let url = list_unsubscribe_url(&mail);

    let first = one_click(&app, &url).await;
    assert!(first.status().is_success(), "{}", first.status());
    assert!(
        !first.headers().contains_key(header::LOCATION),
        "no redirect"
    );
    assert!(!first.headers().contains_key(header::SET_COOKIE));
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );

    let again = one_click(&app, &url).await;
    assert_eq!(again.status(), first.status(), "idempotent");
    assert!(!again.headers().contains_key(header::LOCATION));
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    let left = events(&app, "jane@example.com", "unsubscribed", &list).await;
    assert_eq!(left.len(), 1, "one withdrawal in the ledger: {left:?}");
    let event = &left[0];
    assert_eq!(event["source"], "one_click");
    assert_eq!(event["actor"], "subscriber");
    assert_eq!(event["legal_basis"], "consent");
    assert_eq!(event["ip_anon"], "127.0.0.0");
    assert!(event["occurred_at"].is_string());
}

#[tokio::test]
async fn one_click_on_the_confirmation_email_cancels_the_pending_request_for_good() {
    let app = TestApp::spawn().await;
    app.create_list_with(json!({
        "slug": "weekly", "name": "Weekly", "kind": "newsletter", "legal_basis": "consent",
        "opt_in": "double", "welcome_message": "Hi"
    }))
    .await;
    app.sign_up("jane@example.com", "weekly").await;
    let confirmation = app.deliver_and_take().await.pop().expect("a confirmation");

    let response = one_click(&app, &list_unsubscribe_url(&confirmation)).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert!(!response.headers().contains_key(header::LOCATION));
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );

    let (status, page) = body(app.post_form(&link(&confirmation, "/confirm/"), &[]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("cancelled"), "{page}");
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    assert!(
        app.deliver_and_take().await.is_empty(),
        "no welcome, nothing"
    );
}

#[tokio::test]
async fn the_unsubscribe_page_changes_nothing_until_its_button_is_pressed() {
    let app = TestApp::spawn().await;
    let list = app.create_list("weekly").await;
    let mail = app.confirmed_subscriber("jane@example.com", "weekly").await;
    let url = list_unsubscribe_url(&mail);

    let (status, page) = body(app.get(&url).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<form method="post""#), "{page}");
    assert!(page.contains("<button"), "{page}");
    assert!(page.contains("List weekly"), "names the list: {page}");
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed"),
        "a GET (e.g. a mail scanner) unsubscribes nobody"
    );

    let (status, page) = body(app.post_form(&form_action(&page), &[]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("unsubscribed"), "{page}");
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    let left = events(&app, "jane@example.com", "unsubscribed", &list).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["source"], "unsubscribe_page");
}

#[tokio::test]
async fn unsubscribe_links_still_work_ten_years_later() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let mail = app.confirmed_subscriber("jane@example.com", "weekly").await;
    app.advance(chrono::Duration::days(3650));
    let url = list_unsubscribe_url(&mail);

    assert_eq!(app.get(&url).await.status(), StatusCode::OK);
    let response = one_click(&app, &url).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
}

#[tokio::test]
async fn tampered_foreign_and_garbage_unsubscribe_links_get_a_friendly_4xx_page_and_change_nothing()
{
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let mail = app.confirmed_subscriber("jane@example.com", "weekly").await;
    let ledger_before = app.ledger("jane@example.com").await;

    let token = token_of(&list_unsubscribe_url(&mail)).to_owned();
    let middle = token.len() / 2;
    let replacement = if &token[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    let tampered = format!("{}{replacement}{}", &token[..middle], &token[middle + 1..]);
    let preferences_token = token_of(&link(&mail, "/preferences/")).to_owned();

    for bad in [tampered.as_str(), preferences_token.as_str(), "xyz"] {
        let url = app.url(&format!("/unsubscribe/{bad}"));
        let (status, page) = body(app.get(&url).await).await;
        assert!(status.is_client_error(), "GET {bad}: {status}");
        assert!(page.contains("<html"), "a page, not a bare error: {page}");
        assert!(page.contains("This link does not work"), "{page}");

        let response = one_click(&app, &url).await;
        assert!(!response.headers().contains_key(header::LOCATION));
        let (status, page) = body(response).await;
        assert!(status.is_client_error(), "POST {bad}: {status}");
        assert!(page.contains("This link does not work"), "{page}");
    }
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("confirmed")
    );
    assert_eq!(app.ledger("jane@example.com").await, ledger_before);
}

#[tokio::test]
async fn the_preferences_page_lists_every_subscription_and_leaves_one_or_all() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let mail = app
        .confirmed_subscriber("jane@example.com", "monthly")
        .await;
    let preferences = link(&mail, "/preferences/");

    let (status, page) = body(app.get(&preferences).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("List weekly") && page.contains("List monthly"),
        "{page}"
    );
    for list in ["weekly", "monthly"] {
        assert_eq!(
            app.subscription_status("jane@example.com", list)
                .await
                .as_deref(),
            Some("confirmed"),
            "a GET changes nothing"
        );
    }
    let boxes = checkboxes(&page);
    assert_eq!(boxes.len(), 2, "{page}");
    let weekly = boxes
        .iter()
        .find(|(_, name)| name == "List weekly")
        .expect("a box for weekly");

    let (status, page) = body(
        app.post_form(&preferences, &[("subscription", &weekly.0)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
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
        Some("confirmed")
    );
    assert_eq!(checkboxes(&page).len(), 1, "only monthly is left to leave");

    let (status, page) = body(app.post_form(&preferences, &[("all", "yes")]).await).await;
    assert_eq!(status, StatusCode::OK);
    for list in ["weekly", "monthly"] {
        assert_eq!(
            app.subscription_status("jane@example.com", list)
                .await
                .as_deref(),
            Some("unsubscribed")
        );
    }
    assert!(checkboxes(&page).is_empty());
    let left: Vec<Value> = app
        .ledger("jane@example.com")
        .await
        .into_iter()
        .filter(|e| e["action"] == "unsubscribed")
        .collect();
    assert_eq!(left.len(), 2, "one withdrawal per list: {left:?}");
    assert!(left.iter().all(|e| e["source"] == "preferences"));
}

#[tokio::test]
async fn subscription_ids_of_someone_else_posted_to_my_preferences_link_are_ignored() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let mine = app.confirmed_subscriber("jane@example.com", "weekly").await;
    let theirs = app.confirmed_subscriber("john@example.com", "weekly").await;
    let (_, their_page) = body(app.get(&link(&theirs, "/preferences/")).await).await;
    let their_ids: Vec<String> = checkboxes(&their_page)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(their_ids.len(), 1, "{their_page}");

    let response = app
        .post_form(
            &link(&mine, "/preferences/"),
            &[("subscription", &their_ids[0])],
        )
        .await;
    assert!(response.status().as_u16() < 500, "{}", response.status());
    for email in ["jane@example.com", "john@example.com"] {
        assert_eq!(
            app.subscription_status(email, "weekly").await.as_deref(),
            Some("confirmed"),
            "{email}"
        );
    }
}

#[tokio::test]
async fn an_unsubscribe_that_lands_before_the_worker_sends_a_queued_message_wins() {
    let app = TestApp::spawn().await;
    app.create_list_with(json!({
        "slug": "weekly", "name": "Weekly", "kind": "newsletter", "legal_basis": "consent",
        "opt_in": "double", "welcome_message": "Hi"
    }))
    .await;
    let confirmation = app.confirmed_subscriber("jane@example.com", "weekly").await;

    let response = one_click(&app, &list_unsubscribe_url(&confirmation)).await;
    assert!(response.status().is_success(), "{}", response.status());
    let report = app.deliver_all().await;
    assert_eq!(report.suppressed, 1, "{report:?}");
    assert_eq!(report.sent, 0, "{report:?}");
    assert!(app.mailbox().is_empty(), "no welcome message");
}

/// The RFC 8058 §3.1 one-click POST as `multipart/form-data`, the form the RFC prefers.
async fn one_click_multipart(app: &TestApp, url: &str) -> reqwest::Response {
    let b = "XoneClickBoundaryX";
    app.http
        .post(url)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={b}"),
        )
        .body(format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n\
             One-Click\r\n--{b}--\r\n"
        ))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_multipart_one_click_post_works_like_the_url_encoded_one() {
    let app = TestApp::spawn().await;
    let list = app.create_list("weekly").await;
    app.create_list("monthly").await;
    let mail = app.confirmed_subscriber("jane@example.com", "weekly").await;
    let r = one_click_multipart(&app, &list_unsubscribe_url(&mail)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let left = events(&app, "jane@example.com", "unsubscribed", &list).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["source"], "one_click");

    // The privacy e-mail's List-Unsubscribe is the preferences page: one click leaves every
    // newsletter.
    app.confirmed_subscriber("joe@example.com", "weekly").await;
    app.confirmed_subscriber("joe@example.com", "monthly").await;
    let r = app
        .post_form("/privacy", &[("email", "joe@example.com")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mails = app.deliver_and_take().await;
    let privacy = mails
        .iter()
        .find(|m| m.text_body().contains("/privacy/"))
        .expect("the privacy e-mail");
    let url = list_unsubscribe_url(privacy);
    assert!(url.contains("/preferences/"), "{url}");
    assert_eq!(
        one_click_multipart(&app, &url).await.status(),
        StatusCode::OK
    );
    for slug in ["weekly", "monthly"] {
        assert_eq!(
            app.subscription_status("joe@example.com", slug)
                .await
                .as_deref(),
            Some("unsubscribed"),
            "{slug}"
        );
    }
}

#[tokio::test]
async fn the_privacy_mails_one_click_leaves_the_newsletters_but_not_the_product_notices() {
    let app = TestApp::spawn().await;
    crate::customers::catalogue(&app).await;
    let weekly = app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    crate::customers::customer(&app, "jane@example.com", &["LM317"], "en").await;
    app.deliver_and_take().await;
    let r = app
        .post_form("/privacy", &[("email", "jane@example.com")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mails = app.deliver_and_take().await;
    let privacy = mails
        .iter()
        .find(|m| m.text_body().contains("/privacy/"))
        .expect("the privacy e-mail");

    let r = one_click(&app, &list_unsubscribe_url(privacy)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.subscription_status("jane@example.com", "weekly")
            .await
            .as_deref(),
        Some("unsubscribed")
    );
    // Art. 21: the objection to product notices is the notice's own link.
    for slug in ["pcn", "tech"] {
        assert_eq!(
            app.subscription_status("jane@example.com", slug)
                .await
                .as_deref(),
            Some("confirmed"),
            "{slug}"
        );
    }
    let left = events(&app, "jane@example.com", "unsubscribed", &weekly).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["source"], "one_click");
    let ledger = app.ledger("jane@example.com").await;
    assert!(
        !ledger.iter().any(|e| e["action"] == "objected"),
        "{ledger:?}"
    );
}

#[tokio::test]
async fn the_preferences_page_adds_lists_by_double_opt_in_and_says_nothing_odd_when_empty() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    let mail = app.confirmed_subscriber("jane@example.com", "weekly").await;
    app.deliver_and_take().await;
    let preferences = link(&mail, "/preferences/");
    let (_, page) = body(app.get(&preferences).await).await;
    assert!(page.contains(r#"name="list" value="monthly""#), "{page}");
    assert!(
        !page.contains(r#"name="list" value="weekly""#),
        "not offered twice"
    );

    let add = format!("{preferences}/add");
    let (status, page) = body(app.post_form(&add, &[]).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Please tick"), "{page}");

    let (status, page) = body(app.post_form(&add, &[("list", "monthly")]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("check your inbox"), "{page}");
    assert_eq!(
        app.subscription_status("jane@example.com", "monthly")
            .await
            .as_deref(),
        Some("pending"),
        "never a silent subscription"
    );
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 1);
    let confirm = link(&mails[0], "/confirm/");
    assert_eq!(app.post_form(&confirm, &[]).await.status(), StatusCode::OK);
    assert_eq!(
        app.subscription_status("jane@example.com", "monthly")
            .await
            .as_deref(),
        Some("confirmed")
    );

    // Leaving everything: "no subscriptions", and no "unsubscribed" beside it.
    let (_, page) = body(app.post_form(&preferences, &[("all", "yes")]).await).await;
    assert!(page.contains("There are no subscriptions"), "{page}");
    assert!(!page.contains("— unsubscribed"), "{page}");
    assert!(
        page.contains(r#"name="list" value="weekly""#),
        "can join again"
    );
}
