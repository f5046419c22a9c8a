//! Reads what comes back to the bounce domain: delivery status notifications (RFC 3464,
//! per-recipient `Action` and `Status`), complaint reports (ARF, RFC 5965,
//! `Feedback-Type: abuse`), and the plain-text bounces some mail systems still send. It only
//! reads: which delivery a report is about is decided by the caller, from the signed
//! references found here (`X-Bulletin-Ref`, a VERP sender `b-<reference>@…`), never from
//! an address in the text.

use mail_parser::{MessageParser, MimeHeaders};

use crate::domain::EnhancedStatus;

/// The largest report read; anything larger is not a report Bulletin acts on.
pub const MAX_REPORT_BYTES: usize = 4 * 1024 * 1024;

/// What a message says, as far as Bulletin cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportKind {
    /// The message could not be delivered: the status of the (first) failed recipient.
    Failed {
        /// Its enhanced status code, if the report gives one.
        status: Option<EnhancedStatus>,
        /// The remote server's words (`Diagnostic-Code`), cut short.
        diagnostic: Option<String>,
    },
    /// Delivery is only delayed; it goes on.
    Delayed,
    /// The recipient reported the message as spam (ARF `abuse`).
    Complaint,
    /// Nothing Bulletin acts on (an auto-reply, a success notice, anything else).
    Other,
}

/// A message read as a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// What it says.
    pub kind: ReportKind,
    /// Candidate delivery references found in it (quoted headers, envelope senders), to be
    /// checked by their signature.
    pub references: Vec<String>,
}

/// Reads a message. Never fails: what cannot be read is `Other` with no references.
pub fn read(raw: &[u8]) -> Report {
    if raw.len() > MAX_REPORT_BYTES {
        return Report {
            kind: ReportKind::Other,
            references: Vec::new(),
        };
    }
    let mut references = Vec::new();
    collect_references(&String::from_utf8_lossy(raw), &mut references);
    let Some(message) = MessageParser::default().parse(raw) else {
        return Report {
            kind: ReportKind::Other,
            references,
        };
    };
    let mut kind = None;
    for part in &message.parts {
        let (ctype, subtype) = match part.content_type() {
            Some(ct) => (
                ct.ctype().to_ascii_lowercase(),
                ct.subtype().unwrap_or_default().to_ascii_lowercase(),
            ),
            None => continue,
        };
        let contents = String::from_utf8_lossy(part.contents());
        collect_references(&contents, &mut references);
        if let Some(nested) = part.message() {
            collect_references(
                &String::from_utf8_lossy(nested.raw_message()),
                &mut references,
            );
        }
        match (ctype.as_str(), subtype.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") if kind.is_none() => {
                kind = Some(delivery_status(&contents));
            }
            ("message", "feedback-report") => {
                kind = Some(feedback(&contents));
            }
            _ => {}
        }
    }
    let kind = kind.unwrap_or_else(|| plain_bounce(&message));
    references.dedup();
    Report { kind, references }
}

/// The per-recipient fields of a `message/delivery-status` body: the first recipient that
/// failed, else delayed, else nothing.
fn delivery_status(body: &str) -> ReportKind {
    let mut delayed = false;
    // The first group is about the message; the others are one per recipient.
    for group in field_groups(body).into_iter().skip(1) {
        let action = field(&group, "action")
            .unwrap_or_default()
            .to_ascii_lowercase();
        match action.trim() {
            "failed" => {
                let status = field(&group, "status").and_then(|s| EnhancedStatus::in_reply(&s));
                let diagnostic = field(&group, "diagnostic-code").map(|d| cut(&d));
                return ReportKind::Failed { status, diagnostic };
            }
            "delayed" => delayed = true,
            _ => {}
        }
    }
    if delayed {
        ReportKind::Delayed
    } else {
        ReportKind::Other
    }
}

/// An ARF report: `abuse` (and a report without a type, which some providers send) is a
/// complaint; fraud, virus, not-spam and the rest are not.
fn feedback(body: &str) -> ReportKind {
    let groups = field_groups(body);
    let kind = groups
        .first()
        .and_then(|g| field(g, "feedback-type"))
        .map(|t| t.trim().to_ascii_lowercase());
    match kind.as_deref() {
        Some("abuse") | None => ReportKind::Complaint,
        Some(_) => ReportKind::Other,
    }
}

/// A bounce without a DSN part, as some mail systems still send them: from a mailer daemon
/// or with a subject that says so. Its status is the first enhanced code in its text, if
/// any (without one it can never suppress).
fn plain_bounce(message: &mail_parser::Message<'_>) -> ReportKind {
    let subject = message.subject().unwrap_or_default().to_ascii_lowercase();
    let from = message
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let says_so = [
        "undeliver",
        "delivery status notification (failure)",
        "delivery failure",
        "returned mail",
        "failure notice",
        "mail delivery failed",
        "delivery has failed",
    ]
    .iter()
    .any(|w| subject.contains(w));
    let daemon = from.starts_with("mailer-daemon@") || from.starts_with("postmaster@");
    if !says_so && !daemon {
        return ReportKind::Other;
    }
    let text = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let status = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '#')
        .filter_map(EnhancedStatus::parse)
        .find(|s| s.class == 4 || s.class == 5);
    ReportKind::Failed {
        status,
        diagnostic: text.lines().find(|l| !l.trim().is_empty()).map(cut),
    }
}

/// Header-like field groups separated by blank lines, with folded lines unfolded.
fn field_groups(body: &str) -> Vec<Vec<(String, String)>> {
    let mut groups = Vec::new();
    let mut group: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !group.is_empty() {
                groups.push(std::mem::take(&mut group));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = group.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            group.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        if groups.len() > 1000 {
            break;
        }
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

fn field(group: &[(String, String)], name: &str) -> Option<String> {
    group
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// At most 300 characters of a remote server's words.
fn cut(text: &str) -> String {
    text.trim().chars().take(300).collect()
}

/// The shape of a reference: 32 hex digits, a dash, 16 hex digits.
fn reference_at(text: &str) -> Option<&str> {
    let bytes = text.as_bytes().get(..49)?;
    let shaped = bytes.iter().enumerate().all(|(i, b)| match i {
        32 => *b == b'-',
        _ => b.is_ascii_hexdigit(),
    });
    // All ASCII, so 49 is a character boundary.
    shaped.then(|| &text[..49])
}

/// Every reference after an `X-Bulletin-Ref:` field name or a VERP `b-` in `text`.
fn collect_references(text: &str, found: &mut Vec<String>) {
    if found.len() >= 20 {
        return;
    }
    let lower = text.to_ascii_lowercase();
    for marker in ["x-bulletin-ref:", "b-"] {
        for (at, _) in lower.match_indices(marker) {
            let rest = lower[at + marker.len()..].trim_start();
            if let Some(reference) = reference_at(rest)
                && !found.iter().any(|f| f == reference)
            {
                found.push(reference.to_owned());
                if found.len() >= 20 {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REF: &str = "0193a5c1f00d7aa1b2c3d4e5f6a7b8c9-0123456789abcdef";

    fn dsn(action: &str, status: &str) -> String {
        format!(
            "From: MAILER-DAEMON@mx.example.net\r\nTo: b-{REF}@bounces.example.com\r\n\
             Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
             --B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you ...\r\n\
             --B\r\nContent-Type: message/delivery-status\r\n\r\n\
             Reporting-MTA: dns; mx.example.net\r\n\r\n\
             Final-Recipient: rfc822; jane@example.org\r\nAction: {action}\r\n\
             Status: {status}\r\nDiagnostic-Code: smtp; 550 {status} User unknown\r\n\r\n\
             --B\r\nContent-Type: text/rfc822-headers\r\n\r\n\
             From: News <news@example.com>\r\nX-Bulletin-Ref: {REF}\r\n\r\n--B--\r\n"
        )
    }

    #[test]
    fn a_dsn_gives_the_failed_recipient_status_and_the_reference() {
        let report = read(dsn("failed", "5.1.1").as_bytes());
        assert_eq!(report.references, vec![REF.to_owned()]);
        match report.kind {
            ReportKind::Failed { status, diagnostic } => {
                assert_eq!(status.map(|s| s.to_string()).as_deref(), Some("5.1.1"));
                assert!(diagnostic.unwrap().contains("User unknown"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            read(dsn("delayed", "4.4.7").as_bytes()).kind,
            ReportKind::Delayed
        );
        assert_eq!(
            read(dsn("delivered", "2.0.0").as_bytes()).kind,
            ReportKind::Other
        );
    }

    #[test]
    fn an_arf_abuse_report_is_a_complaint_and_other_feedback_is_not() {
        let arf = |kind: &str| {
            format!(
                "From: fbl@isp.example\r\nSubject: complaint\r\nMIME-Version: 1.0\r\n\
                 Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\r\n\
                 --F\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n\
                 --F\r\nContent-Type: message/feedback-report\r\n\r\n\
                 Feedback-Type: {kind}\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\n\r\n\
                 --F\r\nContent-Type: message/rfc822\r\n\r\n\
                 Return-Path: <b-{REF}@bounces.example.com>\r\nFrom: news@example.com\r\n\
                 Subject: News\r\n\r\nHello\r\n--F--\r\n"
            )
        };
        let complaint = read(arf("abuse").as_bytes());
        assert_eq!(complaint.kind, ReportKind::Complaint);
        assert_eq!(complaint.references, vec![REF.to_owned()]);
        assert_eq!(read(arf("not-spam").as_bytes()).kind, ReportKind::Other);
    }

    #[test]
    fn a_plain_text_bounce_is_read_by_its_words() {
        let qmail = format!(
            "From: MAILER-DAEMON@mx.example.net\r\nSubject: failure notice\r\n\r\n\
             Hi. This is the qmail-send program.\r\n<jane@example.org>:\r\n\
             Sorry, no mailbox here by that name. (#5.1.1)\r\n\r\n\
             --- Below this line is a copy of the message.\r\n\r\nX-Bulletin-Ref: {REF}\r\n"
        );
        let report = read(qmail.as_bytes());
        assert_eq!(report.references, vec![REF.to_owned()]);
        assert!(matches!(
            report.kind,
            ReportKind::Failed { status: Some(s), .. } if s.to_string() == "5.1.1"
        ));
        // An ordinary message is nothing, even if it quotes a reference.
        let reply = format!(
            "From: jane@example.org\r\nSubject: Re: News\r\n\r\nThanks! X-Bulletin-Ref: {REF}\r\n"
        );
        assert_eq!(read(reply.as_bytes()).kind, ReportKind::Other);
    }

    #[test]
    fn huge_input_is_not_read() {
        let huge = vec![b'a'; MAX_REPORT_BYTES + 1];
        assert_eq!(read(&huge).kind, ReportKind::Other);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(100_000))]
        #[test]
        fn any_bytes_are_read_without_panic(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = read(&raw);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        #[test]
        fn dsns_with_any_action_and_status_are_read_without_panic(action in "\\PC{0,20}", status in "\\PC{0,20}") {
            let action = action.replace(['\r', '\n'], "");
            let status = status.replace(['\r', '\n'], "");
            let _ = read(dsn(&action, &status).as_bytes());
        }
    }
}
