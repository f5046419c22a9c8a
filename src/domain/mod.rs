//! Pure domain types and rules: parsing at the boundary, subscription state machine,
//! consent ledger vocabulary and the one eligibility check. No I/O here.

pub mod attributes;
pub mod bounce;
pub mod campaign;
pub mod consent;
pub mod consent_proof;
pub mod delivery;
pub mod eligibility;
pub mod email_address;
pub mod hooks;
pub mod ids;
pub mod list;
pub mod list_slug;
pub mod locale;
pub mod notice;
pub mod permission;
pub mod privacy;
pub mod product;
pub mod retention;
pub mod role;
pub mod segment;
pub mod subscriber;
pub mod subscriber_name;
pub mod subscription;
pub mod suppression;
pub mod transactional;
pub mod user;

pub use attributes::{AttributeError, AttributeKind, Attributes};
pub use bounce::{Bounce, EnhancedStatus};
pub use campaign::{
    Campaign, CampaignError, CampaignLayout, CampaignStateError, CampaignStatus, CampaignText,
    NewCampaign,
};
pub use consent::{ConsentAction, ConsentEvent, ConsentText, LegalBasis};
pub use consent_proof::{ConsentProof, ProofError};
pub use delivery::{Delivery, DeliveryStatus};
pub use eligibility::{Decision, MessageKind, may_send, may_send_requested};
pub use email_address::{EmailAddress, EmailAddressError};
pub use hooks::{EventType, HookEndpointId, NewEvent};
pub use ids::{
    AddressChangeId, ApiTokenId, CampaignId, ConsentEventId, DeliveryId, ListId, NoticeId,
    NoticeRecipientId, PrivacyRequestId, ProductId, SegmentId, SubscriberId, SubscriptionId,
    TransactionalTemplateId, UserId,
};
pub use list::{ListError, ListKind, ListVisibility, MailingList, NewList, OptIn};
pub use list_slug::{ListRef, ListSlug, ListSlugError};
pub use locale::{Locale, LocaleError};
pub use notice::{
    AckAnswer, AckError, AckStatus, ChangeCategory, Notice, NoticeError, NoticeFields, NoticeKind,
    NoticeNumber, NoticeRecipient, NoticeText, NoticeTranslations,
};
pub use permission::{Action, Actor, Forbidden, may};
pub use product::{PartNumber, Product, ProductError};
pub use role::Role;
pub use segment::{Filter, FilterError, PersonFacts};
pub use subscriber::{Subscriber, SubscriberStatus};
pub use subscriber_name::{SubscriberName, SubscriberNameError};
pub use subscription::{
    Subscription, SubscriptionError, SubscriptionStatus, Transition, UnsubscribeReason,
};
pub use suppression::SuppressionReason;
pub use transactional::{TransactionalMessage, TransactionalTemplate};
pub use user::{Password, PasswordError, TimeZoneError, User, parse_time_zone};

/// Implements `as_str`, `parse` and `Display` for a fieldless enum stored as text.
macro_rules! text_enum {
    ($ty:ident, $err:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The stable text form used in the database and the API.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses the stable text form.
            ///
            /// # Errors
            /// An unknown text gives a message that lists the accepted values.
            pub fn parse(raw: &str) -> Result<Self, String> {
                match raw {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!(
                        concat!($err, " must be one of {}; got {:?}"),
                        [$($text),+].join(", "),
                        other
                    )),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        // The API's OpenAPI document names the accepted texts (an `enum` of strings).
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $ty {}
    };
}
pub(crate) use text_enum;
