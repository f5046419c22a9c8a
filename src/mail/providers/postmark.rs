//! Postmark's bounce and spam-complaint webhooks. Postmark does not sign its calls; it
//! documents HTTP basic authentication in the webhook's URL, which is checked here in
//! constant time.

use base64::Engine as _;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{Event, Outcome, Refused, best_status, cut, references};
use crate::domain::Bounce;

/// Checks the `Authorization` header against the configured user name and password.
///
/// # Errors
/// `Unauthenticated` when it is missing or wrong.
pub fn authenticate(
    authorization: Option<&str>,
    user: &str,
    password: &str,
) -> Result<(), Refused> {
    let given = authorization
        .and_then(|h| h.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b64)| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .ok_or(Refused::Unauthenticated("no basic authentication"))?;
    let expected = format!("{user}:{password}");
    // Lengths may differ; `ct_eq` on slices of unequal length is false without a shortcut
    // on the contents.
    if bool::from(given.as_slice().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(Refused::Unauthenticated("wrong user name or password"))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Call {
    record_type: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    email: Option<String>,
    details: Option<String>,
    description: Option<String>,
    #[serde(default)]
    metadata: serde_json::Map<String, serde_json::Value>,
}

/// Reads an authenticated call: at most one event (Postmark posts one record per call).
///
/// # Errors
/// `Malformed` when the body is not Postmark's JSON.
pub fn read(body: &[u8]) -> Result<Vec<Event>, Refused> {
    let call: Call =
        serde_json::from_slice(body).map_err(|_| Refused::Malformed("not a Postmark record"))?;
    let kind = call.kind.as_deref().unwrap_or_default();
    let outcome = match (call.record_type.as_deref().unwrap_or_default(), kind) {
        ("SpamComplaint", _) | (_, "SpamComplaint") => Outcome::Complaint,
        ("Bounce", _) => {
            let verdict = match kind {
                "HardBounce" | "BadEmailAddress" => Bounce::Hard,
                "SoftBounce" | "Transient" | "DnsError" => Bounce::Soft,
                "Blocked" | "SpamNotification" | "DMARCPolicy" | "VirusNotification" => {
                    Bounce::Blocked
                }
                // Auto-replies, challenge mails, (un)subscribe requests, Postmark's own
                // errors and manual deactivation say nothing about the address.
                _ => return Ok(Vec::new()),
            };
            let text = call.details.as_deref().or(call.description.as_deref());
            Outcome::Bounce {
                status: best_status(None, call.details.as_deref()),
                verdict,
                diagnostic: text.map(cut),
            }
        }
        _ => return Ok(Vec::new()),
    };
    Ok(vec![Event {
        outcome,
        recipient: call.email,
        references: references(call.metadata.values().filter_map(|v| v.as_str())),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_authentication_must_match_exactly() {
        let header = |s: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            )
        };
        assert!(authenticate(Some(&header("hook:s3cret")), "hook", "s3cret").is_ok());
        assert!(authenticate(Some(&header("hook:s3cre")), "hook", "s3cret").is_err());
        assert!(authenticate(Some(&header("hook:s3cret!")), "hook", "s3cret").is_err());
        assert!(authenticate(Some("Bearer x"), "hook", "s3cret").is_err());
        assert!(authenticate(None, "hook", "s3cret").is_err());
    }

    #[test]
    fn bounces_and_complaints_are_read() {
        let hard = br#"{"RecordType":"Bounce","Type":"HardBounce","TypeCode":1,"Email":"jane@example.org","Details":"smtp;550 5.1.1 The email account that you tried to reach does not exist","Metadata":{}}"#;
        let events = read(hard).unwrap();
        assert_eq!(events[0].recipient.as_deref(), Some("jane@example.org"));
        assert!(matches!(
            &events[0].outcome,
            Outcome::Bounce { status: Some(s), verdict: Bounce::Hard, .. } if s.to_string() == "5.1.1"
        ));
        let spam =
            br#"{"RecordType":"SpamComplaint","Type":"SpamComplaint","Email":"jane@example.org"}"#;
        assert_eq!(read(spam).unwrap()[0].outcome, Outcome::Complaint);
        let auto = br#"{"RecordType":"Bounce","Type":"AutoResponder","Email":"jane@example.org"}"#;
        assert!(read(auto).unwrap().is_empty());
        assert!(read(b"[1,2").is_err());
    }
}
