//! Why people leave: the unsubscribe page offers an optional reason and comment (nothing
//! chosen beforehand, never required); the campaign page and API show the reasons it caused,
//! kept without the person.

use bulletin::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    admin::Admin,
    support::{TestApp, body, list_unsubscribe_url},
};

#[tokio::test]
async fn a_reason_given_when_leaving_shows_on_the_campaigns_page_and_is_never_required() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    for who in ["ann", "bob", "cid", "dan"] {
        app.confirmed_subscriber(&format!("{who}@example.com"), "weekly")
            .await;
    }
    let id = app.start_campaign("weekly").await;
    let mails = app.deliver_and_take().await;
    assert_eq!(mails.len(), 4);
    let url = |i: usize| list_unsubscribe_url(&mails[i]);

    let (status, page) = body(app.get(&url(0)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"name="reason" value="too_many""#), "{page}");
    assert!(
        !page.contains("checked"),
        "no reason is chosen beforehand: {page}"
    );

    // A reason and a comment; a comment alone (other); nothing at all; and one-click.
    let (status, _) = body(
        app.post_form(
            &url(0),
            &[
                ("reason", "too_many"),
                ("comment", "  Weekly is a lot <b>  "),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    app.post_form(
        &url(1),
        &[("reason", ""), ("comment", "Moved to a new job")],
    )
    .await;
    let (status, _) = body(app.post_form(&url(2), &[]).await).await;
    assert_eq!(status, StatusCode::OK, "leaving needs no reason");
    app.post_form(&url(3), &[("List-Unsubscribe", "One-Click")])
        .await;
    // Leaving again records nothing more.
    app.post_form(&url(0), &[("reason", "not_relevant")]).await;
    for who in ["ann", "bob", "cid", "dan"] {
        assert_eq!(
            app.subscription_status(&format!("{who}@example.com"), "weekly")
                .await
                .as_deref(),
            Some("unsubscribed")
        );
    }

    let campaign: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        campaign["unsubscribe_reasons"],
        serde_json::json!({"too_many": 1, "other": 1})
    );
    assert_eq!(campaign["counts"]["unsubscribed"], 4);

    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (_, page) = body(viewer.get(&format!("/admin/campaigns/{id}")).await).await;
    assert!(page.contains("Why people left"), "{page}");
    assert!(page.contains(r#"data-reason="too_many">1<"#), "{page}");
    assert!(
        page.contains("Weekly is a lot &lt;b&gt;"),
        "escaped: {page}"
    );
    assert!(page.contains("Moved to a new job"));
    assert!(!page.contains("ann@example.com"), "kept without the person");
}
