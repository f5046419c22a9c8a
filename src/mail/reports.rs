//! Reads what comes back to the bounce domain: delivery status notifications (RFC 3464,
//! per-recipient `Action` and `Status`), complaint reports (ARF, RFC 5965,
//! `Feedback-Type: abuse`, and Hotmail's older format), and the non-standard bounces of the
//! big mail systems (plain text, or a DSN that says less than its text). It only reads: which
//! delivery a report is about is decided by the caller, from the signed references found here
//! (`X-Bulletin-Ref`, a VERP sender `b-<reference>@…`), never from an address in the text.
//! Tested against the real samples in `tests/fixtures/reports/`.

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
                kind = delivery_status(&contents);
            }
            ("message", "feedback-report") => {
                kind = Some(feedback(&contents));
            }
            _ => {}
        }
    }
    let kind = kind
        .or_else(|| legacy_complaint(&message))
        .unwrap_or_else(|| plain_bounce(&message));
    references.dedup();
    Report { kind, references }
}

/// The per-recipient fields of a `message/delivery-status` body: the first recipient that
/// failed, else delayed, else `Other`; `None` when no recipient has an `Action` at all (an
/// empty report, which some mail systems send beside a readable text).
fn delivery_status(body: &str) -> Option<ReportKind> {
    let mut delayed = false;
    let mut any = false;
    // RFC 3464 §2.1: one group about the message, then one per recipient. Only the
    // recipient groups carry `Action`; Mimecast and AOL run the two into one group.
    for group in field_groups(body) {
        let Some(action) = field(&group, "action") else {
            continue;
        };
        any = true;
        match action.trim().to_ascii_lowercase().as_str() {
            // SendGrid writes `expired` for a message it gave up on.
            "failed" | "expired" => {
                let diagnostic = field(&group, "diagnostic-code");
                return Some(ReportKind::Failed {
                    status: recipient_status(field(&group, "status"), diagnostic.as_deref()),
                    diagnostic: diagnostic.map(|d| cut(&d)),
                });
            }
            "delayed" => delayed = true,
            _ => {}
        }
    }
    match (any, delayed) {
        (_, true) => Some(ReportKind::Delayed),
        (true, false) => Some(ReportKind::Other),
        (false, false) => None,
    }
}

/// A recipient's status: its `Status` field, unless that is missing or says no more than
/// `X.0.0` and the remote server's words name a more specific code (Sendmail writes
/// `Status: 5.0.0` above `554 5.7.1 Relay access denied`; Amazon SES `5.0.0` above
/// `550-'5.2.2 … Mailbox Full'`).
fn recipient_status(stated: Option<String>, diagnostic: Option<&str>) -> Option<EnhancedStatus> {
    let stated = stated.and_then(|s| enhanced_codes(&s).next().map(|(_, code)| code));
    match stated {
        Some(code) if !is_generic(code) => Some(code),
        _ => match diagnostic.and_then(status_in_text) {
            Some(found) if stated.is_none() || !is_generic(found) => Some(found),
            _ => stated,
        },
    }
}

/// `X.0.0`: the class and nothing more.
fn is_generic(code: EnhancedStatus) -> bool {
    code.subject == 0 && code.detail == 0
}

/// The enhanced code a text gives for a failure: the first one written right after an SMTP
/// reply code (`550 5.1.1`, `550-5.2.1`, `550 #5.1.0`, `550-'5.2.2`), which is the remote
/// server's own, else the first specific one (qmail's `(#5.1.1)`), else the first at all.
fn status_in_text(text: &str) -> Option<EnhancedStatus> {
    located_status(text).map(|(_, code)| code)
}

/// [`status_in_text`], with the byte offset where the code starts.
fn located_status(text: &str) -> Option<(usize, EnhancedStatus)> {
    let mut first = None;
    let mut first_specific = None;
    for (at, code) in enhanced_codes(text) {
        if !is_generic(code) && follows_reply_code(&text[..at]) {
            return Some((at, code));
        }
        first = first.or(Some((at, code)));
        if !is_generic(code) {
            first_specific = first_specific.or(Some((at, code)));
        }
    }
    first_specific.or(first)
}

/// Every failure code (class 4 or 5) in `text`, with the byte offset where it starts: runs
/// of digits and dots, so that `#5.1.1`, `(#5.1.1)` and `550-5.1.1` are all found, while
/// addresses such as `192.0.2.1` are not codes.
fn enhanced_codes(text: &str) -> impl Iterator<Item = (usize, EnhancedStatus)> + '_ {
    let is_part = |c: char| c.is_ascii_digit() || c == '.';
    text.char_indices()
        .filter(move |&(at, c)| {
            c.is_ascii_digit() && !text[..at].ends_with(|p: char| is_part(p) || p.is_alphabetic())
        })
        .filter_map(move |(at, _)| {
            let run = &text[at..];
            let len = run.find(|c: char| !is_part(c)).unwrap_or(run.len());
            let code = EnhancedStatus::parse(run[..len].trim_end_matches('.'))?;
            (code.class == 4 || code.class == 5).then_some((at, code))
        })
}

/// Whether `before` ends in a 4xx or 5xx reply code, give or take the `-`, `#`, quote or
/// space that separates it from an enhanced code.
fn follows_reply_code(before: &str) -> bool {
    let trimmed = before.trim_end_matches([' ', '-', '#', '\'', '"', '(']);
    let bytes = trimmed.as_bytes();
    let Some(start) = bytes.len().checked_sub(3) else {
        return false;
    };
    let reply = &bytes[start..];
    matches!(reply[0], b'4' | b'5')
        && reply[1..].iter().all(u8::is_ascii_digit)
        && !bytes[..start]
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
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

/// A complaint in the format Hotmail used before it sent ARF, which Amazon SES copies: the
/// message attached under `Subject: complaint about message from <ip>`.
fn legacy_complaint(message: &mail_parser::Message<'_>) -> Option<ReportKind> {
    let subject = message
        .subject()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let from = sender(message);
    let known = ["staff@hotmail.com", "complaints@email-abuse.amazonses.com"];
    (subject.starts_with("complaint about message from ") && known.contains(&from.as_str()))
        .then_some(ReportKind::Complaint)
}

/// The address in `From`, in lower case.
fn sender(message: &mail_parser::Message<'_>) -> String {
    message
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Subject words of a bounce, in lower case: English, and the translations of Exchange's
/// and the big Russian providers' `Undeliverable`.
const BOUNCE_SUBJECTS: [&str; 15] = [
    "undeliver",
    "delivery status notification",
    "delivery failure",
    "returned mail",
    "failure notice",
    "mail delivery failed",
    "delivery has failed",
    "unzustellbar",
    "non remis",
    "no se puede entregar",
    "non recapitabile",
    "onbestelbaar",
    "não é possível entregar",
    "недоставлен",
    "не доставлено",
];

/// How the subject of a message that is no bounce begins, in lower case: auto-replies
/// (RFC 3834; Outlook's, Apple Mail's and the usual out-of-office wording, in a few
/// languages) and success or relay notices (RFC 3461 `NOTIFY=SUCCESS`; Gmail's, Postfix's).
/// Even from a `postmaster`, such a message is not a bounce.
const NOT_A_BOUNCE_SUBJECTS: [&str; 11] = [
    "automatic reply",
    "auto reply",
    "autoreply",
    "out of office",
    "abwesenheitsnotiz",
    "réponse automatique",
    "respuesta automática",
    "risposta automatica",
    "delivery status notification (success)",
    "delivery status notification (relay)",
    "successful mail delivery report",
];

/// Words in a bounce's text that say delivery is only late: Gmail's and Sendmail's "this
/// is a warning message only", Postfix's "this is a warning only", Exim's "has not yet
/// been delivered".
const DELAY_WORDS: [&str; 2] = ["this is a warning", "has not yet been delivered"];

/// A bounce without a DSN part, as some mail systems still send them: from a mailer daemon
/// or with a subject that says so. Its status is the code its text gives (without one it
/// can never suppress); a warning that delivery goes on is `Delayed`.
fn plain_bounce(message: &mail_parser::Message<'_>) -> ReportKind {
    let subject = message.subject().unwrap_or_default().to_lowercase();
    if NOT_A_BOUNCE_SUBJECTS
        .iter()
        .any(|w| subject.trim_start().starts_with(w))
    {
        return ReportKind::Other;
    }
    let from = sender(message);
    let says_so = BOUNCE_SUBJECTS.iter().any(|w| subject.contains(w));
    let daemon = from == "mailer-daemon"
        || from.starts_with("mailer-daemon@")
        || from.starts_with("postmaster@");
    if !says_so && !daemon {
        return ReportKind::Other;
    }
    let whole = message.body_text(0).unwrap_or_default();
    let text = before_the_copy(&whole);
    // Some systems write the DSN fields into the text instead of a part of their own.
    if let Some(kind) = delivery_status(text) {
        return kind;
    }
    let lower = text.to_lowercase();
    let late = subject.contains("delay")
        || subject.contains("could not send")
        || DELAY_WORDS.iter().any(|w| lower.contains(w));
    if late {
        return ReportKind::Delayed;
    }
    let located = located_status(text);
    // The remote server's words: the line the status is on, else the first line.
    let diagnostic = located
        .map(|(at, _)| line_at(text, at))
        .or_else(|| text.lines().find(|l| !l.trim().is_empty()))
        .map(cut);
    ReportKind::Failed {
        status: located.map(|(_, code)| code),
        diagnostic,
    }
}

/// The line of `text` that byte offset `at` is on.
fn line_at(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    &text[start..end]
}

/// A bounce's own words, without the copy of the returned message that most append to the
/// same text (`----- Original message -----`, `------ This is a copy of the message`,
/// `--- Below this line is a copy of the message.`, `Below is a copy of the original
/// message:`, `Original message headers:`).
fn before_the_copy(text: &str) -> &str {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let lower = line.trim().to_ascii_lowercase();
        let marks_the_copy = lower.contains("copy of the message")
            || lower.contains("copy of the original message")
            || lower.starts_with("original message headers")
            || (lower.starts_with('-') && lower.contains("original message"));
        if marks_the_copy {
            return &text[..at];
        }
        at += line.len();
    }
    text
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
        // Nor is an out-of-office answer or a success notice, even from a postmaster.
        for subject in [
            "Automatic reply: News",
            "Delivery Status Notification (Success)",
        ] {
            let notice = format!(
                "From: postmaster@example.org\r\nSubject: {subject}\r\n\r\n\
                 Your message was delivered; 550 5.1.1 is not a code here.\r\n"
            );
            assert_eq!(read(notice.as_bytes()).kind, ReportKind::Other, "{subject}");
        }
        // A subject in another language says so too.
        let german = "From: Outlook <noreply@example.de>\r\nSubject: Unzustellbar: News\r\n\r\n\
                      Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound'\r\n";
        assert!(matches!(
            read(german.as_bytes()).kind,
            ReportKind::Failed { status: Some(s), .. } if s.to_string() == "5.1.10"
        ));
    }

    #[test]
    fn the_remote_servers_own_code_is_read_from_the_words_around_it() {
        let code = |text: &str| status_in_text(text).map(|s| s.to_string());
        assert_eq!(
            code("smtp; 550 5.1.1 <x@example.org>... User Unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            code("550-5.2.1 The email account is disabled").as_deref(),
            Some("5.2.1")
        );
        assert_eq!(
            code("smtp; 550 #5.1.0 Address rejected.").as_deref(),
            Some("5.1.0")
        );
        assert_eq!(
            code("Sorry, no mailbox here by that name. (#5.1.1)").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            code("5.1.0 - Unknown address error 550-'5.2.2 <x@example.org>... Mailbox Full'")
                .as_deref(),
            Some("5.2.2")
        );
        assert_eq!(code("connect to 192.0.2.1: Connection timed out"), None);
        assert_eq!(code("Postfix 2.5.6 and v5.1.1 say nothing"), None);

        let status = |stated: Option<&str>, diagnostic: &str| {
            recipient_status(stated.map(str::to_owned), Some(diagnostic)).map(|s| s.to_string())
        };
        assert_eq!(
            status(Some("5.0.0"), "554 5.7.1 Relay access denied").as_deref(),
            Some("5.7.1")
        );
        assert_eq!(
            status(None, "550 5.1.1 User unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            status(Some("5.1.1"), "550 5.7.1 Denied").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(status(Some("#5.2.2"), "").as_deref(), Some("5.2.2"));
        assert_eq!(
            status(Some("5.0.0"), "550 User unknown").as_deref(),
            Some("5.0.0")
        );
    }

    /// What a sample must read as.
    #[derive(Debug, Clone, Copy)]
    enum Expect {
        /// Failed, with this enhanced status.
        Failed(&'static str),
        /// Failed, with no status: never suppresses.
        FailedWithoutStatus,
        Delayed,
        Complaint,
        Other,
    }

    /// Real reports under `tests/fixtures/reports/` (sources and licences in its README) and
    /// what each must read as.
    const CORPUS: &[(&str, Expect)] = &[
        ("postfix-user-unknown.eml", Expect::Failed("5.1.1")),
        // The first failed recipient of two.
        ("postfix-two-recipients.eml", Expect::Failed("5.2.1")),
        ("postfix-delayed-quota.eml", Expect::Delayed),
        // `Status: 5.0.0` above `554 5.7.1 … Relay access denied`.
        ("sendmail-relay-denied.eml", Expect::Failed("5.7.1")),
        ("sendmail-delayed.eml", Expect::Delayed),
        ("exim-user-unknown.eml", Expect::Failed("5.1.1")),
        ("exim-retry-timeout.eml", Expect::FailedWithoutStatus),
        ("exim-delayed-warning.eml", Expect::Delayed),
        ("qmail-no-mailbox.eml", Expect::Failed("5.1.1")),
        ("gmail-user-unknown.eml", Expect::Failed("5.1.1")),
        ("gmail-delayed.eml", Expect::Delayed),
        ("gmail-inbox-full.eml", Expect::Failed("5.2.2")),
        ("gmail-workspace-empty-dsn.eml", Expect::FailedWithoutStatus),
        // `Status: 5.0.0` above `550 #5.1.0 Address rejected.`
        ("gsuite-hash-status.eml", Expect::Failed("5.1.0")),
        (
            "office365-recipient-not-found.eml",
            Expect::Failed("5.1.10"),
        ),
        ("office365-text-only.eml", Expect::Failed("5.1.10")),
        ("exchange2007-french-subject.eml", Expect::Failed("5.1.1")),
        ("exchange2003-plain.eml", Expect::FailedWithoutStatus),
        ("outlook-banned-ip.eml", Expect::Failed("5.7.606")),
        ("yahoo-user-unknown.eml", Expect::Failed("5.1.1")),
        ("yahoo-policy.eml", Expect::Failed("5.7.9")),
        ("aol-host-not-found.eml", Expect::Failed("5.4.4")),
        // Amazon SES's own `5.1.0` wraps the remote server's `550-'5.2.2 … Mailbox Full'`.
        ("amazonses-mailbox-full.eml", Expect::Failed("5.2.2")),
        ("mimecast-one-group.eml", Expect::Failed("5.7.54")),
        ("yandex-russian-subject.eml", Expect::Failed("5.1.1")),
        ("arf-yahoo-abuse.eml", Expect::Complaint),
        ("arf-aol-abuse.eml", Expect::Complaint),
        ("arf-amazonses-abuse.eml", Expect::Complaint),
        ("arf-hotmail-legacy-complaint.eml", Expect::Complaint),
        ("arf-opt-out.eml", Expect::Other),
        ("arf-hotmail-auth-failure.eml", Expect::Other),
        ("autoreply-outlook.eml", Expect::Other),
        ("autoreply-away.eml", Expect::Other),
    ];

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/reports/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn reads_as(kind: &ReportKind, expect: Expect) -> bool {
        match (kind, expect) {
            (ReportKind::Failed { status, diagnostic }, Expect::Failed(code)) => {
                status.map(|s| s.to_string()).as_deref() == Some(code) && diagnostic.is_some()
            }
            (ReportKind::Failed { status: None, .. }, Expect::FailedWithoutStatus) => true,
            (ReportKind::Delayed, Expect::Delayed)
            | (ReportKind::Complaint, Expect::Complaint)
            | (ReportKind::Other, Expect::Other) => true,
            _ => false,
        }
    }

    /// Inserts `line` before the last line of `raw` that starts with `Subject:` (the quoted
    /// original's, when the report quotes one) or, `first`, before the first (the report's
    /// own header), in the sample's own line ending.
    fn insert_before_subject(raw: &[u8], line: &str, first: bool) -> Vec<u8> {
        let lower = raw.to_ascii_lowercase();
        let starts = (0..lower.len()).filter(|&at| {
            lower[at..].starts_with(b"subject:") && (at == 0 || lower[at - 1] == b'\n')
        });
        let at = if first { starts.min() } else { starts.max() };
        let at = at.expect("every sample has a Subject");
        let crlf = raw.windows(2).any(|w| w == b"\r\n");
        let mut out = raw[..at].to_vec();
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        out.extend_from_slice(&raw[at..]);
        out
    }

    #[test]
    fn every_real_sample_reads_as_expected() {
        let wrong: Vec<String> = CORPUS
            .iter()
            .filter_map(|&(name, expect)| {
                let kind = read(&fixture(name)).kind;
                (!reads_as(&kind, expect))
                    .then(|| format!("{name}: expected {expect:?}, read {kind:?}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn every_sample_in_the_fixtures_folder_is_in_the_corpus() {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/reports");
        let mut on_disk: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".eml"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = CORPUS.iter().map(|(name, _)| (*name).to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }

    #[test]
    fn a_reference_in_any_sample_is_found_without_changing_what_it_says() {
        let quoted = format!("X-Bulletin-Ref: {REF}");
        let verp = format!("Delivered-To: b-{REF}@bounce.example");
        for &(name, expect) in CORPUS {
            for with_ref in [
                insert_before_subject(&fixture(name), &quoted, false),
                insert_before_subject(&fixture(name), &verp, true),
            ] {
                let report = read(&with_ref);
                assert_eq!(report.references, vec![REF.to_owned()], "{name}");
                assert!(reads_as(&report.kind, expect), "{name}: {:?}", report.kind);
            }
        }
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
