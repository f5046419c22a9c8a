//! The retention policy at work: the purge (stale requests, lapsed and inactive people) and
//! erasure, which the data-subject-rights work reuses. Each subscriber is decided again in
//! their own locked transaction, so a purge is safe beside requests and beside another purge.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::{
    context::Context,
    domain::{
        ConsentAction, ConsentEvent, ConsentEventId, LegalBasis, SubscriberId, Subscription,
        SuppressionReason,
        retention::{self, ErasureReason, RetentionDecision, RetentionFate},
    },
    signing::AddressHasher,
    store::{self, StoreError},
};

/// Subscribers read per page of the purge.
const PAGE: u64 = 500;
/// Subscriber ids a report keeps per category.
const SAMPLES: usize = 20;
/// Who the ledger names for the purge's entries.
const ACTOR: &str = "system:retention";
/// Through what, for the ledger.
const SOURCE: &str = "retention";

/// Why a retention action failed.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// The subscriber does not exist (any more).
    #[error("subscriber not found")]
    NotFound,
    /// Store failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RetentionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

/// What a purge did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PurgeReport {
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// Candidate subscribers looked at.
    pub examined: u64,
    /// Stale pending subscriptions deleted.
    pub pending_deleted: u64,
    /// Subscribers erased.
    pub erased: u64,
    /// Subscribers flagged for review.
    pub flagged: u64,
    /// Some subscriber ids per category (never addresses); not part of the job record.
    #[serde(skip)]
    pub samples: PurgeSamples,
}

/// Up to 20 subscriber ids per category of a purge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeSamples {
    /// Subscribers whose stale requests were deleted.
    pub pending_deleted: Vec<SubscriberId>,
    /// Subscribers erased.
    pub erased: Vec<SubscriberId>,
    /// Subscribers flagged for review.
    pub flagged: Vec<SubscriberId>,
}

impl PurgeReport {
    fn record(&mut self, id: SubscriberId, done: &RetentionDecision) {
        if !done.delete_pending.is_empty() {
            self.pending_deleted += done.delete_pending.len() as u64;
            sample(&mut self.samples.pending_deleted, id);
        }
        match done.fate {
            RetentionFate::Keep => {}
            RetentionFate::FlagForReview => {
                self.flagged += 1;
                sample(&mut self.samples.flagged, id);
            }
            RetentionFate::Erase(_) => {
                self.erased += 1;
                sample(&mut self.samples.erased, id);
            }
        }
    }
}

fn sample(ids: &mut Vec<SubscriberId>, id: SubscriberId) {
    if ids.len() < SAMPLES {
        ids.push(id);
    }
}

/// Applies the `[retention]` policy at `now`: deletes stale pending requests, erases people
/// who lapsed (or only ever left an unconfirmed request), and flags or erases the inactive.
/// Reads subscribers in keyset pages; with `dry_run` it only counts.
///
/// # Errors
/// Store failure; what was done before it stays done (each subscriber commits alone).
pub async fn purge(
    ctx: &Context,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<PurgeReport, RetentionError> {
    let policy = ctx.settings.retention.policy;
    let cutoffs = policy.cutoffs(now);
    let mut report = PurgeReport {
        dry_run,
        ..PurgeReport::default()
    };
    let mut after = None;
    loop {
        let page = store::retention::due_page(&ctx.db, &cutoffs, after, PAGE).await?;
        for subject in &page {
            report.examined += 1;
            let decision = retention::decide(subject, &policy, now);
            if decision.is_nothing() {
                continue;
            }
            let done = match dry_run {
                true => decision,
                false => apply(ctx, subject.id, now).await?,
            };
            report.record(subject.id, &done);
        }
        match page.last() {
            Some(last) if page.len() as u64 == PAGE => after = Some(last.id),
            _ => break,
        }
    }
    if !dry_run && report.erased + report.pending_deleted > 0 {
        forget_in_files(ctx).await;
    }
    Ok(report)
}

/// Decides one subscriber again under lock and carries the decision out in one transaction.
async fn apply(
    ctx: &Context,
    id: SubscriberId,
    now: DateTime<Utc>,
) -> Result<RetentionDecision, RetentionError> {
    let txn = store::begin_write(&ctx.writer).await?;
    let Some(subject) = store::retention::lock_subject(&txn, id).await? else {
        // Erased meanwhile (another instance, or a request of the person).
        return Ok(RetentionDecision {
            delete_pending: Vec::new(),
            fate: RetentionFate::Keep,
        });
    };
    let decision = retention::decide(&subject, &ctx.settings.retention.policy, now);
    let stale = subject
        .subscriptions
        .iter()
        .filter(|s| decision.delete_pending.contains(&s.id));
    for subscription in stale {
        delete_request(&txn, subscription, now).await?;
    }
    match decision.fate {
        RetentionFate::Keep => {}
        RetentionFate::FlagForReview => {
            store::retention::flag_for_review(&txn, id, now).await?;
            tracing::info!(subscriber.id = %id, "subscriber flagged for review after long inactivity");
        }
        RetentionFate::Erase(reason) => {
            erase_in(&txn, &ctx.address_hasher, id, reason, SYSTEM, now).await?;
        }
    }
    store::commit(txn).await?;
    Ok(decision)
}

/// Deletes a stale pending request, with a `purged` ledger entry.
async fn delete_request(
    conn: &impl store::Connection,
    subscription: &Subscription,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let list = store::lists::find(conn, subscription.list_id).await?;
    let mut event = system_event(
        subscription.subscriber_id,
        ConsentAction::Purged,
        list.def.legal_basis,
        now,
    );
    event.list_id = Some(list.id);
    store::consent_events::append(conn, &event).await?;
    store::retention::delete_subscription(conn, subscription.id).await?;
    tracing::info!(subscriber.id = %subscription.subscriber_id, subscription.id = %subscription.id, "stale subscription request deleted");
    Ok(())
}

/// Erases a subscriber in one transaction: the keyed hash of the address is suppressed (when
/// `reason` says so), their ledger is pseudonymised and gets an `erased` entry, and the
/// subscriber is deleted with their subscriptions and outbox rows. Afterwards neither the
/// address nor the name is stored anywhere.
///
/// # Errors
/// `NotFound`, or a store failure (then nothing changed).
pub async fn erase_subscriber(
    ctx: &Context,
    id: SubscriberId,
    reason: ErasureReason,
    now: DateTime<Utc>,
) -> Result<(), RetentionError> {
    erase_as(ctx, id, reason, SYSTEM, now).await
}

/// Who erased, as the ledger's `erased` entry names them: (actor, source).
pub type ErasedBy<'a> = (&'a str, &'a str);

/// The purge's own entries.
const SYSTEM: ErasedBy<'static> = (ACTOR, SOURCE);

/// Erases a subscriber like [`erase_subscriber`], with the `erased` ledger entry naming
/// `by` (e.g. `("subscriber", "privacy_page")` for a person's own request).
///
/// # Errors
/// `NotFound`, or a store failure (then nothing changed).
pub async fn erase_as(
    ctx: &Context,
    id: SubscriberId,
    reason: ErasureReason,
    by: ErasedBy<'_>,
    now: DateTime<Utc>,
) -> Result<(), RetentionError> {
    let txn = store::begin_write(&ctx.writer).await?;
    store::retention::lock_subject(&txn, id)
        .await?
        .ok_or(RetentionError::NotFound)?;
    erase_in(&txn, &ctx.address_hasher, id, reason, by, now).await?;
    store::commit(txn).await?;
    forget_in_files(ctx).await;
    Ok(())
}

/// After an erasure: empties SQLite's write-ahead log, whose older frames still hold the
/// erased rows. A failure is logged; the next erasure or the shutdown tries again.
pub(super) async fn forget_in_files(ctx: &Context) {
    if let Err(e) = store::truncate_log(&ctx.db).await {
        tracing::warn!(error = %e, "could not empty the write-ahead log after an erasure");
    }
}

/// Erases inside the caller's transaction (which must hold the subject's lock, see
/// `store::retention::lock_subject`).
pub(super) async fn erase_in(
    conn: &impl store::Connection,
    hasher: &AddressHasher,
    id: SubscriberId,
    reason: ErasureReason,
    (actor, source): ErasedBy<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let subscriber = store::subscribers::find(conn, id).await?;
    let hash = hasher.hash(&subscriber.email);
    // A bounce message kept with an earlier suppression may quote the address.
    store::retention::forget_suppression_detail(conn, &hash).await?;
    if reason.suppresses() {
        let detail = format!("erased: {reason}");
        let why = (SuppressionReason::Erased, Some(detail.as_str()));
        store::suppressions::add(conn, &hash, why, None, now).await?;
    }
    // The erasure is recorded under the basis the person's data was last held on.
    let basis = store::consent_events::for_subscriber(conn, id)
        .await?
        .last()
        .map_or(LegalBasis::Consent, |e| e.legal_basis);
    store::retention::pseudonymise_ledger(conn, id, &hash).await?;
    let mut event = system_event(id, ConsentAction::Erased, basis, now);
    event.subject_hash = Some(hash);
    actor.clone_into(&mut event.actor);
    source.clone_into(&mut event.source);
    store::consent_events::append(conn, &event).await?;
    store::privacy::forget_request_notes(conn, id).await?;
    // Transactional messages hold what the operator's systems said about the person.
    store::transactional::delete_messages_of(conn, id).await?;
    // Pending address changes go with the subscriber row (ON DELETE CASCADE).
    store::retention::delete_subscriber(conn, id).await?;
    tracing::info!(subscriber.id = %id, %reason, "subscriber erased");
    Ok(())
}

fn system_event(
    subscriber: SubscriberId,
    action: ConsentAction,
    legal_basis: LegalBasis,
    now: DateTime<Utc>,
) -> ConsentEvent {
    ConsentEvent {
        id: ConsentEventId::new(),
        subscriber_id: subscriber,
        list_id: None,
        action,
        legal_basis,
        consent_text_hash: None,
        ip_anon: None,
        user_agent: None,
        actor: ACTOR.to_owned(),
        source: SOURCE.to_owned(),
        occurred_at: now,
        evidence: None,
        subject_hash: None,
        campaign_id: None,
    }
}

/// The name under which the backfill of suppressions' people is recorded as done.
const LINK_BACKFILL: &str = "suppression_subscribers";
/// Subscribers read per statement of that backfill.
const LINK_PAGE: u64 = 1000;

/// Names the person of every suppression from before suppressions kept it, where the person
/// still exists; returns how many it named. Runs to its end once and is then recorded as done:
/// since then every new suppression names its person and every new person is named by a
/// suppression of their address, so what stays unnamed (a stranger's address, an erasure)
/// could never be named by another pass, and a daily pass over every subscriber would be
/// wasted. With nothing to name it only records that.
///
/// # Errors
/// Store failure; the pages done stay done, and the next run starts again from the first.
pub async fn link_suppressions(ctx: &Context, now: DateTime<Utc>) -> Result<u64, StoreError> {
    if store::backfills::is_done(&ctx.db, LINK_BACKFILL).await? {
        return Ok(0);
    }
    let mut linked = 0;
    if store::suppressions::any_unlinked(&ctx.db).await? {
        let mut after = None;
        loop {
            let (page_linked, last) = link_page(ctx, after).await?;
            linked += page_linked;
            match last {
                Some(last) => after = Some(last),
                None => break,
            }
        }
    }
    store::backfills::mark_done(&ctx.db, LINK_BACKFILL, now).await?;
    tracing::info!(
        suppressions.linked = linked,
        "suppressions now name their people"
    );
    Ok(linked)
}

/// One page of the backfill, in its own transaction: the subscribers after `after`, and the
/// suppressions of their addresses that name nobody. Returns how many it named and the last
/// subscriber when the page was full.
async fn link_page(
    ctx: &Context,
    after: Option<SubscriberId>,
) -> Result<(u64, Option<SubscriberId>), StoreError> {
    let txn = store::begin_write(&ctx.writer).await?;
    let people = store::subscribers::addresses_page(&txn, after, LINK_PAGE).await?;
    let by_hash: HashMap<String, SubscriberId> = people
        .iter()
        .map(|(id, email)| (ctx.address_hasher.hash(email), *id))
        .collect();
    let wanted: Vec<String> = by_hash.keys().cloned().collect();
    let mut linked = 0;
    for hash in store::suppressions::unlinked_among(&txn, &wanted).await? {
        if let Some(id) = by_hash.get(&hash) {
            linked += u64::from(store::suppressions::link(&txn, &hash, *id).await?);
        }
    }
    store::commit(txn).await?;
    let last = match people.len() as u64 == LINK_PAGE {
        true => people.last().map(|(id, _)| *id),
        false => None,
    };
    Ok((linked, last))
}
