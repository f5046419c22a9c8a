//! Segments in the admin UI: a filter built row by row with the form's buttons (add, count,
//! save) and counted as the API counts it; a refused row shown beside it with nothing saved;
//! a filter the rows cannot show edited as JSON; read-only for a viewer; deletion refused
//! while a draft campaign uses the segment.

use bulletin::domain::Role;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{
    admin::Admin,
    support::{TestApp, body},
};

/// Three confirmed people on `weekly`: Ann (pro, German), Bob (pro, English), Cid (free,
/// German).
async fn people(app: &TestApp) {
    app.create_list("weekly").await;
    for (email, plan, locale) in [
        ("ann@example.com", "pro", "de"),
        ("bob@example.com", "pro", "en"),
        ("cid@example.com", "free", "de"),
    ] {
        app.confirmed_subscriber(email, "weekly").await;
        let id = app.subscriber(email).await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let patch = json!({"locale": locale, "attributes": {"plan": plan, "seats": 3}});
        let path = format!("/api/v1/subscribers/{id}");
        let patched = app.api_send(Method::PATCH, &path, Some(&patch)).await;
        assert_eq!(patched.status(), StatusCode::OK);
    }
}

/// The form's fields for `rows`, each (field, key, op, kind, value), and the button `action`.
fn form<'a>(name: &'a str, rows: &[[&'a str; 5]], action: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut out = vec![("name", name), ("match", "all"), ("do", action)];
    for row in rows {
        for (input, value) in ["field", "key", "op", "kind", "value"].iter().zip(row) {
            out.push((*input, *value));
        }
    }
    out
}

/// The HTML of the form's condition `n` (from 1).
fn condition(page: &str, n: usize) -> &str {
    let start = page
        .find(&format!("<legend>Condition {n}</legend>"))
        .unwrap_or_else(|| panic!("no condition {n}: {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</fieldset>").unwrap()]
}

async fn segments(app: &TestApp) -> Vec<Value> {
    let all: Value = app.api_get("/api/v1/segments").await.json().await.unwrap();
    all["segments"].as_array().unwrap().clone()
}

async fn api_segment(app: &TestApp, name: &str, filter: Value) -> String {
    let made = app
        .api_post("/api/v1/segments", &json!({"name": name, "filter": filter}))
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    made["id"].as_str().unwrap().to_owned()
}

/// A segment of two conditions, one negated, for the pages that show every admin page: its
/// id.
pub(crate) async fn example_segment(app: &TestApp) -> String {
    let filter = json!({"all": [
        {"attribute": "plan", "op": "eq", "value": "pro"},
        {"not": {"locale": "de"}},
    ]});
    api_segment(app, "Pro, not German", filter).await
}

#[tokio::test]
async fn a_segment_is_built_row_by_row_counted_as_the_api_counts_and_saved() {
    let app = TestApp::spawn().await;
    people(&app).await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let (status, page) = body(admin.get("/admin/segments/new").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("name=\"field\"").count(), 1, "{page}");

    let plan = ["attribute", "plan", "eq", "text", "pro"];
    let added = admin
        .post("/admin/segments", &form("German pros", &[plan], "add"))
        .await;
    let (status, page) = body(added).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("name=\"field\"").count(), 2, "{page}");
    assert!(condition(&page, 1).contains("value=\"pro\""), "{page}");
    assert!(
        segments(&app).await.is_empty(),
        "adding a row saves nothing"
    );

    let language = ["language", "", "eq", "text", "de"];
    let counted = admin
        .post(
            "/admin/segments",
            &form("German pros", &[plan, language], "count"),
        )
        .await;
    let (status, page) = body(counted).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("1 person matches now"), "{page}");
    assert!(segments(&app).await.is_empty(), "counting saves nothing");

    let saved = admin
        .post(
            "/admin/segments",
            &form("German pros", &[plan, language], "save"),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (status, page) = body(admin.follow(saved).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("The segment “German pros” is saved."),
        "{page}"
    );
    let all = segments(&app).await;
    assert_eq!(all.len(), 1);
    assert_eq!(
        all[0]["filter"],
        json!({"all": [{"attribute": "plan", "op": "eq", "value": "pro"}, {"locale": "de"}]})
    );
    let id = all[0]["id"].as_str().unwrap();
    let count: Value = app
        .api_get(&format!("/api/v1/segments/{id}/count"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count["total"], 1);
    assert!(page.contains("1 person matches now"), "{page}");
    assert!(condition(&page, 2).contains("value=\"de\""), "{page}");

    // Changed on its page: any of the two conditions (Ann, Bob and Cid).
    let mut any = form("German pros", &[plan, language], "save");
    any[1] = ("match", "any");
    let changed = admin.post(&format!("/admin/segments/{id}"), &any).await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let (_, page) = body(admin.follow(changed).await).await;
    assert!(page.contains("3 people match now"), "{page}");
    let (_, index) = body(admin.get("/admin/segments").await).await;
    assert!(index.contains(&format!("href=\"/admin/segments/{id}\">German pros</a>")));
    assert!(app.audit_text().await.contains("segment.update"));
}

#[tokio::test]
async fn a_refused_row_is_shown_beside_it_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    people(&app).await;
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let language = ["language", "", "eq", "text", "de"];
    for (bad, said) in [
        (
            ["attribute", "seats", "gt", "text", "many"],
            "must be a number or a date",
        ),
        (
            ["attribute", "Plan!", "eq", "text", "pro"],
            "must be an attribute key",
        ),
        (
            ["attribute", "seats", "gt", "number", "many"],
            "Write a number",
        ),
        (
            ["list", "", "eq", "text", "no-such-list"],
            "there is no list",
        ),
    ] {
        for action in ["count", "save"] {
            let refused = admin
                .post(
                    "/admin/segments",
                    &form("Refused", &[language, bad], action),
                )
                .await;
            let (status, page) = body(refused).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
            let second = condition(&page, 2);
            assert!(second.contains(said), "{bad:?}: {second}");
            assert!(second.contains("aria-invalid=\"true\""), "{second}");
            assert!(!condition(&page, 1).contains("aria-invalid"), "{page}");
            assert!(!page.contains("match now"), "no count: {page}");
        }
    }
    // A refused name is shown beside the name.
    let unnamed = admin
        .post("/admin/segments", &form(" ", &[language], "save"))
        .await;
    let (status, page) = body(unnamed).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("must not be empty"), "{page}");
    assert!(segments(&app).await.is_empty(), "nothing saved");

    // Removing the refused row leaves the good one.
    let bad = ["attribute", "seats", "gt", "text", "many"];
    let removed = admin
        .post(
            "/admin/segments",
            &form("Refused", &[language, bad], "remove-1"),
        )
        .await;
    let (status, page) = body(removed).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("name=\"field\"").count(), 1, "{page}");
    assert!(condition(&page, 1).contains("value=\"de\""), "{page}");
}

#[tokio::test]
async fn a_filter_the_rows_cannot_show_is_shown_and_saved_as_json() {
    let app = TestApp::spawn().await;
    people(&app).await;
    let admin = Admin::with_role(&app, Role::Admin).await;
    let nested = json!({"all": [{"any": [{"locale": "de"}, {"list": "weekly"}]}]});
    let id = api_segment(&app, "Nested", nested).await;
    let page_path = format!("/admin/segments/{id}");
    let (status, page) = body(admin.get(&page_path).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("groups inside groups"), "{page}");
    assert!(!page.contains("name=\"field\""), "no rows: {page}");
    assert!(page.contains("&quot;any&quot;"), "the JSON: {page}");
    assert!(page.contains("3 people match now"), "{page}");

    let not_json = [
        ("name", "Nested"),
        ("filter_json", "{"),
        ("do", "json-save"),
    ];
    let (status, page) = body(admin.post(&page_path, &not_json).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("This is not JSON"), "{page}");
    let refused = r#"{"all": [{"any": [{"locale": "xx"}]}]}"#;
    let refused = [
        ("name", "Nested"),
        ("filter_json", refused),
        ("do", "json-save"),
    ];
    let (status, page) = body(admin.post(&page_path, &refused).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("filter.all[0].any[0].locale"), "{page}");

    let changed = r#"{"all": [{"any": [{"locale": "en"}, {"attribute": "plan", "op": "eq", "value": "free"}]}]}"#;
    let changed = [
        ("name", "Nested"),
        ("filter_json", changed),
        ("do", "json-save"),
    ];
    let saved = admin.post(&page_path, &changed).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, page) = body(admin.follow(saved).await).await;
    assert!(page.contains("2 people match now"), "Bob and Cid: {page}");
    let stored = &segments(&app).await[0]["filter"];
    assert_eq!(stored["all"][0]["any"][0], json!({"locale": "en"}));
}

#[tokio::test]
async fn a_viewer_sees_segments_but_cannot_change_them() {
    let app = TestApp::spawn().await;
    people(&app).await;
    let id = api_segment(
        &app,
        "Pros",
        json!({"attribute": "plan", "op": "eq", "value": "pro"}),
    )
    .await;
    let viewer = Admin::with_role(&app, Role::Viewer).await;
    let (status, index) = body(viewer.get("/admin/segments").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        index.contains("Pros") && !index.contains("New segment"),
        "{index}"
    );
    let (status, page) = body(viewer.get(&format!("/admin/segments/{id}")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("2 people match now"), "{page}");
    assert!(page.contains("<fieldset disabled>"), "{page}");
    assert!(
        !page.contains("value=\"save\"") && !page.contains("/delete"),
        "{page}"
    );

    let rows = [["attribute", "plan", "eq", "text", "free"]];
    let page_path = format!("/admin/segments/{id}");
    let delete_path = format!("{page_path}/delete");
    for (path, fields) in [
        (page_path.as_str(), form("Pros", &rows, "save")),
        ("/admin/segments", form("Mine", &rows, "save")),
        (delete_path.as_str(), vec![]),
    ] {
        let refused = viewer.post(path, &fields).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let new = viewer.get("/admin/segments/new").await;
    assert_eq!(new.status(), StatusCode::FORBIDDEN);
    let all = segments(&app).await;
    assert_eq!((all.len(), &all[0]["filter"]["value"]), (1, &json!("pro")));
}

#[tokio::test]
async fn a_segment_a_draft_campaign_uses_is_deleted_only_after_the_campaign_is_gone() {
    let app = TestApp::spawn().await;
    people(&app).await;
    let id = api_segment(&app, "German", json!({"locale": "de"})).await;
    let draft = json!({"name": "Draft", "subject": "Soon", "body_markdown": "Hello",
                       "lists": ["weekly"], "segment": id});
    let draft: Value = app
        .api_post("/api/v1/campaigns", &draft)
        .await
        .json()
        .await
        .unwrap();
    let draft = draft["id"].as_str().unwrap();
    let admin = Admin::with_role(&app, Role::Marketer).await;
    let delete = format!("/admin/segments/{id}/delete");
    let (status, question) = body(admin.get(&delete).await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        question.contains("Delete the segment “German”"),
        "{question}"
    );

    let (status, page) = body(admin.post(&delete, &[]).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        page.contains("The campaign “Draft” uses this segment"),
        "{page}"
    );
    assert_eq!(segments(&app).await.len(), 1);

    let gone = app
        .api_send(Method::DELETE, &format!("/api/v1/campaigns/{draft}"), None)
        .await;
    assert!(gone.status().is_success());
    let deleted = admin.post(&delete, &[]).await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(deleted.headers()[header::LOCATION], "/admin/segments");
    let (_, index) = body(admin.follow(deleted).await).await;
    assert!(
        index.contains("The segment “German” is deleted."),
        "{index}"
    );
    assert!(segments(&app).await.is_empty());
    let page = admin.get(&format!("/admin/segments/{id}")).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
}
