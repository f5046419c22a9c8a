//! Delivery: turns outbox rows into sent messages. The worker claims rows with a lease,
//! re-checks `may_send`, renders and sends outside any transaction, then records the outcome.

pub mod compose;
pub mod fan_out;
pub mod notices;
pub mod requested;
pub mod templates;
pub mod throttle;
pub mod worker;

pub use worker::{DrainReport, drain};
