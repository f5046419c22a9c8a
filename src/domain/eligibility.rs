//! `may_send`: the one place that decides whether a message may go out to a person.

use super::{LegalBasis, SubscriberStatus, SubscriptionStatus};

/// What kind of message is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// The double-opt-in confirmation request.
    Confirmation,
    /// The welcome message after confirmation.
    Welcome,
    /// A campaign or notice sent to a list.
    Campaign,
}

super::text_enum!(MessageKind, "kind", {
    Confirmation => "confirmation",
    Welcome => "welcome",
    Campaign => "campaign",
});

/// The verdict of `may_send`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The message may go out.
    Send,
    /// The message must not go out, for this reason.
    Skip(&'static str),
}

/// Whether a message of `kind` may go to a subscriber now; `suppressed` says whether the
/// address is on the suppression list. Pure; matches every case.
pub fn may_send(
    kind: MessageKind,
    basis: LegalBasis,
    subscription: SubscriptionStatus,
    subscriber: SubscriberStatus,
    suppressed: bool,
) -> Decision {
    use Decision::{Send, Skip};
    use SubscriptionStatus::{Confirmed, Pending, Unsubscribed};
    if suppressed {
        return Skip("address is suppressed");
    }
    match subscriber {
        SubscriberStatus::Active => {}
        SubscriberStatus::Blocked => return Skip("subscriber is blocked"),
        SubscriberStatus::Erased => return Skip("subscriber is erased"),
    }
    match (kind, basis, subscription) {
        // Double opt-in: the only mail an unconfirmed address ever gets.
        (MessageKind::Confirmation, LegalBasis::Consent, Pending) => Send,
        (MessageKind::Confirmation, LegalBasis::Consent, Confirmed) => Skip("already confirmed"),
        (MessageKind::Confirmation, LegalBasis::LegitimateInterest, _) => {
            Skip("legitimate-interest lists need no confirmation")
        }
        (MessageKind::Welcome | MessageKind::Campaign, _, Confirmed) => Send,
        (MessageKind::Welcome | MessageKind::Campaign, _, Pending) => Skip("not confirmed"),
        (_, _, Unsubscribed) => Skip("unsubscribed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn may_send_over_every_combination() {
        use LegalBasis::*;
        use MessageKind::*;
        use SubscriberStatus::*;
        use SubscriptionStatus::*;
        for kind in [Confirmation, Welcome, Campaign] {
            for basis in [Consent, LegitimateInterest] {
                for sub in [Pending, Confirmed, Unsubscribed] {
                    for person in [Active, Blocked, Erased] {
                        for suppressed in [false, true] {
                            let expected = person == Active
                                && !suppressed
                                && match kind {
                                    Confirmation => basis == Consent && sub == Pending,
                                    Welcome | Campaign => sub == Confirmed,
                                };
                            let got =
                                may_send(kind, basis, sub, person, suppressed) == Decision::Send;
                            assert_eq!(
                                got, expected,
                                "{kind:?} {basis:?} {sub:?} {person:?} {suppressed}"
                            );
                        }
                    }
                }
            }
        }
    }
}
