//! Bounce and complaint calls from e-mail providers (Amazon SES through SNS, Postmark,
//! Mailgun, SendGrid): each proven to come from its provider the way the provider
//! documents, then read into the same events the bounce domain's reports give. A call that
//! proves nothing is `Refused::Unauthenticated` before a byte of its content is believed.

pub mod mailgun;
pub mod postmark;
pub mod sendgrid;
pub mod ses;

use chrono::{DateTime, Utc};

use crate::domain::{Bounce, EnhancedStatus};

/// The largest call body read (SendGrid posts events in batches).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How old a signed call may be: providers retry for up to a day; older ones are replays.
const FRESH_FOR: chrono::Duration = chrono::Duration::days(2);

/// How long a single-use token must be remembered: past its signature's freshness on
/// either side.
pub const TOKEN_MEMORY: chrono::Duration = chrono::Duration::hours(4 * 24 + 1);

/// What a provider says happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It could not be delivered.
    Bounce {
        /// The enhanced status code, if the provider passes one on.
        status: Option<EnhancedStatus>,
        /// The provider's own verdict, used only where there is no status code.
        verdict: Bounce,
        /// The remote server's words, cut short.
        diagnostic: Option<String>,
    },
    /// The recipient reported it as spam.
    Complaint,
}

/// One event of a call, about one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub outcome: Outcome,
    /// The address the provider names.
    pub recipient: Option<String>,
    /// Signed delivery references the provider passed back (original headers, metadata).
    pub references: Vec<String>,
}

/// Why a call was not acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// It does not prove it comes from the provider.
    #[error("not authenticated: {0}")]
    Unauthenticated(&'static str),
    /// It is authentic but cannot be read.
    #[error("not readable: {0}")]
    Malformed(&'static str),
}

/// The status to believe: a specific one given, else the most specific one in the
/// diagnostic text (`smtp; 550 5.1.1 …` behind a bare `5.0.0`), else the one given.
pub fn best_status(given: Option<EnhancedStatus>, text: Option<&str>) -> Option<EnhancedStatus> {
    let specific = |s: &EnhancedStatus| s.subject != 0 || s.detail != 0;
    if given.as_ref().is_some_and(specific) {
        return given;
    }
    let found = text.and_then(status_in);
    match (given, found) {
        (Some(g), Some(f)) if g.class == f.class && specific(&f) => Some(f),
        (None, Some(f)) => Some(f),
        (g, _) => g,
    }
}

/// The first enhanced status code of class 4 or 5 in `text`.
pub fn status_in(text: &str) -> Option<EnhancedStatus> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|t| t.trim_end_matches('.'))
        .filter_map(EnhancedStatus::parse)
        .find(|s| s.class == 4 || s.class == 5)
}

/// At most 300 characters of a remote server's words.
fn cut(text: &str) -> String {
    text.trim().chars().take(300).collect()
}

/// Whether a signed call's time is recent enough to act on (not a replay of an old one).
fn fresh(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    (now - at).abs() <= FRESH_FOR
}

/// The delivery references among `values` (the value of an `X-Bulletin-Ref` header or of a
/// metadata field the operator set from it): only the shape is checked here.
fn references<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for value in values {
        let value = value.trim().to_ascii_lowercase();
        let shaped = value.len() == 49
            && value.bytes().enumerate().all(|(i, b)| match i {
                32 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        if shaped && !found.contains(&value) && found.len() < 20 {
            found.push(value);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Option<EnhancedStatus> {
        EnhancedStatus::parse(text)
    }

    #[test]
    fn the_most_specific_status_is_believed() {
        assert_eq!(best_status(s("5.1.1"), Some("550 5.7.1 no")), s("5.1.1"));
        assert_eq!(
            best_status(s("5.0.0"), Some("smtp; 550 5.1.1 unknown")),
            s("5.1.1")
        );
        assert_eq!(
            best_status(s("5.0.0"), Some("smtp; 450 4.2.2 full")),
            s("5.0.0")
        );
        assert_eq!(best_status(None, Some("smtp; 550 5.2.2 full")), s("5.2.2"));
        assert_eq!(best_status(None, Some("from 192.168.1.1: refused")), None);
        assert_eq!(best_status(None, None), None);
    }

    #[test]
    fn only_reference_shaped_values_are_kept() {
        let good = "0193a5c1f00d7aa1b2c3d4e5f6a7b8c9-0123456789abcdef";
        assert_eq!(
            references([
                good,
                "nonsense",
                good,
                "0193A5C1F00D7AA1B2C3D4E5F6A7B8C9-0123456789ABCDEF"
            ]),
            vec![good.to_owned()]
        );
    }

    /// JSON values of any shape, nested a few levels, with the field names providers use.
    fn json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let names = prop::sample::select(vec![
            "RecordType",
            "Type",
            "Email",
            "Details",
            "Metadata",
            "event",
            "severity",
            "recipient",
            "delivery-status",
            "code",
            "message",
            "enhanced-code",
            "status",
            "reason",
            "email",
            "type",
            "bulletin_ref",
            "notificationType",
            "bounce",
            "bounceType",
            "bouncedRecipients",
            "emailAddress",
            "complaint",
            "mail",
            "headers",
            "name",
            "value",
            "signature",
            "event-data",
            "user-variables",
        ]);
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::from),
            prop::sample::select(vec![
                "Bounce",
                "HardBounce",
                "failed",
                "permanent",
                "bounce",
                "spamreport",
                "Permanent",
                "5.1.1",
                "550 5.1.1 x",
                "X-Bulletin-Ref"
            ])
            .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::vec((names.clone(), inner), 0..6).prop_map(|fields| {
                    serde_json::Value::Object(
                        fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                    )
                }),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(100_000))]
        #[test]
        fn any_call_body_is_read_without_panic(value in json(), raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let body = value.to_string();
            let _ = postmark::read(body.as_bytes());
            let _ = postmark::read(&raw);
            let _ = ses::notification(&body);
            let _ = sendgrid::events(body.as_bytes());
            let _ = mailgun::event(value);
            let _ = best_status(None, Some(&body));
        }
    }
}
