//! Use cases of the operator's view of subscribers: look one up and read their ledger.

use crate::{
    domain::{ConsentEvent, EmailAddress, ListSlug, Subscriber, SubscriberId, SubscriptionStatus},
    startup::AppState,
    store::{self, StoreError},
};

/// A subscriber with each subscription's list slug and status.
#[derive(Debug, Clone)]
pub struct SubscriberOverview {
    /// The subscriber.
    pub subscriber: Subscriber,
    /// (list slug, status) per subscription.
    pub subscriptions: Vec<(ListSlug, SubscriptionStatus)>,
}

/// The subscriber with this address and their subscriptions.
///
/// # Errors
/// Store failure.
pub async fn find_by_email(
    state: &AppState,
    email: &EmailAddress,
) -> Result<Option<SubscriberOverview>, StoreError> {
    let Some(subscriber) = store::subscribers::find_by_email(&state.db, email).await? else {
        return Ok(None);
    };
    let lists = store::lists::all(&state.db).await?;
    let subscriptions = store::subscriptions::of_subscriber(&state.db, subscriber.id)
        .await?
        .into_iter()
        .filter_map(|s| {
            let list = lists.iter().find(|l| l.id == s.list_id)?;
            Some((list.def.slug.clone(), s.status))
        })
        .collect();
    Ok(Some(SubscriberOverview {
        subscriber,
        subscriptions,
    }))
}

/// A subscriber's consent ledger, oldest first.
///
/// # Errors
/// `NotFound` for an unknown subscriber, or a store failure.
pub async fn consent_history(
    state: &AppState,
    id: SubscriberId,
) -> Result<Vec<ConsentEvent>, StoreError> {
    store::subscribers::find(&state.db, id).await?;
    store::consent_events::for_subscriber(&state.db, id).await
}
