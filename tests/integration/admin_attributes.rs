//! A subscriber's attributes in the admin UI: shown on the person's page, edited, added and
//! removed through the correct form together with the name (all or nothing, errors at their
//! fields), refused to a viewer, and the import page names the `attr.KEY` columns.

use bulletin::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    admin::Admin,
    support::{TestApp, body},
};

/// A confirmed subscriber with `attributes` set through the API; their id.
async fn jane_with(app: &TestApp, attributes: Value) -> String {
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let id = app.subscriber("jane@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let set = app
        .api_send(
            Method::PATCH,
            &format!("/api/v1/subscribers/{id}"),
            Some(&json!({ "attributes": attributes })),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    id
}

/// The person as the API shows them.
async fn jane(app: &TestApp, id: &str) -> Value {
    let r = app.api_get(&format!("/api/v1/subscribers/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Whether `error` is shown right after the field with `id` (before the next input).
fn error_at(page: &str, id: &str, error: &str) -> bool {
    let Some(at) = page.find(&format!("id=\"{id}\"")) else {
        return false;
    };
    let rest = &page[at..];
    let end = rest[1..].find("<input").map_or(rest.len(), |i| i + 1);
    let field = &rest[..end];
    field.contains("aria-invalid=\"true\"")
        && field.contains("field-error")
        && field.contains(error)
}

#[tokio::test]
async fn the_subscriber_page_shows_the_attributes_and_the_import_page_their_columns() {
    let app = TestApp::spawn().await;
    let id = jane_with(&app, json!({})).await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let (status, page) = body(admin.get(&format!("/admin/subscribers/{id}")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No attributes."), "{page}");

    let set = app
        .api_send(
            Method::PATCH,
            &format!("/api/v1/subscribers/{id}"),
            Some(&json!({"attributes": {
                "company": "ACME <Ltd>", "seats": 12, "trial": true, "renews": "2027-01-31"
            }})),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let (_, page) = body(admin.get(&format!("/admin/subscribers/{id}")).await).await;
    assert!(!page.contains("No attributes."));
    for shown in [
        "<td><code>company</code></td><td>ACME &lt;Ltd&gt;</td>",
        "<td><code>seats</code></td><td>12</td>",
        "<td><code>trial</code></td><td>yes</td>",
        "<td><code>renews</code></td><td>2027-01-31</td>",
    ] {
        assert!(page.contains(shown), "{shown} in {page}");
    }

    let (status, import) = body(admin.get("/admin/import").await).await;
    assert_eq!(status, StatusCode::OK);
    for column in ["attr.KEY", ":number", ":boolean", ":date"] {
        assert!(
            import.contains(&format!("<code>{column}</code>")),
            "{column}"
        );
    }
}

#[tokio::test]
async fn attributes_are_changed_added_and_removed_with_the_name_in_one_change() {
    let app = TestApp::spawn().await;
    let id = jane_with(&app, json!({"plan": "pro", "seats": 12, "trial": false})).await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let edit = format!("/admin/subscribers/{id}/edit");
    let (status, form) = body(admin.get(&edit).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("name=\"csrf\""));
    for present in [
        r#"name="attr_key" value="plan""#,
        r#"name="attr_key" value="seats""#,
        r#"name="attr_value" type="text" value="12""#,
        r#"name="attr_value" type="text" value="no""#,
        r#"name="remove" value="trial""#,
        r#"id="new-key-2""#,
    ] {
        assert!(form.contains(present), "{present} in {form}");
    }

    let r = admin
        .post(
            &edit,
            &[
                ("name", "Jane Doe"),
                ("locale", "de"),
                ("attr_key", "plan"),
                ("attr_value", "team"),
                ("attr_kind", "text"),
                ("attr_key", "seats"),
                ("attr_value", "12"),
                ("attr_kind", "number"),
                ("attr_key", "trial"),
                ("attr_value", "no"),
                ("attr_kind", "boolean"),
                ("remove", "trial"),
                ("new_key", "since"),
                ("new_value", "2026-01-31"),
                ("new_kind", "date"),
                ("new_key", "paid"),
                ("new_value", "yes"),
                ("new_kind", "boolean"),
                ("new_key", ""),
                ("new_value", ""),
                ("new_kind", "text"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, page) = body(admin.follow(r).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("The changes to this person are saved."),
        "{page}"
    );
    let s = jane(&app, &id).await;
    assert_eq!(
        s["attributes"],
        json!({"plan": "team", "seats": 12, "since": "2026-01-31", "paid": true})
    );
    assert_eq!(
        (s["name"].as_str(), s["locale"].as_str()),
        (Some("Jane Doe"), Some("de"))
    );

    // Emptying a value removes the attribute; the form without attribute rows still saves.
    let r = admin
        .post(
            &edit,
            &[
                ("name", "Jane Doe"),
                ("locale", "de"),
                ("attr_key", "seats"),
                ("attr_value", ""),
                ("attr_kind", "number"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        jane(&app, &id).await["attributes"],
        json!({"plan": "team", "since": "2026-01-31", "paid": true})
    );
    let r = admin
        .post(&edit, &[("name", "Jane"), ("locale", "en")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s = jane(&app, &id).await;
    assert_eq!(s["name"], "Jane");
    assert_eq!(s["attributes"]["plan"], "team");
}

#[tokio::test]
async fn a_bad_value_or_key_is_shown_at_its_field_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let id = jane_with(&app, json!({"seats": 12, "plan": "pro"})).await;
    let before = jane(&app, &id).await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let edit = format!("/admin/subscribers/{id}/edit");
    let refused = |page: &str| {
        assert!(
            page.contains("Please correct the fields marked below. Nothing was saved."),
            "{page}"
        );
    };

    // A number column with "many", together with a valid name change and a valid new row.
    let r = admin
        .post(
            &edit,
            &[
                ("name", "Changed"),
                ("locale", "de"),
                ("attr_key", "plan"),
                ("attr_value", "team"),
                ("attr_kind", "text"),
                ("attr_key", "seats"),
                ("attr_value", "many"),
                ("attr_kind", "number"),
                ("new_key", "since"),
                ("new_value", "2026-01-31"),
                ("new_kind", "date"),
            ],
        )
        .await;
    let (status, page) = body(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    refused(&page);
    assert!(
        error_at(&page, "attr-value-1", "“many” is not a number."),
        "{page}"
    );
    assert!(!error_at(&page, "attr-value-0", "field-error"));
    assert!(page.contains(r#"value="Changed""#) && page.contains(r#"value="team""#));
    assert_eq!(jane(&app, &id).await, before);

    // A bad key on a new row.
    let r = admin
        .post(
            &edit,
            &[
                ("name", "Changed"),
                ("locale", "en"),
                ("new_key", "Bad Key"),
                ("new_value", "x"),
                ("new_kind", "text"),
            ],
        )
        .await;
    let (status, page) = body(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    refused(&page);
    assert!(
        error_at(&page, "new-key-0", "A key is 1 to 40 of a-z, 0-9 and _"),
        "{page}"
    );
    assert!(page.contains(r#"value="Bad Key""#));
    assert_eq!(jane(&app, &id).await, before);

    // A key in use, a value without a key, a date that is none, a text too long.
    let long = "x".repeat(501);
    let r = admin
        .post(
            &edit,
            &[
                ("name", "Changed"),
                ("locale", "en"),
                ("new_key", "seats"),
                ("new_value", "3"),
                ("new_kind", "number"),
                ("new_key", ""),
                ("new_value", "orphan"),
                ("new_kind", "text"),
                ("new_key", "renews"),
                ("new_value", "2027-02-30"),
                ("new_kind", "date"),
                ("new_key", "note"),
                ("new_value", &long),
                ("new_kind", "text"),
            ],
        )
        .await;
    let (status, page) = body(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error_at(&page, "new-key-0", "This key is used already"),
        "{page}"
    );
    assert!(error_at(&page, "new-key-1", "Enter a key for this value."));
    assert!(error_at(
        &page,
        "new-value-2",
        "“2027-02-30” is not a date written YYYY-MM-DD."
    ));
    assert!(error_at(
        &page,
        "new-value-3",
        "Allowed: a text of at most 500 characters."
    ));
    assert_eq!(jane(&app, &id).await, before);

    // A bad name keeps the attribute changes from being saved too.
    let r = admin
        .post(
            &edit,
            &[
                ("name", &"n".repeat(101)),
                ("locale", "en"),
                ("new_key", "since"),
                ("new_value", "2026-01-31"),
                ("new_kind", "date"),
            ],
        )
        .await;
    let (status, page) = body(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_at(&page, "name", "field-error"), "{page}");
    assert!(page.contains(r#"value="2026-01-31""#));
    assert_eq!(jane(&app, &id).await, before);
}

#[tokio::test]
async fn a_german_user_edits_yes_no_in_german_and_reads_the_errors_in_german() {
    let app = TestApp::spawn().await;
    let id = jane_with(&app, json!({"trial": true})).await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let saved = admin
        .post("/admin/account/language", &[("locale", "de")])
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, page) = body(admin.get(&format!("/admin/subscribers/{id}")).await).await;
    assert!(
        page.contains("<td><code>trial</code></td><td>ja</td>"),
        "{page}"
    );
    let edit = format!("/admin/subscribers/{id}/edit");
    let (_, form) = body(admin.get(&edit).await).await;
    assert!(form.contains(r#"name="attr_value" type="text" value="ja""#));
    let form = |value: &'static str| {
        [
            ("name", ""),
            ("locale", "en"),
            ("attr_key", "trial"),
            ("attr_value", value),
            ("attr_kind", "boolean"),
        ]
    };
    let (status, page) = body(admin.post(&edit, &form("vielleicht")).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error_at(
            &page,
            "attr-value-0",
            "„vielleicht“ ist weder ja noch nein."
        ),
        "{page}"
    );
    assert_eq!(jane(&app, &id).await["attributes"], json!({"trial": true}));
    let r = admin.post(&edit, &form("Nein")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(jane(&app, &id).await["attributes"], json!({"trial": false}));
}

#[tokio::test]
async fn a_viewer_sees_the_attributes_but_cannot_edit_them() {
    let app = TestApp::spawn().await;
    let id = jane_with(&app, json!({"plan": "pro"})).await;
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (status, page) = body(viewer.get(&format!("/admin/subscribers/{id}")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<td><code>plan</code></td><td>pro</td>"));
    assert!(!page.contains(&format!("/admin/subscribers/{id}/edit")));
    let edit = format!("/admin/subscribers/{id}/edit");
    assert_eq!(viewer.get(&edit).await.status(), StatusCode::FORBIDDEN);
    for value in ["team", "many"] {
        let r = viewer
            .post(
                &edit,
                &[
                    ("name", "Changed"),
                    ("locale", "en"),
                    ("attr_key", "plan"),
                    ("attr_value", value),
                    ("attr_kind", "number"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let s = jane(&app, &id).await;
    assert_eq!(s["attributes"], json!({"plan": "pro"}));
    assert_ne!(s["name"], "Changed");
}
