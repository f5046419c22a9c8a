//! Mailgun's webhooks (`failed`, `complained`): each call carries a signature, the
//! HMAC-SHA256 of its timestamp and token under the account's webhook signing key.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::{Event, Outcome, Refused, best_status, cut, fresh, references};
use crate::domain::{Bounce, EnhancedStatus};

#[derive(Deserialize)]
struct Call {
    signature: Signature,
    #[serde(rename = "event-data")]
    event_data: serde_json::Value,
}

#[derive(Deserialize)]
struct Signature {
    timestamp: String,
    token: String,
    signature: String,
}

#[derive(Deserialize)]
struct EventData {
    event: Option<String>,
    severity: Option<String>,
    recipient: Option<String>,
    #[serde(rename = "delivery-status")]
    delivery_status: Option<DeliveryStatus>,
    #[serde(rename = "user-variables", default)]
    user_variables: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct DeliveryStatus {
    code: Option<serde_json::Value>,
    #[serde(rename = "enhanced-code")]
    enhanced_code: Option<String>,
    message: Option<String>,
    description: Option<String>,
}

/// Checks a call's signature and freshness under `key`, then reads its event. The signature
/// covers the timestamp and token only (Mailgun's design), so the caller must take each
/// token once: it is returned beside the events.
///
/// # Errors
/// `Unauthenticated` for a missing, wrong or stale signature; `Malformed` for a signed
/// event that cannot be read.
pub fn read(key: &[u8], body: &[u8], now: DateTime<Utc>) -> Result<(String, Vec<Event>), Refused> {
    let call: Call = serde_json::from_slice(body)
        .map_err(|_| Refused::Unauthenticated("no Mailgun signature"))?;
    let sig = &call.signature;
    let tag = hex::decode(sig.signature.trim())
        .map_err(|_| Refused::Unauthenticated("the signature is not hex"))?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .map_err(|_| Refused::Unauthenticated("no key"))?;
    mac.update(sig.timestamp.as_bytes());
    mac.update(sig.token.as_bytes());
    mac.verify_slice(&tag)
        .map_err(|_| Refused::Unauthenticated("wrong signature"))?;
    let at = sig
        .timestamp
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .ok_or(Refused::Unauthenticated("no timestamp"))?;
    if !fresh(at, now) {
        return Err(Refused::Unauthenticated("the signature is too old"));
    }
    Ok((call.signature.token, event(call.event_data)?))
}

/// The event of an authenticated call, if it is a failure or a complaint.
pub(super) fn event(event_data: serde_json::Value) -> Result<Vec<Event>, Refused> {
    let data: EventData = serde_json::from_value(event_data)
        .map_err(|_| Refused::Malformed("not a Mailgun event"))?;
    let outcome = match data.event.as_deref().unwrap_or_default() {
        "complained" => Outcome::Complaint,
        "failed" => {
            let status = data.delivery_status.as_ref();
            let given = status
                .and_then(|s| s.enhanced_code.as_deref())
                .and_then(EnhancedStatus::parse);
            let text = status.and_then(|s| s.message.as_deref().or(s.description.as_deref()));
            let code = status
                .and_then(|s| s.code.as_ref())
                .and_then(|c| c.as_u64().or_else(|| c.as_str()?.parse().ok()));
            let verdict = match (data.severity.as_deref(), code) {
                (Some("temporary"), _) | (_, Some(400..=499)) => Bounce::Soft,
                (Some("permanent"), Some(550 | 551 | 553)) => Bounce::Hard,
                // Mailgun's own refusals (a suppressed or old address, code 605 and the
                // like) and policy rejections say nothing certain about the address.
                _ => Bounce::Blocked,
            };
            Outcome::Bounce {
                status: best_status(given, text),
                verdict,
                diagnostic: text.map(cut),
            }
        }
        _ => return Ok(Vec::new()),
    };
    let event = Event {
        outcome,
        recipient: data.recipient,
        references: references(data.user_variables.values().filter_map(|v| v.as_str())),
    };
    Ok(vec![event])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(key: &[u8], timestamp: i64, event: &str) -> Vec<u8> {
        let token = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0";
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
        mac.update(format!("{timestamp}{token}").as_bytes());
        let signature = hex::encode(mac.finalize().into_bytes());
        format!(
            r#"{{"signature":{{"timestamp":"{timestamp}","token":"{token}","signature":"{signature}"}},"event-data":{event}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn a_signed_failure_is_read_and_anything_else_refused() {
        let now = Utc::now();
        let event = r#"{"event":"failed","severity":"permanent","recipient":"jane@example.org","delivery-status":{"code":550,"message":"5.1.1 The email account that you tried to reach does not exist"}}"#;
        let body = signed(b"key-1", now.timestamp(), event);
        let (token, events) = read(b"key-1", &body, now).unwrap();
        assert!(token.starts_with("a8ce0e"));
        assert!(matches!(
            &events[0].outcome,
            Outcome::Bounce { status: Some(s), verdict: Bounce::Hard, .. } if s.to_string() == "5.1.1"
        ));
        assert_eq!(
            read(b"key-2", &body, now),
            Err(Refused::Unauthenticated("wrong signature"))
        );
        let old = signed(b"key-1", now.timestamp() - 3 * 86_400, event);
        assert!(read(b"key-1", &old, now).is_err());
        let tampered = String::from_utf8(body).unwrap().replace("jane@", "john@");
        // The signature covers only timestamp and token, as Mailgun designed it: the
        // caller takes each token once.
        assert!(read(b"key-1", tampered.as_bytes(), now).is_ok());
        let complaint = signed(
            b"key-1",
            now.timestamp(),
            r#"{"event":"complained","recipient":"jane@example.org"}"#,
        );
        assert_eq!(
            read(b"key-1", &complaint, now).unwrap().1[0].outcome,
            Outcome::Complaint
        );
        assert!(read(b"key-1", b"{}", now).is_err());
    }
}
