//! Privacy rules that need no I/O: how an IP address is anonymised before storage, and the
//! vocabulary and deadlines of the data-subject-request log (GDPR Art. 12(3)).

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

use super::{AddressChangeId, EmailAddress, PrivacyRequestId, SubscriberId};

/// The version of the personal-data export (`schema_version` in the JSON). Bump it, and add
/// a new schema file, whenever a field changes meaning or goes away.
pub const EXPORT_SCHEMA_VERSION: u32 = 1;

/// Art. 12(3): a request is answered "within one month of receipt"; Bulletin counts 30 days.
pub const ANSWER_WITHIN_DAYS: i64 = 30;

/// Which right a data-subject request exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Art. 15: see the data.
    Access,
    /// Art. 20: receive the data in a machine-readable form.
    Portability,
    /// Art. 16: correct the data.
    Rectification,
    /// Art. 18: restrict processing (or lift the restriction).
    Restriction,
    /// Art. 7(3) / Art. 21: withdraw consent or object.
    Objection,
    /// Art. 17: erase the data.
    Erasure,
}

super::text_enum!(RequestKind, "kind", {
    Access => "access",
    Portability => "portability",
    Rectification => "rectification",
    Restriction => "restriction",
    Objection => "objection",
    Erasure => "erasure",
});

/// How a request reached the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestChannel {
    /// The person used their data page (answered at once).
    SelfService,
    /// By e-mail.
    Email,
    /// By letter.
    Post,
    /// By telephone.
    Phone,
    /// Any other way.
    Other,
}

super::text_enum!(RequestChannel, "channel", {
    SelfService => "self_service",
    Email => "email",
    Post => "post",
    Phone => "phone",
    Other => "other",
});

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    /// Not yet answered.
    Open,
    /// Answered: the right was granted.
    Completed,
    /// Answered: refused (Art. 12(4) requires telling the person why).
    Rejected,
}

super::text_enum!(RequestStatus, "status", {
    Open => "open",
    Completed => "completed",
    Rejected => "rejected",
});

/// One entry of the data-subject-request log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct PrivacyRequest {
    pub id: PrivacyRequestId,
    /// Whose request, when the person is known (the id survives erasure; the profile not).
    pub subscriber_id: Option<SubscriberId>,
    /// Which right.
    pub kind: RequestKind,
    /// How it arrived.
    pub channel: RequestChannel,
    /// Where it stands.
    pub status: RequestStatus,
    /// Who logged it: `subscriber` or `api:<token name>`.
    pub actor: String,
    /// The operator's note (cleared when the person is erased).
    pub note: Option<String>,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// When it must be answered by.
    pub due_at: DateTime<Utc>,
    /// When it was answered.
    pub closed_at: Option<DateTime<Utc>>,
}

impl PrivacyRequest {
    /// A request received at `received_at`, due [`ANSWER_WITHIN_DAYS`] later.
    pub fn received(
        subscriber_id: Option<SubscriberId>,
        kind: RequestKind,
        channel: RequestChannel,
        actor: impl Into<String>,
        received_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: PrivacyRequestId::new(),
            subscriber_id,
            kind,
            channel,
            status: RequestStatus::Open,
            actor: actor.into(),
            note: None,
            received_at,
            due_at: due_at(received_at),
            closed_at: None,
        }
    }

    /// The same request, answered at `now` (a self-service request is answered at once).
    pub fn closed(mut self, status: RequestStatus, now: DateTime<Utc>) -> Self {
        self.status = status;
        self.closed_at = Some(now);
        self
    }

    /// Whether it is still open after its deadline.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == RequestStatus::Open && now > self.due_at
    }

    /// Whole days left until the deadline (negative once overdue).
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        let left = self.due_at - now;
        if left >= Duration::zero() {
            left.num_days()
        } else {
            // Rounded away from zero: one hour late is a day late.
            -((-left - Duration::nanoseconds(1)).num_days() + 1)
        }
    }
}

/// A new address waiting for its owner to confirm it (Art. 16: the correction takes effect
/// only once the new address has proven to reach the same person).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressChange {
    /// Its id (the subject of the confirmation link).
    pub id: AddressChangeId,
    /// Whose address.
    pub subscriber_id: SubscriberId,
    /// The address asked for.
    pub new_email: EmailAddress,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When the confirmation link stops working.
    pub expires_at: DateTime<Utc>,
}

impl AddressChange {
    /// Whether its link no longer works at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
}

/// The deadline of a request received at `received_at`.
pub fn due_at(received_at: DateTime<Utc>) -> DateTime<Utc> {
    received_at + Duration::days(ANSWER_WITHIN_DAYS)
}

/// The network an address belongs to: IPv4 /24, IPv6 /48, as text.
pub fn anonymise_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0")
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => anonymise_ip(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    #[test]
    fn a_request_is_due_30_days_after_receipt() {
        let request = PrivacyRequest::received(
            None,
            RequestKind::Erasure,
            RequestChannel::Email,
            "api:ops",
            at("2026-01-31T10:00:00Z"),
        );
        assert_eq!(request.due_at, at("2026-03-02T10:00:00Z"));
        assert_eq!(request.status, RequestStatus::Open);
        assert_eq!(request.days_left(at("2026-01-31T10:00:00Z")), 30);
        assert_eq!(request.days_left(at("2026-03-01T10:00:01Z")), 0);
        assert!(!request.is_overdue(at("2026-03-02T10:00:00Z")));
        assert!(request.is_overdue(at("2026-03-02T11:00:00Z")));
        assert_eq!(request.days_left(at("2026-03-02T11:00:00Z")), -1);
        assert_eq!(request.days_left(at("2026-03-04T10:00:00Z")), -2);
    }

    #[test]
    fn a_closed_request_is_never_overdue() {
        let received = at("2026-01-01T00:00:00Z");
        let request = PrivacyRequest::received(
            None,
            RequestKind::Access,
            RequestChannel::SelfService,
            "subscriber",
            received,
        )
        .closed(RequestStatus::Completed, received);
        assert_eq!(request.closed_at, Some(received));
        assert!(!request.is_overdue(at("2027-01-01T00:00:00Z")));
    }

    #[test]
    fn request_vocabulary_round_trips_through_text() {
        for kind in [
            RequestKind::Access,
            RequestKind::Portability,
            RequestKind::Rectification,
            RequestKind::Restriction,
            RequestKind::Objection,
            RequestKind::Erasure,
        ] {
            assert_eq!(RequestKind::parse(kind.as_str()), Ok(kind));
        }
        assert_eq!(
            RequestChannel::parse("self_service"),
            Ok(RequestChannel::SelfService)
        );
        assert!(RequestStatus::parse("pending").is_err());
    }

    #[test]
    fn ipv4_keeps_the_first_24_bits() {
        assert_eq!(anonymise_ip("203.0.113.77".parse().unwrap()), "203.0.113.0");
    }

    #[test]
    fn ipv6_keeps_the_first_48_bits() {
        assert_eq!(
            anonymise_ip("2001:db8:abcd:12::1".parse().unwrap()),
            "2001:db8:abcd::"
        );
        assert_eq!(
            anonymise_ip("::ffff:198.51.100.9".parse().unwrap()),
            "198.51.100.0"
        );
    }
}
