//! Why an address must never be mailed again.

/// The reason an address is on the suppression list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuppressionReason {
    /// The receiving server refused the address permanently (5xx).
    HardBounce,
    /// The recipient reported a message as spam.
    Complaint,
    /// The person's data was erased (Art. 17); only the keyed hash remains.
    Erased,
    /// The operator suppressed the address.
    Manual,
    /// Soft bounces (a full mailbox, 4xx) kept coming with no delivery in between.
    SoftBounceLimit,
}

super::text_enum!(SuppressionReason, "reason", {
    HardBounce => "hard_bounce",
    Complaint => "complaint",
    Erased => "erased",
    Manual => "manual",
    SoftBounceLimit => "soft_bounce_limit",
});

impl SuppressionReason {
    /// Whether the person's own new, confirmed double opt-in lifts this suppression. A
    /// complaint and an erasure were the person's own wish, which a later confirmed wish
    /// replaces (GDPR Art. 7: consent given again); a bounce says the address does not work,
    /// and a manual suppression is the operator's decision, so those stay.
    pub fn is_lifted_by_opt_in(self) -> bool {
        match self {
            Self::Complaint | Self::Erased => true,
            Self::HardBounce | Self::Manual | Self::SoftBounceLimit => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_persons_own_wishes_are_lifted_by_their_opt_in() {
        use SuppressionReason::*;
        for reason in [HardBounce, Complaint, Erased, Manual, SoftBounceLimit] {
            assert_eq!(
                reason.is_lifted_by_opt_in(),
                matches!(reason, Complaint | Erased),
                "{reason:?}"
            );
        }
    }
}
