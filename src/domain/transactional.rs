//! Transactional mail: the operator's templates (subject and Markdown body, with the
//! integrator's `data.*`), and each message an integrator asked for.

use chrono::{DateTime, Utc};

use super::{DeliveryId, SubscriberId, TransactionalTemplateId};

/// A template of transactional mail, addressed by its name in `POST /api/v1/transactional`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct TransactionalTemplate {
    pub id: TransactionalTemplateId,
    /// 1 to 64 lower-case letters, digits, hyphens or underscores: `order-shipped`.
    pub name: String,
    /// One line, with template variables.
    pub subject: String,
    /// Markdown, with template variables.
    pub body_markdown: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A transactional message as it was rendered when asked for; its outbox row has its id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct TransactionalMessage {
    pub id: DeliveryId,
    /// The template's name.
    pub template: String,
    pub subscriber_id: SubscriberId,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// The actor who asked for it (`api:TOKEN-NAME`).
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
}

/// Checks a template's name.
///
/// # Errors
/// Anything but 1–64 of `[a-z0-9_-]` starting with a letter or digit, as a message.
pub fn parse_name(raw: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    match ok {
        true => Ok(raw.to_owned()),
        false => Err(
            "1 to 64 lower-case letters, digits, hyphens or underscores, starting with a letter or digit"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["order-shipped", "password_reset", "a", "2fa"] {
            assert_eq!(parse_name(good).as_deref(), Ok(good));
        }
        for bad in ["", "-x", "_x", "Order", "a b", "ä", &"a".repeat(65)] {
            assert!(parse_name(bad).is_err(), "{bad:?}");
        }
    }
}
