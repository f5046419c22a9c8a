//! The public newsletter archive: sent campaigns marked `archive` on public lists, listed at
//! `/archive`, each on its own page and in its list's Atom feed, with placeholders for every
//! personal value, in the reader's language.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::admin::Admin;
use crate::support::{TestApp, body};

/// Creates `campaign` (the API's JSON), sends it to everyone and marks it sent; its id.
async fn sent(app: &TestApp, campaign: Value) -> String {
    let id = app.start_campaign_with(campaign).await;
    app.deliver_all().await;
    app.run_job("campaigns").await;
    let status = app.api_get(&format!("/api/v1/campaigns/{id}")).await;
    assert_eq!(status.json::<Value>().await.unwrap()["status"], "sent");
    id
}

/// Creates a draft from `campaign` (the API's JSON); its id.
async fn draft(app: &TestApp, campaign: Value) -> String {
    let created = app.api_post("/api/v1/campaigns", &campaign).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A page of the archive as a browser in `language` reads it: status and text.
async fn page_in(app: &TestApp, path: &str, language: &str) -> (StatusCode, String) {
    let response = app
        .http
        .get(app.url(path))
        .header(header::ACCEPT_LANGUAGE, language)
        .send()
        .await
        .unwrap();
    body(response).await
}

/// A public list `weekly` with a confirmed subscriber who has a name and an attribute, and a
/// private list `insiders`.
async fn lists_with_a_reader(app: &TestApp) {
    app.create_list("weekly").await;
    app.create_list_with(json!({
        "slug": "insiders", "name": "Insiders", "kind": "newsletter",
        "legal_basis": "consent", "opt_in": "double", "visibility": "private"
    }))
    .await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let id = app.subscriber("jane@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patched = app
        .api_send(
            Method::PATCH,
            &format!("/api/v1/subscribers/{id}"),
            Some(&json!({"attributes": {"company": "Acme Secret Ltd"}})),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
}

/// The first child element of `node` named `name`.
fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> roxmltree::Node<'a, 'i> {
    node.children()
        .find(|n| n.tag_name().name() == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

const BODY: &str = "# Issue one\n\nHello {{ subscriber.name }} at {{ subscriber.email }} of \
                    {{ subscriber.attributes.company }}.\n\n[Leave]({{ unsubscribe_url }}) · \
                    [Settings]({{ preferences_url }})\n\n<script>alert(1)</script>\n";

#[tokio::test]
async fn a_sent_archived_issue_is_public_with_placeholders_and_in_the_readers_language() {
    let app = TestApp::spawn().await;
    lists_with_a_reader(&app).await;
    let id = sent(
        &app,
        json!({"name": "Issue 1", "lists": ["weekly"], "archive": true,
               "subject": "News for {{ subscriber.name }}", "body_markdown": BODY,
               "translations": {"de": {"subject": "Neuigkeiten für {{ subscriber.name }}",
                                       "body_markdown": "Hallo {{ subscriber.name }}!"}}}),
    )
    .await;
    let mail = app.mailbox().pop().unwrap();
    assert!(
        mail.html_body().contains("Jane Doe"),
        "the mail is personal"
    );

    let (status, index) = page_in(&app, "/archive", "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(index.contains("News for Reader"), "{index}");
    assert!(index.contains(&format!("/archive/{id}")), "{index}");
    assert!(index.contains("/archive/weekly.atom"), "{index}");
    assert!(index.contains(r#"rel="alternate""#), "{index}");

    let (status, page) = page_in(&app, &format!("/archive/{id}"), "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Hello Reader at your e-mail address of ."),
        "{page}"
    );
    assert!(page.contains("<h2>Issue one</h2>"), "{page}");
    for personal in [
        "Jane",
        "jane@example.com",
        "Acme",
        "/unsubscribe/",
        "/preferences/",
        "<script>",
    ] {
        assert!(!page.contains(personal), "{personal} in {page}");
    }
    assert!(page.contains("/subscribe?list=weekly"), "{page}");
    assert!(page.contains("?lang=de"), "a link to the German version");

    let (_, german) = page_in(&app, &format!("/archive/{id}"), "de-DE,de;q=0.9").await;
    assert!(german.contains(r#"lang="de""#), "{german}");
    assert!(german.contains("Hallo Leserin/Leser!"), "{german}");
    assert!(german.contains("Neuigkeiten für Leserin/Leser"), "{german}");
    let (_, asked) = page_in(&app, &format!("/archive/{id}?lang=en"), "de").await;
    assert!(asked.contains("Hello Reader"), "?lang= wins: {asked}");
    let (_, index_de) = page_in(&app, "/archive", "de").await;
    assert!(index_de.contains("Newsletter-Archiv"), "{index_de}");
    assert!(
        index_de.contains("Neuigkeiten für Leserin/Leser"),
        "{index_de}"
    );
}

#[tokio::test]
async fn drafts_unpublished_issues_and_private_lists_stay_out_of_the_archive_and_its_feed() {
    let app = TestApp::spawn().await;
    lists_with_a_reader(&app).await;
    let published = sent(
        &app,
        json!({"name": "P", "lists": ["weekly"], "archive": true,
               "subject": "Published issue", "body_markdown": "Hello {{ subscriber.name }}"}),
    )
    .await;
    let unpublished = sent(
        &app,
        json!({"name": "U", "lists": ["weekly"],
               "subject": "Unpublished issue", "body_markdown": "Hello"}),
    )
    .await;
    let private = sent(
        &app,
        json!({"name": "I", "lists": ["insiders"], "archive": true,
               "subject": "Insider issue", "body_markdown": "Hello"}),
    )
    .await;
    let unsent = draft(
        &app,
        json!({"name": "D", "lists": ["weekly"], "archive": true,
               "subject": "Draft issue", "body_markdown": "Hello"}),
    )
    .await;

    let (_, index) = page_in(&app, "/archive", "en").await;
    assert!(index.contains("Published issue"), "{index}");
    let (_, unknown) = page_in(&app, "/archive/0190c2a4-0000-7000-8000-000000000000", "en").await;
    for hidden in [&unpublished, &private, &unsent] {
        assert!(!index.contains(hidden.as_str()), "{hidden} listed: {index}");
        let (status, page) = page_in(&app, &format!("/archive/{hidden}"), "en").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(page, unknown, "the same page as an unknown id");
    }
    for name in [
        "Unpublished issue",
        "Insider issue",
        "Draft issue",
        "Insiders",
    ] {
        assert!(!index.contains(name), "{name} listed: {index}");
    }
    assert_eq!(
        app.get("/archive/not-an-id").await.status(),
        StatusCode::NOT_FOUND
    );

    let feed = app.get("/archive/weekly.atom").await;
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(
        feed.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let text = feed.text().await.unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "feed");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2005/Atom")
    );
    for required in ["id", "title", "updated", "author"] {
        child(root, required);
    }
    let entries: Vec<_> = root
        .children()
        .filter(|n| n.tag_name().name() == "entry")
        .collect();
    assert_eq!(entries.len(), 1, "{text}");
    let entry = entries[0];
    assert_eq!(
        child(entry, "id").text(),
        Some(format!("urn:uuid:{published}").as_str())
    );
    assert_eq!(child(entry, "title").text(), Some("Published issue"));
    assert!(child(entry, "updated").text().is_some());
    let href = child(entry, "link").attribute("href").unwrap();
    assert!(href.ends_with(&format!("/archive/{published}")), "{href}");
    let content = child(entry, "content");
    assert_eq!(content.attribute("type"), Some("html"));
    assert!(content.text().unwrap().contains("Hello Reader"), "{text}");
    assert!(!text.contains("Jane"), "{text}");

    for closed in ["/archive/insiders.atom", "/archive/nope.atom"] {
        assert_eq!(app.get(closed).await.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_api_sets_and_shows_archive_and_a_copy_keeps_it() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let base = json!({"name": "N", "subject": "S", "body_markdown": "B", "lists": ["weekly"]});
    let plain = draft(&app, base.clone()).await;
    let shown = |id: String| {
        let app = &app;
        async move {
            app.api_get(&format!("/api/v1/campaigns/{id}"))
                .await
                .json::<Value>()
                .await
                .unwrap()["archive"]
                .clone()
        }
    };
    assert_eq!(shown(plain.clone()).await, json!(false), "off by default");

    let mut bad = base.clone();
    bad["archive"] = json!("yes");
    let refused = app.api_post("/api/v1/campaigns", &bad).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("archive"));

    let patched = app
        .api_send(
            Method::PATCH,
            &format!("/api/v1/campaigns/{plain}"),
            Some(&json!({"archive": true})),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    assert_eq!(patched.json::<Value>().await.unwrap()["archive"], true);
    let copy: Value = app
        .api_post(&format!("/api/v1/campaigns/{plain}/duplicate"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(copy["archive"], true, "a copy starts as the original was");

    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let done = sent(&app, base.clone()).await;
    assert_eq!(shown(done.clone()).await, json!(false));
    let with_more = app
        .api_send(
            Method::PATCH,
            &format!("/api/v1/campaigns/{done}"),
            Some(&json!({"archive": true, "name": "Renamed"})),
        )
        .await;
    assert_eq!(with_more.status(), StatusCode::CONFLICT, "a sent campaign");
    let alone = app
        .api_send(
            Method::PATCH,
            &format!("/api/v1/campaigns/{done}"),
            Some(&json!({"archive": true})),
        )
        .await;
    assert_eq!(alone.status(), StatusCode::OK, "the flag alone changes");
    assert_eq!(shown(done.clone()).await, json!(true));
    assert_eq!(
        app.get(&format!("/archive/{done}")).await.status(),
        StatusCode::OK
    );
    assert!(app.audit_text().await.contains("campaign.archive"));
}

#[tokio::test]
async fn the_composer_ticks_archive_and_the_campaign_page_takes_it_off() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let admin = Admin::with_role(&app, bulletin::domain::Role::Marketer).await;
    let (_, composer) = body(admin.get("/admin/campaigns/new").await).await;
    assert!(composer.contains(r#"name="archive""#), "{composer}");
    assert!(composer.contains("Publish in the public archive"));

    let form = [
        ("name", "Composed"),
        ("subject", "Hello"),
        ("body_markdown", "Hello {{ subscriber.name }}"),
        ("list", "weekly"),
        ("archive", "yes"),
    ];
    let created = admin.post("/admin/campaigns", &form).await;
    assert!(created.status().is_redirection(), "{}", created.status());
    let campaigns: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    let id = campaigns["campaigns"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(campaigns["campaigns"][0]["archive"], true);

    let (_, review) = body(admin.get(&format!("/admin/campaigns/{id}/review")).await).await;
    assert!(review.contains("Published once sent"), "{review}");
    let (_, edit) = body(admin.get(&format!("/admin/campaigns/{id}/edit")).await).await;
    assert!(
        edit.contains(r#"name="archive" value="yes" checked"#),
        "{edit}"
    );
    let unticked = admin
        .post(&format!("/admin/campaigns/{id}/edit"), &form[..4])
        .await;
    assert!(unticked.status().is_redirection());
    let shown: Value = app
        .api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["archive"], false, "an unticked box is off");

    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let done = sent(
        &app,
        json!({"name": "S", "subject": "Sent one", "body_markdown": "B",
               "lists": ["weekly"], "archive": true}),
    )
    .await;
    let (_, page) = body(admin.get(&format!("/admin/campaigns/{done}")).await).await;
    assert!(
        page.contains(&format!(r#"href="/archive/{done}""#)),
        "{page}"
    );
    assert!(page.contains("Take off the public archive"), "{page}");
    let off = admin
        .post(&format!("/admin/campaigns/{done}/unpublish"), &[])
        .await;
    assert!(off.status().is_redirection(), "{}", off.status());
    assert_eq!(
        app.get(&format!("/archive/{done}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let (_, index) = body(app.get("/archive").await).await;
    assert!(!index.contains("Sent one"), "{index}");
}
