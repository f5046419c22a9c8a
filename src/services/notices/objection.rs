//! The right to object (GDPR Art. 21(2)–(4)): from the object link of a notice, the person
//! stops that kind of notice or every legitimate-interest mailing, at once, each recorded
//! as `objected` in the ledger. The RFC 8058 one-click POST objects to that kind.

use crate::{
    context::Context,
    domain::{CampaignId, LegalBasis, ListKind, Locale, SubscriptionId, SubscriptionStatus},
    services::{
        Requester,
        subscriptions::{LinkActionError, leave_lists_in},
    },
    store,
};

/// What an objection covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectionScope {
    /// Every list of the kind of the notice (product notices, or Tech News).
    Kind,
    /// Every legitimate-interest list.
    All,
}

/// What the object link points to.
#[derive(Debug, Clone)]
pub struct ObjectionSummary {
    /// The person's language.
    pub locale: Locale,
    /// The kind of notice the link came with.
    pub kind: ListKind,
    /// Whether the person still gets this kind of notice.
    pub still_receiving: bool,
}

/// What an object link points to (reads only).
///
/// # Errors
/// `Gone` when the subscription no longer exists, or a store failure.
pub async fn summary(
    ctx: &Context,
    id: SubscriptionId,
) -> Result<ObjectionSummary, LinkActionError> {
    summarise(&ctx.db, id).await
}

async fn summarise(
    conn: &impl store::Connection,
    id: SubscriptionId,
) -> Result<ObjectionSummary, LinkActionError> {
    let sub = store::subscriptions::find(conn, id).await?;
    let list = store::lists::find(conn, sub.list_id).await?;
    let subscriber = store::subscribers::find(conn, sub.subscriber_id).await?;
    let lists = store::lists::all(conn).await?;
    let still_receiving = store::subscriptions::of_subscriber(conn, sub.subscriber_id)
        .await?
        .iter()
        .any(|s| {
            s.status == SubscriptionStatus::Confirmed
                && lists
                    .iter()
                    .any(|l| l.id == s.list_id && l.def.kind == list.def.kind)
        });
    Ok(ObjectionSummary {
        locale: subscriber.locale,
        kind: list.def.kind,
        still_receiving,
    })
}

/// Objects, for the person the subscription belongs to, to the notices of its kind or to
/// every legitimate-interest mailing. Idempotent. `campaign` is the notice mailing whose link
/// the person came by, recorded on the `objected` entries so that the notice's objections
/// can be counted.
///
/// # Errors
/// `Gone`, or a store failure.
pub async fn object(
    ctx: &Context,
    id: SubscriptionId,
    scope: ObjectionScope,
    requester: &Requester,
    source: &str,
    campaign: Option<CampaignId>,
) -> Result<ObjectionSummary, LinkActionError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let sub = store::subscriptions::find(&txn, id).await?;
    let kind = store::lists::find(&txn, sub.list_id).await?.def.kind;
    let lists = store::lists::all(&txn).await?;
    let chosen: Vec<SubscriptionId> = store::subscriptions::of_subscriber(&txn, sub.subscriber_id)
        .await?
        .into_iter()
        .filter(|s| {
            lists.iter().any(|l| {
                l.id == s.list_id
                    && l.def.legal_basis == LegalBasis::LegitimateInterest
                    && (scope == ObjectionScope::All || l.def.kind == kind)
            })
        })
        .map(|s| s.id)
        .collect();
    let changed = leave_lists_in(
        &txn,
        sub.subscriber_id,
        Some(&chosen),
        requester,
        ("subscriber", source),
        (now, campaign),
    )
    .await?;
    let summary = summarise(&txn, id).await?;
    store::commit(txn).await?;
    tracing::info!(subscriber.id = %sub.subscriber_id, lists = changed, "objection recorded");
    Ok(summary)
}
