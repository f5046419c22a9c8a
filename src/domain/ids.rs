//! Typed UUID v7 identifiers, so that ids of different records cannot be swapped.

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),+ $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an id read from a trusted source (database row, verified token).
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

id_type! {
    /// Identifies a subscriber.
    SubscriberId,
    /// Identifies a mailing list.
    ListId,
    /// Identifies one subscriber's subscription to one list.
    SubscriptionId,
    /// Identifies one row of the delivery outbox.
    DeliveryId,
    /// Identifies one consent ledger event.
    ConsentEventId,
    /// Identifies an API token.
    ApiTokenId,
    /// Identifies a campaign.
    CampaignId,
    /// Identifies a saved segment (a filter over people).
    SegmentId,
    /// Identifies a template of transactional mail.
    TransactionalTemplateId,
    /// Identifies an admin user.
    UserId,
    /// Identifies one entry of the data-subject-request log.
    PrivacyRequestId,
    /// Identifies a pending change of a subscriber's address.
    AddressChangeId,
    /// Identifies a product (part number).
    ProductId,
    /// Identifies one revision of a product notice.
    NoticeId,
    /// Identifies one recipient of a notice (and their acknowledgement).
    NoticeRecipientId,
}
