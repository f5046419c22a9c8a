//! What comes back to the bounce domain, acted on: a bounce marks its delivery and, by its
//! status, suppresses the address (hard at once, soft after several in a row; a policy
//! refusal never); a complaint suppresses the address and ends every subscription of the
//! person, each with a ledger entry. The delivery is the one a signed reference names (the
//! VERP recipient, or one quoted from the original message): a forged or altered report
//! changes nothing, and no address in a report's text is ever suppressed.
//!
//! A message to a delivery's signed `mailto:` unsubscribe address (`u-<reference>@<bounce
//! domain>`, RFC 2369) is no report: it leaves the delivery's list exactly as the message's
//! one-click link does, whatever the message says.

use super::{
    Requester,
    campaigns::COMPLAINT,
    notices::objection::{self, ObjectionScope},
    subscriptions::{self, LinkActionError, leave_lists_in},
};
use crate::{
    context::Context,
    domain::{Bounce, Delivery, DeliveryId, LegalBasis, SubscriberId, SuppressionReason, bounce},
    mail::{
        UNSUBSCRIBE_PREFIX,
        reports::{self, ReportKind},
    },
    store::{self, StoreError},
};

/// The consent ledger's source of a leave by the `mailto:` unsubscribe address.
pub const MAILTO_SOURCE: &str = "mailto";

/// What was done with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// A bounce of a delivery, and what it said about the address.
    Bounce(Bounce),
    /// A complaint about a delivery.
    Complaint,
    /// A mail to a delivery's unsubscribe address: the person left its list.
    Unsubscribed,
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
    let local = recipient
        .and_then(|r| r.trim().trim_matches(['<', '>']).rsplit_once('@'))
        .map(|(local, _)| local);
    if let Some(reference) = local.and_then(|l| strip_prefix_ignore_case(l, UNSUBSCRIBE_PREFIX)) {
        return unsubscribe_by_mail(ctx, reference).await;
    }
    if raw.len() > reports::MAX_REPORT_BYTES {
        return Ok(Handled::Ignored("larger than a report may be"));
    }
    let report = reports::read(raw);
    if matches!(report.kind, ReportKind::Other | ReportKind::Delayed) {
        return Ok(Handled::Ignored("not a bounce or complaint"));
    }
    let verp = local
        .and_then(|l| strip_prefix_ignore_case(l, "b-"))
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

/// `text` without `prefix`, whatever the case of either (mail systems may change a local
/// part's case).
fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// A mail to the unsubscribe address of the delivery `reference` names: the person leaves the
/// delivery's list as its one-click link would have them (a newsletter is left, a notice kind
/// objected to), counted against its campaign. A reference that does not check changes
/// nothing.
async fn unsubscribe_by_mail(ctx: &Context, reference: &str) -> Result<Handled, StoreError> {
    let Some(id) = ctx.address_hasher.check_unsubscribe_ref(reference) else {
        tracing::info!("a mail to an unsigned unsubscribe address was ignored");
        return Ok(Handled::Ignored("names no delivery of Bulletin's"));
    };
    let Some(delivery) = store::deliveries::find(&ctx.db, DeliveryId::from_uuid(id)).await? else {
        return Ok(Handled::Ignored("names no delivery of Bulletin's"));
    };
    let Some(subscription) = delivery.subscription_id else {
        return Ok(Handled::Ignored("the delivery belongs to no list"));
    };
    let basis = match store::subscriptions::find(&ctx.db, subscription).await {
        Ok(sub) => {
            store::lists::find(&ctx.db, sub.list_id)
                .await?
                .def
                .legal_basis
        }
        Err(StoreError::NotFound) => return Ok(Handled::Ignored("the subscription is gone")),
        Err(e) => return Err(e),
    };
    let requester = Requester::default();
    let campaign = delivery.campaign_id;
    let left = match basis {
        LegalBasis::Consent => subscriptions::unsubscribe(
            ctx,
            subscription,
            &requester,
            (MAILTO_SOURCE, None),
            campaign,
        )
        .await
        .map(drop),
        LegalBasis::LegitimateInterest => objection::object(
            ctx,
            subscription,
            ObjectionScope::Kind,
            &requester,
            MAILTO_SOURCE,
            campaign,
        )
        .await
        .map(drop),
    };
    match left {
        Ok(()) => {
            metrics::counter!("bulletin_mailto_unsubscribes_total").increment(1);
            Ok(Handled::Unsubscribed)
        }
        Err(LinkActionError::Gone) => Ok(Handled::Ignored("the subscription is gone")),
        Err(LinkActionError::Refused(e)) => {
            tracing::info!(error = %e, "a mail to an unsubscribe address changed nothing");
            Ok(Handled::Ignored("the subscription cannot be left"))
        }
        Err(LinkActionError::Store(e)) => Err(e),
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
    let txn = store::begin_write(&ctx.writer).await?;
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
    let txn = store::begin_write(&ctx.writer).await?;
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
