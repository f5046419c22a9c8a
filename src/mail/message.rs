//! Builds the MIME message: multipart text + HTML, Message-ID, and the RFC 2369 / RFC 8058
//! `List-Unsubscribe` and `List-Unsubscribe-Post` headers. Bodies go out as they are (7bit,
//! or 8bit where the relay takes it) whenever every line fits, quoted-printable otherwise.

use lettre::{
    Message,
    message::{
        Body, Mailbox, MultiPart,
        header::{ContentTransferEncoding, Header, HeaderName, HeaderValue},
    },
};
use url::Url;

use super::{RenderedMail, fold::fold_html};
use crate::domain::EmailAddress;

/// Everything needed to build one message.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// Recipient address (never with a display name: the name is subscriber-typed text).
    pub to: EmailAddress,
    /// Where replies go (`Reply-To`), if not to the From address.
    pub reply_to: Option<EmailAddress>,
    /// Rendered content.
    pub content: RenderedMail,
    /// Message-ID without angle brackets.
    pub message_id: String,
    /// The one-click unsubscribe URL (`List-Unsubscribe`); `None` for transactional mail,
    /// which belongs to no list.
    pub unsubscribe_url: Option<Url>,
    /// A `mailto:` URI that unsubscribes too (RFC 2369), offered after the URL.
    pub unsubscribe_mailto: Option<String>,
    /// The signed reference of the delivery (`X-Bulletin-Ref`), which a bounce or complaint
    /// quoting the message names it by.
    pub reference: Option<String>,
    /// The envelope sender, when it is not the From address (VERP).
    pub envelope_from: Option<EmailAddress>,
    /// What kind of mail it is, for mailbox providers and auto-responders.
    pub kind: KindHeaders,
}

/// The headers that say what kind of mail a message is: list mail in bulk (RFC 2919
/// `List-Id`, `Precedence: bulk`, Gmail's and Yahoo's `Feedback-ID`) or a message sent by
/// itself at the person's request (RFC 3834 `Auto-Submitted`). Every message also asks
/// Exchange not to answer it with out-of-office replies (`X-Auto-Response-Suppress`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindHeaders {
    /// `List-Id`: the list's name and id.
    pub list_id: Option<String>,
    /// `Precedence: bulk`.
    pub bulk: bool,
    /// `Auto-Submitted: auto-generated`.
    pub auto_generated: bool,
    /// `Feedback-ID`: `campaign:list:kind:sender`.
    pub feedback_id: Option<String>,
}

impl KindHeaders {
    /// `"Name" <slug.domain>`: a list's `List-Id` under the sender's domain (RFC 2919 §2).
    pub fn list_id(name: &str, slug: &str, domain: &str) -> String {
        let name: String = name
            .chars()
            .filter(|c| !matches!(c, '"' | '\\') && !c.is_control())
            .collect();
        format!("\"{}\" <{slug}.{domain}>", name.trim())
    }

    /// A campaign's or notice's headers: bulk, with its list and feedback id.
    pub fn bulk(list_id: String, feedback: [&str; 4]) -> Self {
        Self {
            list_id: Some(list_id),
            bulk: true,
            auto_generated: false,
            feedback_id: Some(feedback.join(":")),
        }
    }

    /// The headers of a message sent by itself: a confirmation request, a welcome, a privacy
    /// or address-change link, a password reset.
    pub fn automatic(list_id: Option<String>) -> Self {
        Self {
            list_id,
            bulk: false,
            auto_generated: true,
            feedback_id: None,
        }
    }

    /// Adds the headers to `builder`.
    pub fn apply(
        &self,
        mut builder: lettre::message::MessageBuilder,
    ) -> lettre::message::MessageBuilder {
        let raw = |name: &'static str, value: String| {
            HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
        };
        if let Some(list_id) = &self.list_id {
            builder = builder.raw_header(raw("List-Id", list_id.clone()));
        }
        if self.bulk {
            builder = builder.raw_header(raw("Precedence", "bulk".to_owned()));
        }
        if self.auto_generated {
            builder = builder.raw_header(raw("Auto-Submitted", "auto-generated".to_owned()));
        }
        if let Some(feedback) = &self.feedback_id {
            builder = builder.raw_header(raw("Feedback-ID", feedback.clone()));
        }
        builder.raw_header(raw("X-Auto-Response-Suppress", "OOF, AutoReply".to_owned()))
    }
}

/// `X-Bulletin-Ref: <signed delivery reference>`.
#[derive(Debug, Clone)]
struct BulletinRef(String);

impl Header for BulletinRef {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Bulletin-Ref")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe: <URL>` or `<URL>, <mailto:…>` (RFC 2369 §3.2).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058 §3.1).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// The local part's prefix of a `mailto:` unsubscribe address at the bounce domain; the
/// signed reference follows it.
pub const UNSUBSCRIBE_PREFIX: &str = "u-";

/// Why a message could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build message: {0}")]
pub struct BuildError(String);

/// Builds the message from `from` to the recipient; `eight_bit` says whether the relay takes
/// 8bit bodies (RFC 6152).
///
/// # Errors
/// An address lettre refuses (cannot happen for parsed `EmailAddress`es) or a build error.
pub fn build_message(
    from: &Mailbox,
    mail: OutgoingMail,
    eight_bit: bool,
) -> Result<Message, BuildError> {
    let to = mailbox(&mail.to, "recipient")?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(mail.content.subject.clone())
        .message_id(Some(format!("<{}>", mail.message_id)));
    if let Some(url) = &mail.unsubscribe_url {
        builder = builder
            .header(ListUnsubscribe(match &mail.unsubscribe_mailto {
                Some(mailto) => format!("<{url}>, <{mailto}>"),
                None => format!("<{url}>"),
            }))
            .header(ListUnsubscribePost);
    }
    if let Some(reference) = mail.reference {
        builder = builder.header(BulletinRef(reference));
    }
    builder = mail.kind.apply(builder);
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.reply_to(mailbox(reply_to, "reply-to")?);
    }
    if let Some(sender) = &mail.envelope_from {
        let sender: lettre::Address = sender
            .as_str()
            .parse()
            .map_err(|e| BuildError(format!("envelope sender: {e}")))?;
        let envelope = lettre::address::Envelope::new(Some(sender), vec![to.email])
            .map_err(|e| BuildError(e.to_string()))?;
        builder = builder.envelope(envelope);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            encode_body(mail.content.text, eight_bit, Part::Text),
            encode_body(mail.content.html, eight_bit, Part::Html),
        ))
        .map_err(|e| BuildError(e.to_string()))
}

/// `address` as a lettre mailbox, without a display name; `what` names it in the error.
///
/// # Errors
/// An address lettre refuses (cannot happen for a parsed `EmailAddress`).
pub fn mailbox(address: &EmailAddress, what: &str) -> Result<Mailbox, BuildError> {
    address
        .as_str()
        .parse()
        .map_err(|e| BuildError(format!("{what}: {e}")))
}

/// The longest line RFC 5322 §2.1.1 allows, without its CRLF.
pub(super) const MAX_LINE: usize = 998;

/// Which part of the message a body is: how an overlong line may be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// `text/plain`: an overlong line goes quoted-printable. Breaking it would show as a
    /// hard line break, and RFC 3676 `format=flowed` (whose soft breaks would avoid that) is
    /// ignored by Outlook for Windows and Gmail, which then show every folded line as a hard
    /// break (narrow screens get a ragged comb of long and short lines); quoted-printable is
    /// decoded to the very text by every MIME client.
    Text,
    /// `text/html`: an overlong line is folded at white space where HTML reads a line break
    /// as a space (`fold::fold_html`); quoted-printable only if that cannot fit it.
    Html,
}

/// Why a body cannot go as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unfit {
    /// Only lines longer than `MAX_LINE`.
    LongLine,
    /// A bare CR, a NUL, or 8bit text for a relay without 8BITMIME.
    Other,
}

/// Encodes a body part: line ends become CRLF and the text goes as it is (7bit if ASCII,
/// 8bit if the relay takes it) when every line fits (an HTML part's after folding) and it
/// has no bare CR or NUL; otherwise quoted-printable.
fn encode_body(text: String, eight_bit: bool, part: Part) -> Body {
    match as_is(&text, eight_bit) {
        Ok(body) => return body,
        Err(Unfit::LongLine) if part == Part::Html => {
            if let Some(body) = fold_html(&text).and_then(|t| as_is(&t, eight_bit).ok()) {
                return body;
            }
        }
        Err(Unfit::LongLine | Unfit::Other) => {}
    }
    // Quoted-printable takes any text, so this never falls through to the chooser.
    Body::new_with_encoding(text, ContentTransferEncoding::QuotedPrintable)
        .unwrap_or_else(Body::new)
}

/// `text` with CRLF line ends, as a 7bit or 8bit body, in one pass; or why it cannot go so.
fn as_is(text: &str, eight_bit: bool) -> Result<Body, Unfit> {
    let ascii = text.is_ascii();
    // Whole-text searches (memchr), so the common case never looks at each byte twice.
    let has_cr = text.contains('\r');
    if !(ascii || eight_bit) || text.contains('\0') {
        return Err(Unfit::Other);
    }
    let mut wire = Vec::with_capacity(text.len() + text.len() / 16);
    let (mut bare_cr, mut long) = (false, false);
    for (i, line) in text.split('\n').enumerate() {
        let line = if has_cr {
            let line = line.strip_suffix('\r').unwrap_or(line);
            bare_cr |= line.contains('\r');
            line
        } else {
            line
        };
        if i > 0 {
            wire.extend_from_slice(b"\r\n");
        }
        long |= line.len() > MAX_LINE;
        wire.extend_from_slice(line.as_bytes());
    }
    match (bare_cr, long) {
        (true, _) => Err(Unfit::Other),
        (false, true) => Err(Unfit::LongLine),
        (false, false) => {
            let encoding = if ascii {
                ContentTransferEncoding::SevenBit
            } else {
                ContentTransferEncoding::EightBit
            };
            Ok(Body::dangerous_pre_encoded(wire, encoding))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_the_one_click_headers_and_message_id() {
        let from: Mailbox = "News <news@example.com>".parse().unwrap();
        let mail = OutgoingMail {
            to: EmailAddress::parse("jane@example.org").unwrap(),
            reply_to: None,
            content: RenderedMail {
                subject: "Hello".into(),
                text: "Hi".into(),
                html: "<p>Hi</p>".into(),
            },
            message_id: "abc@example.com".into(),
            unsubscribe_url: Some(Url::parse("https://x.test/unsubscribe/T").unwrap()),
            unsubscribe_mailto: None,
            reference: None,
            envelope_from: None,
            kind: KindHeaders::bulk(
                KindHeaders::list_id("Weekly \"News\"", "weekly", "example.com"),
                ["c1", "weekly", "campaign", "example.com"],
            ),
        };
        let raw = String::from_utf8(build_message(&from, mail, true).unwrap().formatted()).unwrap();
        assert!(
            raw.contains("List-Unsubscribe: <https://x.test/unsubscribe/T>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("List-Id: \"Weekly News\" <weekly.example.com>\r\n"),
            "{raw}"
        );
        assert!(raw.contains("Precedence: bulk\r\n"));
        assert!(raw.contains("Feedback-ID: c1:weekly:campaign:example.com\r\n"));
        assert!(raw.contains("X-Auto-Response-Suppress: OOF, AutoReply\r\n"));
        assert!(!raw.contains("Auto-Submitted"));
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        assert!(raw.contains("Message-ID: <abc@example.com>\r\n"));
        assert!(raw.contains("multipart/alternative"));
    }

    #[test]
    fn a_reply_to_address_becomes_the_reply_to_header() {
        let from: Mailbox = "News <news@example.com>".parse().unwrap();
        let mail = |reply_to: Option<&str>| OutgoingMail {
            to: EmailAddress::parse("jane@example.org").unwrap(),
            reply_to: reply_to.map(|r| EmailAddress::parse(r).unwrap()),
            content: RenderedMail {
                subject: "Hello".into(),
                text: "Hi".into(),
                html: "<p>Hi</p>".into(),
            },
            message_id: "abc@example.com".into(),
            unsubscribe_url: Some(Url::parse("https://x.test/unsubscribe/T").unwrap()),
            unsubscribe_mailto: None,
            reference: None,
            envelope_from: None,
            kind: KindHeaders::automatic(None),
        };
        let raw = |m| String::from_utf8(build_message(&from, m, true).unwrap().formatted());
        // A helpdesk at another domain than the From address's.
        let with = raw(mail(Some("help@desk.example"))).unwrap();
        assert!(with.contains("Reply-To: help@desk.example\r\n"), "{with}");
        assert!(with.contains("From: News <news@example.com>\r\n"), "{with}");
        let without = raw(mail(None)).unwrap();
        assert!(!without.contains("Reply-To"), "{without}");
    }

    fn encoded(text: &str, eight_bit: bool) -> (ContentTransferEncoding, String) {
        encoded_as(text, eight_bit, Part::Text)
    }

    fn encoded_as(text: &str, eight_bit: bool, part: Part) -> (ContentTransferEncoding, String) {
        let body = encode_body(text.to_owned(), eight_bit, part);
        (body.encoding(), String::from_utf8(body.into_vec()).unwrap())
    }

    #[test]
    fn bodies_go_as_they_are_when_every_line_fits() {
        assert_eq!(
            encoded("a\nb\r\nc\n", false),
            (ContentTransferEncoding::SevenBit, "a\r\nb\r\nc\r\n".into())
        );
        assert_eq!(
            encoded("Grüße\nzurück", true),
            (ContentTransferEncoding::EightBit, "Grüße\r\nzurück".into())
        );
        let longest = "x".repeat(MAX_LINE);
        assert_eq!(
            encoded(&longest, false).0,
            ContentTransferEncoding::SevenBit
        );
    }

    #[test]
    fn bodies_that_do_not_fit_go_quoted_printable() {
        // An overlong line, a bare CR, a NUL; and 8bit text for a relay without 8BITMIME.
        let cases = [
            ("x".repeat(MAX_LINE + 1), true),
            ("a\rb".to_owned(), true),
            ("a\0b".to_owned(), true),
            ("Grüße".to_owned(), false),
        ];
        for (text, eight_bit) in cases {
            let (encoding, wire) = encoded(&text, eight_bit);
            assert_eq!(
                encoding,
                ContentTransferEncoding::QuotedPrintable,
                "{text:?}"
            );
            assert!(
                wire.is_ascii() && wire.lines().all(|l| l.len() <= 78),
                "{wire}"
            );
        }
    }

    #[test]
    fn long_html_lines_fold_at_spaces_and_long_text_lines_go_quoted_printable() {
        let paragraph = "Grüße aus der Stadt, ".repeat(100);
        let html = format!("<p>{paragraph}</p>\n<pre>a  b</pre>");
        let (encoding, wire) = encoded_as(&html, true, Part::Html);
        assert_eq!(encoding, ContentTransferEncoding::EightBit);
        assert!(wire.split("\r\n").all(|l| l.len() <= 78), "{wire}");
        assert_eq!(wire.replace("\r\n", " "), html.replace('\n', " "));
        assert!(wire.ends_with("\r\n<pre>a  b</pre>"));
        let (encoding, _) = encoded_as(&paragraph, true, Part::Text);
        assert_eq!(encoding, ContentTransferEncoding::QuotedPrintable);
        // A line without white space to fold at, and 8bit HTML for a 7bit relay.
        let url = format!("<a href=\"https://x.test/{}\">x</a>", "a".repeat(MAX_LINE));
        assert_eq!(
            encoded_as(&url, true, Part::Html).0,
            ContentTransferEncoding::QuotedPrintable
        );
        assert_eq!(
            encoded_as(&html, false, Part::Html).0,
            ContentTransferEncoding::QuotedPrintable
        );
    }
}
