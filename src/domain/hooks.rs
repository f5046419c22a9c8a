//! Events and outgoing webhooks: the event types an integrator can hear about, which consent
//! actions raise which, the endpoint URL rule (http(s), public addresses only unless allowed)
//! and the retry schedule. Pure: no I/O.

use std::net::IpAddr;

use chrono::Duration;
use uuid::Uuid;

use super::{ConsentAction, SubscriberId};

/// Something that happened that integrators may hear about, by webhook or the events feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A subscription was confirmed (double opt-in).
    SubscriptionConfirmed,
    /// A person left a list (any path: link, one-click, API, admin, mailed unsubscribe).
    SubscriptionUnsubscribed,
    /// A person's data was erased (Art. 17).
    SubscriberErased,
    /// An address was suppressed (bounce, complaint, operator, import, erasure).
    SuppressionAdded,
    /// A campaign finished sending.
    CampaignSent,
    /// A notice's recipient answered its acknowledgement request.
    NoticeAcknowledged,
    /// A person objected to legitimate-interest mail (Art. 21).
    NoticeObjected,
    /// A data-subject request was logged.
    PrivacyRequestCreated,
}

super::text_enum!(EventType, "event", {
    SubscriptionConfirmed => "subscription.confirmed",
    SubscriptionUnsubscribed => "subscription.unsubscribed",
    SubscriberErased => "subscriber.erased",
    SuppressionAdded => "suppression.added",
    CampaignSent => "campaign.sent",
    NoticeAcknowledged => "notice.acknowledged",
    NoticeObjected => "notice.objected",
    PrivacyRequestCreated => "privacy_request.created",
});

impl EventType {
    /// Every event type, in the order the documentation lists them.
    pub const ALL: [Self; 8] = [
        Self::SubscriptionConfirmed,
        Self::SubscriptionUnsubscribed,
        Self::SubscriberErased,
        Self::SuppressionAdded,
        Self::CampaignSent,
        Self::NoticeAcknowledged,
        Self::NoticeObjected,
        Self::PrivacyRequestCreated,
    ];

    /// The event a consent-ledger entry raises, if any. Every action is decided here.
    pub fn of_consent(action: ConsentAction) -> Option<Self> {
        use ConsentAction as A;
        match action {
            A::Confirmed => Some(Self::SubscriptionConfirmed),
            A::Unsubscribed => Some(Self::SubscriptionUnsubscribed),
            A::Objected => Some(Self::NoticeObjected),
            A::Erased => Some(Self::SubscriberErased),
            A::Requested
            | A::Enrolled
            | A::Imported
            | A::Rectified
            | A::Accessed
            | A::Exported
            | A::Restricted
            | A::RestrictionLifted
            | A::Blocked
            | A::Unblocked
            | A::Purged => None,
        }
    }
}

/// An event to record: its type, the person it concerns (the key of per-person ordering)
/// and a small JSON object of ids, never an address or a name.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// What happened.
    pub event_type: EventType,
    /// Whom it concerns, if anyone.
    pub subscriber_id: Option<SubscriberId>,
    /// Ids and codes only.
    pub data: serde_json::Value,
}

/// Identifies a webhook endpoint.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct HookEndpointId(Uuid);

impl HookEndpointId {
    /// A new, time-ordered id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
    /// Wraps a stored UUID.
    pub fn from_uuid(u: Uuid) -> Self {
        Self(u)
    }
    /// The UUID.
    pub fn as_uuid(self) -> Uuid {
        self.0
    }
}

impl Default for HookEndpointId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for HookEndpointId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookUrlError {
    /// Not an absolute http(s) URL with a host.
    #[error("url: must be an absolute http:// or https:// URL with a host")]
    Malformed,
    /// User name or password in the URL.
    #[error("url: must not hold a user name or password")]
    Credentials,
    /// The host is (or resolves to) an address that is not public.
    #[error(
        "url: {0} is a loopback, private, link-local or otherwise non-public address (webhooks.allow_private_targets allows it)"
    )]
    NotPublic(IpAddr),
}

/// A webhook URL that passed the syntax rule: http(s), a host, no credentials, at most 2000
/// characters.
///
/// # Errors
/// `Malformed` or `Credentials`; an IP literal that is not public is `NotPublic` unless
/// `allow_private`.
pub fn parse_hook_url(raw: &str, allow_private: bool) -> Result<url::Url, HookUrlError> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err(HookUrlError::Malformed);
    }
    let url = url::Url::parse(raw).map_err(|_| HookUrlError::Malformed)?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(HookUrlError::Malformed);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(HookUrlError::Credentials);
    }
    if let Some(ip) = literal_ip(&url)
        && !allow_private
        && !is_public(ip)
    {
        return Err(HookUrlError::NotPublic(ip));
    }
    Ok(url)
}

/// The address a URL's host names literally, if it is one.
pub fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918,
/// fc00::/7), link-local (169.254/16, fe80::/10), unspecified, multicast, broadcast,
/// documentation, benchmarking or shared (CGNAT, 100.64/10). IPv4-mapped and IPv4-compatible
/// IPv6 addresses are judged as the IPv4 address they carry (the SSRF that reached Mautic's
/// metadata service went through such gaps).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4() {
                // `::1` is loopback, not the IPv4-compatible 0.0.0.1.
                return !v6.is_loopback() && is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// How long an endpoint may fail without a success before it is disabled.
pub const DISABLE_AFTER: Duration = Duration::hours(24);

/// The wait before attempt `attempts + 1`, after `attempts` failed ones: 30 s doubling, at
/// most 1 h.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 30_i64.saturating_mul(1_i64 << attempts.saturating_sub(1).min(20));
    Duration::seconds(secs.min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_round_trips() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Ok(t));
        }
        assert!(EventType::parse("subscription.created").is_err());
    }

    #[test]
    fn non_public_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_must_be_http_with_a_public_literal_host() {
        assert!(parse_hook_url("https://hooks.example.com/x", false).is_ok());
        assert_eq!(
            parse_hook_url("ftp://example.com/", false),
            Err(HookUrlError::Malformed)
        );
        assert_eq!(
            parse_hook_url("https://u:p@example.com/", false),
            Err(HookUrlError::Credentials)
        );
        assert!(matches!(
            parse_hook_url("http://127.0.0.1:8080/", false),
            Err(HookUrlError::NotPublic(_))
        ));
        assert!(parse_hook_url("http://127.0.0.1:8080/", true).is_ok());
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(3), Duration::seconds(120));
        assert_eq!(backoff(30), Duration::seconds(3600));
    }
}
