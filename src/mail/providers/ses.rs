//! Amazon SES notifications, delivered by Amazon SNS. Every SNS message is signed with the
//! certificate at its `SigningCertURL` (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA);
//! the certificate is fetched over HTTPS from `sns.REGION.amazonaws.com` only, or pinned by
//! the operator. Only messages of the configured topics are taken. A subscription
//! confirmation is confirmed by fetching its `SubscribeURL`, which must be SNS's own.

use std::{sync::Mutex, time::Duration};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rustls_pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
    pem::PemObject,
};
use serde::Deserialize;

use super::{Event, Outcome, Refused, best_status, cut, fresh, references};
use crate::{
    config::SesWebhook,
    domain::{Bounce, EnhancedStatus},
};

/// Certificates kept after fetching (SNS uses one or two per region at a time).
const CACHED_CERTIFICATES: usize = 16;
/// The largest certificate file fetched.
const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

/// What an authentic SNS message asks of Bulletin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// An SES notification: its SNS message id (the same on SNS's retries) and its bounces
    /// and complaints.
    Events(String, Vec<Event>),
    /// SNS asks to confirm the subscription of this endpoint by fetching `url`.
    Subscribe {
        /// The topic.
        topic: String,
        /// SNS's confirmation URL (checked to be SNS's own).
        url: String,
    },
    /// Nothing to act on (an unsubscribe confirmation, a delivery notice).
    Nothing,
}

/// The SNS verifier of one configuration: its topics, its certificates, its HTTP client.
pub struct Sns {
    topic_arns: Vec<String>,
    pinned: Option<CertificateDer<'static>>,
    cache: Mutex<Vec<(String, CertificateDer<'static>)>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Sns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sns")
            .field("topic_arns", &self.topic_arns)
            .field("pinned", &self.pinned.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    #[serde(rename = "Type")]
    kind: String,
    message_id: String,
    topic_arn: String,
    message: String,
    timestamp: String,
    signature_version: String,
    signature: String,
    #[serde(rename = "SigningCertURL")]
    signing_cert_url: String,
    subject: Option<String>,
    token: Option<String>,
    #[serde(rename = "SubscribeURL")]
    subscribe_url: Option<String>,
}

impl Sns {
    /// The verifier for `settings`.
    ///
    /// # Errors
    /// The pinned certificate file holds no certificate.
    pub fn new(settings: &SesWebhook) -> Result<Self, String> {
        let pinned = match &settings.certificate_pem {
            Some(pem) => Some(CertificateDer::from_pem_slice(pem).map_err(|e| {
                format!("webhooks.ses.certificate_file holds no PEM certificate: {e}")
            })?),
            None => None,
        };
        Ok(Self {
            topic_arns: settings.topic_arns.clone(),
            pinned,
            cache: Mutex::new(Vec::new()),
            http: http_client()?,
        })
    }

    /// Checks that `body` is an SNS message of a configured topic, signed by SNS and recent,
    /// and says what it asks.
    ///
    /// # Errors
    /// `Unauthenticated` unless all of that holds; `Malformed` for an authentic message
    /// whose SES notification cannot be read.
    pub async fn verify(&self, body: &[u8], now: DateTime<Utc>) -> Result<Message, Refused> {
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|_| Refused::Unauthenticated("not an SNS message"))?;
        if !self.topic_arns.contains(&envelope.topic_arn) {
            return Err(Refused::Unauthenticated("a topic that is not configured"));
        }
        // Everything that can be checked without the certificate is checked first, so that
        // a forged call makes Bulletin fetch nothing.
        let region = envelope.topic_arn.split(':').nth(3).unwrap_or_default();
        if !is_sns_certificate_url(&envelope.signing_cert_url, region) {
            return Err(Refused::Unauthenticated("a certificate that is not SNS's"));
        }
        let signature = base64::engine::general_purpose::STANDARD
            .decode(envelope.signature.trim())
            .map_err(|_| Refused::Unauthenticated("the signature is not base64"))?;
        let algorithm: &dyn SignatureVerificationAlgorithm =
            match envelope.signature_version.as_str() {
                "1" => &RsaPkcs1Sha1,
                "2" => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
                _ => return Err(Refused::Unauthenticated("an unknown signature version")),
            };
        let at = DateTime::parse_from_rfc3339(&envelope.timestamp)
            .map_err(|_| Refused::Unauthenticated("no timestamp"))?;
        if !fresh(at.with_timezone(&Utc), now) {
            return Err(Refused::Unauthenticated("the message is too old"));
        }
        let signed = string_to_sign(&envelope)?;
        let certificate = self.certificate(&envelope.signing_cert_url).await?;
        let cert = webpki::EndEntityCert::try_from(&certificate)
            .map_err(|_| Refused::Unauthenticated("an unreadable certificate"))?;
        cert.verify_signature(algorithm, signed.as_bytes(), &signature)
            .map_err(|_| Refused::Unauthenticated("wrong signature"))?;
        match envelope.kind.as_str() {
            "Notification" => Ok(Message::Events(
                envelope.message_id,
                notification(&envelope.message)?,
            )),
            "SubscriptionConfirmation" => match envelope.subscribe_url {
                Some(url) if is_sns_url(&url, "") => Ok(Message::Subscribe {
                    topic: envelope.topic_arn,
                    url,
                }),
                _ => Err(Refused::Malformed("a confirmation URL that is not SNS's")),
            },
            _ => Ok(Message::Nothing),
        }
    }

    /// Confirms a subscription by fetching SNS's confirmation URL.
    ///
    /// # Errors
    /// The URL could not be fetched or SNS refused.
    pub async fn confirm(&self, url: &str) -> Result<(), String> {
        if !is_sns_url(url, "") {
            return Err("not an SNS URL".to_owned());
        }
        let response = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("SNS answered {}", response.status()))
        }
    }

    /// The certificate at `url`: the pinned one, a cached one, or fetched.
    async fn certificate(&self, url: &str) -> Result<CertificateDer<'static>, Refused> {
        if let Some(pinned) = &self.pinned {
            return Ok(pinned.clone());
        }
        if let Some(found) = self.cached(url) {
            return Ok(found);
        }
        let fetched = self.fetch(url).await.map_err(|e| {
            tracing::warn!(error = %e, "SNS's signing certificate could not be fetched");
            Refused::Unauthenticated("the certificate could not be fetched")
        })?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHED_CERTIFICATES {
                cache.remove(0);
            }
            cache.push((url.to_owned(), fetched.clone()));
        }
        Ok(fetched)
    }

    fn cached(&self, url: &str) -> Option<CertificateDer<'static>> {
        let cache = self.cache.lock().ok()?;
        cache.iter().find(|(u, _)| u == url).map(|(_, c)| c.clone())
    }

    async fn fetch(&self, url: &str) -> Result<CertificateDer<'static>, String> {
        let response = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_CERTIFICATE_BYTES as u64)
        {
            return Err("too large".to_owned());
        }
        let pem = response.bytes().await.map_err(|e| e.to_string())?;
        if pem.len() > MAX_CERTIFICATE_BYTES {
            return Err("too large".to_owned());
        }
        CertificateDer::from_pem_slice(&pem).map_err(|e| e.to_string())
    }
}

/// An HTTPS client that trusts the Mozilla roots, follows no redirects and gives up after
/// ten seconds.
fn http_client() -> Result<reqwest::Client, String> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())
}

/// Whether `url` is SNS's signing certificate for `region` (the topic's): an HTTPS URL of
/// `sns.REGION.amazonaws.com` whose path is `/SimpleNotificationService-….pem`, with no
/// query, so that a forged call cannot make Bulletin fetch, or keep, anything else.
fn is_sns_certificate_url(url: &str, region: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let host = parsed.host_str().unwrap_or_default();
    is_sns_url(url, ".pem")
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.path().starts_with("/SimpleNotificationService-")
        && is_region(region)
        && (host == format!("sns.{region}.amazonaws.com")
            || host == format!("sns.{region}.amazonaws.com.cn"))
}

/// Whether `name` has the shape of an AWS region (`eu-west-1`, `us-gov-west-1`): never an
/// S3 host label such as `s3` or `s3-accelerate`.
fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// Whether `url` is an HTTPS URL of SNS itself (`sns.REGION.amazonaws.com`, or `.com.cn`),
/// with no user, no port, and a path ending in `suffix`.
fn is_sns_url(url: &str, suffix: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    let region = host
        .strip_prefix("sns.")
        .and_then(|h| {
            h.strip_suffix(".amazonaws.com")
                .or_else(|| h.strip_suffix(".amazonaws.com.cn"))
        })
        .unwrap_or_default();
    url.scheme() == "https"
        && url.username().is_empty()
        && url.password().is_none()
        && url.port().is_none()
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && url.path().ends_with(suffix)
}

/// The text SNS signs: fixed fields, each name and value on a line of its own.
fn string_to_sign(e: &Envelope) -> Result<String, Refused> {
    let mut fields: Vec<(&str, &str)> = vec![("Message", &e.message), ("MessageId", &e.message_id)];
    match e.kind.as_str() {
        "Notification" => {
            if let Some(subject) = &e.subject {
                fields.push(("Subject", subject));
            }
            fields.push(("Timestamp", &e.timestamp));
        }
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => {
            let (Some(url), Some(token)) = (&e.subscribe_url, &e.token) else {
                return Err(Refused::Unauthenticated(
                    "a confirmation without its fields",
                ));
            };
            fields.push(("SubscribeURL", url));
            fields.push(("Timestamp", &e.timestamp));
            fields.push(("Token", token));
        }
        _ => return Err(Refused::Unauthenticated("an unknown message type")),
    }
    fields.push(("TopicArn", &e.topic_arn));
    fields.push(("Type", &e.kind));
    Ok(fields
        .iter()
        .map(|(name, value)| format!("{name}\n{value}\n"))
        .collect())
}

/// SHA1withRSA, which SNS's SignatureVersion 1 (the default of a new topic) uses and
/// webpki, rightly, does not offer for certificates. Only SNS messages are checked with it.
#[derive(Debug)]
struct RsaPkcs1Sha1;

/// `sha1WithRSAEncryption` (1.2.840.113549.1.1.5) with NULL parameters.
const SHA1_WITH_RSA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
];

impl SignatureVerificationAlgorithm for RsaPkcs1Sha1 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            public_key,
        )
        .verify(message, signature)
        .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        AlgorithmIdentifier::from_slice(SHA1_WITH_RSA)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    notification_type: Option<String>,
    event_type: Option<String>,
    bounce: Option<SesBounce>,
    complaint: Option<SesComplaint>,
    mail: Option<SesMail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesBounce {
    bounce_type: Option<String>,
    bounce_sub_type: Option<String>,
    #[serde(default)]
    bounced_recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesComplaint {
    #[serde(default)]
    complained_recipients: Vec<Recipient>,
    complaint_feedback_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    email_address: Option<String>,
    status: Option<String>,
    diagnostic_code: Option<String>,
}

#[derive(Deserialize)]
struct SesMail {
    #[serde(default)]
    headers: Vec<Header>,
}

#[derive(Deserialize)]
struct Header {
    name: String,
    value: String,
}

/// The bounces and complaints of an SES notification (an SNS `Message`), one event per
/// recipient. SES passes the original headers back when "Include original headers" is on;
/// their `X-Bulletin-Ref` then names the delivery.
pub(super) fn notification(message: &str) -> Result<Vec<Event>, Refused> {
    let n: Notification =
        serde_json::from_str(message).map_err(|_| Refused::Malformed("not an SES notification"))?;
    let refs = n.mail.as_ref().map_or_else(Vec::new, |m| {
        references(
            m.headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("x-bulletin-ref"))
                .map(|h| h.value.as_str()),
        )
    });
    let kind = n.notification_type.or(n.event_type).unwrap_or_default();
    let event = |outcome, recipient: &Recipient| Event {
        outcome,
        recipient: recipient.email_address.clone(),
        references: refs.clone(),
    };
    match (kind.as_str(), n.bounce, n.complaint) {
        ("Bounce", Some(b), _) => {
            let verdict = match (b.bounce_type.as_deref(), b.bounce_sub_type.as_deref()) {
                (Some("Permanent"), _) => Bounce::Hard,
                (
                    Some("Transient"),
                    Some("ContentRejected" | "AttachmentRejected" | "MessageTooLarge"),
                ) => Bounce::Blocked,
                (Some("Transient"), _) => Bounce::Soft,
                _ => Bounce::Blocked,
            };
            Ok(b.bounced_recipients
                .iter()
                .map(|r| {
                    let given = r.status.as_deref().and_then(EnhancedStatus::parse);
                    let outcome = Outcome::Bounce {
                        status: best_status(given, r.diagnostic_code.as_deref()),
                        verdict,
                        diagnostic: r.diagnostic_code.as_deref().map(cut),
                    };
                    event(outcome, r)
                })
                .collect())
        }
        ("Complaint", _, Some(c)) if c.complaint_feedback_type.as_deref() != Some("not-spam") => {
            Ok(c.complained_recipients
                .iter()
                .map(|r| event(Outcome::Complaint, r))
                .collect())
        }
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/webhooks/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
    }

    fn pinned() -> Sns {
        Sns::new(&SesWebhook {
            topic_arns: vec!["arn:aws:sns:eu-west-1:123456789012:ses-feedback".to_owned()],
            certificate_pem: Some(fixture("sns-test-certificate.pem")),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_version_1_signature_made_by_openssl_is_accepted_and_any_change_refused() {
        let body = fixture("sns-v1-complaint.json");
        let at = DateTime::parse_from_rfc3339("2026-12-03T10:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let sns = pinned();
        match sns.verify(&body, at).await.unwrap() {
            Message::Events(_, events) => {
                assert_eq!(events.len(), 1);
                assert_eq!(events[0].outcome, Outcome::Complaint);
                assert_eq!(events[0].recipient.as_deref(), Some("jane@example.org"));
                assert_eq!(events[0].references.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        let text = String::from_utf8(body.clone()).unwrap();
        let altered = text.replace("jane@example.org", "john@example.org");
        assert_eq!(
            sns.verify(altered.as_bytes(), at).await,
            Err(Refused::Unauthenticated("wrong signature"))
        );
        let later = at + chrono::Duration::days(3);
        assert!(
            sns.verify(&body, later).await.is_err(),
            "a replay days later"
        );
        let elsewhere = text.replace("sns.eu-west-1.amazonaws.com", "sns.eu-west-1.evil.example");
        assert!(sns.verify(elsewhere.as_bytes(), at).await.is_err());
        let other_topic = Sns::new(&SesWebhook {
            topic_arns: vec!["arn:aws:sns:eu-west-1:123456789012:other".to_owned()],
            certificate_pem: Some(fixture("sns-test-certificate.pem")),
        })
        .unwrap();
        assert!(other_topic.verify(&body, at).await.is_err());
        assert!(sns.verify(b"\x00garbage", at).await.is_err());
    }

    #[test]
    fn only_the_topic_regions_certificate_is_fetched() {
        let good = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem";
        assert!(is_sns_certificate_url(good, "eu-west-1"));
        assert!(!is_sns_certificate_url(good, "us-east-1"));
        assert!(!is_sns_certificate_url(&format!("{good}?r=1"), "eu-west-1"));
        let other = "https://sns.eu-west-1.amazonaws.com/other.pem";
        assert!(!is_sns_certificate_url(other, "eu-west-1"));
        let bucket = "https://sns.s3.amazonaws.com/SimpleNotificationService-abc.pem";
        assert!(!is_sns_certificate_url(bucket, "s3"), "not a region");
    }

    #[test]
    fn only_sns_own_https_urls_are_trusted() {
        let good = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem";
        assert!(is_sns_url(good, ".pem"));
        assert!(is_sns_url(
            "https://sns.cn-north-1.amazonaws.com.cn/x.pem",
            ".pem"
        ));
        for bad in [
            "http://sns.eu-west-1.amazonaws.com/x.pem",
            "https://sns.eu-west-1.amazonaws.com.evil.example/x.pem",
            "https://evil.example/sns.eu-west-1.amazonaws.com/x.pem",
            "https://sns..amazonaws.com/x.pem",
            "https://sns.eu-west-1.amazonaws.com:8443/x.pem",
            "https://user@sns.eu-west-1.amazonaws.com/x.pem",
            "https://sns.eu_west.amazonaws.com/x.pem",
            "https://sns.eu-west-1.amazonaws.com/x.txt",
            "not a url",
        ] {
            assert!(!is_sns_url(bad, ".pem"), "{bad}");
        }
    }

    #[test]
    fn ses_bounces_and_complaints_are_read_per_recipient() {
        let bounce = r#"{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"jane@example.org","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},"mail":{"headers":[{"name":"X-Bulletin-Ref","value":"0193a5c1f00d7aa1b2c3d4e5f6a7b8c9-0123456789abcdef"}]}}"#;
        let events = notification(bounce).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].references.len(), 1);
        assert!(matches!(
            &events[0].outcome,
            Outcome::Bounce { status: Some(s), verdict: Bounce::Hard, .. } if s.to_string() == "5.1.1"
        ));
        let complaint = r#"{"eventType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"a@example.org"},{"emailAddress":"b@example.org"}],"complaintFeedbackType":"abuse"}}"#;
        assert_eq!(notification(complaint).unwrap().len(), 2);
        let not_spam = r#"{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"a@example.org"}],"complaintFeedbackType":"not-spam"}}"#;
        assert!(notification(not_spam).unwrap().is_empty());
        let delivery = r#"{"notificationType":"Delivery","mail":{}}"#;
        assert!(notification(delivery).unwrap().is_empty());
        assert!(notification("[").is_err());
    }
}
