//! Composes claimed outbox rows into messages: loads a batch's recipients at once,
//! re-checks eligibility, signs each row's links and renders the templates (system
//! templates, or the campaign's compiled template, cached per campaign).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use lettre::{Message, message::Mailbox};

use super::requested;
use crate::{
    delivery::Engine,
    domain::{
        Campaign, CampaignId, Decision, Delivery, EmailAddress, ListId, Locale, MailingList,
        MessageKind, Subscriber, Subscription, may_send,
    },
    mail::{
        CampaignTemplate, KindHeaders, MailContext, OutgoingMail, Personalisation, RenderedMail,
        SystemTemplate, TemplateError, UNSUBSCRIBE_PREFIX, build_message,
        campaign::{CampaignVars, ListVars, SubscriberVars},
        mailbox,
    },
    signing::Purpose,
    store::{self, StoreError},
};

/// A campaign with its compiled template and sender.
#[derive(Debug)]
pub struct CompiledCampaign {
    campaign: Campaign,
    template: CampaignTemplate,
    /// The template of each translation, by language.
    translations: HashMap<Locale, CampaignTemplate>,
    from: Mailbox,
    /// The notice the campaign carries, rendered from its fields instead of the template.
    notice: Option<super::notices::NoticeMail>,
}

/// Compiled campaigns by id. A campaign's content cannot change once it has left draft, so
/// entries never go stale; the cache is emptied when it grows past a bound.
#[derive(Debug, Default)]
pub struct CampaignCache {
    entries: Mutex<HashMap<CampaignId, Arc<CompiledCampaign>>>,
}

const CACHE_BOUND: usize = 64;

impl CampaignCache {
    async fn get(
        &self,
        engine: &Engine,
        id: CampaignId,
    ) -> Result<Result<Arc<CompiledCampaign>, String>, StoreError> {
        if let Some(hit) = self.lock().get(&id) {
            return Ok(Ok(hit.clone()));
        }
        let campaign = store::campaigns::find(&engine.ctx.db, id).await?;
        let notice = super::notices::load(&engine.ctx, id).await?;
        let compiled = match compile(engine, campaign) {
            Ok(compiled) => Arc::new(CompiledCampaign { notice, ..compiled }),
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
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn compile(engine: &Engine, campaign: Campaign) -> Result<CompiledCampaign, String> {
    let template = CampaignTemplate::compile(&campaign.def.subject, &campaign.def.body_markdown)
        .map_err(|e| e.to_string())?;
    let mut translations = HashMap::new();
    for (locale, t) in &campaign.def.translations {
        let compiled = CampaignTemplate::compile(&t.subject, &t.body_markdown)
            .map_err(|e| format!("translations.{locale}.{e}"))?;
        translations.insert(*locale, compiled);
    }
    let from = match &campaign.def.from {
        Some(from) => from.parse().map_err(|e| format!("from: {e}"))?,
        None => engine.from.clone(),
    };
    Ok(CompiledCampaign {
        campaign,
        template,
        translations,
        from,
        notice: None,
    })
}

/// What a claimed row turns into before sending.
#[derive(Debug)]
pub enum Verdict {
    /// Eligible: build and send.
    Send(Box<Recipient>),
    /// Not to be sent: the recipient is no longer eligible (or no longer exists).
    Skip(String),
    /// Cannot be built (a template or data problem): give up on this row.
    Broken(String),
}

/// Everything needed to build one recipient's message.
#[derive(Debug)]
pub struct Recipient {
    subscriber: Subscriber,
    target: Target,
    /// Keyed hash of the address (for a hard-bounce suppression).
    pub address_hash: String,
}

/// What a message is about: a list, or no list (a request of the person themselves, a
/// transactional message).
#[derive(Debug)]
enum Target {
    List {
        subscription: Subscription,
        list: MailingList,
        campaign: Option<Arc<CompiledCampaign>>,
        /// The names of every list a confirmation is for (one e-mail confirms all the lists
        /// of a signup); otherwise the list's own name.
        list_names: String,
    },
    Requested(requested::RequestedMail),
}

impl Recipient {
    /// A recipient of a message the person asked for (privacy link, address change).
    pub(super) fn requested(
        subscriber: Subscriber,
        mail: requested::RequestedMail,
        address_hash: String,
    ) -> Self {
        Self {
            subscriber,
            target: Target::Requested(mail),
            address_hash,
        }
    }
}

/// Loads what a claimed batch needs in a few queries (recipients, subscriptions, lists,
/// suppressions, campaigns) and re-checks `may_send` for every row, just before sending.
///
/// # Errors
/// Store failure only; everything else is a `Verdict`.
pub async fn prepare_batch(
    engine: &Engine,
    batch: Vec<Delivery>,
) -> Result<Vec<(Delivery, Verdict)>, StoreError> {
    engine.ctx.refresh_templates().await?;
    let subscriber_ids: Vec<_> = batch.iter().map(|d| d.subscriber_id).collect();
    let subscription_ids: Vec<_> = batch.iter().filter_map(|d| d.subscription_id).collect();
    let subscribers: HashMap<_, _> = store::subscribers::find_many(&engine.ctx.db, &subscriber_ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let subscriptions: HashMap<_, _> =
        store::subscriptions::find_many(&engine.ctx.db, &subscription_ids)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
    let lists: HashMap<_, _> = store::lists::all(&engine.ctx.db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let hashes: HashMap<_, _> = subscribers
        .values()
        .map(|s| (s.id, engine.ctx.address_hasher.hash(&s.email)))
        .collect();
    let wanted: Vec<String> = hashes.values().cloned().collect();
    let suppressed = store::suppressions::among(&engine.ctx.db, &wanted).await?;
    let mut prepared = Vec::with_capacity(batch.len());
    for delivery in batch {
        if delivery.kind.is_requested() {
            let subscriber = subscribers.get(&delivery.subscriber_id);
            let verdict = requested::verdict(engine, &delivery, subscriber, &suppressed).await?;
            prepared.push((delivery, verdict));
            continue;
        }
        let found = delivery.subscription_id.and_then(|id| {
            let subscription = subscriptions.get(&id)?;
            Some((
                subscribers.get(&delivery.subscriber_id)?,
                subscription,
                lists.get(&subscription.list_id)?,
            ))
        });
        let Some((subscriber, subscription, list)) = found else {
            prepared.push((
                delivery,
                Verdict::Skip("recipient or subscription no longer exists".into()),
            ));
            continue;
        };
        let address_hash = hashes.get(&subscriber.id).cloned().unwrap_or_default();
        let decision = may_send(
            delivery.kind,
            list.def.legal_basis,
            subscription.status,
            subscriber.status,
            suppressed.get(&address_hash).copied(),
        );
        let verdict = match decision {
            Decision::Skip(reason) => Verdict::Skip(reason.into()),
            Decision::Send => match campaign_of(engine, &delivery).await? {
                Ok(campaign) => Verdict::Send(Box::new(Recipient {
                    subscriber: subscriber.clone(),
                    target: Target::List {
                        subscription: subscription.clone(),
                        list: list.clone(),
                        campaign,
                        list_names: list_names(engine, &delivery, subscription, &lists).await?,
                    },
                    address_hash,
                })),
                Err(e) => Verdict::Broken(e),
            },
        };
        prepared.push((delivery, verdict));
    }
    Ok(prepared)
}

/// The names of the lists a message is about: for a confirmation, its list and the others
/// asked for in the same signup.
async fn list_names(
    engine: &Engine,
    delivery: &Delivery,
    subscription: &Subscription,
    lists: &HashMap<ListId, MailingList>,
) -> Result<String, StoreError> {
    let mut names: Vec<&str> = lists
        .get(&subscription.list_id)
        .map(|l| l.def.name.as_str())
        .into_iter()
        .collect();
    if delivery.kind == MessageKind::Confirmation {
        for companion in store::subscriptions::companions(&engine.ctx.db, subscription).await? {
            names.extend(lists.get(&companion.list_id).map(|l| l.def.name.as_str()));
        }
    }
    Ok(names.join(", "))
}

async fn campaign_of(
    engine: &Engine,
    delivery: &Delivery,
) -> Result<Result<Option<Arc<CompiledCampaign>>, String>, StoreError> {
    match (delivery.kind, delivery.campaign_id) {
        (MessageKind::Campaign, Some(id)) => {
            Ok(engine.campaign_cache.get(engine, id).await?.map(Some))
        }
        (MessageKind::Campaign, None) => Ok(Err("campaign row without a campaign".into())),
        (
            MessageKind::Confirmation
            | MessageKind::Welcome
            | MessageKind::PrivacyLink
            | MessageKind::AddressChange
            | MessageKind::Transactional,
            _,
        ) => Ok(Ok(None)),
    }
}

/// Renders and builds the message of one eligible recipient (signed links, templates,
/// headers). CPU work only.
///
/// # Errors
/// A template or build error, as text: the row cannot be sent.
pub fn build(engine: &Engine, delivery: &Delivery, r: &Recipient) -> Result<Message, String> {
    let (subscription, list, campaign, list_names) = match &r.target {
        Target::List {
            subscription,
            list,
            campaign,
            list_names,
        } => (subscription, list, campaign, list_names),
        Target::Requested(mail) => return requested::build(engine, delivery, &r.subscriber, mail),
    };
    let unsubscribe_url =
        engine
            .ctx
            .links
            .unsubscribe(&match (delivery.kind, delivery.campaign_id) {
                // The campaign rides in the signed link, so an unsubscribe can be counted against it.
                (MessageKind::Campaign, Some(campaign)) => engine.ctx.keyring.sign_with_context(
                    Purpose::Unsubscribe,
                    subscription.id.as_uuid(),
                    campaign.as_uuid(),
                    None,
                ),
                _ => engine
                    .ctx
                    .keyring
                    .sign(Purpose::Unsubscribe, subscription.id.as_uuid(), None),
            });
    let ctx = context(
        engine,
        delivery,
        &r.subscriber,
        (subscription, list, list_names),
        unsubscribe_url.as_str(),
    );
    let (content, from) = match (campaign, delivery.kind) {
        (Some(compiled), _) if compiled.notice.is_some() => {
            return build_notice(engine, delivery, r, compiled, subscription);
        }
        (Some(compiled), _) => {
            let vars = personalisation(&compiled.campaign, &r.subscriber, list, &ctx);
            (
                engine.ctx.templates.render_campaign(
                    compiled
                        .translations
                        .get(&r.subscriber.locale)
                        .unwrap_or(&compiled.template),
                    &vars,
                    (r.subscriber.locale, compiled.campaign.def.layout),
                    &ctx,
                ),
                &compiled.from,
            )
        }
        (None, MessageKind::Welcome) => (
            system(engine, &r.subscriber, SystemTemplate::Welcome, &ctx),
            &engine.from,
        ),
        (
            None,
            MessageKind::Confirmation
            | MessageKind::Campaign
            | MessageKind::PrivacyLink
            | MessageKind::AddressChange
            | MessageKind::Transactional,
        ) => (
            system(engine, &r.subscriber, SystemTemplate::Confirmation, &ctx),
            &engine.from,
        ),
    };
    let content = content.map_err(|e| e.to_string())?;
    let (reference, envelope_from) = tracing_refs(engine, delivery);
    let domain = engine.ctx.settings.mail.from_address.domain();
    let list_id = KindHeaders::list_id(&list.def.name, list.def.slug.as_str(), domain);
    let reply_to = reply_address(engine, campaign.as_deref().map(|c| &c.campaign), Some(list));
    let kind = match (campaign, delivery.kind) {
        (Some(compiled), _) => {
            let id = compiled.campaign.id.to_string();
            KindHeaders::bulk(list_id, [&id, list.def.slug.as_str(), "campaign", domain])
        }
        (None, _) => KindHeaders::automatic(Some(list_id)),
    };
    let mail = OutgoingMail {
        to: r.subscriber.email.clone(),
        reply_to,
        content,
        message_id: delivery.message_id.clone(),
        unsubscribe_url: Some(unsubscribe_url),
        unsubscribe_mailto: unsubscribe_mailto(engine, delivery),
        reference,
        envelope_from,
        kind,
    };
    build_message(from, mail, engine.transport.accepts_8bit()).map_err(|e| e.to_string())
}

/// A notice row: rendered from the notice's fields, with the objection link as the
/// `List-Unsubscribe` URL.
fn build_notice(
    engine: &Engine,
    delivery: &Delivery,
    r: &Recipient,
    compiled: &CompiledCampaign,
    subscription: &Subscription,
) -> Result<Message, String> {
    let notice = compiled.notice.as_ref().ok_or("not a notice")?;
    let (content, object_url) =
        super::notices::render(&engine.ctx, notice, &r.subscriber, subscription)?;
    let (reference, envelope_from) = tracing_refs(engine, delivery);
    let domain = engine.ctx.settings.mail.from_address.domain();
    let list = match &r.target {
        Target::List { list, .. } => list,
        Target::Requested(_) => return Err("a notice row without its list".to_owned()),
    };
    let list_id = KindHeaders::list_id(&list.def.name, list.def.slug.as_str(), domain);
    let id = compiled.campaign.id.to_string();
    let kind = KindHeaders::bulk(list_id, [&id, list.def.slug.as_str(), "notice", domain]);
    let reply_to = reply_address(engine, None, Some(list));
    let mail = OutgoingMail {
        to: r.subscriber.email.clone(),
        reply_to,
        content,
        message_id: delivery.message_id.clone(),
        unsubscribe_url: Some(object_url),
        unsubscribe_mailto: unsubscribe_mailto(engine, delivery),
        reference,
        envelope_from,
        kind,
    };
    build_message(&compiled.from, mail, engine.transport.accepts_8bit()).map_err(|e| e.to_string())
}

/// Where replies go (`Reply-To`): the campaign's address, else the list's, else
/// `mail.reply_to`; `None`: to the From address.
fn reply_address(
    engine: &Engine,
    campaign: Option<&Campaign>,
    list: Option<&MailingList>,
) -> Option<EmailAddress> {
    campaign
        .and_then(|c| c.def.reply_to.as_ref())
        .or_else(|| list.and_then(|l| l.def.reply_to.as_ref()))
        .or(engine.ctx.settings.mail.reply_to.as_ref())
        .cloned()
}

/// The signed reference of a delivery (`X-Bulletin-Ref`), and with `mail.bounce_domain` the
/// envelope sender at that domain that carries it (VERP: `b-<reference>@<bounce domain>`).
pub(super) fn tracing_refs(
    engine: &Engine,
    delivery: &Delivery,
) -> (Option<String>, Option<EmailAddress>) {
    let reference = engine
        .ctx
        .address_hasher
        .delivery_ref(delivery.id.as_uuid());
    let envelope_from = engine
        .ctx
        .settings
        .mail
        .bounce_domain
        .as_ref()
        .and_then(|domain| EmailAddress::parse(&format!("b-{reference}@{domain}")).ok());
    (Some(reference), envelope_from)
}

/// With `mail.bounce_domain`, the signed `mailto:` address at that domain that unsubscribes
/// from the delivery's list like its one-click link (`u-<reference>@<bounce domain>`, acted on
/// by `services::inbound`). Only a delivery to a list has one.
fn unsubscribe_mailto(engine: &Engine, delivery: &Delivery) -> Option<String> {
    let domain = engine.ctx.settings.mail.bounce_domain.as_ref()?;
    delivery.subscription_id?;
    let reference = engine
        .ctx
        .address_hasher
        .unsubscribe_ref(delivery.id.as_uuid());
    Some(format!(
        "mailto:{}{reference}@{domain}?subject=unsubscribe",
        UNSUBSCRIBE_PREFIX
    ))
}

fn system(
    engine: &Engine,
    subscriber: &Subscriber,
    template: SystemTemplate,
    ctx: &MailContext,
) -> Result<RenderedMail, TemplateError> {
    engine
        .ctx
        .templates
        .render(subscriber.locale, template, ctx)
}

fn personalisation(
    campaign: &Campaign,
    subscriber: &Subscriber,
    list: &MailingList,
    ctx: &MailContext,
) -> Personalisation {
    Personalisation {
        subscriber: SubscriberVars {
            name: subscriber.name.as_str().to_owned(),
            email: subscriber.email.as_str().to_owned(),
            locale: subscriber.locale.as_str().to_owned(),
            attributes: crate::mail::campaign::attribute_values(&subscriber.attributes),
        },
        list: ListVars {
            name: list.def.name.clone(),
            slug: list.def.slug.as_str().to_owned(),
        },
        campaign: CampaignVars {
            name: campaign.def.name.clone(),
        },
        unsubscribe_url: ctx.unsubscribe_url.clone(),
        preferences_url: ctx.preferences_url.clone(),
        organisation: ctx.organisation.clone(),
        data: minijinja::Value::UNDEFINED,
    }
}

fn context(
    engine: &Engine,
    delivery: &Delivery,
    subscriber: &Subscriber,
    (subscription, list, list_names): (&Subscription, &MailingList, &str),
    unsubscribe_url: &str,
) -> MailContext {
    let settings = &engine.ctx.settings;
    let ttl = settings.subscriptions.confirm_link_ttl;
    let confirm_url = match delivery.kind {
        // The expiry counts from the enqueue time, so a retried message carries the same link.
        MessageKind::Confirmation => engine
            .ctx
            .links
            .confirm(&engine.ctx.keyring.sign(
                Purpose::Confirm,
                subscription.id.as_uuid(),
                Some(delivery.created_at + ttl),
            ))
            .to_string(),
        MessageKind::Welcome
        | MessageKind::Campaign
        | MessageKind::PrivacyLink
        | MessageKind::AddressChange
        | MessageKind::Transactional => String::new(),
    };
    let preferences_url = engine.ctx.links.preferences(&engine.ctx.keyring.sign(
        Purpose::Preferences,
        subscriber.id.as_uuid(),
        None,
    ));
    MailContext {
        list_name: list_names.to_owned(),
        organisation: settings.mail.organisation.clone(),
        postal_address: settings.mail.postal_address.clone(),
        unsubscribe_url: unsubscribe_url.to_owned(),
        preferences_url: preferences_url.to_string(),
        privacy_url: settings.privacy_notice_url.to_string(),
        confirm_url,
        expires_in_days: ttl.num_days().max(1).to_string(),
        expires_in_minutes: String::new(),
        welcome_message: list.def.welcome_message.clone().unwrap_or_default(),
    }
}

/// Sends the sample rendering to each address, subject prefixed with `[Test]`, with the
/// `Reply-To` a recipient would get (of several lists, the first by slug that names one).
///
/// # Errors
/// The first template, build or transport error, as text.
pub async fn send_test(
    engine: &Engine,
    campaign: &Campaign,
    to: &[EmailAddress],
) -> Result<(), String> {
    let mut content =
        crate::mail::campaign::preview(&engine.ctx.templates, &engine.ctx.settings, campaign)
            .map_err(|e| e.to_string())?;
    content.subject = format!("[Test] {}", content.subject);
    let from = compile(engine, campaign.clone())?.from;
    let lists = store::lists::all(&engine.ctx.db)
        .await
        .map_err(|e| e.to_string())?;
    let list = lists
        .iter()
        .find(|l| campaign.def.lists.contains(&l.id) && l.def.reply_to.is_some());
    let reply_to = reply_address(engine, Some(campaign), list);
    let unsubscribe_url =
        crate::config::join_url(&engine.ctx.settings.http.public_url, "unsubscribe/sample");
    for address in to {
        let domain = engine.ctx.settings.mail.from_address.domain();
        let mail = OutgoingMail {
            to: address.clone(),
            reply_to: reply_to.clone(),
            content: content.clone(),
            message_id: format!("test.{}@{domain}", uuid::Uuid::now_v7()),
            unsubscribe_url: Some(unsubscribe_url.clone()),
            unsubscribe_mailto: None,
            reference: None,
            envelope_from: None,
            kind: KindHeaders {
                bulk: true,
                feedback_id: Some(format!("{}:test:campaign:{domain}", campaign.id)),
                ..KindHeaders::default()
            },
        };
        let message = build_message(&from, mail, engine.transport.accepts_8bit())
            .map_err(|e| e.to_string())?;
        engine
            .transport
            .send(message)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Sends a plain-text message that belongs to no list (a password reset) now, from the
/// configured sender (replies to `mail.reply_to`, if set), without unsubscribe headers: it
/// is what the person asked for.
///
/// # Errors
/// A build error or the relay's refusal, as text.
pub async fn send_plain(
    engine: &Engine,
    to: &EmailAddress,
    subject: &str,
    text: String,
) -> Result<(), String> {
    let domain = engine.ctx.settings.mail.from_address.domain();
    let to = mailbox(to, "recipient").map_err(|e| e.to_string())?;
    let message = Message::builder()
        .from(engine.from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<system.{}@{domain}>", uuid::Uuid::now_v7())))
        .header(lettre::message::header::MIME_VERSION_1_0)
        .header(lettre::message::header::ContentType::TEXT_PLAIN);
    let message = match &engine.ctx.settings.mail.reply_to {
        Some(reply_to) => {
            message.reply_to(mailbox(reply_to, "reply-to").map_err(|e| e.to_string())?)
        }
        None => message,
    };
    let message = KindHeaders::automatic(None)
        .apply(message)
        .body(text)
        .map_err(|e| e.to_string())?;
    engine
        .transport
        .send(message)
        .await
        .map_err(|e| e.to_string())
}
