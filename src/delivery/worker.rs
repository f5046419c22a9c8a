//! The outbox worker: claim due rows with a lease, send each outside any transaction, record
//! the outcome (sent, deferred with backoff, failed, suppressed). No lock is held across SMTP,
//! and a lapsed lease frees a row for another worker, so instances can run side by side.

use futures_util::{StreamExt, stream};
use tokio::sync::watch;
use tracing::Instrument;

use super::compose::{Composed, compose};
use crate::{
    domain::{Delivery, SuppressionReason, delivery::backoff},
    mail::SendError,
    startup::AppState,
    store::{self, StoreError, deliveries::Outcome},
};

/// What one `drain` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Accepted by the transport.
    pub sent: usize,
    /// Temporary failures, to be retried.
    pub deferred: usize,
    /// Given up.
    pub failed: usize,
    /// Not sent to ineligible recipients.
    pub suppressed: usize,
}

impl DrainReport {
    fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Sent => self.sent += 1,
            Outcome::Deferred { .. } => self.deferred += 1,
            Outcome::Failed { .. } => self.failed += 1,
            Outcome::Suppressed { .. } => self.suppressed += 1,
        }
    }
}

/// Runs until `shutdown` turns true: drains the outbox, then sleeps until woken by an
/// enqueue or the poll interval passes.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(e) = drain(&state).await {
            tracing::error!(error = %e, "delivery worker could not drain the outbox; will retry");
        }
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            () = state.outbox.notified() => {}
            () = tokio::time::sleep(state.settings.delivery.poll_interval) => {}
        }
    }
}

/// Sends every message that is due now, batch by batch, until none is left.
///
/// # Errors
/// A store failure while claiming or recording.
pub async fn drain(state: &AppState) -> Result<DrainReport, StoreError> {
    let settings = &state.settings.delivery;
    let mut report = DrainReport::default();
    loop {
        let now = state.clock.now();
        let batch = store::deliveries::claim_due(
            &state.db,
            now,
            now + settings.lease,
            u64::from(settings.batch_size),
        )
        .await?;
        if batch.is_empty() {
            return Ok(report);
        }
        let outcomes: Vec<Result<Outcome, StoreError>> = stream::iter(batch)
            .map(|d| async move { process(state, &d).await })
            .buffer_unordered(settings.concurrency)
            .collect()
            .await;
        for outcome in outcomes {
            report.add(&outcome?);
        }
    }
}

async fn process(state: &AppState, delivery: &Delivery) -> Result<Outcome, StoreError> {
    let span = tracing::info_span!("delivery", delivery.id = %delivery.id, subscriber.id = %delivery.subscriber_id, kind = %delivery.kind);
    attempt(state, delivery).instrument(span).await
}

async fn attempt(state: &AppState, delivery: &Delivery) -> Result<Outcome, StoreError> {
    let outcome = match compose(state, delivery).await? {
        Composed::Skip(reason) => Outcome::Suppressed { reason },
        Composed::Broken(error) => Outcome::Failed { error },
        Composed::Ready(message, address_hash) => match state.transport.send(*message).await {
            Ok(()) => Outcome::Sent,
            Err(SendError::RecipientRefused(error)) => {
                // A hard bounce: this address is never tried again, by any campaign.
                let now = state.clock.now();
                store::suppressions::add(
                    &state.db,
                    &address_hash,
                    SuppressionReason::HardBounce,
                    Some(&error),
                    now,
                )
                .await?;
                tracing::info!("recipient refused; address suppressed as a hard bounce");
                Outcome::Failed { error }
            }
            Err(error) => after_failure(state, delivery, error),
        },
    };
    let recorded =
        store::deliveries::record(&state.db, delivery, &outcome, state.clock.now()).await?;
    if !recorded {
        tracing::warn!("lease lapsed before the outcome was recorded; another worker owns the row");
    }
    count(delivery, &outcome);
    watch_streak(state, delivery, &outcome).await?;
    Ok(outcome)
}

/// Pauses running campaigns after `pause_after_failures` temporary failures in a row: the
/// relay is down, and hammering it only burns attempts. Resume continues where it stopped.
async fn watch_streak(state: &AppState, delivery: &Delivery, outcome: &Outcome) -> Result<(), StoreError> {
    use std::sync::atomic::Ordering;
    let streak = match outcome {
        Outcome::Sent => {
            state.failure_streak.store(0, Ordering::Relaxed);
            return Ok(());
        }
        Outcome::Deferred { .. } if delivery.campaign_id.is_some() => {
            state.failure_streak.fetch_add(1, Ordering::Relaxed) + 1
        }
        Outcome::Deferred { .. } | Outcome::Failed { .. } | Outcome::Suppressed { .. } => return Ok(()),
    };
    let limit = state.settings.delivery.pause_after_failures;
    if streak < limit {
        return Ok(());
    }
    state.failure_streak.store(0, Ordering::Relaxed);
    let error = match outcome {
        Outcome::Deferred { error, .. } => error.as_str(),
        _ => "",
    };
    let reason = format!("paused after {limit} temporary send failures in a row; last error: {error}");
    let paused = store::campaigns::pause_all_sending(&state.db, &reason, state.clock.now()).await?;
    tracing::error!(campaigns = paused, %reason, "campaigns paused: the mail relay keeps failing");
    Ok(())
}

fn after_failure(state: &AppState, delivery: &Delivery, error: SendError) -> Outcome {
    let settings = &state.settings.delivery;
    match error {
        SendError::Permanent(error) | SendError::RecipientRefused(error) => {
            Outcome::Failed { error }
        }
        SendError::Transient(error) if delivery.attempts >= settings.max_attempts => {
            Outcome::Failed {
                error: format!("gave up after {} attempts: {error}", delivery.attempts),
            }
        }
        SendError::Transient(error) => {
            let delay = backoff(
                delivery.attempts,
                settings.backoff_base,
                settings.backoff_max,
                rand::random::<f64>(),
            );
            Outcome::Deferred {
                next_attempt_at: state.clock.now() + delay,
                error,
            }
        }
    }
}

fn count(delivery: &Delivery, outcome: &Outcome) {
    let kind = delivery.kind.as_str();
    match outcome {
        Outcome::Sent => {
            metrics::counter!("bulletin_messages_sent_total", "kind" => kind).increment(1);
            tracing::info!("message sent");
        }
        Outcome::Deferred { error, .. } => {
            metrics::counter!("bulletin_messages_deferred_total", "kind" => kind).increment(1);
            tracing::warn!(%error, "temporary send failure; will retry");
        }
        Outcome::Failed { error } => {
            metrics::counter!("bulletin_messages_failed_total", "kind" => kind).increment(1);
            tracing::error!(%error, "message failed");
        }
        Outcome::Suppressed { reason } => {
            metrics::counter!("bulletin_messages_suppressed_total", "kind" => kind).increment(1);
            tracing::info!(%reason, "message suppressed");
        }
    }
}
