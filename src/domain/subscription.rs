//! The subscription state machine: pending → confirmed → unsubscribed, and back by a new request.

use super::{ConsentAction, ListId, SubscriberId, SubscriptionId};
use chrono::{DateTime, Utc};

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionStatus {
    /// Requested, awaiting confirmation by the address owner.
    Pending,
    /// Confirmed (or enrolled, for legitimate-interest lists): mail may go out.
    Confirmed,
    /// Left, cancelled or objected: nothing goes out.
    Unsubscribed,
}

super::text_enum!(SubscriptionStatus, "status", {
    Pending => "pending",
    Confirmed => "confirmed",
    Unsubscribed => "unsubscribed",
});

/// The result of a legal move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The state changes; the ledger gets an event with this action.
    Changed {
        /// The new status.
        to: SubscriptionStatus,
        /// The consent event to append.
        action: ConsentAction,
    },
    /// The move was already made: nothing changes, so links are idempotent.
    Unchanged,
}

/// Why a move is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// A confirmation link was used after the request was cancelled.
    #[error("this subscription request was cancelled")]
    Cancelled,
}

impl SubscriptionStatus {
    /// A new signup request for an existing subscription.
    pub fn request(self) -> Transition {
        match self {
            Self::Unsubscribed => Transition::Changed {
                to: Self::Pending,
                action: ConsentAction::Requested,
            },
            Self::Pending | Self::Confirmed => Transition::Unchanged,
        }
    }

    /// The address owner confirms.
    ///
    /// # Errors
    /// Confirming a cancelled or left subscription: it takes a new signup.
    pub fn confirm(self) -> Result<Transition, SubscriptionError> {
        match self {
            Self::Pending => Ok(Transition::Changed {
                to: Self::Confirmed,
                action: ConsentAction::Confirmed,
            }),
            Self::Confirmed => Ok(Transition::Unchanged),
            Self::Unsubscribed => Err(SubscriptionError::Cancelled),
        }
    }

    /// The person leaves (or cancels a pending request); `action` is
    /// `Unsubscribed` for consent lists and `Objected` for legitimate interest.
    pub fn leave(self, action: ConsentAction) -> Transition {
        match self {
            Self::Pending | Self::Confirmed => Transition::Changed {
                to: Self::Unsubscribed,
                action,
            },
            Self::Unsubscribed => Transition::Unchanged,
        }
    }

    /// Whether mail of the list may go to this subscription.
    pub fn is_confirmed(self) -> bool {
        self == Self::Confirmed
    }
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct Subscription {
    pub id: SubscriptionId,
    /// Who.
    pub subscriber_id: SubscriberId,
    /// To what.
    pub list_id: ListId,
    /// Where it stands.
    pub status: SubscriptionStatus,
    /// How it came about (`form`, `api`, …).
    pub source: String,
    /// Last request time.
    pub requested_at: Option<DateTime<Utc>>,
    /// Confirmation time.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Time of leaving.
    pub unsubscribed_at: Option<DateTime<Utc>>,
    /// Confirmation e-mails sent for the current request.
    pub confirmations_sent: u32,
    /// When the last confirmation e-mail was enqueued.
    pub last_confirmation_at: Option<DateTime<Utc>>,
}

impl Subscription {
    /// Whether another confirmation e-mail may be sent now (cooldown and lifetime cap).
    pub fn may_resend_confirmation(
        &self,
        now: DateTime<Utc>,
        cooldown: chrono::Duration,
        max_total: u32,
    ) -> bool {
        self.status == SubscriptionStatus::Pending
            && self.confirmations_sent < max_total
            && self
                .last_confirmation_at
                .is_none_or(|last| now - last >= cooldown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus::*;

    #[test]
    fn every_transition_is_defined() {
        assert_eq!(
            Unsubscribed.request(),
            Transition::Changed {
                to: Pending,
                action: ConsentAction::Requested
            }
        );
        assert_eq!(Pending.request(), Transition::Unchanged);
        assert_eq!(Confirmed.request(), Transition::Unchanged);
        assert_eq!(
            Pending.confirm(),
            Ok(Transition::Changed {
                to: Confirmed,
                action: ConsentAction::Confirmed
            })
        );
        assert_eq!(Confirmed.confirm(), Ok(Transition::Unchanged));
        assert_eq!(Unsubscribed.confirm(), Err(SubscriptionError::Cancelled));
        for from in [Pending, Confirmed] {
            assert_eq!(
                from.leave(ConsentAction::Unsubscribed),
                Transition::Changed {
                    to: Unsubscribed,
                    action: ConsentAction::Unsubscribed
                }
            );
        }
        assert_eq!(
            Unsubscribed.leave(ConsentAction::Unsubscribed),
            Transition::Unchanged
        );
    }

    #[test]
    fn confirmation_resends_respect_cooldown_and_cap() {
        let now = Utc::now();
        let hour = chrono::Duration::hours(1);
        let mut s = Subscription {
            id: SubscriptionId::new(),
            subscriber_id: SubscriberId::new(),
            list_id: ListId::new(),
            status: Pending,
            source: "form".into(),
            requested_at: Some(now),
            confirmed_at: None,
            unsubscribed_at: None,
            confirmations_sent: 1,
            last_confirmation_at: Some(now),
        };
        assert!(!s.may_resend_confirmation(now + chrono::Duration::minutes(59), hour, 3));
        assert!(s.may_resend_confirmation(now + hour, hour, 3));
        s.confirmations_sent = 3;
        assert!(!s.may_resend_confirmation(now + hour * 10, hour, 3));
        s.confirmations_sent = 1;
        s.status = Confirmed;
        assert!(!s.may_resend_confirmation(now + hour, hour, 3));
    }
}

/// Why a person left a list, as the unsubscribe page offers it (optional, never required).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnsubscribeReason {
    /// Too many e-mails.
    TooMany,
    /// The content is not relevant to them.
    NotRelevant,
    /// They do not remember signing up.
    NeverSignedUp,
    /// Something else (the comment may say what).
    Other,
}

super::text_enum!(UnsubscribeReason, "reason", {
    TooMany => "too_many",
    NotRelevant => "not_relevant",
    NeverSignedUp => "never_signed_up",
    Other => "other",
});

impl UnsubscribeReason {
    /// Every reason, in the order the page offers them.
    pub const ALL: [UnsubscribeReason; 4] = [
        Self::TooMany,
        Self::NotRelevant,
        Self::NeverSignedUp,
        Self::Other,
    ];
}

/// The most characters of an unsubscribe comment that are kept.
pub const MAX_UNSUBSCRIBE_COMMENT_CHARS: usize = 500;
