//! What the relay's refusals say about an address, by their enhanced status codes (RFC 3463):
//! hard bounces suppress, soft bounces only in a row, policy refusals never (and pause a
//! campaign when they keep coming).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

/// Signs `email` up for `list` and confirms it.
async fn confirmed(app: &TestApp, email: &str, list: &str) {
    app.confirmed_subscriber(email, list).await;
    app.deliver_and_take().await;
}

async fn campaign(app: &TestApp, id: &str) -> Value {
    app.api_get(&format!("/api/v1/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_policy_refusal_is_counted_as_blocked_and_leaves_the_subscriber_mailable() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "jane@example.com", "weekly").await;
    app.smtp.fail_next_rcpt(1, "550 5.7.1 Relaying denied");
    let id = app.start_campaign("weekly").await;
    assert_eq!(app.deliver_all().await.failed, 1);
    let counts = &campaign(&app, &id).await["counts"];
    assert_eq!(
        (counts["blocked"].as_u64(), counts["bounced"].as_u64()),
        (Some(1), Some(0))
    );
    // Still mailable: the next campaign reaches her.
    app.start_campaign("weekly").await;
    assert_eq!(app.deliver_all().await.sent, 1);
}

#[tokio::test]
async fn an_unknown_mailbox_is_a_hard_bounce_counted_and_suppressed() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "gone@example.com", "weekly").await;
    app.smtp
        .fail_next_rcpt(1, "550 5.1.1 <gone@example.com>: User unknown");
    let id = app.start_campaign("weekly").await;
    assert_eq!(app.deliver_all().await.failed, 1);
    assert_eq!(campaign(&app, &id).await["counts"]["bounced"], 1);
    app.start_campaign("weekly").await;
    assert_eq!(app.deliver_all().await.suppressed, 1, "never mailed again");
}

#[tokio::test]
async fn a_full_mailbox_suppresses_only_after_three_soft_bounces_in_a_row() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "full@example.com", "weekly").await;
    for round in 1..=3 {
        app.smtp.fail_next_rcpt(1, "552 5.2.2 Mailbox full");
        app.start_campaign("weekly").await;
        assert_eq!(
            app.deliver_all().await.failed,
            1,
            "round {round}: still tried"
        );
    }
    app.start_campaign("weekly").await;
    assert_eq!(
        app.deliver_all().await.suppressed,
        1,
        "suppressed after the third"
    );
}

#[tokio::test]
async fn a_delivery_between_soft_bounces_starts_the_count_again() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "full@example.com", "weekly").await;
    for fail in [true, true, false, true, true] {
        if fail {
            app.smtp.fail_next_rcpt(1, "552 5.2.2 Mailbox full");
            app.start_campaign("weekly").await;
            assert_eq!(app.deliver_all().await.failed, 1);
        } else {
            app.start_campaign("weekly").await;
            assert_eq!(app.deliver_all().await.sent, 1);
        }
        app.advance(chrono::Duration::minutes(1));
    }
    app.start_campaign("weekly").await;
    assert_eq!(
        app.deliver_all().await.sent,
        1,
        "two in a row since the delivery: still mailable"
    );
}

#[tokio::test]
async fn policy_refusals_in_a_row_pause_the_campaign() {
    let app = TestApp::spawn_with(|s| s.delivery.pause_after_failures = 3).await;
    app.create_list("weekly").await;
    for n in 0..5 {
        confirmed(&app, &format!("p{n}@example.com"), "weekly").await;
    }
    app.smtp
        .fail_next_rcpt(5, "554 5.7.1 Service unavailable; client host blocked");
    let id = app.start_campaign("weekly").await;
    app.deliver_all().await;
    let c = campaign(&app, &id).await;
    assert_eq!(c["status"], "paused", "{c}");
    assert!(
        c["paused_reason"]
            .as_str()
            .unwrap()
            .contains("policy refusals"),
        "{c}"
    );
}

/// `DELETE /api/v1/suppressions/{id}` with `token` and `body`.
async fn lift(app: &TestApp, token: &str, id: &str, body: Option<Value>) -> StatusCode {
    let mut request = app
        .http
        .delete(app.url(&format!("/api/v1/suppressions/{id}")))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn suppressions_can_be_seen_added_and_lifted_by_an_admin_with_a_note() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "gone@example.com", "weekly").await;
    app.smtp.fail_next_rcpt(1, "550 5.1.1 User unknown");
    app.start_campaign("weekly").await;
    app.deliver_all().await;

    let listing: Value = app
        .api_get("/api/v1/suppressions")
        .await
        .json()
        .await
        .unwrap();
    let all = listing["suppressions"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{listing}");
    let bounce = &all[0];
    assert_eq!(bounce["reason"], "hard_bounce");
    assert_eq!(bounce["email"], "gone@example.com");
    assert!(
        bounce["detail"].as_str().unwrap().contains("5.1.1"),
        "{bounce}"
    );
    let person = app.subscriber("gone@example.com").await.unwrap();
    assert_eq!(person["suppressed"]["reason"], "hard_bounce");
    assert_eq!(bounce["subscriber_id"], person["id"]);

    let added = app
        .api_post(
            "/api/v1/suppressions",
            &json!({"email": "Stranger@Example.com", "reason": "manual", "note": "asked by phone"}),
        )
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let added: Value = added.json().await.unwrap();
    assert_eq!(
        (added["reason"].as_str(), added["email"].as_str()),
        (Some("manual"), None)
    );
    let manual: Value = app
        .api_get("/api/v1/suppressions?reason=manual")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(manual["suppressions"].as_array().unwrap().len(), 1);
    let bad = app.api_get("/api/v1/suppressions?reason=nonsense").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let id = bounce["id"].as_str().unwrap();
    let marketer = app.token_of(bulletin::domain::Role::Marketer).await;
    let note = Some(json!({"note": "the mailbox exists again"}));
    assert_eq!(
        lift(&app, &marketer, id, note.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        lift(&app, &app.token, id, None).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        lift(&app, &app.token, id, Some(json!({"note": " "}))).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        lift(&app, &app.token, &"0".repeat(64), note.clone()).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        lift(&app, &app.token, id, note).await,
        StatusCode::NO_CONTENT
    );
    assert!(app.audit_text().await.contains("suppression.lift"));
    assert_eq!(
        app.subscriber("gone@example.com").await.unwrap()["suppressed"],
        Value::Null
    );
    app.start_campaign("weekly").await;
    assert_eq!(app.deliver_all().await.sent, 1, "mailable again");
}

#[tokio::test]
async fn the_admin_ui_shows_suppressions_on_their_page_and_the_person() {
    use crate::admin::Admin;
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "gone@example.com", "weekly").await;
    app.smtp.fail_next_rcpt(1, "550 5.1.1 User unknown");
    app.start_campaign("weekly").await;
    app.deliver_all().await;
    let admin = Admin::with_role(&app, bulletin::domain::Role::Admin).await;
    let page = admin.get("/admin/suppressions").await.text().await.unwrap();
    assert!(
        page.contains("gone@example.com") && page.contains("hard_bounce"),
        "{page}"
    );
    let id = app.subscriber("gone@example.com").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let person = admin
        .get(&format!("/admin/subscribers/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(person.contains("the address is suppressed"), "{person}");
    // Lifting needs a note.
    let listing: Value = app
        .api_get("/api/v1/suppressions")
        .await
        .json()
        .await
        .unwrap();
    let sid = listing["suppressions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/admin/suppressions/{sid}/lift");
    assert_eq!(
        admin.post(&path, &[("note", "")]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        admin
            .post(&path, &[("note", "exists again")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let after: Value = app
        .api_get("/api/v1/suppressions")
        .await
        .json()
        .await
        .unwrap();
    assert!(after["suppressions"].as_array().unwrap().is_empty());
    // A marketer adds one by hand, and sees no lift button.
    let marketer = Admin::with_role(&app, bulletin::domain::Role::Marketer).await;
    let added = marketer
        .post(
            "/admin/suppressions",
            &[("email", "x@example.com"), ("note", "asked")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let page = marketer
        .get("/admin/suppressions")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("manual") && !page.contains("/lift"), "{page}");
}

/// Runs `bulletin inbound` on the test server's database and keys with `message` on stdin.
async fn inbound_cli(
    app: &TestApp,
    database_url: &str,
    recipient: Option<&str>,
    message: &str,
) -> (Option<i32>, String) {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_bulletin"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BULLETIN") {
            command.env_remove(key);
        }
    }
    command
        .arg("inbound")
        .env("BULLETIN__DATABASE__URL", database_url)
        .env("BULLETIN__DATA__DIR", &app.app.context().settings.data_dir)
        .env("RUST_LIB_BACKTRACE", "0")
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(recipient) = recipient {
        command.args(["--recipient", recipient]);
    }
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(message.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A delivery status notification for a message, quoting `reference`.
fn dsn(reference: &str, status: &str) -> String {
    format!(
        "From: MAILER-DAEMON@mx.example.net\r\nTo: bounces@example.com\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; mx.example.net\r\n\r\n\
         Final-Recipient: rfc822; someone-else@example.org\r\nAction: failed\r\n\
         Status: {status}\r\nDiagnostic-Code: smtp; 550 {status} refused\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\n\
         From: news@example.com\r\nX-Bulletin-Ref: {reference}\r\n\r\n--B--\r\n"
    )
}

/// A complaint (ARF) quoting the original message's headers.
pub fn arf(original_headers: &str) -> String {
    format!(
        "From: fbl@isp.example\r\nSubject: complaint\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\r\n\
         --F\r\nContent-Type: text/plain\r\n\r\nThis is a complaint.\r\n\
         --F\r\nContent-Type: message/feedback-report\r\n\r\n\
         Feedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\n\r\n\
         --F\r\nContent-Type: text/rfc822-headers\r\n\r\n{original_headers}\r\n--F--\r\n"
    )
}

#[tokio::test]
async fn a_later_hard_bounce_piped_to_bulletin_inbound_suppresses_the_address() {
    let app =
        TestApp::spawn_with(|s| s.mail.bounce_domain = Some("bounces.example.com".into())).await;
    app.create_list("weekly").await;
    confirmed(&app, "gone@example.com", "weekly").await;
    let id = app.start_campaign("weekly").await;
    app.deliver_all().await;
    let mail = app.smtp.take_messages().pop().unwrap();
    // The envelope sender is unique to the message and signed (VERP).
    assert!(
        mail.mail_from.starts_with("b-") && mail.mail_from.ends_with("@bounces.example.com"),
        "{}",
        mail.mail_from
    );
    let reference = mail.header("X-Bulletin-Ref").unwrap();
    assert!(mail.mail_from.contains(reference.trim()));

    // The relay accepted it; the mailbox provider bounced it later, to the VERP address.
    let report = dsn("not-quoted", "5.1.1");
    let (code, out) = inbound_cli(&app, &app.database_url, Some(&mail.mail_from), &report).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Bounce(Hard)"), "{out}");
    assert_eq!(campaign(&app, &id).await["counts"]["bounced"], 1);
    assert_eq!(
        app.subscriber("gone@example.com").await.unwrap()["suppressed"]["reason"],
        "hard_bounce"
    );
    app.start_campaign("weekly").await;
    assert_eq!(app.deliver_all().await.suppressed, 1, "never mailed again");

    // A database that cannot be reached: 75, so the MTA offers the message again.
    let unreachable = "sqlite:///proc/bulletin-nowhere/bulletin.db?mode=rwc";
    let (code, _) = inbound_cli(&app, unreachable, None, &report).await;
    assert_eq!(code, Some(75));
}

#[tokio::test]
async fn a_policy_refusal_reported_later_or_a_forged_report_leaves_the_subscriber_mailable() {
    use bulletin::services::inbound::{Handled, handle};
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "jane@example.com", "weekly").await;
    app.start_campaign("weekly").await;
    app.deliver_all().await;
    let mail = app.smtp.take_messages().pop().unwrap();
    let reference = mail.header("X-Bulletin-Ref").unwrap().trim().to_owned();
    let ctx = app.app.context();

    let blocked = handle(ctx, dsn(&reference, "5.7.1").as_bytes(), None)
        .await
        .unwrap();
    assert_eq!(blocked, Handled::Bounce(bulletin::domain::Bounce::Blocked));
    // An altered reference, a made-up one, garbage and a huge message change nothing.
    let altered = format!(
        "{}{}",
        &reference[..48],
        if reference.ends_with('0') { '1' } else { '0' }
    );
    let made_up = format!("{}-0123456789abcdef", "ab".repeat(16));
    for report in [
        dsn(&altered, "5.1.1"),
        dsn(&made_up, "5.1.1"),
        "garbage\r\n\r\n".into(),
    ] {
        let handled = handle(ctx, report.as_bytes(), None).await.unwrap();
        assert!(matches!(handled, Handled::Ignored(_)), "{handled:?}");
    }
    let huge = "x".repeat(5 * 1024 * 1024);
    assert!(matches!(
        handle(ctx, huge.as_bytes(), Some("b-x@y")).await.unwrap(),
        Handled::Ignored(_)
    ));
    assert_eq!(
        app.subscriber("jane@example.com").await.unwrap()["suppressed"],
        Value::Null
    );
    app.start_campaign("weekly").await;
    assert_eq!(app.deliver_all().await.sent, 1, "still mailable");
}

#[tokio::test]
async fn a_complaint_suppresses_the_address_and_ends_every_subscription() {
    use bulletin::services::inbound::{Handled, handle};
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.create_list("monthly").await;
    confirmed(&app, "angry@example.com", "weekly").await;
    confirmed(&app, "angry@example.com", "monthly").await;
    let id = app.start_campaign("weekly").await;
    app.deliver_all().await;
    let mail = app.smtp.take_messages().pop().unwrap();
    let headers = mail.data.split("\r\n\r\n").next().unwrap().to_owned();

    // The provider's feedback loop sends the report to any address: the quoted headers name
    // the message.
    let handled = handle(
        app.app.context(),
        arf(&headers).as_bytes(),
        Some("abuse@example.com"),
    )
    .await
    .unwrap();
    assert_eq!(handled, Handled::Complaint);
    assert_eq!(campaign(&app, &id).await["counts"]["complaints"], 1);
    let person = app.subscriber("angry@example.com").await.unwrap();
    assert_eq!(person["suppressed"]["reason"], "complaint");
    for list in ["weekly", "monthly"] {
        assert_eq!(
            app.subscription_status("angry@example.com", list)
                .await
                .as_deref(),
            Some("unsubscribed"),
            "{list}"
        );
    }
    let from_complaint = app
        .ledger("angry@example.com")
        .await
        .into_iter()
        .filter(|e| e["source"] == "complaint")
        .count();
    assert_eq!(from_complaint, 2, "a ledger entry per list");
}

/// Speaks SMTP to the bounce receiver at `addr`: each command and the reply's first line.
pub async fn smtp_talk(addr: std::net::SocketAddr, commands: &[&str]) -> Vec<String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut replies = vec![lines.next_line().await.unwrap().unwrap()];
    for command in commands {
        write.write_all(command.as_bytes()).await.unwrap();
        write.write_all(b"\r\n").await.unwrap();
        // The last line of a multi-line reply has a space after the code.
        loop {
            let line = lines.next_line().await.unwrap().unwrap_or_default();
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                replies.push(line);
                break;
            }
        }
    }
    replies
}

#[tokio::test]
async fn the_bounce_receiver_takes_a_bounce_for_its_domain_only_and_acts_on_it() {
    let app = TestApp::spawn_with(|s| {
        s.mail.bounce_domain = Some("bounces.example.com".into());
        s.inbound.bind = Some("127.0.0.1:0".parse().unwrap());
        s.inbound.max_message_bytes = 16 * 1024;
    })
    .await;
    let addr = app.app.inbound_addr().expect("the receiver runs");
    app.create_list("weekly").await;
    confirmed(&app, "gone@example.com", "weekly").await;
    app.start_campaign("weekly").await;
    app.deliver_all().await;
    let verp = app.smtp.take_messages().pop().unwrap().mail_from;

    // Never a relay.
    let relay = smtp_talk(
        addr,
        &[
            "EHLO mx.example.net",
            "MAIL FROM:<>",
            "RCPT TO:<someone@example.org>",
            "QUIT",
        ],
    )
    .await;
    assert!(relay[3].starts_with("550 5.7.1"), "{relay:?}");

    let message = dsn("none", "5.1.1").replace("\r\n.", "\r\n..");
    let data = format!("{message}\r\n.");
    let rcpt = format!("RCPT TO:<{verp}>");
    let replies = smtp_talk(
        addr,
        &[
            "EHLO mx.example.net",
            "MAIL FROM:<>",
            &rcpt,
            "DATA",
            &data,
            "QUIT",
        ],
    )
    .await;
    assert!(
        replies[5].starts_with("250"),
        "accepted once acted on: {replies:?}"
    );
    let lines = vec!["y".repeat(900); 20].join("\r\n");
    let huge = format!("Subject: x\r\n\r\n{lines}\r\n.");
    let replies = smtp_talk(
        addr,
        &["HELO mx", "MAIL FROM:<>", &rcpt, "DATA", &huge, "QUIT"],
    )
    .await;
    assert!(replies[5].starts_with("552"), "too big: {replies:?}");
    assert_eq!(
        app.subscriber("gone@example.com").await.unwrap()["suppressed"]["reason"],
        "hard_bounce"
    );
}

#[tokio::test]
async fn a_campaign_pauses_itself_when_its_complaint_rate_passes_the_limit() {
    use bulletin::services::inbound::{Handled, handle};
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let rows: String = (0..510)
        .map(|n| format!("p{n}@example.com,P,en,2025-05-01T08:30:00Z,shop,Yes\n"))
        .collect();
    let csv = format!("email,name,locale,consent_at,consent_source,consent_text\n{rows}");
    let imported = app
        .api_post_csv("/api/v1/subscribers/import?list=weekly", csv)
        .await;
    assert_eq!(imported.status(), StatusCode::OK);
    let id = app.start_campaign("weekly").await;
    assert_eq!(app.deliver_all().await.sent, 510);
    let mails = app.smtp.take_messages();
    let complain = |n: usize| {
        let headers = mails[n].data.split("\r\n\r\n").next().unwrap().to_owned();
        arf(&headers)
    };
    // One complaint in 510 (0.2 %) is below the limit; two (0.39 %) are above.
    let ctx = app.app.context();
    assert_eq!(
        handle(ctx, complain(0).as_bytes(), None).await.unwrap(),
        Handled::Complaint
    );
    assert_eq!(campaign(&app, &id).await["status"], "sending");
    assert_eq!(
        handle(ctx, complain(1).as_bytes(), None).await.unwrap(),
        Handled::Complaint
    );
    let paused = campaign(&app, &id).await;
    assert_eq!(paused["status"], "paused", "{paused}");
    assert!(
        paused["paused_reason"]
            .as_str()
            .unwrap()
            .contains("complaints"),
        "{paused}"
    );
    assert_eq!(paused["counts"]["complaints"], 2);
}

#[tokio::test]
async fn another_providers_suppression_list_is_imported_and_its_people_are_not_mailed() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    confirmed(&app, "left-elsewhere@example.com", "weekly").await;
    let csv = "Email,Reason,Created\nleft-elsewhere@example.com,spam complaint,2025-01-01\n\
               bounced@example.com,hard bounce,2025-01-01\nnot an address,bounce,x\n\
               quiet@example.com,unsubscribed,2025-01-01\n";
    let response = app.api_post_csv("/api/v1/suppressions/import", csv).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(
        (report["rows"].as_u64(), report["added"].as_u64()),
        (Some(4), Some(3)),
        "{report}"
    );
    assert_eq!(report["errors"][0]["line"], 4);
    let again: Value = app
        .api_post_csv("/api/v1/suppressions/import", csv)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["already"], 3);
    assert_eq!(
        app.subscriber("left-elsewhere@example.com").await.unwrap()["suppressed"]["reason"],
        "complaint"
    );
    let no_header = app
        .api_post_csv("/api/v1/suppressions/import", "address\nx@y.z\n")
        .await;
    assert_eq!(no_header.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.start_campaign("weekly").await;
    assert_eq!(app.deliver_all().await.suppressed, 1);
}
