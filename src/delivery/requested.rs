//! Messages a person asks for themselves and that belong to no list: the link to their data
//! page and the confirmation of a new address. Eligibility is `may_send_requested`; the
//! address change goes to the new address, which is checked against the suppressions too.

use std::collections::HashMap;

use lettre::Message;

use super::compose::{Recipient, Verdict};
use crate::{
    delivery::Engine,
    domain::{
        Decision, Delivery, MessageKind, Subscriber, SuppressionReason, TransactionalMessage,
        may_send_requested, privacy::AddressChange,
    },
    mail::{KindHeaders, MailContext, OutgoingMail, RenderedMail, SystemTemplate, build_message},
    signing::Purpose,
    store::{self, StoreError},
};

/// What a requested message is.
#[derive(Debug)]
pub enum RequestedMail {
    /// The link to the person's data page.
    PrivacyLink,
    /// The confirmation of this pending address change, to its new address.
    AddressChange(AddressChange),
    /// A transactional message, as rendered when it was asked for.
    Transactional(TransactionalMessage),
}

/// Re-checks a requested message just before it is sent. `suppressed` holds the suppressed
/// hashes among the batch's current addresses, with their reasons.
///
/// # Errors
/// Store failure only.
pub async fn verdict(
    engine: &Engine,
    delivery: &Delivery,
    subscriber: Option<&Subscriber>,
    suppressed: &HashMap<String, SuppressionReason>,
) -> Result<Verdict, StoreError> {
    let Some(subscriber) = subscriber else {
        return Ok(Verdict::Skip("recipient no longer exists".into()));
    };
    let (mail, address_hash) = match delivery.kind {
        MessageKind::AddressChange => {
            let Some(change) =
                store::privacy::address_change_of(&engine.ctx.db, subscriber.id).await?
            else {
                return Ok(Verdict::Skip("no address change is pending".into()));
            };
            let hash = engine.ctx.address_hasher.hash(&change.new_email);
            (RequestedMail::AddressChange(change), hash)
        }
        MessageKind::Transactional => {
            let Some(message) =
                store::transactional::find_message(&engine.ctx.db, delivery.id).await?
            else {
                return Ok(Verdict::Skip("the message is no longer stored".into()));
            };
            (
                RequestedMail::Transactional(message),
                engine.ctx.address_hasher.hash(&subscriber.email),
            )
        }
        MessageKind::PrivacyLink
        | MessageKind::Confirmation
        | MessageKind::Welcome
        | MessageKind::Campaign => (
            RequestedMail::PrivacyLink,
            engine.ctx.address_hasher.hash(&subscriber.email),
        ),
    };
    let is_suppressed = match &mail {
        RequestedMail::PrivacyLink | RequestedMail::Transactional(_) => {
            suppressed.contains_key(&address_hash)
        }
        RequestedMail::AddressChange(_) => {
            store::suppressions::contains(&engine.ctx.db, &address_hash).await?
        }
    };
    Ok(
        match may_send_requested(delivery.kind, subscriber.status, is_suppressed) {
            Decision::Skip(reason) => Verdict::Skip(reason.into()),
            Decision::Send => Verdict::Send(Box::new(Recipient::requested(
                subscriber.clone(),
                mail,
                address_hash,
            ))),
        },
    )
}

/// Renders and builds a requested message. The link's expiry counts from the enqueue time
/// (privacy link) or is the change's own (address change), so a retry carries the same link.
///
/// # Errors
/// A template or build error, as text.
pub fn build(
    engine: &Engine,
    delivery: &Delivery,
    subscriber: &Subscriber,
    mail: &RequestedMail,
) -> Result<Message, String> {
    let settings = &engine.ctx.settings;
    if let RequestedMail::Transactional(message) = mail {
        return build_transactional(engine, delivery, subscriber, message);
    }
    let preferences_url = engine.ctx.links.preferences(&engine.ctx.keyring.sign(
        Purpose::Preferences,
        subscriber.id.as_uuid(),
        None,
    ));
    let mut ctx = MailContext {
        list_name: String::new(),
        organisation: settings.mail.organisation.clone(),
        postal_address: settings.mail.postal_address.clone(),
        unsubscribe_url: String::new(),
        preferences_url: preferences_url.to_string(),
        privacy_url: settings.privacy_notice_url.to_string(),
        confirm_url: String::new(),
        expires_in_days: String::new(),
        expires_in_minutes: String::new(),
        welcome_message: String::new(),
    };
    let (template, to, unsubscribe_url) = match mail {
        RequestedMail::PrivacyLink => {
            let ttl = settings.privacy.link_ttl;
            let token = engine.ctx.keyring.sign(
                Purpose::Privacy,
                subscriber.id.as_uuid(),
                Some(delivery.created_at + ttl),
            );
            ctx.confirm_url = engine.ctx.links.privacy(&token).to_string();
            ctx.expires_in_minutes = ttl.num_minutes().to_string();
            // RFC 8058: a one-click POST to the preferences page leaves every newsletter.
            let unsubscribe = preferences_url;
            (SystemTemplate::PrivacyLink, &subscriber.email, unsubscribe)
        }
        RequestedMail::AddressChange(change) => {
            let token = engine.ctx.keyring.sign(
                Purpose::ChangeAddress,
                change.id.as_uuid(),
                Some(change.expires_at),
            );
            let url = engine.ctx.links.address_change(&token);
            ctx.confirm_url = url.to_string();
            let ttl = change.expires_at - change.created_at;
            ctx.expires_in_days = ttl.num_days().max(1).to_string();
            // The new address may belong to someone else: its one-click refuses the change and
            // leads nowhere into the person's data.
            ctx.preferences_url = String::new();
            (SystemTemplate::AddressChange, &change.new_email, url)
        }
        RequestedMail::Transactional(_) => return Err("built above".into()),
    };
    ctx.unsubscribe_url = unsubscribe_url.to_string();
    let content = engine
        .ctx
        .templates
        .render(subscriber.locale, template, &ctx)
        .map_err(|e| e.to_string())?;
    let (reference, envelope_from) = super::compose::tracing_refs(engine, delivery);
    let outgoing = OutgoingMail {
        to: to.clone(),
        // Not about a list: replies go where the operator's go.
        reply_to: settings.mail.reply_to.clone(),
        content,
        message_id: delivery.message_id.clone(),
        unsubscribe_url: Some(unsubscribe_url),
        unsubscribe_mailto: None,
        reference,
        envelope_from,
        kind: KindHeaders::automatic(None),
    };
    build_message(&engine.from, outgoing, engine.transport.accepts_8bit())
        .map_err(|e| e.to_string())
}

/// A transactional message: the content rendered when it was asked for, to the person's
/// current address, with no `List-Unsubscribe` (it belongs to no list).
fn build_transactional(
    engine: &Engine,
    delivery: &Delivery,
    subscriber: &Subscriber,
    message: &TransactionalMessage,
) -> Result<Message, String> {
    let (reference, envelope_from) = super::compose::tracing_refs(engine, delivery);
    let outgoing = OutgoingMail {
        to: subscriber.email.clone(),
        reply_to: engine.ctx.settings.mail.reply_to.clone(),
        content: RenderedMail {
            subject: message.subject.clone(),
            text: message.text_body.clone(),
            html: message.html_body.clone(),
        },
        message_id: delivery.message_id.clone(),
        unsubscribe_url: None,
        unsubscribe_mailto: None,
        reference,
        envelope_from,
        kind: KindHeaders::automatic(None),
    };
    build_message(&engine.from, outgoing, engine.transport.accepts_8bit())
        .map_err(|e| e.to_string())
}
