//! `may_send` and `may_send_requested`: the one place that decides whether a message may go
//! out to a person. List messages go through `may_send`; the two messages a person asks for
//! themselves (their privacy link, the confirmation of a new address) through
//! `may_send_requested`.

use super::{LegalBasis, SubscriberStatus, SubscriptionStatus, SuppressionReason};

/// What kind of message is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// The double-opt-in confirmation request.
    Confirmation,
    /// The welcome message after confirmation.
    Welcome,
    /// A campaign or notice sent to a list.
    Campaign,
    /// The link to the person's own data page, sent because they asked at `/privacy`.
    PrivacyLink,
    /// The link that confirms a new address, sent to that new address.
    AddressChange,
    /// A transactional message an integrator asked for (`POST /api/v1/transactional`): a
    /// receipt, a password reset. It belongs to no list and carries no unsubscribe.
    Transactional,
}

super::text_enum!(MessageKind, "kind", {
    Confirmation => "confirmation",
    Welcome => "welcome",
    Campaign => "campaign",
    PrivacyLink => "privacy_link",
    AddressChange => "address_change",
    Transactional => "transactional",
});

impl MessageKind {
    /// Whether the person asked for this message themselves, so it belongs to no list.
    pub fn is_requested(self) -> bool {
        match self {
            Self::PrivacyLink | Self::AddressChange | Self::Transactional => true,
            Self::Confirmation | Self::Welcome | Self::Campaign => false,
        }
    }
}

/// The verdict of `may_send`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The message may go out.
    Send,
    /// The message must not go out, for this reason.
    Skip(&'static str),
}

/// Whether a list message of `kind` may go to a subscriber now; `suppression` is why the
/// address is on the suppression list, if it is. Pure; matches every case.
pub fn may_send(
    kind: MessageKind,
    basis: LegalBasis,
    subscription: SubscriptionStatus,
    subscriber: SubscriberStatus,
    suppression: Option<SuppressionReason>,
) -> Decision {
    use Decision::{Send, Skip};
    use SubscriptionStatus::{Confirmed, Pending, Unsubscribed};
    if let Some(reason) = suppression {
        let gives_way = match kind {
            // A complaint or an erasure gives way to the person's own new double opt-in: its
            // confirmation request may go out (the rules below still apply), and confirming
            // lifts the suppression.
            MessageKind::Confirmation => reason.is_lifted_by_opt_in(),
            MessageKind::Welcome
            | MessageKind::Campaign
            | MessageKind::PrivacyLink
            | MessageKind::AddressChange
            | MessageKind::Transactional => false,
        };
        if !gives_way {
            return Skip("address is suppressed");
        }
    }
    match subscriber {
        SubscriberStatus::Active => {}
        SubscriberStatus::Blocked => return Skip("subscriber is blocked"),
        // GDPR Art. 18(2): a restricted person's data is stored, not used: no mail of any kind.
        SubscriberStatus::Restricted => return Skip("processing is restricted"),
        SubscriberStatus::Erased => return Skip("subscriber is erased"),
    }
    match (kind, basis, subscription) {
        (MessageKind::PrivacyLink | MessageKind::AddressChange, _, _) => {
            Skip("sent only at the person's request, never to a list")
        }
        (MessageKind::Transactional, _, _) => Skip("transactional mail is never sent to a list"),
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

/// Whether a message that belongs to no list (`MessageKind::is_requested`) may go out now;
/// `suppressed` says whether its recipient address is on the suppression list. A restriction
/// does not stop the two the person asked for themselves: they asked (Art. 18(2), with the
/// data subject's consent), and without the privacy link a restriction could never be
/// lifted. It does stop transactional mail, which uses the data for the operator's purpose.
pub fn may_send_requested(
    kind: MessageKind,
    subscriber: SubscriberStatus,
    suppressed: bool,
) -> Decision {
    use Decision::{Send, Skip};
    if suppressed {
        return Skip("address is suppressed");
    }
    match (kind, subscriber) {
        (
            MessageKind::Confirmation | MessageKind::Welcome | MessageKind::Campaign,
            SubscriberStatus::Active
            | SubscriberStatus::Blocked
            | SubscriberStatus::Restricted
            | SubscriberStatus::Erased,
        ) => Skip("a list message needs a subscription"),
        (_, SubscriberStatus::Blocked) => Skip("subscriber is blocked"),
        (_, SubscriberStatus::Erased) => Skip("subscriber is erased"),
        (MessageKind::Transactional, SubscriberStatus::Restricted) => {
            Skip("processing is restricted")
        }
        (
            MessageKind::PrivacyLink | MessageKind::AddressChange | MessageKind::Transactional,
            SubscriberStatus::Active | SubscriberStatus::Restricted,
        ) => Send,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [MessageKind; 6] = [
        MessageKind::Confirmation,
        MessageKind::Welcome,
        MessageKind::Campaign,
        MessageKind::PrivacyLink,
        MessageKind::AddressChange,
        MessageKind::Transactional,
    ];
    const PEOPLE: [SubscriberStatus; 4] = [
        SubscriberStatus::Active,
        SubscriberStatus::Blocked,
        SubscriberStatus::Restricted,
        SubscriberStatus::Erased,
    ];
    const SUPPRESSIONS: [Option<SuppressionReason>; 6] = [
        None,
        Some(SuppressionReason::HardBounce),
        Some(SuppressionReason::Complaint),
        Some(SuppressionReason::Erased),
        Some(SuppressionReason::Manual),
        Some(SuppressionReason::SoftBounceLimit),
    ];

    #[test]
    fn may_send_over_every_combination() {
        use LegalBasis::*;
        use MessageKind::*;
        use SubscriberStatus::*;
        use SubscriptionStatus::*;
        for kind in KINDS {
            for basis in [Consent, LegitimateInterest] {
                for sub in [Pending, Confirmed, Unsubscribed] {
                    for person in PEOPLE {
                        for suppression in SUPPRESSIONS {
                            // Only the confirmation of a new opt-in passes a complaint or an
                            // erasure; nothing passes any other suppression.
                            let passes = match suppression {
                                None => true,
                                Some(r) => {
                                    kind == Confirmation
                                        && matches!(
                                            r,
                                            SuppressionReason::Complaint
                                                | SuppressionReason::Erased
                                        )
                                }
                            };
                            let expected = person == Active
                                && passes
                                && match kind {
                                    Confirmation => basis == Consent && sub == Pending,
                                    Welcome | Campaign => sub == Confirmed,
                                    PrivacyLink | AddressChange | Transactional => false,
                                };
                            let got =
                                may_send(kind, basis, sub, person, suppression) == Decision::Send;
                            assert_eq!(
                                got, expected,
                                "{kind:?} {basis:?} {sub:?} {person:?} {suppression:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_restriction_stops_every_list_message() {
        for kind in KINDS {
            for basis in [LegalBasis::Consent, LegalBasis::LegitimateInterest] {
                for sub in [
                    SubscriptionStatus::Pending,
                    SubscriptionStatus::Confirmed,
                    SubscriptionStatus::Unsubscribed,
                ] {
                    let decision = may_send(kind, basis, sub, SubscriberStatus::Restricted, None);
                    assert!(matches!(decision, Decision::Skip(_)), "{kind:?} {sub:?}");
                }
            }
        }
    }

    #[test]
    fn may_send_requested_over_every_combination() {
        for kind in KINDS {
            for person in PEOPLE {
                for suppressed in [false, true] {
                    let expected = kind.is_requested()
                        && !suppressed
                        && match kind {
                            // Mail for the operator's purpose stops at a restriction too.
                            MessageKind::Transactional => person == SubscriberStatus::Active,
                            _ => matches!(
                                person,
                                SubscriberStatus::Active | SubscriberStatus::Restricted
                            ),
                        };
                    let got = may_send_requested(kind, person, suppressed) == Decision::Send;
                    assert_eq!(got, expected, "{kind:?} {person:?} {suppressed}");
                }
            }
        }
    }

    #[test]
    fn kinds_round_trip_through_text() {
        for kind in KINDS {
            assert_eq!(MessageKind::parse(kind.as_str()), Ok(kind));
        }
    }
}
