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
