//! Builds the MIME message: multipart text + HTML, Message-ID, and the RFC 2369 / RFC 8058
//! `List-Unsubscribe` and `List-Unsubscribe-Post` headers.

use lettre::{
    Message,
    message::{
        Mailbox, MultiPart,
        header::{Header, HeaderName, HeaderValue},
    },
};
use url::Url;

use super::RenderedMail;
use crate::domain::EmailAddress;

/// Everything needed to build one message.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// Recipient address (never with a display name: the name is subscriber-typed text).
    pub to: EmailAddress,
    /// Rendered content.
    pub content: RenderedMail,
    /// Message-ID without angle brackets.
    pub message_id: String,
    /// The one-click unsubscribe URL.
    pub unsubscribe_url: Url,
}

/// `List-Unsubscribe: <URL>` (RFC 2369 §3.2).
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

/// Why a message could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build message: {0}")]
pub struct BuildError(String);

/// Builds the message from `from` to the recipient.
///
/// # Errors
/// An address lettre refuses (cannot happen for parsed `EmailAddress`es) or a build error.
pub fn build_message(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, BuildError> {
    let to: Mailbox = mail
        .to
        .as_str()
        .parse()
        .map_err(|e| BuildError(format!("recipient: {e}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.content.subject.clone())
        .message_id(Some(format!("<{}>", mail.message_id)))
        .header(ListUnsubscribe(format!("<{}>", mail.unsubscribe_url)))
        .header(ListUnsubscribePost)
        .multipart(MultiPart::alternative_plain_html(
            mail.content.text.clone(),
            mail.content.html.clone(),
        ))
        .map_err(|e| BuildError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_the_one_click_headers_and_message_id() {
        let from: Mailbox = "News <news@example.com>".parse().unwrap();
        let mail = OutgoingMail {
            to: EmailAddress::parse("jane@example.org").unwrap(),
            content: RenderedMail {
                subject: "Hello".into(),
                text: "Hi".into(),
                html: "<p>Hi</p>".into(),
            },
            message_id: "abc@example.com".into(),
            unsubscribe_url: Url::parse("https://x.test/unsubscribe/T").unwrap(),
        };
        let raw = String::from_utf8(build_message(&from, &mail).unwrap().formatted()).unwrap();
        assert!(
            raw.contains("List-Unsubscribe: <https://x.test/unsubscribe/T>\r\n"),
            "{raw}"
        );
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        assert!(raw.contains("Message-ID: <abc@example.com>\r\n"));
        assert!(raw.contains("multipart/alternative"));
    }
}
