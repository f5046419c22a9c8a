//! Composes one outbox row into a message: loads the recipient, re-checks eligibility,
//! signs the row's links and renders the templates (system templates, or the campaign's
//! compiled template, cached per campaign).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use lettre::{Message, message::Mailbox};

use crate::{
    domain::{
        Campaign, CampaignId, Decision, Delivery, EmailAddress, MailingList, MessageKind, Subscriber,
        Subscription, may_send,
    },
    mail::{
        CampaignTemplate, MailContext, OutgoingMail, Personalisation, RenderedMail, SystemTemplate,
        TemplateError, build_message,
        campaign::{CampaignVars, ListVars, SubscriberVars},
    },
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

/// A campaign with its compiled template and sender.
#[derive(Debug)]
pub struct CompiledCampaign {
    campaign: Campaign,
    template: CampaignTemplate,
    from: Mailbox,
}

/// Compiled campaigns by id. A campaign's content cannot change once it has left draft, so
/// entries never go stale; the cache is emptied when it grows past a bound.
#[derive(Debug, Default)]
pub struct CampaignCache {
    entries: Mutex<HashMap<CampaignId, Arc<CompiledCampaign>>>,
}

const CACHE_BOUND: usize = 64;

impl CampaignCache {
    async fn get(&self, state: &AppState, id: CampaignId) -> Result<Result<Arc<CompiledCampaign>, String>, StoreError> {
        if let Some(hit) = self.lock().get(&id) {
            return Ok(Ok(hit.clone()));
        }
        let campaign = store::campaigns::find(&state.db, id).await?;
        let compiled = match compile(state, campaign) {
            Ok(compiled) => Arc::new(compiled),
            Err(e) => return Ok(Err(e)),
        };
        let mut entries = self.lock();
        if entries.len() >= CACHE_BOUND {
            entries.clear();
        }
        entries.insert(id, compiled.clone());
        Ok(Ok(compiled))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CampaignId, Arc<CompiledCampaign>>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn compile(state: &AppState, campaign: Campaign) -> Result<CompiledCampaign, String> {
    let template = CampaignTemplate::compile(&campaign.def.subject, &campaign.def.body_markdown)
        .map_err(|e| e.to_string())?;
    let from = match &campaign.def.from {
        Some(from) => from.parse().map_err(|e| format!("from: {e}"))?,
        None => state.from.clone(),
    };
    Ok(CompiledCampaign { campaign, template, from })
}

/// Builds the message for a claimed row, or says why it must not or cannot go out.
///
/// # Errors
/// Store failure only; everything else is a `Composed` verdict.
pub async fn compose(state: &AppState, delivery: &Delivery) -> Result<Composed, StoreError> {
    let Some((subscriber, subscription, list)) = load(state, delivery).await? else {
        return Ok(Composed::Skip("recipient or subscription no longer exists".into()));
    };
    let address_hash = state.address_hasher.hash(&subscriber.email);
    let suppressed = store::suppressions::contains(&state.db, &address_hash).await?;
    let decision = may_send(delivery.kind, list.def.legal_basis, subscription.status, subscriber.status, suppressed);
    if let Decision::Skip(reason) = decision {
        return Ok(Composed::Skip(reason.into()));
    }
    let unsubscribe_url = state
        .links
        .unsubscribe(&state.keyring.sign(Purpose::Unsubscribe, subscription.id.as_uuid(), None));
    let ctx = context(state, delivery, &subscriber, &subscription, &list, unsubscribe_url.as_str());
    let (content, from) = match delivery.kind {
        MessageKind::Confirmation => (system(state, &subscriber, SystemTemplate::Confirmation, &ctx), state.from.clone()),
        MessageKind::Welcome => (system(state, &subscriber, SystemTemplate::Welcome, &ctx), state.from.clone()),
        MessageKind::Campaign => {
            let Some(id) = delivery.campaign_id else {
                return Ok(Composed::Broken("campaign row without a campaign".into()));
            };
            let compiled = match state.campaign_cache.get(state, id).await? {
                Ok(compiled) => compiled,
                Err(e) => return Ok(Composed::Broken(e)),
            };
            let vars = personalisation(&compiled.campaign, &subscriber, &list, &ctx);
            (render_campaign(state, &compiled.template, &vars, subscriber.locale, &ctx), compiled.from.clone())
        }
    };
    let content = match content {
        Ok(content) => content,
        Err(e) => return Ok(Composed::Broken(e.to_string())),
    };
    let mail = OutgoingMail { to: subscriber.email.clone(), content, message_id: delivery.message_id.clone(), unsubscribe_url };
    Ok(match build_message(&from, &mail) {
        Ok(message) => Composed::Ready(Box::new(message), address_hash),
        Err(e) => Composed::Broken(e.to_string()),
    })
}

fn system(
    state: &AppState,
    subscriber: &Subscriber,
    template: SystemTemplate,
    ctx: &MailContext,
) -> Result<RenderedMail, TemplateError> {
    state.templates.render(subscriber.locale, template, ctx)
}

fn personalisation(campaign: &Campaign, subscriber: &Subscriber, list: &MailingList, ctx: &MailContext) -> Personalisation {
    Personalisation {
        subscriber: SubscriberVars {
            name: subscriber.name.as_str().to_owned(),
            email: subscriber.email.as_str().to_owned(),
            locale: subscriber.locale.as_str().to_owned(),
        },
        list: ListVars { name: list.def.name.clone(), slug: list.def.slug.as_str().to_owned() },
        campaign: CampaignVars { name: campaign.def.name.clone() },
        unsubscribe_url: ctx.unsubscribe_url.clone(),
        preferences_url: ctx.preferences_url.clone(),
        organisation: ctx.organisation.clone(),
    }
}

fn render_campaign(
    state: &AppState,
    template: &CampaignTemplate,
    vars: &Personalisation,
    locale: crate::domain::Locale,
    ctx: &MailContext,
) -> Result<RenderedMail, TemplateError> {
    let body = template.render(vars)?;
    let (text, html) = state.templates.render_layout(locale, &body.subject, &body.text, &body.html, ctx)?;
    Ok(RenderedMail { subject: body.subject, text, html })
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
            .confirm(&state.keyring.sign(Purpose::Confirm, subscription.id.as_uuid(), Some(delivery.created_at + ttl)))
            .to_string(),
        MessageKind::Welcome | MessageKind::Campaign => String::new(),
    };
    let preferences_url = state
        .links
        .preferences(&state.keyring.sign(Purpose::Preferences, subscriber.id.as_uuid(), None));
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

fn sample_context(state: &AppState) -> MailContext {
    let base = &state.settings.http.public_url;
    MailContext {
        list_name: "Sample list".into(),
        organisation: state.settings.mail.organisation.clone(),
        unsubscribe_url: crate::config::join_url(base, "unsubscribe/sample").to_string(),
        preferences_url: crate::config::join_url(base, "preferences/sample").to_string(),
        privacy_url: state.settings.privacy_notice_url.to_string(),
        confirm_url: String::new(),
        expires_in_days: String::new(),
        welcome_message: String::new(),
    }
}

/// The campaign as a sample recipient would get it (links point nowhere).
///
/// # Errors
/// A template error.
pub fn preview(state: &AppState, campaign: &Campaign) -> Result<RenderedMail, TemplateError> {
    let template = CampaignTemplate::compile(&campaign.def.subject, &campaign.def.body_markdown)?;
    let ctx = sample_context(state);
    let mut vars = Personalisation::sample(&campaign.def.name);
    vars.unsubscribe_url = ctx.unsubscribe_url.clone();
    vars.preferences_url = ctx.preferences_url.clone();
    vars.organisation = ctx.organisation.clone();
    render_campaign(state, &template, &vars, crate::domain::Locale::En, &ctx)
}

/// Sends the sample rendering to each address, subject prefixed with `[Test]`.
///
/// # Errors
/// The first template, build or transport error, as text.
pub async fn send_test(state: &AppState, campaign: &Campaign, to: &[EmailAddress]) -> Result<(), String> {
    let mut content = preview(state, campaign).map_err(|e| e.to_string())?;
    content.subject = format!("[Test] {}", content.subject);
    let from = compile(state, campaign.clone())?.from;
    let unsubscribe_url = crate::config::join_url(&state.settings.http.public_url, "unsubscribe/sample");
    for address in to {
        let domain = state.settings.mail.from_address.domain();
        let mail = OutgoingMail {
            to: address.clone(),
            content: content.clone(),
            message_id: format!("test.{}@{domain}", uuid::Uuid::now_v7()),
            unsubscribe_url: unsubscribe_url.clone(),
        };
        let message = build_message(&from, &mail).map_err(|e| e.to_string())?;
        state.transport.send(message).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
