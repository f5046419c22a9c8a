//! What comes back to the bounce domain, acted on: a bounce marks its delivery and, by its
//! status, suppresses the address (hard at once, soft after several in a row; a policy
//! refusal never); a complaint suppresses the address and ends every subscription of the
//! person, each with a ledger entry. The delivery is the one a signed reference names (the
//! VERP recipient, or one quoted from the original message): a forged or altered report
//! changes nothing, and no address in a report's text is ever suppressed.

use super::{
    Requester,
    campaigns::COMPLAINT,
    subscriptions::{LinkActionError, leave_lists_in},
};
use crate::{
    context::Context,
    domain::{Bounce, Delivery, DeliveryId, SubscriberId, SuppressionReason, bounce},
    mail::reports::{self, ReportKind},
    store::{self, StoreError},
};

/// What was done with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// A bounce of a delivery, and what it said about the address.
    Bounce(Bounce),
    /// A complaint about a delivery.
    Complaint,
    /// Nothing to do: why.
    Ignored(&'static str),
}

/// Acts on one message that came to the bounce domain; `recipient` is the address it was
/// delivered to, when known (the VERP address names the delivery).
///
/// # Errors
/// Store failure (the message should be offered again later).
pub async fn handle(
    ctx: &Context,
    raw: &[u8],
    recipient: Option<&str>,
) -> Result<Handled, StoreError> {
    if raw.len() > reports::MAX_REPORT_BYTES {
        return Ok(Handled::Ignored("larger than a report may be"));
    }
    let report = reports::read(raw);
    if matches!(report.kind, ReportKind::Other | ReportKind::Delayed) {
        return Ok(Handled::Ignored("not a bounce or complaint"));
    }
    let verp = recipient
        .and_then(|r| r.trim().trim_matches(['<', '>']).split_once('@'))
        .and_then(|(local, _)| local.strip_prefix("b-").or(local.strip_prefix("B-")))
        .map(str::to_owned);
    let mut delivery = None;
    for candidate in verp.iter().chain(&report.references) {
        let Some(id) = ctx.address_hasher.check_delivery_ref(candidate) else {
            continue;
        };
        if let Some(found) = store::deliveries::find(&ctx.db, DeliveryId::from_uuid(id)).await? {
            delivery = Some(found);
            break;
        }
    }
    let Some(delivery) = delivery else {
        tracing::info!("a report that names no delivery of Bulletin's was ignored");
        return Ok(Handled::Ignored("names no delivery of Bulletin's"));
    };
    let target = Target::Delivery(delivery);
    match report.kind {
        ReportKind::Failed { status, diagnostic } => {
            let kind = bounce::classify(None, status, false);
            let detail = match (status, diagnostic) {
                (_, Some(d)) => d,
                (Some(s), None) => s.to_string(),
                (None, None) => "a bounce without a status".to_owned(),
            };
            act(ctx, &target, Act::Bounce(kind, &detail)).await
        }
        ReportKind::Complaint => act(ctx, &target, Act::Complaint).await,
        ReportKind::Delayed | ReportKind::Other => {
            Ok(Handled::Ignored("not a bounce or complaint"))
        }
    }
}

/// Who a report is about: one delivery of Bulletin's, or, for a provider's authenticated
/// report that names only the address, the person when no delivery to them was ever sent.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// The delivery the report is about.
    Delivery(Delivery),
    /// The person, with no delivery to mark.
    Person(SubscriberId),
}

impl Target {
    fn subscriber_id(&self) -> SubscriberId {
        match self {
            Self::Delivery(d) => d.subscriber_id,
            Self::Person(id) => *id,
        }
    }

    fn delivery(&self) -> Option<&Delivery> {
        match self {
            Self::Delivery(d) => Some(d),
            Self::Person(_) => None,
        }
    }
}

/// What a report says happened.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Act<'a> {
    /// A bounce of this kind, with the remote server's words.
    Bounce(Bounce, &'a str),
    /// A spam complaint.
    Complaint,
}

/// Acts on a report about `target`: marks, suppresses, ends subscriptions, counts, and
/// pauses the campaign when its rates grew too high.
///
/// # Errors
/// Store failure.
pub(crate) async fn act(
    ctx: &Context,
    target: &Target,
    what: Act<'_>,
) -> Result<Handled, StoreError> {
    let handled = match what {
        Act::Bounce(kind, detail) => {
            bounced(ctx, target, kind, detail).await?;
            metrics::counter!("bulletin_bounces_total", "kind" => kind.as_str()).increment(1);
            Handled::Bounce(kind)
        }
        Act::Complaint => {
            complained(ctx, target).await?;
            metrics::counter!("bulletin_complaints_total").increment(1);
            Handled::Complaint
        }
    };
    if let Some(delivery) = target.delivery() {
        watch_rates(ctx, delivery).await?;
    }
    Ok(handled)
}

/// A later bounce: marks the delivery and suppresses by the rules of `bounce::suppression_for`.
/// Without a delivery only a hard bounce acts (a soft one has nothing to count against).
async fn bounced(
    ctx: &Context,
    target: &Target,
    kind: Bounce,
    detail: &str,
) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    let settings = &ctx.settings.bounces;
    let soft = (now - settings.soft_window, settings.soft_limit);
    let txn = store::begin_write(&ctx.db).await?;
    let hash = address_hash(ctx, &txn, target.subscriber_id()).await?;
    match target {
        Target::Delivery(delivery) => {
            let what = (kind, hash.as_deref(), detail);
            store::deliveries::record_bounce(&txn, delivery, what, soft, now).await?;
        }
        Target::Person(id) => {
            if let (Bounce::Hard, Some(hash)) = (kind, hash) {
                let why = (SuppressionReason::HardBounce, Some(detail));
                store::suppressions::add(&txn, &hash, why, Some(*id), now).await?;
            }
        }
    }
    store::commit(txn).await
}

/// A complaint: the address is suppressed, and the person leaves every list (a complaint
/// about a notice is an objection), each with a ledger entry.
async fn complained(ctx: &Context, target: &Target) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    let subscriber_id = target.subscriber_id();
    let campaign_id = target.delivery().and_then(|d| d.campaign_id);
    let txn = store::begin_write(&ctx.db).await?;
    if let Some(delivery) = target.delivery() {
        store::deliveries::mark_bounce(&txn, delivery.id, COMPLAINT).await?;
    }
    if let Some(hash) = address_hash(ctx, &txn, subscriber_id).await? {
        let why = (SuppressionReason::Complaint, Some("reported as spam"));
        store::suppressions::add(&txn, &hash, why, Some(subscriber_id), now).await?;
        let how = ("subscriber", "complaint");
        match leave_lists_in(
            &txn,
            subscriber_id,
            None,
            &Requester::default(),
            how,
            (now, campaign_id),
        )
        .await
        {
            Ok(_) | Err(LinkActionError::Gone) => {}
            Err(LinkActionError::Store(e)) => return Err(e),
            Err(LinkActionError::Refused(e)) => {
                tracing::warn!(error = %e, "a complaint could not end a subscription");
            }
        }
    }
    store::commit(txn).await
}

/// Pauses the delivery's campaign when its complaint or hard-bounce rate has grown too high
/// (`bounces.pause_complaint_rate`, `pause_bounce_rate`).
async fn watch_rates(ctx: &Context, delivery: &Delivery) -> Result<(), StoreError> {
    let Some(campaign) = delivery.campaign_id else {
        return Ok(());
    };
    let rates = ctx.settings.bounces.pause_rates;
    let now = ctx.clock.now();
    if let Some(reason) = store::campaigns::pause_for_rates(&ctx.db, campaign, rates, now).await? {
        tracing::error!(%campaign, %reason, "a campaign paused itself");
    }
    Ok(())
}

/// The keyed hash of the person's address, while the person exists.
async fn address_hash(
    ctx: &Context,
    conn: &impl store::Connection,
    subscriber: SubscriberId,
) -> Result<Option<String>, StoreError> {
    match store::subscribers::find(conn, subscriber).await {
        Ok(subscriber) => Ok(Some(ctx.address_hasher.hash(&subscriber.email))),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
