//! Delivery: turns outbox rows into sent messages. The worker claims rows with a lease,
//! re-checks `may_send`, renders and sends outside any transaction, then records the outcome.
//! It reads the services' `Context` and never calls a service.

pub mod compose;
pub mod fan_out;
pub mod hooks;
pub mod notices;
pub mod requested;
pub mod throttle;
pub mod worker;

use std::sync::{Arc, atomic::AtomicU32};

use lettre::message::Mailbox;

pub use compose::{send_plain, send_test};
pub use fan_out::{fan_out, fan_out_all, finish_done};
pub use worker::{DrainReport, drain};

use crate::{context::Context, mail::Transport};

/// The delivery engine's own parts beside the context: the transport, the sender, the rate
/// limit and what the worker remembers between batches. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    /// Database, settings, keys, links and templates.
    pub ctx: Context,
    /// Where messages leave: the SMTP relay or the outbox directory.
    pub transport: Transport,
    /// The default From mailbox (`mail.from`).
    pub from: Mailbox,
    /// The global send rate limit.
    pub throttle: Arc<throttle::Throttle>,
    /// Compiled campaign templates.
    pub campaign_cache: Arc<compose::CampaignCache>,
    /// Temporary send failures in a row, for pausing campaigns when the relay is down.
    pub failure_streak: Arc<AtomicU32>,
}

impl Engine {
    /// An engine sending through `transport` from `from`, throttled by `[delivery]`.
    pub fn new(ctx: Context, transport: Transport, from: Mailbox) -> Self {
        let delivery = &ctx.settings.delivery;
        let throttle = throttle::Throttle::new(
            delivery.max_per_second,
            delivery.max_per_hour,
            ctx.clock.clone(),
        );
        Self {
            ctx,
            transport,
            from,
            throttle: Arc::new(throttle),
            campaign_cache: Arc::default(),
            failure_streak: Arc::default(),
        }
    }
}
