//! Proof of consent (GDPR Art. 7(1)): for one person and one list, who consented, when and
//! how (source, network, user agent at the request and at the confirmation), the exact
//! consent text shown, and any withdrawal, drawn from the ledger.

use chrono::{DateTime, Utc};

use super::PrivacyError;
use crate::{
    context::Context,
    domain::{ConsentAction, ConsentEvent, ListRef, MailingList, Subscriber, Subscription},
    store,
};

/// The proof of one person's consent to one list.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct ProofOfConsent {
    /// The person.
    pub subscriber: Subscriber,
    pub list: MailingList,
    /// The subscription as it stands, if it still exists.
    pub subscription: Option<Subscription>,
    /// The latest request (signup form, import or enrolment) before the confirmation.
    pub requested: Option<ConsentEvent>,
    /// The latest confirmation (double opt-in).
    pub confirmed: Option<ConsentEvent>,
    /// The latest withdrawal or objection.
    pub withdrawn: Option<ConsentEvent>,
    /// The consent text shown at the request, with its SHA-256.
    pub consent_text: Option<(String, String)>,
    /// Every ledger entry of this list and about the person as a whole, oldest first.
    pub events: Vec<ConsentEvent>,
    /// When the proof was drawn up.
    pub generated_at: DateTime<Utc>,
}

/// Draws up the proof of consent of a person to a list.
///
/// # Errors
/// `NotFound` for an unknown person or list, or a store failure.
pub async fn proof_of_consent(
    ctx: &Context,
    actor: &crate::domain::Actor,
    id: crate::domain::SubscriberId,
    wanted: &ListRef,
) -> Result<ProofOfConsent, PrivacyError> {
    actor.authorize(crate::domain::Action::HandlePersonalData)?;
    let subscriber = store::subscribers::find(&ctx.db, id).await?;
    let list = store::lists::find_by_refs(&ctx.db, std::slice::from_ref(wanted))
        .await?
        .into_iter()
        .next()
        .ok_or(PrivacyError::NotFound)?;
    let subscription = store::subscriptions::find_for(&ctx.db, id, list.id).await?;
    let events: Vec<ConsentEvent> = store::consent_events::for_subscriber(&ctx.db, id)
        .await?
        .into_iter()
        .filter(|e| e.list_id.is_none_or(|l| l == list.id))
        .collect();
    let of_list = |actions: &[ConsentAction]| {
        events
            .iter()
            .rev()
            .find(|e| e.list_id == Some(list.id) && actions.contains(&e.action))
            .cloned()
    };
    let confirmed = of_list(&[ConsentAction::Confirmed]);
    let requested = events
        .iter()
        .rev()
        .filter(|e| {
            confirmed
                .as_ref()
                .is_none_or(|c| e.occurred_at <= c.occurred_at)
        })
        .find(|e| {
            e.list_id == Some(list.id)
                && matches!(
                    e.action,
                    ConsentAction::Requested | ConsentAction::Imported | ConsentAction::Enrolled
                )
        })
        .cloned();
    let withdrawn = of_list(&[ConsentAction::Unsubscribed, ConsentAction::Objected]);
    let consent_text = match requested.as_ref().and_then(|e| e.consent_text_hash.clone()) {
        Some(hash) => store::consent_events::text_of(&ctx.db, &hash)
            .await?
            .map(|body| (hash, body)),
        None => None,
    };
    Ok(ProofOfConsent {
        subscriber,
        list,
        subscription,
        requested,
        confirmed,
        withdrawn,
        consent_text,
        events,
        generated_at: ctx.clock.now(),
    })
}
