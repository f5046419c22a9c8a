//! The operator's block: a blocked person receives nothing and is added to nothing (no
//! signup, import, API call or customer sync), until the block is lifted. The data stays as
//! it was, subscriptions included, so that lifting the block restores the person's state.

use super::{Party, PrivacyError, event, person_basis};
use crate::{
    context::Context,
    domain::{Action, ConsentAction, SubscriberId, SubscriberStatus},
    store::{self, StoreError},
};

/// Blocks a person (`blocked`), or lifts the block. Returns the status afterwards; repeating
/// either changes nothing, and an erased person stays erased.
///
/// Blocking keeps the subscriptions and any restriction the person asked for. Lifting the
/// block returns the person to `restricted` when their latest restriction entry in the ledger
/// is `restricted` (their Art. 18 request still stands), and to `active` otherwise.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn block(
    ctx: &Context,
    id: SubscriberId,
    blocked: bool,
    actor: &Party,
) -> Result<SubscriberStatus, PrivacyError> {
    use SubscriberStatus::{Active, Blocked, Erased, Restricted};
    actor.authorize(Action::ManageSubscribers)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let subscriber = store::subscribers::find(&txn, id).await?;
    let (to, action) = match (subscriber.status, blocked) {
        (Active | Restricted, true) => (Blocked, ConsentAction::Blocked),
        (Blocked, false) => (
            status_before_block(&txn, id).await?,
            ConsentAction::Unblocked,
        ),
        (status @ (Active | Restricted | Blocked | Erased), _) => return Ok(status),
    };
    store::privacy::set_status(&txn, id, to, now).await?;
    let basis = person_basis(&txn, id).await?;
    store::consent_events::append(&txn, &event(id, action, basis, actor, now)).await?;
    let change = match blocked {
        true => "subscriber.block",
        false => "subscriber.unblock",
    };
    actor.audit(&txn, change, id, now).await?;
    store::commit(txn).await?;
    tracing::info!(subscriber.id = %id, blocked, "block changed");
    Ok(to)
}

/// `Restricted` when the person's latest restriction entry is `restricted`, else `Active`.
async fn status_before_block(
    conn: &impl store::Connection,
    id: SubscriberId,
) -> Result<SubscriberStatus, StoreError> {
    let latest = store::consent_events::for_subscriber(conn, id)
        .await?
        .into_iter()
        .rev()
        .find(|e| {
            matches!(
                e.action,
                ConsentAction::Restricted | ConsentAction::RestrictionLifted
            )
        });
    Ok(match latest.map(|e| e.action) {
        Some(ConsentAction::Restricted) => SubscriberStatus::Restricted,
        _ => SubscriberStatus::Active,
    })
}
