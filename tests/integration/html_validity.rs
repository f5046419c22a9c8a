//! Every admin page, preview and public page is one valid HTML document, as the W3C Nu HTML
//! Checker (vnu) judges it. The checker is a Java program installed by `.ci/run` with npm
//! (`target/vnu`); without it (or without Java) the test says so and passes.

use std::path::PathBuf;

use bulletin::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    admin::Admin,
    admin_language::pages_with_data,
    support::{TestApp, body, link, list_unsubscribe_url},
};

/// Where vnu is, if it and Java are installed.
fn checker() -> Option<PathBuf> {
    let jar = std::env::var_os("BULLETIN_VNU").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/vnu/node_modules/vnu-jar/build/dist/vnu.jar")
        },
        PathBuf::from,
    );
    let java = std::process::Command::new("java").arg("-version").output();
    if !jar.is_file() || java.is_err() {
        eprintln!(
            "SKIPPED html test: the W3C checker is not installed ({}; `bash .ci/run` installs it)",
            jar.display()
        );
        return None;
    }
    Some(jar)
}

/// E-mail HTML keeps the table attributes (`cellpadding`, `border`, `width` …) that Outlook
/// and older clients need and HTML5 calls obsolete, and Outlook's own CSS (`mso-hide`); in
/// the previews of e-mails those are the only complaints allowed.
fn allowed_in_mail(message: &str) -> bool {
    message.contains("is obsolete")
        || message.contains("Use CSS instead")
        || message.starts_with("CSS: \u{201c}mso-")
}

#[tokio::test]
async fn every_admin_page_preview_and_public_page_is_valid_html() {
    let Some(jar) = checker() else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut pages = pages_with_data(&app).await;
    let campaigns: Value = app.api_get("/api/v1/campaigns").await.json().await.unwrap();
    let mut previews = vec![
        "/admin/templates/en/campaign.html/preview".to_owned(),
        "/admin/templates/de/campaign_letter.html/preview".to_owned(),
        "/admin/templates/en/confirmation.html/preview".to_owned(),
        "/admin/templates/de/notice.html/preview".to_owned(),
        "/admin/campaigns/preview-draft".to_owned(),
    ];
    for c in campaigns["campaigns"].as_array().unwrap() {
        previews.push(format!(
            "/admin/campaigns/{}/preview",
            c["id"].as_str().unwrap()
        ));
    }
    pages.extend(previews.iter().cloned());
    let admin = Admin::with_role(&app, Role::Admin).await;

    let dir = std::env::temp_dir().join(format!("bulletin-vnu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut save = |name: String, html: String| {
        let file = dir.join(format!("{:03}-{}.html", files.len(), name));
        std::fs::write(&file, html).unwrap();
        files.push((file, name));
    };
    for path in &pages {
        let (status, page) = body(admin.get(path).await).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        save(path.replace('/', "_"), page);
    }
    // The public archive, with an issue that has what Markdown makes (headings, a table, a
    // link, an image) and raw HTML, which the archive shows as text.
    let issue = app
        .start_campaign_with(serde_json::json!({
            "name": "Archived", "lists": ["weekly"], "archive": true,
            "subject": "Issue for {{ subscriber.name }}",
            "body_markdown": "# Head\n\n## Sub\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n\
                              [link](https://example.com) ![logo](https://example.com/l.png)\n\n\
                              <div><table><tr><td>raw</td></tr></table></div>\n",
            "translations": {"de": {"subject": "Ausgabe", "body_markdown": "Hallo"}}
        }))
        .await;
    app.deliver_all().await;
    app.run_job("campaigns").await;
    let archive_pages = [
        ("archive", app.url("/archive")),
        ("archive-issue", app.url(&format!("/archive/{issue}"))),
        (
            "archive-issue-de",
            app.url(&format!("/archive/{issue}?lang=de")),
        ),
    ];
    // The public pages a person reaches from the mails.
    let mail = app
        .mailbox()
        .into_iter()
        .find(|m| m.data.contains("List-Unsubscribe"))
        .expect("the campaign's mail");
    for (name, url) in [
        ("subscribe", app.url("/subscribe?list=weekly")),
        ("privacy", app.url("/privacy")),
        ("privacy-notice", app.url("/privacy-notice")),
        ("unsubscribe", list_unsubscribe_url(&mail)),
        ("preferences", link(&mail, "/preferences/")),
    ]
    .into_iter()
    .chain(archive_pages)
    {
        let (status, page) = body(app.get(&url).await).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        save(name.to_owned(), page);
    }

    let out = std::process::Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--format", "json", "--exit-zero-always"])
        .args(files.iter().map(|(f, _)| f))
        .output()
        .expect("java runs");
    let report: Value = serde_json::from_slice(&out.stderr)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let mut errors = Vec::new();
    for m in report["messages"].as_array().unwrap() {
        // `error`, or `non-document-error` (a page the checker could not read); never `info`.
        if m["type"] == "info" {
            continue;
        }
        let url = m["url"].as_str().unwrap_or_default();
        let (_, name) = files
            .iter()
            .find(|(f, _)| url.ends_with(&*f.file_name().unwrap().to_string_lossy()))
            .map_or(("", url), |(_, n)| ("", n.as_str()));
        let message = m["message"].as_str().unwrap_or_default();
        let is_mail = name.contains("preview");
        if is_mail && allowed_in_mail(message) {
            continue;
        }
        errors.push(format!(
            "{name} line {}: {message}",
            m["lastLine"].as_u64().unwrap_or(0)
        ));
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        files.len() > 40,
        "the check covers the pages ({})",
        files.len()
    );
    assert!(errors.is_empty(), "not valid HTML: {errors:#?}");
}
