//! Fan-out: one outbox row per eligible recipient of a sending campaign, written in chunks
//! along a keyset cursor, so memory stays flat and a crash resumes where it stopped.

use crate::{
    domain::{CampaignId, CampaignStatus},
    startup::AppState,
    store::{self, StoreError},
};

/// Completes the fan-out of every sending campaign that still needs it. Returns rows written.
///
/// # Errors
/// Store failure.
pub async fn fan_out_all(state: &AppState) -> Result<u64, StoreError> {
    let mut written = 0;
    for id in store::campaigns::ids_in(&state.db, CampaignStatus::Sending, None).await? {
        written += fan_out(state, id).await?;
    }
    if written > 0 {
        state.outbox.notify_one();
    }
    Ok(written)
}

/// Writes the remaining outbox rows of one campaign; running it again writes nothing twice.
/// Returns the recipients handled in this call.
///
/// # Errors
/// Store failure.
pub async fn fan_out(state: &AppState, id: CampaignId) -> Result<u64, StoreError> {
    let campaign = store::campaigns::find(&state.db, id).await?;
    if campaign.fanned_out_at.is_some() {
        return Ok(0);
    }
    let domain = state.settings.mail.from_address.domain().to_owned();
    let chunk = state.settings.delivery.fan_out_chunk;
    let mut cursor = store::campaigns::fan_out_cursor(&state.db, id).await?;
    let mut written = 0;
    loop {
        let now = state.clock.now();
        let txn = store::begin_write(&state.db).await?;
        let step = store::deliveries::fan_out_chunk(
            &txn,
            id,
            &campaign.def.lists,
            cursor,
            chunk,
            &domain,
            now,
        )
        .await?;
        let done = step.last.is_none();
        cursor = step.last.or(cursor);
        store::campaigns::record_fan_out(&txn, id, cursor, done, now).await?;
        txn.commit().await?;
        written += step.recipients as u64;
        if done {
            tracing::info!(campaign.id = %id, recipients = written, "fan-out complete");
            return Ok(written);
        }
        state.outbox.notify_one();
    }
}
