//! Bulletin's DKIM signatures, checked by an independent verifier: dkimpy (Debian
//! `python3-dkim`, which `.ci/run` installs), against the DNS record Bulletin prints, for
//! each kind of message. Without dkimpy the test says SKIPPED and passes.

use std::{io::Write, process::Stdio};

use serde_json::json;

use bulletin::domain::Role;
use reqwest::StatusCode;

use crate::{
    admin::create_user,
    admin_login::ask_reset,
    customers::{catalogue, customer},
    support::{TestApp, link, smtp::ReceivedMail},
};

const PYTHON: &str = "/usr/bin/python3";

/// The verifier: reads a message on standard input, answers DNS from `DKIM_RECORD`.
const VERIFY: &str = r#"
import os, sys, dkim
record = os.environ["DKIM_RECORD"].encode()
message = sys.stdin.buffer.read()
def dns(name, timeout=5):
    return record if name == os.environ["DKIM_NAME"].encode() + b"." or name == os.environ["DKIM_NAME"].encode() else None
print("pass" if dkim.verify(message, dnsfunc=dns) else "fail")
"#;

fn dkimpy_missing() -> bool {
    !std::process::Command::new(PYTHON)
        .args(["-c", "import dkim, nacl"])
        .status()
        .is_ok_and(|s| s.success())
}

/// dkimpy's verdict on `message` with `record` published at `name`.
fn verify(message: &str, (name, record): (&str, &str)) -> String {
    let mut child = std::process::Command::new(PYTHON)
        .args(["-c", VERIFY])
        .env("DKIM_RECORD", record)
        .env("DKIM_NAME", name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

/// Sends a confirmation, a welcome and a campaign mail through a server signing with
/// `key_pem`; checks every message with dkimpy against `record`.
async fn every_kind_verifies(key_pem: String, record: (&str, &str), algorithm: &str) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dkim.pem");
    std::fs::write(&key_file, key_pem).unwrap();
    let app = TestApp::spawn_with(|s| {
        s.mail.dkim = Some(bulletin::config::DkimSettings {
            domain: "example.com".to_owned(),
            selector: "bulletin".to_owned(),
            key_pem: std::fs::read_to_string(&key_file).unwrap().into(),
        });
        // The mailto: in List-Unsubscribe is signed with the rest.
        s.mail.bounce_domain = Some("bounces.example.com".to_owned());
        // A Reply-To (not among the signed fields) leaves every signature valid.
        s.mail.reply_to = bulletin::domain::EmailAddress::parse("help@desk.example").ok();
    })
    .await;
    app.create_list("weekly").await;
    assert_eq!(
        app.sign_up("jane@example.com", "weekly").await.status(),
        reqwest::StatusCode::OK
    );
    let confirmation = app.deliver_and_take().await.pop().unwrap();
    app.post_form(&link(&confirmation, "/confirm/"), &[]).await;
    let welcome = app.deliver_and_take().await;
    // A paragraph over 998 octets: the HTML part goes folded at its spaces, the text part
    // quoted-printable; both are signed as sent.
    let body = format!(
        "Hello *there*, with a line long enough to be folded by quoted-printable or \
         base64 encoding in the message body, and non-ASCII: äöü ß €.\n\n{}",
        "A long paragraph, written as one line. ".repeat(40)
    );
    let campaign = json!({"name": "News", "subject": "Grüße aus Köln", "body_markdown": body,
        "lists": ["weekly"]});
    app.start_campaign_with(campaign).await;
    app.deliver_all().await;
    let campaign = app.smtp.take_messages();
    let html_part = campaign[0]
        .data
        .split("Content-Type: text/html")
        .nth(1)
        .unwrap();
    let headers = html_part.split("\r\n\r\n").next().unwrap();
    assert!(
        headers.contains("Content-Transfer-Encoding: 8bit"),
        "{html_part}"
    );
    assert!(html_part.split("\r\n").all(|l| l.len() <= 998));
    let mut all = vec![confirmation];
    all.extend(welcome);
    all.extend(campaign);
    all.extend(other_kinds(&app).await);
    let kinds: Vec<String> = all.iter().map(|m| m.header("Subject").unwrap()).collect();
    assert_eq!(
        all.len(),
        7,
        "confirmation, campaign, test send, privacy link, address change, notice, password \
         reset: {kinds:?}"
    );
    for mail in &all {
        let signature = mail.header("DKIM-Signature").expect("signed");
        assert_eq!(
            mail.header("Reply-To").as_deref(),
            Some("help@desk.example")
        );
        assert!(signature.contains(&format!("a={algorithm}")), "{signature}");
        assert!(signature.contains("c=relaxed/relaxed"), "{signature}");
        assert!(signature.contains("d=example.com"), "{signature}");
        for field in [
            "from",
            "to",
            "subject",
            "date",
            "message-id",
            "mime-version",
        ] {
            assert!(signature.contains(field), "{field} not signed: {signature}");
        }
        for (header, signed) in [
            ("List-Unsubscribe", "list-unsubscribe"),
            ("List-Unsubscribe-Post", "list-unsubscribe-post"),
            ("List-Id", "list-id"),
            ("Feedback-ID", "feedback-id"),
            ("Reply-To", "reply-to"),
        ] {
            if mail.header(header).is_some() {
                assert!(
                    signature.contains(signed),
                    "{signed} not signed: {signature}"
                );
            }
        }
        assert_eq!(verify(&mail.data, record), "pass", "{}", mail.data);
        // Any change to a signed header breaks it.
        let altered = mail.data.replacen("Subject: ", "Subject: Re: ", 1);
        assert_eq!(verify(&altered, record), "fail");
    }
}

/// One message of each remaining kind: a test send, the privacy link, an address change, a
/// product change notice and a password reset.
async fn other_kinds(app: &TestApp) -> Vec<ReceivedMail> {
    let mut mails = Vec::new();
    let draft = app
        .api_post(
            "/api/v1/campaigns",
            &json!({"name": "Draft", "subject": "Draft", "body_markdown": "Hi",
                    "lists": ["weekly"]}),
        )
        .await;
    let id = draft.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let test = app
        .api_post(
            &format!("/api/v1/campaigns/{id}/test"),
            &json!({"emails": ["qa@example.com"]}),
        )
        .await;
    assert_eq!(test.status(), StatusCode::OK);
    mails.extend(app.smtp.take_messages());

    app.post_form("/privacy", &[("email", "jane@example.com")])
        .await;
    let privacy = app.deliver_and_take().await.pop().unwrap();
    let page = link(&privacy, "/privacy/");
    mails.push(privacy);
    app.post_form(&format!("{page}/address"), &[("email", "jane@example.net")])
        .await;
    mails.extend(app.deliver_and_take().await);

    catalogue(app).await;
    customer(app, "buyer@example.com", &["LM317"], "en").await;
    let notice = json!({
        "kind": "pcn", "title": "New mould compound", "affected_parts": ["LM317"],
        "change_category": "material", "description_before": "A", "description_after": "B",
        "reason": "Supplier change",
        "impact": {"form": "none", "fit": "none", "function": "none", "quality": "none",
                   "reliability": "none"},
        "effective_date": (app.clock.now().date_naive() + chrono::Duration::days(120)).to_string(),
    });
    let created = app.api_post("/api/v1/notices", &notice).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = app
        .api_post(&format!("/api/v1/notices/{id}/send"), &json!({}))
        .await;
    assert!(sent.status().is_success());
    mails.extend(app.deliver_and_take().await);

    create_user(app, "owner@staff.example.com", Role::Admin).await;
    ask_reset(app, "owner@staff.example.com").await;
    mails.extend(
        app.smtp
            .wait_for_messages(1, std::time::Duration::from_secs(10))
            .await,
    );
    mails
}

/// `bulletin dkim keygen`: the key it wrote and the record it printed (name, value).
fn keygen(dir: &std::path::Path, algorithm: &str) -> (String, String, String) {
    let out = dir.join(format!("{algorithm}.pem"));
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_bulletin"))
            .args([
                "dkim",
                "keygen",
                "--domain",
                "example.com",
                "--selector",
                "bulletin",
            ])
            .args(["--algorithm", algorithm, "--out"])
            .arg(&out)
            .env("BULLETIN__DATA__DIR", dir)
            .output()
            .unwrap()
    };
    let made = run();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&out).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "only its owner may read the key");
    assert!(
        !run().status.success(),
        "an existing key is never overwritten"
    );
    // `NAME. IN TXT "part" "part"`: the parts joined are the record.
    let printed = String::from_utf8(made.stdout).unwrap();
    let (name, rest) = printed.trim().split_once(". IN TXT ").unwrap();
    let value: String = rest.split('"').skip(1).step_by(2).collect();
    (
        std::fs::read_to_string(&out).unwrap(),
        name.to_owned(),
        value,
    )
}

#[tokio::test]
async fn keys_from_bulletin_dkim_keygen_sign_every_kind_as_an_independent_verifier_checks() {
    if dkimpy_missing() {
        eprintln!(
            "SKIPPED dkim test: {PYTHON} with the dkim and nacl modules (Debian python3-dkim) is missing"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (algorithm, tag) in [("ed25519", "ed25519-sha256"), ("rsa", "rsa-sha256")] {
        let (key, name, record) = keygen(dir.path(), algorithm);
        assert_eq!(name, "bulletin._domainkey.example.com");
        assert!(
            record.starts_with(&format!("v=DKIM1; k={algorithm}; p=")),
            "{record}"
        );
        every_kind_verifies(key, (&name, &record), tag).await;
    }
}
