//! Outbox rows: what is to be sent to whom, and where each message stands.

use super::{CampaignId, DeliveryId, MessageKind, SubscriberId, SubscriptionId};
use chrono::{DateTime, Utc};

/// Where one outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for its first attempt.
    Queued,
    /// Claimed by a worker.
    Sending,
    /// Accepted by the relay.
    Sent,
    /// Waiting for a retry after a temporary failure.
    Deferred,
    /// Given up (permanent failure or attempt limit).
    Failed,
    /// Not sent: the recipient was no longer eligible.
    Suppressed,
}

super::text_enum!(DeliveryStatus, "status", {
    Queued => "queued",
    Sending => "sending",
    Sent => "sent",
    Deferred => "deferred",
    Failed => "failed",
    Suppressed => "suppressed",
});

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct Delivery {
    pub id: DeliveryId,
    /// What kind of message.
    pub kind: MessageKind,
    /// The campaign, for campaign messages.
    pub campaign_id: Option<CampaignId>,
    /// The recipient.
    pub subscriber_id: SubscriberId,
    /// The subscription the message belongs to.
    pub subscription_id: Option<SubscriptionId>,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts so far, the current one included.
    pub attempts: u32,
    /// The lease of the current claim.
    pub lease_until: Option<DateTime<Utc>>,
    /// Message-ID header value, fixed at enqueue so retries keep it.
    pub message_id: String,
    /// When the row was enqueued.
    pub created_at: DateTime<Utc>,
}

/// The delay before retry `attempt` (1-based): exponential from `base`, capped at `max`,
/// with up to 20 % jitter from `jitter_fraction` in [0, 1) so retries do not stampede.
pub fn backoff(
    attempt: u32,
    base: chrono::Duration,
    max: chrono::Duration,
    jitter_fraction: f64,
) -> chrono::Duration {
    let exp = 2_i64.saturating_pow(attempt.saturating_sub(1).min(30));
    let delay = base
        .num_seconds()
        .saturating_mul(exp)
        .min(max.num_seconds());
    #[expect(
        clippy::cast_possible_truncation,
        reason = "jitter is a small fraction of a bounded delay"
    )]
    let jitter = (delay as f64 * 0.2 * jitter_fraction.clamp(0.0, 1.0)) as i64;
    chrono::Duration::seconds(delay + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = chrono::Duration::seconds(60);
        let max = chrono::Duration::seconds(3600);
        assert_eq!(backoff(1, base, max, 0.0).num_seconds(), 60);
        assert_eq!(backoff(2, base, max, 0.0).num_seconds(), 120);
        assert_eq!(backoff(3, base, max, 0.0).num_seconds(), 240);
        assert_eq!(backoff(30, base, max, 0.0).num_seconds(), 3600);
        assert_eq!(backoff(1, base, max, 0.999).num_seconds(), 71);
    }
}
