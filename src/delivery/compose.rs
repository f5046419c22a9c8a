//! Composes one outbox row into a message: loads the recipient, re-checks eligibility,
//! signs the row's links and renders the templates.

use lettre::Message;

use crate::{
    domain::{Decision, Delivery, MailingList, MessageKind, Subscriber, Subscription, may_send},
    mail::{MailContext, OutgoingMail, SystemTemplate, build_message},
    signing::Purpose,
    startup::AppState,
    store::{self, StoreError},
};

/// What a row turns into.
#[derive(Debug)]
pub enum Composed {
    /// A message ready to send, and the keyed hash of its recipient's address.
    Ready(Box<Message>, String),
    /// Not to be sent: the recipient is no longer eligible (or no longer exists).
    Skip(String),
    /// Cannot be built (a template or address problem): give up on this row.
    Broken(String),
}

/// Builds the message for a claimed row, or says why it must not or cannot go out.
///
/// # Errors
/// Store failure only; everything else is a `Composed` verdict.
pub async fn compose(state: &AppState, delivery: &Delivery) -> Result<Composed, StoreError> {
    let Some((subscriber, subscription, list)) = load(state, delivery).await? else {
        return Ok(Composed::Skip(
            "recipient or subscription no longer exists".into(),
        ));
    };
    let address_hash = state.address_hasher.hash(&subscriber.email);
    let suppressed = store::suppressions::contains(&state.db, &address_hash).await?;
    let decision = may_send(
        delivery.kind,
        list.def.legal_basis,
        subscription.status,
        subscriber.status,
        suppressed,
    );
    if let Decision::Skip(reason) = decision {
        return Ok(Composed::Skip(reason.into()));
    }
    let template = match delivery.kind {
        MessageKind::Confirmation => SystemTemplate::Confirmation,
        MessageKind::Welcome => SystemTemplate::Welcome,
        MessageKind::Campaign => {
            return Ok(Composed::Broken("campaign rows are not handled yet".into()));
        }
    };
    let unsubscribe_url = state.links.unsubscribe(&state.keyring.sign(
        Purpose::Unsubscribe,
        subscription.id.as_uuid(),
        None,
    ));
    let ctx = context(
        state,
        delivery,
        &subscriber,
        &subscription,
        &list,
        unsubscribe_url.as_str(),
    );
    let content = match state.templates.render(subscriber.locale, template, &ctx) {
        Ok(content) => content,
        Err(e) => return Ok(Composed::Broken(e.to_string())),
    };
    let mail = OutgoingMail {
        to: subscriber.email.clone(),
        content,
        message_id: delivery.message_id.clone(),
        unsubscribe_url,
    };
    Ok(match build_message(&state.from, &mail) {
        Ok(message) => Composed::Ready(Box::new(message), address_hash),
        Err(e) => Composed::Broken(e.to_string()),
    })
}

async fn load(
    state: &AppState,
    delivery: &Delivery,
) -> Result<Option<(Subscriber, Subscription, MailingList)>, StoreError> {
    let Some(subscription_id) = delivery.subscription_id else {
        return Ok(None);
    };
    let found = async {
        let subscriber = store::subscribers::find(&state.db, delivery.subscriber_id).await?;
        let subscription = store::subscriptions::find(&state.db, subscription_id).await?;
        let list = store::lists::find(&state.db, subscription.list_id).await?;
        Ok::<_, StoreError>((subscriber, subscription, list))
    }
    .await;
    match found {
        Ok(all) => Ok(Some(all)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

fn context(
    state: &AppState,
    delivery: &Delivery,
    subscriber: &Subscriber,
    subscription: &Subscription,
    list: &MailingList,
    unsubscribe_url: &str,
) -> MailContext {
    let settings = &state.settings;
    let ttl = settings.subscriptions.confirm_link_ttl;
    let confirm_url = match delivery.kind {
        // The expiry counts from the enqueue time, so a retried message carries the same link.
        MessageKind::Confirmation => state
            .links
            .confirm(&state.keyring.sign(
                Purpose::Confirm,
                subscription.id.as_uuid(),
                Some(delivery.created_at + ttl),
            ))
            .to_string(),
        MessageKind::Welcome | MessageKind::Campaign => String::new(),
    };
    let preferences_url = state.links.preferences(&state.keyring.sign(
        Purpose::Preferences,
        subscriber.id.as_uuid(),
        None,
    ));
    MailContext {
        list_name: list.def.name.clone(),
        organisation: settings.mail.organisation.clone(),
        unsubscribe_url: unsubscribe_url.to_owned(),
        preferences_url: preferences_url.to_string(),
        privacy_url: settings.privacy_notice_url.to_string(),
        confirm_url,
        expires_in_days: ttl.num_days().max(1).to_string(),
        welcome_message: list.def.welcome_message.clone().unwrap_or_default(),
    }
}
