//! The outbox worker: claim due rows with a lease, send each outside any transaction, record
//! the outcome (sent, deferred with backoff, failed, suppressed). No lock is held across SMTP,
//! and a lapsed lease frees a row for another worker, so instances can run side by side.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use lettre::Message;
use tokio::{
    sync::{mpsc, oneshot, watch},
    task::JoinSet,
};
use tracing::Instrument;

use super::compose::{self, Verdict};
use crate::{
    delivery::Engine,
    domain::{Bounce, CampaignStatus, Delivery, delivery::backoff},
    mail::SendError,
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
            Outcome::Released => {}
        }
    }
}

/// Runs until `shutdown` turns true: drains the outbox, then sleeps until woken by an
/// enqueue or the poll interval passes. After a drain that settled rows it marks finished
/// campaigns `sent` at once, as the `campaigns` job also does: a job lease left behind by a
/// crashed instance must not hold that back.
pub async fn run(engine: Engine, mut shutdown: watch::Receiver<bool>) {
    loop {
        match drain(&engine).await {
            Ok(report) if report.sent + report.failed + report.suppressed > 0 => {
                if let Err(e) = super::finish_done(&engine.ctx).await {
                    tracing::error!(error = %e, "could not mark finished campaigns sent; the campaigns job will");
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "delivery worker could not drain the outbox; will retry");
            }
        }
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            () = engine.ctx.outbox.notified() => {}
            () = tokio::time::sleep(engine.ctx.settings.delivery.poll_interval) => {}
        }
    }
}

/// Sends every message that is due now, batch by batch, until none is left. The next batch
/// is claimed and prepared while the current one is sent, so the lanes do not wait for the
/// database between batches (that wait was a sixth of a campaign's time).
///
/// # Errors
/// A store failure while claiming or recording.
pub async fn drain(engine: &Engine) -> Result<DrainReport, StoreError> {
    let mut report = DrainReport::default();
    let mut next = claim_batch(engine).await?;
    while let Some(prepared) = next.take() {
        let prepared = release_paused(engine, prepared).await?;
        let (sent, following) = tokio::join!(send_all(engine, prepared), claim_batch(engine));
        let (sent, halted) = sent?;
        for (delivery, outcome) in sent {
            report.add(&outcome);
            count(&delivery, &outcome);
        }
        next = following?;
        if halted {
            // Campaigns paused themselves: the batch claimed meanwhile goes back, too.
            if let Some(rows) = next.take() {
                release(engine, rows.into_iter().map(|(d, _)| d).collect()).await?;
            }
        }
    }
    Ok(report)
}

/// Claims the next due batch and prepares it; `None` when nothing is due.
async fn claim_batch(engine: &Engine) -> Result<Option<Vec<(Delivery, Verdict)>>, StoreError> {
    let settings = &engine.ctx.settings.delivery;
    let now = engine.ctx.clock.now();
    let started = std::time::Instant::now();
    let limit = u64::from(settings.batch_size);
    let batch =
        store::deliveries::claim_due(&engine.ctx.writer, now, now + settings.lease, limit).await?;
    if batch.is_empty() {
        return Ok(None);
    }
    let rows = batch.len();
    let prepared = compose::prepare_batch(engine, batch).await?;
    tracing::debug!(
        rows,
        claim_and_prepare_us = started.elapsed().as_micros() as u64,
        "batch claimed"
    );
    Ok(Some(prepared))
}

/// Gives back the rows of campaigns that were paused or cancelled after the batch was
/// claimed (while the previous batch was sending), and returns the rest.
async fn release_paused(
    engine: &Engine,
    prepared: Vec<(Delivery, Verdict)>,
) -> Result<Vec<(Delivery, Verdict)>, StoreError> {
    let mut campaigns: Vec<_> = prepared.iter().filter_map(|(d, _)| d.campaign_id).collect();
    campaigns.sort_unstable_by_key(|id| id.as_uuid());
    campaigns.dedup();
    let mut stopped = Vec::new();
    for id in campaigns {
        let campaign = store::campaigns::find(&engine.ctx.db, id).await?;
        if campaign.status != CampaignStatus::Sending {
            stopped.push(id);
        }
    }
    if stopped.is_empty() {
        return Ok(prepared);
    }
    let (kept, gone): (Vec<_>, Vec<_>) = prepared
        .into_iter()
        .partition(|(d, _)| !d.campaign_id.is_some_and(|id| stopped.contains(&id)));
    release(engine, gone.into_iter().map(|(d, _)| d).collect()).await?;
    Ok(kept)
}

/// Hands claimed rows back unsent: due again at once, the attempt not counted.
async fn release(engine: &Engine, rows: Vec<Delivery>) -> Result<(), StoreError> {
    let released: Vec<(&Delivery, &Outcome)> =
        rows.iter().map(|d| (d, &Outcome::Released)).collect();
    let txn = store::begin_write(&engine.ctx.writer).await?;
    store::deliveries::record_batch(&txn, &released, engine.ctx.clock.now()).await?;
    txn.commit().await?;
    Ok(())
}

/// One row after its attempt.
struct Attempted {
    delivery: Delivery,
    outcome: Outcome,
    /// What the relay's refusal says about the address, and the address's hash.
    bounce: Option<(Bounce, String)>,
}

/// An attempted row on its way to the recorder, with the lane waiting for it to be written.
type Recorded = (Attempted, oneshot::Sender<()>);

/// Sends a prepared batch over `concurrency` parallel lanes, each its own task (so rendering
/// uses every core) and its own pooled SMTP connection. A lane hands each outcome to the
/// recorder and waits until it is written before sending the next message, so a crash can
/// repeat at most one message per lane; the recorder writes what all lanes handed in at once.
/// Returns the outcomes and whether campaigns paused themselves meanwhile.
async fn send_all(
    engine: &Engine,
    prepared: Vec<(Delivery, Verdict)>,
) -> Result<(Vec<(Delivery, Outcome)>, bool), StoreError> {
    let lanes = engine
        .ctx
        .settings
        .delivery
        .concurrency
        .min(prepared.len())
        .max(1);
    let queue = Arc::new(Mutex::new(VecDeque::from(prepared)));
    let halt = Arc::new(AtomicBool::new(false));
    let (to_recorder, inbox) = mpsc::channel::<Recorded>(lanes * 2);
    let recorder = tokio::spawn(recorder(engine.clone(), inbox, lanes));
    let mut tasks = JoinSet::new();
    for _ in 0..lanes {
        tasks.spawn(lane(
            engine.clone(),
            queue.clone(),
            halt.clone(),
            to_recorder.clone(),
        ));
    }
    drop(to_recorder);
    while let Some(joined) = tasks.join_next().await {
        // Rows of a crashed lane stay claimed; their lease lapses and they are retried.
        if let Err(e) = joined {
            tracing::error!(error = %e, "a delivery lane failed");
        }
    }
    match recorder.await {
        Ok(result) => result.map(|outcomes| (outcomes, halt.load(Ordering::Relaxed))),
        Err(e) => Err(StoreError::Corrupt(format!(
            "the delivery recorder failed: {e}"
        ))),
    }
}

async fn lane(
    engine: Engine,
    queue: Arc<Mutex<VecDeque<(Delivery, Verdict)>>>,
    halt: Arc<AtomicBool>,
    recorder: mpsc::Sender<Recorded>,
) {
    let mut recording: Option<oneshot::Receiver<()>> = None;
    loop {
        let next = queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop_front();
        let Some((delivery, verdict)) = next else {
            if let Some(previous) = recording {
                let _ = previous.await;
            }
            return;
        };
        // Built while the previous outcome is being written.
        let step = prepare(&engine, delivery, verdict);
        // The previous outcome must be written before the next message goes out, so that a
        // crash repeats at most one message per lane.
        if let Some(previous) = recording.take()
            && previous.await.is_err()
        {
            // The recorder stopped on a database error: leave the rest claimed for a retry.
            return;
        }
        let attempted = match step {
            Step::Done(attempted) => attempted,
            Step::Ready { delivery, .. } if halt.load(Ordering::Relaxed) => Attempted {
                delivery,
                outcome: Outcome::Released,
                bounce: None,
            },
            Step::Ready {
                delivery,
                message,
                address_hash,
            } => {
                let span = tracing::info_span!("delivery", delivery.id = %delivery.id, subscriber.id = %delivery.subscriber_id, kind = %delivery.kind);
                deliver(&engine, delivery, *message, address_hash)
                    .instrument(span)
                    .await
            }
        };
        if watch_streak(&engine, &attempted).await {
            halt.store(true, Ordering::Relaxed);
        }
        let (written, wait) = oneshot::channel();
        if recorder.send((attempted, written)).await.is_err() {
            return;
        }
        recording = Some(wait);
    }
}

/// How long the recorder waits for the other lanes' outcomes before it writes what it has.
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// Writes outcomes as lanes hand them in. It gathers until every lane has handed one in (or
/// `GATHER` passed since the first), then writes them all at once: each write costs about
/// the same whatever its size, so a few large ones leave the CPU to rendering and sending.
async fn recorder(
    engine: Engine,
    mut inbox: mpsc::Receiver<Recorded>,
    lanes: usize,
) -> Result<Vec<(Delivery, Outcome)>, StoreError> {
    let mut all = Vec::new();
    let mut pending = Vec::new();
    while let Some(first) = inbox.recv().await {
        pending.push(first);
        let deadline = tokio::time::Instant::now() + GATHER;
        while pending.len() < lanes {
            match tokio::time::timeout_at(deadline, inbox.recv()).await {
                Ok(Some(more)) => pending.push(more),
                // Every lane has finished, or the others are still busy: write now.
                Ok(None) | Err(_) => break,
            }
        }
        let attempted: Vec<&Attempted> = pending.iter().map(|(a, _)| a).collect();
        let flush_started = std::time::Instant::now();
        record(&engine, &attempted).await?;
        tracing::debug!(
            rows = attempted.len(),
            flush_us = flush_started.elapsed().as_micros() as u64,
            "outcomes recorded"
        );
        for (a, written) in pending.drain(..) {
            // A lane that is gone no longer waits; nothing to tell it.
            let _ = written.send(());
            all.push((a.delivery, a.outcome));
        }
    }
    Ok(all)
}

/// Writes outcomes, with hard-bounce suppressions in one transaction. When every row was
/// sent (the common case) the outcomes are one `UPDATE`, atomic on its own, and go without
/// a transaction: a third of the statements.
async fn record(engine: &Engine, attempted: &[&Attempted]) -> Result<(), StoreError> {
    let now = engine.ctx.clock.now();
    let results: Vec<(&Delivery, &Outcome)> = attempted
        .iter()
        .map(|a| (&a.delivery, &a.outcome))
        .collect();
    let written = if results.iter().all(|(_, o)| matches!(o, Outcome::Sent)) {
        store::deliveries::record_batch(&engine.ctx.writer, &results, now).await?
    } else {
        let txn = store::begin_write(&engine.ctx.writer).await?;
        let written = store::deliveries::record_batch(&txn, &results, now).await?;
        for a in attempted {
            if let (Some((bounce, hash)), Outcome::Failed { error }) = (&a.bounce, &a.outcome) {
                let settings = &engine.ctx.settings.bounces;
                let soft = (now - settings.soft_window, settings.soft_limit);
                let what = (*bounce, Some(hash.as_str()), error.as_str());
                store::deliveries::record_bounce(&txn, &a.delivery, what, soft, now).await?;
            }
        }
        txn.commit().await?;
        watch_rates(engine, attempted).await?;
        written
    };
    if written < results.len() as u64 {
        tracing::warn!(
            lost = results.len() as u64 - written,
            "leases lapsed before outcomes were recorded; other workers own those rows"
        );
    }
    Ok(())
}

/// Pauses the campaigns of this batch's hard bounces whose hard-bounce rate has grown too
/// high (`bounces.pause_bounce_rate`, after 500 delivered).
async fn watch_rates(engine: &Engine, attempted: &[&Attempted]) -> Result<(), StoreError> {
    let mut campaigns: Vec<_> = attempted
        .iter()
        .filter(|a| matches!(a.bounce, Some((Bounce::Hard, _))))
        .filter_map(|a| a.delivery.campaign_id)
        .collect();
    campaigns.sort_unstable();
    campaigns.dedup();
    let rates = engine.ctx.settings.bounces.pause_rates;
    for campaign in campaigns {
        let now = engine.ctx.clock.now();
        if let Some(reason) =
            store::campaigns::pause_for_rates(&engine.ctx.writer, campaign, rates, now).await?
        {
            tracing::error!(%campaign, %reason, "a campaign paused itself");
        }
    }
    Ok(())
}

/// A claimed row after the CPU work: its message built, or its outcome already known.
enum Step {
    /// Not to be sent (ineligible, or the message could not be built).
    Done(Attempted),
    /// Ready to go to the relay.
    Ready {
        delivery: Delivery,
        message: Box<Message>,
        address_hash: String,
    },
}

fn prepare(engine: &Engine, delivery: Delivery, verdict: Verdict) -> Step {
    let done = |delivery, outcome| {
        Step::Done(Attempted {
            delivery,
            outcome,
            bounce: None,
        })
    };
    let recipient = match verdict {
        Verdict::Skip(reason) => return done(delivery, Outcome::Suppressed { reason }),
        Verdict::Broken(error) => return done(delivery, Outcome::Failed { error }),
        Verdict::Send(recipient) => recipient,
    };
    match compose::build(engine, &delivery, &recipient) {
        Ok(message) => Step::Ready {
            delivery,
            message: Box::new(message),
            address_hash: recipient.address_hash,
        },
        Err(error) => done(delivery, Outcome::Failed { error }),
    }
}

/// How old a verdict may be when its message goes out; an older one is checked again. At
/// full speed a batch is sent within a fraction of this, so the check costs nothing there;
/// when the rate limit or a slow relay holds messages back, each is checked again.
const FRESH_VERDICT: chrono::TimeDelta = chrono::TimeDelta::seconds(1);

/// Why a claimed message must not go out now, if it must not: another worker has claimed
/// it since (its lease ran out while it waited, e.g. for the rate limit: sending now could
/// send it twice), its campaign was paused or cancelled, or it is no longer eligible (an
/// unsubscribe since the batch was prepared wins). A lease with less than a whole send left
/// is renewed first.
async fn hold_back(engine: &Engine, delivery: &mut Delivery) -> Option<Outcome> {
    let now = engine.ctx.clock.now();
    let longest_send = engine
        .ctx
        .settings
        .mail
        .transport
        .longest_send()
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .unwrap_or(FRESH_VERDICT);
    let lease = engine.ctx.settings.delivery.lease;
    let held = delivery.lease_until?;
    let prepared_at = held - lease;
    if now + longest_send >= held {
        match store::deliveries::renew_lease(&engine.ctx.writer, delivery.id, held, now + lease)
            .await
        {
            Ok(true) => delivery.lease_until = Some(now + lease),
            Ok(false) => {
                tracing::info!(delivery.id = %delivery.id, "claimed by another worker meanwhile; not sent here");
                return Some(Outcome::Released);
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not renew a lease before sending; released");
                return Some(Outcome::Released);
            }
        }
    }
    if now - prepared_at <= FRESH_VERDICT {
        return None;
    }
    // A campaign paused or cancelled since the batch was claimed keeps the rest back.
    if let Some(campaign) = delivery.campaign_id {
        match store::campaigns::find(&engine.ctx.db, campaign).await {
            Ok(c) if c.status == CampaignStatus::Sending => {}
            Ok(_) => return Some(Outcome::Released),
            Err(e) => {
                tracing::warn!(error = %e, "could not check a campaign before sending; released");
                return Some(Outcome::Released);
            }
        }
    }
    match compose::prepare_batch(engine, vec![delivery.clone()]).await {
        Ok(mut again) => match again.pop().map(|(_, verdict)| verdict) {
            Some(Verdict::Send(_)) => None,
            Some(Verdict::Skip(reason)) => Some(Outcome::Suppressed { reason }),
            Some(Verdict::Broken(error)) => Some(Outcome::Failed { error }),
            None => Some(Outcome::Released),
        },
        Err(e) => {
            tracing::warn!(error = %e, "could not check a message again before sending; released");
            Some(Outcome::Released)
        }
    }
}

async fn deliver(
    engine: &Engine,
    mut delivery: Delivery,
    message: Message,
    address_hash: String,
) -> Attempted {
    engine.throttle.acquire().await;
    if let Some(outcome) = hold_back(engine, &mut delivery).await {
        return Attempted {
            delivery,
            outcome,
            bounce: None,
        };
    }
    let send_started = std::time::Instant::now();
    let sent = engine.transport.send(message).await;
    tracing::trace!(
        send_us = send_started.elapsed().as_micros() as u64,
        "transport returned"
    );
    let (outcome, bounce) = match sent {
        Ok(()) => (Outcome::Sent, None),
        // Final for this message; a hard bounce also for the address, by any campaign.
        Err(SendError::Bounced { bounce, error }) => {
            (Outcome::Failed { error }, Some((bounce, address_hash)))
        }
        Err(error) => (after_failure(engine, &delivery, error), None),
    };
    Attempted {
        delivery,
        outcome,
        bounce,
    }
}

fn after_failure(engine: &Engine, delivery: &Delivery, error: SendError) -> Outcome {
    let settings = &engine.ctx.settings.delivery;
    match error {
        SendError::Permanent(error) | SendError::Bounced { error, .. } => Outcome::Failed { error },
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
                next_attempt_at: engine.ctx.clock.now() + delay,
                error,
            }
        }
    }
}

/// Pauses running campaigns after `pause_after_failures` temporary failures in a row: the
/// relay is down, and hammering it only burns attempts. Resume continues where it stopped.
/// Returns whether campaigns were paused (the lanes then release their remaining rows).
async fn watch_streak(engine: &Engine, attempted: &Attempted) -> bool {
    let error = match &attempted.outcome {
        Outcome::Sent => {
            engine.failure_streak.store(0, Ordering::Relaxed);
            return false;
        }
        Outcome::Deferred { error, .. } if attempted.delivery.campaign_id.is_some() => error,
        // Policy refusals in a row: a reputation problem, not the addresses.
        Outcome::Failed { error }
            if attempted.delivery.campaign_id.is_some()
                && matches!(attempted.bounce, Some((Bounce::Blocked, _))) =>
        {
            error
        }
        Outcome::Deferred { .. }
        | Outcome::Failed { .. }
        | Outcome::Suppressed { .. }
        | Outcome::Released => {
            return false;
        }
    };
    let limit = engine.ctx.settings.delivery.pause_after_failures;
    if engine.failure_streak.fetch_add(1, Ordering::Relaxed) + 1 < limit {
        return false;
    }
    engine.failure_streak.store(0, Ordering::Relaxed);
    let reason = format!(
        "paused after {limit} temporary send failures or policy refusals in a row; last error: {error}"
    );
    match store::campaigns::pause_all_sending(&engine.ctx.writer, &reason, engine.ctx.clock.now())
        .await
    {
        Ok(paused) => {
            tracing::error!(campaigns = paused, %reason, "campaigns paused: the mail relay keeps failing")
        }
        Err(e) => {
            tracing::error!(error = %e, "could not pause campaigns after repeated send failures")
        }
    }
    true
}

fn count(delivery: &Delivery, outcome: &Outcome) {
    let kind = delivery.kind.as_str();
    match outcome {
        Outcome::Sent => {
            metrics::counter!("bulletin_messages_sent_total", "kind" => kind).increment(1);
            tracing::debug!(delivery.id = %delivery.id, "message sent");
        }
        Outcome::Deferred { error, .. } => {
            metrics::counter!("bulletin_messages_deferred_total", "kind" => kind).increment(1);
            tracing::warn!(delivery.id = %delivery.id, %error, "temporary send failure; will retry");
        }
        Outcome::Failed { error } => {
            metrics::counter!("bulletin_messages_failed_total", "kind" => kind).increment(1);
            tracing::warn!(delivery.id = %delivery.id, %error, "message failed");
        }
        Outcome::Suppressed { reason } => {
            metrics::counter!("bulletin_messages_suppressed_total", "kind" => kind).increment(1);
            tracing::info!(delivery.id = %delivery.id, %reason, "message suppressed");
        }
        Outcome::Released => {}
    }
}
