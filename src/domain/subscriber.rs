//! Subscribers: one person, one normalised address, with a processing status.

use super::{EmailAddress, Locale, SubscriberId, SubscriberName};
use chrono::{DateTime, Utc};

/// Whether a subscriber may be processed at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriberStatus {
    /// Normal.
    Active,
    /// Blocked by the operator: nothing is sent.
    Blocked,
    /// Processing restricted at the person's request (GDPR Art. 18): the data is kept, but
    /// nothing is sent except what the person asks for themselves.
    Restricted,
    /// Erased (Art. 17): only a pseudonymised shell may remain.
    Erased,
}

super::text_enum!(SubscriberStatus, "status", {
    Active => "active",
    Blocked => "blocked",
    Restricted => "restricted",
    Erased => "erased",
});

/// A stored subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct Subscriber {
    pub id: SubscriberId,
    /// Normalised address.
    pub email: EmailAddress,
    /// Name as given (never used in system e-mails).
    pub name: SubscriberName,
    /// Preferred language.
    pub locale: Locale,
    /// Processing status.
    pub status: SubscriberStatus,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// The operator's attributes of the person (`plan`, `company` …).
    pub attributes: super::Attributes,
}
