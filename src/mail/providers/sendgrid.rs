//! SendGrid's signed Event Webhook: an ECDSA P-256 signature over the timestamp header and
//! the raw body, checked against the verification key SendGrid shows for the account.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use serde::Deserialize;

use super::{Event, Outcome, Refused, best_status, cut, fresh, references};
use crate::domain::{Bounce, EnhancedStatus};

/// The header carrying the signature (base64 of its DER form).
pub const SIGNATURE_HEADER: &str = "x-twilio-email-event-webhook-signature";
/// The header carrying the signed timestamp (seconds since the epoch).
pub const TIMESTAMP_HEADER: &str = "x-twilio-email-event-webhook-timestamp";

#[derive(Deserialize)]
struct Call {
    email: Option<String>,
    event: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<String>,
    reason: Option<String>,
    bulletin_ref: Option<String>,
}

/// Checks the signature of a call under `point` (the uncompressed P-256 public key), then
/// reads its events.
///
/// # Errors
/// `Unauthenticated` for a missing, wrong or stale signature; `Malformed` for a signed body
/// that is not SendGrid's event array.
pub fn read(
    point: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Vec<Event>, Refused> {
    let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
        return Err(Refused::Unauthenticated("no SendGrid signature"));
    };
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| Refused::Unauthenticated("the signature is not base64"))?;
    let signed = [timestamp.as_bytes(), body].concat();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
        .verify(&signed, &signature)
        .map_err(|_| Refused::Unauthenticated("wrong signature"))?;
    let at = timestamp
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .ok_or(Refused::Unauthenticated("no timestamp"))?;
    if !fresh(at, now) {
        return Err(Refused::Unauthenticated("the signature is too old"));
    }
    events(body)
}

/// The bounces and spam reports of an authenticated body.
pub(super) fn events(body: &[u8]) -> Result<Vec<Event>, Refused> {
    let calls: Vec<Call> = serde_json::from_slice(body)
        .map_err(|_| Refused::Malformed("not a SendGrid event array"))?;
    Ok(calls.into_iter().filter_map(event).collect())
}

/// One SendGrid event as Bulletin's, if it is a bounce or a spam report.
fn event(call: Call) -> Option<Event> {
    let outcome = match call.event.as_deref()? {
        "spamreport" => Outcome::Complaint,
        "bounce" => {
            let given = call.status.as_deref().and_then(EnhancedStatus::parse);
            let status = best_status(given, call.reason.as_deref());
            let verdict = match (call.kind.as_deref(), status) {
                (Some("blocked"), _) => Bounce::Blocked,
                (_, Some(s)) if s.class == 4 => Bounce::Soft,
                _ => Bounce::Hard,
            };
            Outcome::Bounce {
                status,
                verdict,
                diagnostic: call.reason.as_deref().map(cut),
            }
        }
        // Deferrals go on; drops are SendGrid's own suppressions; the rest is engagement.
        _ => return None,
    };
    Some(Event {
        outcome,
        recipient: call.email,
        references: references(call.bulletin_ref.as_deref()),
    })
}

#[cfg(test)]
mod tests {
    use ring::{
        rand::SystemRandom,
        signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair},
    };

    use super::*;

    #[test]
    fn a_signed_batch_is_read_and_a_forged_one_refused() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let now = Utc::now();
        let ts = now.timestamp().to_string();
        let body = br#"[{"email":"jane@example.org","event":"bounce","type":"bounce","status":"5.0.0","reason":"550 5.1.1 unknown user"},{"email":"john@example.org","event":"spamreport"},{"email":"x@example.org","event":"open"}]"#;
        let sig = pair.sign(&rng, &[ts.as_bytes(), body].concat()).unwrap();
        let sig = base64::engine::general_purpose::STANDARD.encode(sig.as_ref());
        let point = pair.public_key().as_ref();
        let events = read(point, Some(&sig), Some(&ts), body, now).unwrap();
        assert_eq!(events.len(), 2);
        assert!(matches!(
            &events[0].outcome,
            Outcome::Bounce { status: Some(s), .. } if s.to_string() == "5.1.1"
        ));
        assert_eq!(events[1].outcome, Outcome::Complaint);
        let other = String::from_utf8_lossy(body)
            .replace("jane@", "anna@")
            .into_bytes();
        assert!(read(point, Some(&sig), Some(&ts), &other, now).is_err());
        assert!(read(point, None, Some(&ts), body, now).is_err());
        let later = (now.timestamp() + 1).to_string();
        assert!(read(point, Some(&sig), Some(&later), body, now).is_err());
    }
}
