//! Fan-out: one outbox row per eligible recipient of a sending campaign, written in chunks
//! along a keyset cursor, so memory stays flat and a crash resumes where it stopped.

use crate::{
    context::Context,
    domain::{CampaignId, CampaignStatus, DeliveryStatus},
    store::{self, StoreError},
};

/// Completes the fan-out of every sending campaign that still needs it. Returns rows written.
///
/// # Errors
/// Store failure.
pub async fn fan_out_all(ctx: &Context) -> Result<u64, StoreError> {
    let mut written = 0;
    for id in store::campaigns::ids_in(&ctx.db, CampaignStatus::Sending, None).await? {
        written += fan_out(ctx, id).await?;
    }
    if written > 0 {
        ctx.outbox.notify_one();
    }
    Ok(written)
}

/// Writes the remaining outbox rows of one campaign; running it again writes nothing twice.
/// Returns the recipients handled in this call.
///
/// # Errors
/// Store failure.
pub async fn fan_out(ctx: &Context, id: CampaignId) -> Result<u64, StoreError> {
    let campaign = store::campaigns::find(&ctx.db, id).await?;
    if campaign.fanned_out_at.is_some() {
        return Ok(0);
    }
    let domain = ctx.settings.mail.from_address.domain().to_owned();
    let chunk = ctx.settings.delivery.fan_out_chunk;
    // The segment as it is when the fan-out starts; one the campaign names must exist (a
    // segment an unsent campaign uses cannot be deleted), or nothing is sent.
    let segment = match campaign.def.segment {
        Some(id) => Some(store::segments::find(&ctx.db, id).await?.filter),
        None => None,
    };
    let target = store::deliveries::FanOutTarget {
        campaign: id,
        lists: &campaign.def.lists,
        segment: segment.as_ref(),
        message_domain: &domain,
    };
    let mut cursor = store::campaigns::fan_out_cursor(&ctx.db, id).await?;
    let mut written = 0;
    loop {
        let now = ctx.clock.now();
        let txn = store::begin_write(&ctx.writer).await?;
        let step = store::deliveries::fan_out_chunk(&txn, target, cursor, chunk, now).await?;
        let done = step.last.is_none();
        cursor = step.last.or(cursor);
        store::campaigns::record_fan_out(&txn, id, cursor, done, now).await?;
        store::commit(txn).await?;
        written += step.recipients as u64;
        if done {
            tracing::info!(campaign.id = %id, recipients = written, "fan-out complete");
            return Ok(written);
        }
        ctx.outbox.notify_one();
    }
}

/// Marks sending campaigns sent once their fan-out is complete and every row is final.
/// Returns how many were finished.
///
/// # Errors
/// Store failure.
pub async fn finish_done(ctx: &Context) -> Result<usize, StoreError> {
    let now = ctx.clock.now();
    let mut finished = 0;
    for id in store::campaigns::ids_in(&ctx.db, CampaignStatus::Sending, None).await? {
        let mut campaign = store::campaigns::find(&ctx.db, id).await?;
        if campaign.fanned_out_at.is_none() || has_open_rows(ctx, id).await? {
            continue;
        }
        campaign.status = CampaignStatus::Sent;
        campaign.finished_at = Some(now);
        let txn = store::begin_write(&ctx.writer).await?;
        if store::campaigns::update_state(&txn, &campaign, CampaignStatus::Sending, now).await? {
            let event = crate::domain::NewEvent {
                event_type: crate::domain::EventType::CampaignSent,
                subscriber_id: None,
                data: serde_json::json!({ "campaign_id": id }),
            };
            store::events::append(&txn, &event, now).await?;
            store::commit(txn).await?;
            tracing::info!(campaign.id = %id, "campaign sent");
            finished += 1;
        }
    }
    Ok(finished)
}

/// Whether some row of the campaign is still to be sent (queued, sending or deferred).
async fn has_open_rows(ctx: &Context, id: CampaignId) -> Result<bool, StoreError> {
    let counts = store::deliveries::campaign_counts(&ctx.db, id).await?;
    Ok(counts.iter().any(|(status, n)| {
        *n > 0
            && match status {
                DeliveryStatus::Queued | DeliveryStatus::Sending | DeliveryStatus::Deferred => true,
                DeliveryStatus::Sent | DeliveryStatus::Failed | DeliveryStatus::Suppressed => false,
            }
    }))
}
