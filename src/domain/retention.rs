//! The retention policy as pure rules: which pending requests lapse, who is erased and who is
//! flagged for review. No I/O; `now` is always a parameter.

use chrono::{DateTime, Duration, Utc};

use super::{SubscriberId, Subscription, SubscriptionId, SubscriptionStatus};

/// The `[retention]` policy (GDPR Art. 5(1)(e): personal data is kept no longer than needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// A pending request not confirmed for this long is deleted.
    pub pending: Duration,
    /// A person without a pending or confirmed subscription, unseen for this long, is erased.
    pub lapsed: Duration,
    /// A person unseen for this long is flagged for review (or erased, see below).
    pub review_after: Duration,
    /// Whether inactive people are erased instead of only flagged.
    pub erase_after_review: bool,
}

/// The times before which records are due, for a store that pre-selects candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionCutoffs {
    /// Pending requests made before this are stale.
    pub pending_before: DateTime<Utc>,
    /// People last seen before this have lapsed (without a pending or confirmed subscription).
    pub lapsed_before: DateTime<Utc>,
    /// People last seen before this are inactive.
    pub review_before: DateTime<Utc>,
    /// Whether inactive people who are already flagged are due too (they are erased).
    pub flagged_are_due: bool,
}

impl RetentionPolicy {
    /// The cutoffs of this policy at `now`.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> RetentionCutoffs {
        RetentionCutoffs {
            pending_before: now - self.pending,
            lapsed_before: now - self.lapsed,
            review_before: now - self.review_after,
            flagged_are_due: self.erase_after_review,
        }
    }
}

/// What the rules know about one subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionSubject {
    /// Who.
    pub id: SubscriberId,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When the person last acted (confirmed a subscription).
    pub last_activity_at: DateTime<Utc>,
    /// When the person was last flagged for review, if ever.
    pub review_flagged_at: Option<DateTime<Utc>>,
    /// The time of the person's latest consent ledger entry, if any.
    pub last_ledger_at: Option<DateTime<Utc>>,
    /// Every subscription of the person.
    pub subscriptions: Vec<Subscription>,
    /// Whether the person restricted processing (GDPR Art. 18): their data is only stored.
    pub restricted: bool,
}

/// Why a person's data is erased. The data-subject-rights work adds a request of the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErasureReason {
    /// Every subscription was an unconfirmed request that lapsed, and none was ever confirmed.
    UnconfirmedSignup,
    /// No pending or confirmed subscription, and unseen for `lapsed` days.
    Lapsed,
    /// Unseen for `review_after` days, and the policy erases instead of flagging.
    Inactive,
    /// The person asked for it (GDPR Art. 17), themselves or through the operator.
    Request,
}

super::text_enum!(ErasureReason, "reason", {
    UnconfirmedSignup => "unconfirmed_signup",
    Lapsed => "lapsed",
    Inactive => "inactive",
    Request => "request",
});

impl ErasureReason {
    /// Whether the keyed hash of the address stays on the suppression list, so the address is
    /// never mailed or added again. Not for a signup that was never confirmed: the address
    /// owner may never have seen the request, and blocking them forever would refuse their
    /// own later signup.
    pub fn suppresses(self) -> bool {
        match self {
            Self::UnconfirmedSignup => false,
            // Art. 17(3)(e) and Art. 21(3): the hash is what keeps an erased person from
            // being mailed again by a later import or customer sync, and a signup from
            // getting more than the confirmation request (confirming lifts it).
            Self::Lapsed | Self::Inactive | Self::Request => true,
        }
    }
}

/// What becomes of a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionFate {
    /// Nothing (beyond deleting stale requests).
    Keep,
    /// Flag for a person to review.
    FlagForReview,
    /// Erase, for this reason.
    Erase(ErasureReason),
}

/// The rules' verdict on one subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionDecision {
    /// Pending subscriptions to delete.
    pub delete_pending: Vec<SubscriptionId>,
    /// What becomes of the subscriber.
    pub fate: RetentionFate,
}

impl RetentionDecision {
    /// Whether the decision changes nothing.
    pub fn is_nothing(&self) -> bool {
        self.delete_pending.is_empty() && self.fate == RetentionFate::Keep
    }
}

/// Applies the policy to one subscriber at `now`.
pub fn decide(
    subject: &RetentionSubject,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> RetentionDecision {
    // Art. 18(1)(b)/(c): a person may restrict processing precisely to stop an erasure; while
    // restricted, their data is kept as it is, until they lift the restriction.
    if subject.restricted {
        return RetentionDecision {
            delete_pending: Vec::new(),
            fate: RetentionFate::Keep,
        };
    }
    let delete_pending: Vec<SubscriptionId> = subject
        .subscriptions
        .iter()
        .filter(|s| is_stale_request(s, subject.created_at, policy, now))
        .map(|s| s.id)
        .collect();
    let fate = fate(subject, &delete_pending, policy, now);
    RetentionDecision {
        delete_pending,
        fate,
    }
}

/// A pending request whose latest request or confirmation e-mail is older than `pending`,
/// so every confirmation link sent for it has expired as well.
fn is_stale_request(
    sub: &Subscription,
    created_at: DateTime<Utc>,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> bool {
    let asked = [sub.requested_at, sub.last_confirmation_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(created_at);
    sub.status == SubscriptionStatus::Pending && now - asked > policy.pending
}

fn fate(
    subject: &RetentionSubject,
    stale: &[SubscriptionId],
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> RetentionFate {
    if only_unconfirmed_requests(subject, stale) {
        return RetentionFate::Erase(ErasureReason::UnconfirmedSignup);
    }
    let quiet_for = now - last_seen_at(subject);
    let holds_subscription = subject
        .subscriptions
        .iter()
        .filter(|s| !stale.contains(&s.id))
        .any(|s| s.status != SubscriptionStatus::Unsubscribed);
    if !holds_subscription && quiet_for > policy.lapsed {
        return RetentionFate::Erase(ErasureReason::Lapsed);
    }
    if quiet_for <= policy.review_after {
        return RetentionFate::Keep;
    }
    if policy.erase_after_review {
        return RetentionFate::Erase(ErasureReason::Inactive);
    }
    match is_flagged(subject) {
        true => RetentionFate::Keep,
        false => RetentionFate::FlagForReview,
    }
}

/// Every subscription is a stale request, and none was ever confirmed: the only data came
/// from an unconfirmed form.
fn only_unconfirmed_requests(subject: &RetentionSubject, stale: &[SubscriptionId]) -> bool {
    !stale.is_empty()
        && stale.len() == subject.subscriptions.len()
        && subject
            .subscriptions
            .iter()
            .all(|s| s.confirmed_at.is_none())
}

/// A flag counts until the person acts again.
fn is_flagged(subject: &RetentionSubject) -> bool {
    subject
        .review_flagged_at
        .is_some_and(|flagged| flagged >= subject.last_activity_at)
}

/// The person's last sign of life: the latest of record creation, last activity, any
/// request, confirmation or unsubscribe, and the latest ledger entry (which outlives a
/// deleted request).
pub fn last_seen_at(subject: &RetentionSubject) -> DateTime<Utc> {
    let subscription_times = subject
        .subscriptions
        .iter()
        .flat_map(|s| [s.requested_at, s.confirmed_at, s.unsubscribed_at]);
    [
        Some(subject.created_at),
        Some(subject.last_activity_at),
        subject.last_ledger_at,
    ]
    .into_iter()
    .chain(subscription_times)
    .flatten()
    .max()
    .unwrap_or(subject.created_at)
}

/// What the inactivity rule does with a person when their review falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewAction {
    /// They will be flagged for a person to review.
    Flag,
    /// They are flagged and wait for a person's review.
    AwaitingReview,
    /// They will be erased (`erase_after_review`).
    Erase,
    /// Nothing while they restrict processing (Art. 18): the data is kept as it is.
    KeptWhileRestricted,
}

super::text_enum!(ReviewAction, "action", {
    Flag => "flag",
    AwaitingReview => "awaiting_review",
    Erase => "erase",
    KeptWhileRestricted => "kept_while_restricted",
});

/// When the inactivity rule reaches a person, and what it does then.
pub fn review(
    subject: &RetentionSubject,
    policy: &RetentionPolicy,
) -> (DateTime<Utc>, ReviewAction) {
    let due_at = last_seen_at(subject) + policy.review_after;
    let action = match (
        subject.restricted,
        policy.erase_after_review,
        is_flagged(subject),
    ) {
        (true, _, _) => ReviewAction::KeptWhileRestricted,
        (false, true, _) => ReviewAction::Erase,
        (false, false, true) => ReviewAction::AwaitingReview,
        (false, false, false) => ReviewAction::Flag,
    };
    (due_at, action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ListId;

    #[test]
    fn review_falls_due_three_years_after_the_last_sign_of_life() {
        let now = Utc::now();
        let mut subject = RetentionSubject {
            id: SubscriberId::new(),
            created_at: now - Duration::days(2000),
            last_activity_at: now - Duration::days(1000),
            review_flagged_at: None,
            last_ledger_at: Some(now - Duration::days(900)),
            subscriptions: Vec::new(),
            restricted: false,
        };
        let (due, action) = review(&subject, &policy());
        assert_eq!(due, now - Duration::days(900) + Duration::days(1095));
        assert_eq!(action, ReviewAction::Flag);
        subject.review_flagged_at = Some(now);
        assert_eq!(review(&subject, &policy()).1, ReviewAction::AwaitingReview);
        let erasing = RetentionPolicy {
            erase_after_review: true,
            ..policy()
        };
        assert_eq!(review(&subject, &erasing).1, ReviewAction::Erase);
        subject.restricted = true;
        assert_eq!(
            review(&subject, &erasing).1,
            ReviewAction::KeptWhileRestricted
        );
        let decision = decide(&subject, &erasing, now + Duration::days(5000));
        assert!(
            decision.is_nothing(),
            "a restricted person is kept: {decision:?}"
        );
    }

    fn policy() -> RetentionPolicy {
        RetentionPolicy {
            pending: Duration::days(30),
            lapsed: Duration::days(180),
            review_after: Duration::days(1095),
            erase_after_review: false,
        }
    }

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn subject(subscriptions: Vec<Subscription>) -> RetentionSubject {
        RetentionSubject {
            id: SubscriberId::new(),
            created_at: start(),
            last_activity_at: start(),
            review_flagged_at: None,
            last_ledger_at: Some(start()),
            subscriptions,
            restricted: false,
        }
    }

    fn pending(requested: DateTime<Utc>) -> Subscription {
        Subscription {
            id: SubscriptionId::new(),
            subscriber_id: SubscriberId::new(),
            list_id: ListId::new(),
            status: SubscriptionStatus::Pending,
            source: "form".into(),
            requested_at: Some(requested),
            confirmed_at: None,
            unsubscribed_at: None,
            confirmations_sent: 1,
            last_confirmation_at: Some(requested),
        }
    }

    fn confirmed(at: DateTime<Utc>) -> Subscription {
        Subscription {
            status: SubscriptionStatus::Confirmed,
            confirmed_at: Some(at),
            ..pending(at)
        }
    }

    fn unsubscribed(confirmed_at: DateTime<Utc>, left: DateTime<Utc>) -> Subscription {
        Subscription {
            status: SubscriptionStatus::Unsubscribed,
            unsubscribed_at: Some(left),
            ..confirmed(confirmed_at)
        }
    }

    fn days(n: i64) -> Duration {
        Duration::days(n)
    }

    #[test]
    fn a_pending_request_of_29_days_stays_and_one_of_31_goes_with_the_person() {
        let s = subject(vec![pending(start())]);
        assert!(decide(&s, &policy(), start() + days(29)).is_nothing());
        let late = decide(&s, &policy(), start() + days(31));
        assert_eq!(late.delete_pending, vec![s.subscriptions[0].id]);
        assert_eq!(
            late.fate,
            RetentionFate::Erase(ErasureReason::UnconfirmedSignup)
        );
    }

    #[test]
    fn a_recent_confirmation_e_mail_keeps_the_request() {
        let mut request = pending(start());
        request.last_confirmation_at = Some(start() + days(10));
        let s = subject(vec![request]);
        assert!(decide(&s, &policy(), start() + days(35)).is_nothing());
        assert!(!decide(&s, &policy(), start() + days(41)).is_nothing());
    }

    #[test]
    fn a_stale_request_beside_a_confirmed_subscription_goes_alone() {
        let s = subject(vec![confirmed(start()), pending(start())]);
        let d = decide(&s, &policy(), start() + days(31));
        assert_eq!(d.delete_pending, vec![s.subscriptions[1].id]);
        assert_eq!(d.fate, RetentionFate::Keep);
    }

    #[test]
    fn a_stale_request_of_someone_who_once_confirmed_does_not_erase_them() {
        let mut again = unsubscribed(start(), start() + days(5));
        again.status = SubscriptionStatus::Pending;
        again.requested_at = Some(start() + days(10));
        again.last_confirmation_at = again.requested_at;
        let s = subject(vec![again]);
        let d = decide(&s, &policy(), start() + days(41));
        assert_eq!(d.delete_pending.len(), 1);
        assert_eq!(d.fate, RetentionFate::Keep);
    }

    #[test]
    fn an_unsubscribed_person_is_erased_after_the_lapse_and_not_before() {
        let left = start() + days(10);
        let mut s = subject(vec![unsubscribed(start(), left)]);
        s.last_ledger_at = Some(left);
        assert_eq!(
            decide(&s, &policy(), left + days(180)).fate,
            RetentionFate::Keep
        );
        let d = decide(&s, &policy(), left + days(181));
        assert_eq!(d.fate, RetentionFate::Erase(ErasureReason::Lapsed));
        assert!(d.delete_pending.is_empty());
    }

    #[test]
    fn the_latest_ledger_entry_restarts_the_lapse() {
        let mut s = subject(vec![]);
        s.last_ledger_at = Some(start() + days(100));
        assert_eq!(
            decide(&s, &policy(), start() + days(200)).fate,
            RetentionFate::Keep
        );
        assert_eq!(
            decide(&s, &policy(), start() + days(281)).fate,
            RetentionFate::Erase(ErasureReason::Lapsed)
        );
    }

    #[test]
    fn a_confirmed_active_subscriber_is_untouched() {
        let s = subject(vec![confirmed(start())]);
        for n in [1, 31, 181, 1000, 1095] {
            assert!(
                decide(&s, &policy(), start() + days(n)).is_nothing(),
                "day {n}"
            );
        }
    }

    #[test]
    fn inactivity_flags_once_and_again_after_new_activity() {
        let mut s = subject(vec![confirmed(start())]);
        let later = start() + days(1096);
        assert_eq!(
            decide(&s, &policy(), later).fate,
            RetentionFate::FlagForReview
        );
        s.review_flagged_at = Some(later);
        assert!(decide(&s, &policy(), later + days(1)).is_nothing());
        s.last_activity_at = later + days(2);
        s.subscriptions[0].confirmed_at = Some(later + days(2));
        assert!(decide(&s, &policy(), later + days(3)).is_nothing());
        assert_eq!(
            decide(&s, &policy(), later + days(2) + days(1096)).fate,
            RetentionFate::FlagForReview
        );
    }

    #[test]
    fn inactivity_erases_when_the_policy_says_so() {
        let erase = RetentionPolicy {
            erase_after_review: true,
            ..policy()
        };
        let mut s = subject(vec![confirmed(start())]);
        s.review_flagged_at = Some(start() + days(1096));
        assert!(decide(&s, &erase, start() + days(1095)).is_nothing());
        assert_eq!(
            decide(&s, &erase, start() + days(1096)).fate,
            RetentionFate::Erase(ErasureReason::Inactive)
        );
    }

    #[test]
    fn only_erasures_of_people_who_confirmed_keep_a_suppression() {
        assert!(!ErasureReason::UnconfirmedSignup.suppresses());
        assert!(ErasureReason::Lapsed.suppresses());
        assert!(ErasureReason::Inactive.suppresses());
    }

    #[test]
    fn cutoffs_follow_the_policy() {
        let c = policy().cutoffs(start());
        assert_eq!(c.pending_before, start() - days(30));
        assert_eq!(c.lapsed_before, start() - days(180));
        assert_eq!(c.review_before, start() - days(1095));
        assert!(!c.flagged_are_due);
    }
}
