//! Data-subject rights (GDPR Art. 15–21): the e-mailed "manage my data" link, access, export,
//! correction (a new address only once confirmed from it), restriction, withdrawal and
//! objection, erasure, proof of consent, and the data-subject-request log. Each use case owns
//! one transaction and writes its consent event and its request-log entry in it.

mod block;
mod export;
mod proof;
mod review;

pub use block::block;
pub use export::{EXPORT_SCHEMA, ExportDocument, export_csv};
pub use proof::{ProofOfConsent, proof_of_consent};
pub use review::{ReviewItem, retention_review, retention_review_page};

use chrono::{DateTime, Utc};

use super::{
    Requester,
    audit::{self, Change},
    rate_limit::{Limit, Refused, Scope, may_mail_stranger},
    retention,
    subscriptions::{self, LinkActionError},
};
use crate::services::paging::Page;
use crate::{
    context::Context,
    domain::{
        Action, Actor, AddressChangeId, CampaignId, ConsentAction, ConsentEvent, ConsentEventId,
        DeliveryStatus, EmailAddress, Forbidden, LegalBasis, Locale, MailingList, MessageKind,
        PrivacyRequestId, Subscriber, SubscriberId, SubscriberName, SubscriberStatus, Subscription,
        SubscriptionId,
        privacy::{AddressChange, PrivacyRequest, RequestChannel, RequestKind, RequestStatus},
        retention::ErasureReason,
    },
    store::{self, StoreError, deliveries::NewDelivery},
};

/// Why a data-subject action could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// The operator's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The person (or the pending change, or the logged request) does not exist.
    #[error("not found")]
    NotFound,
    /// The person was erased before; there is nothing left to erase.
    #[error("the subscriber was already erased")]
    AlreadyErased,
    /// The new address is the current one.
    #[error("this is already the subscriber's address")]
    SameAddress,
    /// An address-change link was sent within `privacy.link_cooldown`: no more e-mail yet.
    #[error("an address-change link was sent a moment ago")]
    TooSoon,
    /// The new address, or the client's network, has had its share of e-mails that
    /// strangers can trigger (`[limits]`).
    #[error("no more e-mail may go to this address or from this network today")]
    TooManyMails,
    /// Another subscriber has the new address.
    #[error("another subscriber uses this address")]
    AddressInUse,
    /// The logged request was already answered.
    #[error("the request was already answered")]
    AlreadyClosed,
    /// An attribute the rules refuse.
    #[error(transparent)]
    Attribute(#[from] crate::domain::AttributeError),
    /// Store failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for PrivacyError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

impl From<LinkActionError> for PrivacyError {
    fn from(e: LinkActionError) -> Self {
        match e {
            LinkActionError::Gone | LinkActionError::Refused(_) => Self::NotFound,
            LinkActionError::Store(e) => Self::Store(e),
        }
    }
}

impl From<retention::RetentionError> for PrivacyError {
    fn from(e: retention::RetentionError) -> Self {
        match e {
            retention::RetentionError::NotFound => Self::NotFound,
            retention::RetentionError::Store(e) => Self::Store(e),
        }
    }
}

/// Who acts on a person's data: the person themselves (authorised by their signed link) or
/// an operator (authorised by the permission table), as the ledger and the request log name
/// them. Only an operator's actions go to the audit log.
#[derive(Debug, Clone)]
pub struct Party {
    /// The operator; `None` when the person acts themselves.
    pub operator: Option<Actor>,
    /// Through what: `privacy_page`, `address_link`, `admin`, `api`, `cli`.
    pub source: &'static str,
    /// The person's client (network, user agent, language) when they act themselves.
    pub requester: Requester,
    /// A request of the log that this action answers (the operator's API calls).
    pub answers: Option<PrivacyRequestId>,
}

impl Party {
    /// The person themselves, on their data page: each action is logged as a self-service
    /// request answered at once.
    pub fn subject(requester: Requester) -> Self {
        Self {
            operator: None,
            source: "privacy_page",
            requester,
            answers: None,
        }
    }

    /// An operator, optionally answering a logged request.
    pub fn operator(actor: &Actor, answers: Option<PrivacyRequestId>) -> Self {
        let source = match actor {
            Actor::User { .. } => "admin",
            Actor::Token { .. } => "api",
            Actor::Cli => "cli",
            Actor::System => "system",
        };
        Self {
            operator: Some(actor.clone()),
            source,
            requester: Requester::default(),
            answers,
        }
    }

    /// `subscriber`, or the operator's name (`user:EMAIL`, `api:TOKEN-NAME`, `cli`).
    pub fn name(&self) -> String {
        match &self.operator {
            Some(actor) => actor.name().chars().take(200).collect(),
            None => "subscriber".into(),
        }
    }

    fn is_subject(&self) -> bool {
        self.operator.is_none()
    }

    /// Checks an operator against the permission table; the person themselves holds a link.
    fn authorize(&self, action: Action) -> Result<(), Forbidden> {
        match &self.operator {
            Some(actor) => actor.authorize(action),
            None => Ok(()),
        }
    }

    /// Writes an operator's change to the audit log, on the change's transaction.
    async fn audit(
        &self,
        conn: &impl store::Connection,
        action: &'static str,
        id: SubscriberId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match &self.operator {
            Some(actor) => audit::append(conn, actor, Change::of(action, id), now).await,
            None => Ok(()),
        }
    }

    /// `audit` with a detail (what changed, never personal values).
    async fn audit_with(
        &self,
        conn: &impl store::Connection,
        action: &'static str,
        id: SubscriberId,
        detail: String,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match &self.operator {
            Some(actor) => {
                let change = Change::of(action, id).detail(detail);
                audit::append(conn, actor, change, now).await
            }
            None => Ok(()),
        }
    }
}

/// One message sent (or queued) to the person.
#[derive(Debug, Clone)]
pub struct MessageRecord {
    /// What kind of message.
    pub kind: MessageKind,
    /// The campaign's name, for campaign messages.
    pub campaign: Option<String>,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
}

/// Everything stored about a person (Art. 15), as the data page and the export show it.
#[derive(Debug, Clone)]
pub struct PersonalData {
    /// The profile.
    pub subscriber: Subscriber,
    /// Each subscription with its list.
    pub subscriptions: Vec<(Subscription, MailingList)>,
    /// The consent ledger, oldest first.
    pub events: Vec<ConsentEvent>,
    /// The messages of the outbox, oldest first.
    pub messages: Vec<MessageRecord>,
    /// A new address waiting for confirmation.
    pub address_change: Option<AddressChange>,
    /// The person's data-subject requests.
    pub requests: Vec<PrivacyRequest>,
    /// Every list, to name the lists of ledger entries.
    pub lists: Vec<MailingList>,
    /// The products the person uses as a customer, by part number.
    pub products: Vec<crate::domain::Product>,
}

impl PersonalData {
    /// The list with this id.
    pub fn list(&self, id: crate::domain::ListId) -> Option<&MailingList> {
        self.lists.iter().find(|l| l.id == id)
    }

    /// Whether processing is restricted.
    pub fn is_restricted(&self) -> bool {
        self.subscriber.status == SubscriberStatus::Restricted
    }
}

async fn load(conn: &impl store::Connection, id: SubscriberId) -> Result<PersonalData, StoreError> {
    let subscriber = store::subscribers::find(conn, id).await?;
    let lists = store::lists::all(conn).await?;
    let subscriptions = store::subscriptions::of_subscriber(conn, id)
        .await?
        .into_iter()
        .filter_map(|s| {
            let list = lists.iter().find(|l| l.id == s.list_id)?.clone();
            Some((s, list))
        })
        .collect();
    let mut campaigns: Vec<(CampaignId, String)> = Vec::new();
    let mut messages = Vec::new();
    for delivery in store::deliveries::of_subscriber(conn, id).await? {
        let campaign = match delivery.campaign_id {
            Some(cid) => Some(campaign_name(conn, &mut campaigns, cid).await?),
            None => None,
        };
        messages.push(MessageRecord {
            kind: delivery.kind,
            campaign,
            status: delivery.status,
            queued_at: delivery.created_at,
        });
    }
    Ok(PersonalData {
        events: store::consent_events::for_subscriber(conn, id).await?,
        address_change: store::privacy::address_change_of(conn, id).await?,
        requests: store::privacy::requests(conn, None, Some(id), 1000).await?,
        products: store::products::products_of(conn, id).await?,
        subscriber,
        subscriptions,
        messages,
        lists,
    })
}

async fn campaign_name(
    conn: &impl store::Connection,
    known: &mut Vec<(CampaignId, String)>,
    id: CampaignId,
) -> Result<String, StoreError> {
    if let Some((_, name)) = known.iter().find(|(k, _)| *k == id) {
        return Ok(name.clone());
    }
    let name = store::campaigns::find(conn, id).await?.def.name;
    known.push((id, name.clone()));
    Ok(name)
}

/// `POST /privacy`: enqueues the link to the person's data page, unless the address is
/// unknown, suppressed, blocked, or got a link within `privacy.link_cooldown_secs`. The
/// outcome is the same in every case, so the answer reveals nothing about the address.
///
/// # Errors
/// `RateLimited` when the client's network has used up its hourly requests (counted whatever
/// the address, so that the answer still says nothing about it); store failure.
pub async fn request_link(
    ctx: &Context,
    email: &EmailAddress,
    requester: &Requester,
) -> Result<(), RequestLinkError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let network = requester.ip_anon();
    let limit = Limit::of(Scope::PrivacyRequests, &ctx.settings);
    if let Err(refused) = limit
        .hit(ctx, &txn, network.as_deref().unwrap_or_default(), now)
        .await?
    {
        store::roll_back(txn).await?;
        return Err(RequestLinkError::RateLimited(refused));
    }
    let hash = ctx.address_hasher.hash(email);
    let mut enqueued = false;
    if !store::suppressions::contains(&txn, &hash).await?
        && let Some(subscriber) = store::subscribers::find_by_email(&txn, email).await?
        && matches!(
            subscriber.status,
            SubscriberStatus::Active | SubscriberStatus::Restricted
        )
    {
        let last = store::privacy::last_privacy_link_at(&txn, subscriber.id).await?;
        if last.is_none_or(|at| now - at >= ctx.settings.privacy.link_cooldown)
            && may_mail_stranger(ctx, &txn, email, network.as_deref(), now).await?
        {
            enqueue(&txn, ctx, MessageKind::PrivacyLink, subscriber.id, now).await?;
            enqueued = true;
        }
    }
    store::commit(txn).await?;
    if enqueued {
        ctx.outbox.notify_one();
    }
    Ok(())
}

/// Why `request_link` did not run.
#[derive(Debug, thiserror::Error)]
pub enum RequestLinkError {
    /// The client's network has used up its requests for the hour.
    #[error("too many requests from this network; try again later")]
    RateLimited(Refused),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

async fn enqueue(
    conn: &impl store::Connection,
    ctx: &Context,
    kind: MessageKind,
    subscriber: SubscriberId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let message_id = format!(
        "{kind}.{}@{}",
        uuid::Uuid::now_v7(),
        ctx.settings.mail.from_address.domain()
    );
    let delivery = NewDelivery {
        kind,
        subscriber_id: subscriber,
        subscription_id: None,
        message_id,
    };
    store::deliveries::enqueue(conn, &delivery, now).await?;
    Ok(())
}

/// Everything stored about a person, read only (the operator's export, and the data page
/// after an action).
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn data(ctx: &Context, id: SubscriberId) -> Result<PersonalData, PrivacyError> {
    Ok(load(&ctx.db, id).await?)
}

/// Everything stored about a person, for an operator who may handle personal data; reads
/// only.
///
/// # Errors
/// `Forbidden`, `NotFound`, or a store failure.
pub async fn read(
    ctx: &Context,
    actor: &Actor,
    id: SubscriberId,
) -> Result<PersonalData, PrivacyError> {
    actor.authorize(Action::HandlePersonalData)?;
    data(ctx, id).await
}

/// The export document of `data`, made now, naming the published schema.
pub fn export_document(ctx: &Context, data: &PersonalData) -> ExportDocument {
    ExportDocument::new(
        data,
        &ctx.settings.mail.organisation,
        crate::config::join_url(
            &ctx.settings.http.public_url,
            "privacy/export-schema/v1.json",
        )
        .to_string(),
        ctx.clock.now(),
    )
}

/// Art. 15: shows the person their data, with an `accessed` ledger entry.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn access(
    ctx: &Context,
    id: SubscriberId,
    actor: &Party,
) -> Result<PersonalData, PrivacyError> {
    recorded(ctx, id, actor, ConsentAction::Accessed, RequestKind::Access).await
}

/// Art. 20: the person's data for download, with an `exported` ledger entry.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn export(
    ctx: &Context,
    id: SubscriberId,
    actor: &Party,
) -> Result<PersonalData, PrivacyError> {
    recorded(
        ctx,
        id,
        actor,
        ConsentAction::Exported,
        RequestKind::Portability,
    )
    .await
}

async fn recorded(
    ctx: &Context,
    id: SubscriberId,
    actor: &Party,
    action: ConsentAction,
    kind: RequestKind,
) -> Result<PersonalData, PrivacyError> {
    actor.authorize(Action::HandlePersonalData)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    store::subscribers::find(&txn, id).await?;
    let basis = person_basis(&txn, id).await?;
    store::consent_events::append(&txn, &event(id, action, basis, actor, now)).await?;
    answer(&txn, id, kind, actor, now).await?;
    actor.audit(&txn, "subscriber.export", id, now).await?;
    let data = load(&txn, id).await?;
    store::commit(txn).await?;
    Ok(data)
}

/// Art. 18: restricts processing (nothing is sent while restricted), or lifts the
/// restriction. Repeating either changes nothing. A blocked person stays blocked.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn restrict(
    ctx: &Context,
    id: SubscriberId,
    restricted: bool,
    actor: &Party,
) -> Result<SubscriberStatus, PrivacyError> {
    use SubscriberStatus::{Active, Blocked, Erased, Restricted};
    actor.authorize(Action::HandlePersonalData)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let subscriber = store::subscribers::find(&txn, id).await?;
    let (to, action) = match (subscriber.status, restricted) {
        (Active, true) => (Restricted, ConsentAction::Restricted),
        (Restricted, false) => (Active, ConsentAction::RestrictionLifted),
        (status @ (Active | Restricted | Blocked | Erased), _) => {
            return Ok(status);
        }
    };
    store::privacy::set_status(&txn, id, to, now).await?;
    let basis = person_basis(&txn, id).await?;
    store::consent_events::append(&txn, &event(id, action, basis, actor, now)).await?;
    answer(&txn, id, RequestKind::Restriction, actor, now).await?;
    let change = match restricted {
        true => "subscriber.restrict",
        false => "subscriber.unrestrict",
    };
    actor.audit(&txn, change, id, now).await?;
    store::commit(txn).await?;
    tracing::info!(subscriber.id = %id, restricted, "processing restriction changed");
    Ok(to)
}

/// Art. 7(3) / Art. 21: leaves the chosen subscriptions (all when `only` is `None`; ids that
/// are not the person's are ignored). Returns how many changed.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn withdraw(
    ctx: &Context,
    id: SubscriberId,
    only: Option<&[SubscriptionId]>,
    actor: &Party,
) -> Result<usize, PrivacyError> {
    actor.authorize(Action::ManageSubscribers)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let changed = subscriptions::leave_lists_in(
        &txn,
        id,
        only,
        &actor.requester,
        (&actor.name(), actor.source),
        (now, None),
    )
    .await?;
    if changed > 0 {
        answer(&txn, id, RequestKind::Objection, actor, now).await?;
        actor.audit(&txn, "subscriber.unsubscribe", id, now).await?;
    }
    store::commit(txn).await?;
    Ok(changed)
}

/// Art. 16: corrects name and language. Returns whether anything changed.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn correct(
    ctx: &Context,
    id: SubscriberId,
    name: &SubscriberName,
    locale: Locale,
    actor: &Party,
) -> Result<bool, PrivacyError> {
    actor.authorize(Action::ManageSubscribers)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let subscriber = store::subscribers::find(&txn, id).await?;
    let mut fields = Vec::new();
    if subscriber.name != *name {
        fields.push("name");
    }
    if subscriber.locale != locale {
        fields.push("locale");
    }
    if fields.is_empty() {
        return Ok(false);
    }
    store::privacy::set_profile(&txn, id, name, locale, now).await?;
    rectified(&txn, id, &fields, actor, now).await?;
    actor.audit(&txn, "subscriber.edit", id, now).await?;
    store::commit(txn).await?;
    Ok(true)
}

/// What a partial update of a person changes; `None`: leave as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    /// The name.
    pub name: Option<SubscriberName>,
    /// The language.
    pub locale: Option<Locale>,
    /// Attributes to set; a `null` value removes one (merged into the present ones).
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Changes a person's name, language and attributes, all or nothing. A changed name or
/// language is a rectification in the ledger, as with `correct`; changed attributes are
/// audited by key (never their values).
///
/// # Errors
/// `Forbidden`, `NotFound`, `Attribute` (naming the key), or a store failure.
pub async fn update_profile(
    ctx: &Context,
    id: SubscriberId,
    patch: ProfilePatch,
    actor: &Party,
) -> Result<Subscriber, PrivacyError> {
    actor.authorize(Action::ManageSubscribers)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let mut subscriber = store::subscribers::find(&txn, id).await?;
    if subscriber.status == SubscriberStatus::Erased {
        return Err(PrivacyError::AlreadyErased);
    }
    let mut fields = Vec::new();
    if let Some(name) = patch.name.filter(|n| *n != subscriber.name) {
        subscriber.name = name;
        fields.push("name");
    }
    if let Some(locale) = patch.locale.filter(|l| *l != subscriber.locale) {
        subscriber.locale = locale;
        fields.push("locale");
    }
    let changed_keys = match &patch.attributes {
        Some(attributes) => subscriber.attributes.merge(attributes)?,
        None => Vec::new(),
    };
    if !fields.is_empty() {
        store::privacy::set_profile(&txn, id, &subscriber.name, subscriber.locale, now).await?;
        rectified(&txn, id, &fields, actor, now).await?;
        actor.audit(&txn, "subscriber.edit", id, now).await?;
    }
    if !changed_keys.is_empty() {
        store::privacy::set_attributes(&txn, id, &subscriber.attributes, now).await?;
        let detail = format!("attributes: {}", changed_keys.join(", "));
        actor
            .audit_with(&txn, "subscriber.attributes", id, detail, now)
            .await?;
    }
    store::commit(txn).await?;
    Ok(subscriber)
}

/// A `rectified` ledger entry naming the fields (never their values: the ledger outlives
/// the profile) and the answered request.
async fn rectified(
    conn: &impl store::Connection,
    id: SubscriberId,
    fields: &[&str],
    actor: &Party,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let basis = person_basis(conn, id).await?;
    let mut entry = event(id, ConsentAction::Rectified, basis, actor, now);
    entry.evidence = Some(serde_json::json!({ "fields": fields }));
    store::consent_events::append(conn, &entry).await?;
    answer(conn, id, RequestKind::Rectification, actor, now).await
}

/// Art. 16: asks to change the address. Nothing changes until the link sent to the new
/// address is used; a newer request replaces an older one, but not within
/// `privacy.link_cooldown` of it, so that nobody can use the form to flood an address with
/// e-mail. Whether the new address is in use is told only to whoever proves to own it.
///
/// # Errors
/// `SameAddress`, `TooSoon`, `NotFound`, or a store failure.
pub async fn request_address_change(
    ctx: &Context,
    id: SubscriberId,
    new_email: &EmailAddress,
    requester: &Requester,
) -> Result<(), PrivacyError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let subscriber = store::subscribers::find(&txn, id).await?;
    if subscriber.email == *new_email {
        return Err(PrivacyError::SameAddress);
    }
    let previous = store::privacy::address_change_of(&txn, id).await?;
    if previous.is_some_and(|p| now - p.created_at < ctx.settings.privacy.link_cooldown) {
        return Err(PrivacyError::TooSoon);
    }
    if !may_mail_stranger(ctx, &txn, new_email, requester.ip_anon().as_deref(), now).await? {
        return Err(PrivacyError::TooManyMails);
    }
    let change = AddressChange {
        id: AddressChangeId::new(),
        subscriber_id: id,
        new_email: new_email.clone(),
        created_at: now,
        expires_at: now + ctx.settings.privacy.address_change_ttl,
    };
    store::privacy::put_address_change(&txn, &change).await?;
    enqueue(&txn, ctx, MessageKind::AddressChange, id, now).await?;
    store::commit(txn).await?;
    ctx.outbox.notify_one();
    Ok(())
}

/// A pending address change and the language of its pages (reads only).
///
/// # Errors
/// `NotFound` when it was confirmed, refused, replaced or erased; or a store failure.
pub async fn address_change(
    ctx: &Context,
    change: AddressChangeId,
) -> Result<(AddressChange, Locale), PrivacyError> {
    let found = store::privacy::find_address_change(&ctx.db, change)
        .await?
        .ok_or(PrivacyError::NotFound)?;
    let locale = store::subscribers::find(&ctx.db, found.subscriber_id)
        .await?
        .locale;
    Ok((found, locale))
}

/// Confirms a new address from a link sent to it: the address changes, with a `rectified`
/// ledger entry. Returns the person's language.
///
/// # Errors
/// `AddressInUse` (the change is dropped), `NotFound`, or a store failure.
pub async fn confirm_address_change(
    ctx: &Context,
    change: AddressChangeId,
    requester: Requester,
) -> Result<Locale, PrivacyError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let found = store::privacy::find_address_change(&txn, change)
        .await?
        .ok_or(PrivacyError::NotFound)?;
    let subscriber = store::subscribers::find(&txn, found.subscriber_id).await?;
    store::privacy::delete_address_change(&txn, change).await?;
    let taken = store::subscribers::find_by_email(&txn, &found.new_email)
        .await?
        .is_some_and(|other| other.id != subscriber.id);
    if taken {
        store::commit(txn).await?;
        return Err(PrivacyError::AddressInUse);
    }
    match store::privacy::set_email(&txn, subscriber.id, &found.new_email, now).await {
        Err(StoreError::Conflict(_)) => return Err(PrivacyError::AddressInUse),
        other => other?,
    }
    // A suppression names the person whose address it is: now the new one's, not the old's.
    let hash = ctx.address_hasher.hash(&found.new_email);
    store::suppressions::relink(&txn, subscriber.id, &hash).await?;
    let actor = Party {
        source: "address_link",
        ..Party::subject(requester)
    };
    rectified(&txn, subscriber.id, &["email"], &actor, now).await?;
    store::commit(txn).await?;
    tracing::info!(subscriber.id = %subscriber.id, "address changed");
    Ok(subscriber.locale)
}

/// Refuses a pending address change (the link's other button, or its RFC 8058 one-click).
/// Idempotent: a change that is gone stays gone.
///
/// # Errors
/// Store failure.
pub async fn refuse_address_change(
    ctx: &Context,
    change: AddressChangeId,
) -> Result<(), PrivacyError> {
    let txn = store::begin_write(&ctx.writer).await?;
    store::privacy::delete_address_change(&txn, change).await?;
    store::commit(txn).await?;
    Ok(())
}

/// Art. 17: erases the person. The keyed hash of the address stays suppressed, the ledger is
/// pseudonymised and ends with `erased`, and the profile, subscriptions, outbox rows and a
/// pending address change are deleted; see `retention::erase_subscriber`.
///
/// # Errors
/// `AlreadyErased` when the ledger shows an earlier erasure, `NotFound`, or a store failure.
pub async fn erase(ctx: &Context, id: SubscriberId, actor: &Party) -> Result<(), PrivacyError> {
    actor.authorize(Action::HandlePersonalData)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    if store::retention::lock_subject(&txn, id).await?.is_none() {
        let erased = store::consent_events::for_subscriber(&txn, id)
            .await?
            .iter()
            .any(|e| e.action == ConsentAction::Erased);
        return Err(match erased {
            true => PrivacyError::AlreadyErased,
            false => PrivacyError::NotFound,
        });
    }
    let name = actor.name();
    let by = (name.as_str(), actor.source);
    retention::erase_in(
        &txn,
        &ctx.address_hasher,
        id,
        ErasureReason::Request,
        by,
        now,
    )
    .await?;
    answer(&txn, id, RequestKind::Erasure, actor, now).await?;
    actor.audit(&txn, "subscriber.erase", id, now).await?;
    store::commit(txn).await?;
    retention::forget_in_files(ctx).await;
    Ok(())
}

/// The basis the person's data was last held on, for ledger entries about the person as a
/// whole (as erasure records it).
async fn person_basis(
    conn: &impl store::Connection,
    id: SubscriberId,
) -> Result<LegalBasis, StoreError> {
    Ok(store::consent_events::for_subscriber(conn, id)
        .await?
        .last()
        .map_or(LegalBasis::Consent, |e| e.legal_basis))
}

fn event(
    subscriber: SubscriberId,
    action: ConsentAction,
    legal_basis: LegalBasis,
    actor: &Party,
    now: DateTime<Utc>,
) -> ConsentEvent {
    ConsentEvent {
        id: ConsentEventId::new(),
        subscriber_id: subscriber,
        list_id: None,
        action,
        legal_basis,
        consent_text_hash: None,
        ip_anon: actor.requester.ip_anon(),
        user_agent: actor.requester.user_agent(),
        actor: actor.name(),
        source: actor.source.to_owned(),
        occurred_at: now,
        evidence: None,
        subject_hash: None,
        campaign_id: None,
    }
}

/// Records in the request log that `kind` was answered: a self-service request is logged
/// as received and completed at once; an operator's action closes the request it answers.
async fn answer(
    conn: &impl store::Connection,
    id: SubscriberId,
    kind: RequestKind,
    actor: &Party,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if let Some(request) = actor.answers {
        let found = store::privacy::find_request(conn, request).await?;
        if found.status == RequestStatus::Open {
            store::privacy::close_request(conn, &found.closed(RequestStatus::Completed, now))
                .await?;
        }
        return Ok(());
    }
    if actor.is_subject() {
        let entry = PrivacyRequest::received(
            Some(id),
            kind,
            RequestChannel::SelfService,
            actor.name(),
            now,
        )
        .closed(RequestStatus::Completed, now);
        store::privacy::log_request(conn, &entry).await?;
    }
    Ok(())
}

/// A request that reached the operator by another channel, to be logged.
#[derive(Debug, Clone)]
pub struct NewPrivacyRequest {
    /// Whose request, when known.
    pub subscriber_id: Option<SubscriberId>,
    /// Which right.
    pub kind: RequestKind,
    /// How it arrived.
    pub channel: RequestChannel,
    /// When it arrived (default: now); the deadline counts from here.
    pub received_at: Option<DateTime<Utc>>,
    /// The operator's note.
    pub note: Option<String>,
}

/// Logs a request with its Art. 12(3) deadline.
///
/// # Errors
/// `NotFound` for an unknown subscriber, or a store failure.
pub async fn log_request(
    ctx: &Context,
    new: NewPrivacyRequest,
    actor: &Party,
) -> Result<PrivacyRequest, PrivacyError> {
    actor.authorize(Action::HandlePersonalData)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    if let Some(id) = new.subscriber_id {
        store::subscribers::find(&txn, id).await?;
    }
    let mut request = PrivacyRequest::received(
        new.subscriber_id,
        new.kind,
        new.channel,
        actor.name(),
        new.received_at.unwrap_or(now),
    );
    request.note = new.note;
    store::privacy::log_request(&txn, &request).await?;
    if let Some(operator) = &actor.operator {
        let change = Change::of("privacy_request.log", request.id).detail(request.kind.as_str());
        audit::append(&txn, operator, change, now).await?;
    }
    store::commit(txn).await?;
    Ok(request)
}

/// A page of logged requests after the request `after`, the earliest deadline first
/// (`status` filters), and the cursor of the next page (this page's last request) when there
/// is one.
///
/// # Errors
/// `NotFound` when `after` names no request; store failure.
pub async fn requests(
    ctx: &Context,
    actor: &Actor,
    status: Option<RequestStatus>,
    after: Option<PrivacyRequestId>,
    limit: u64,
) -> Result<Page<PrivacyRequest, PrivacyRequestId>, PrivacyError> {
    actor.authorize(Action::HandlePersonalData)?;
    let fetch = super::paging::fetch_size(limit);
    let found = store::privacy::requests_page(&ctx.db, status, after, fetch).await?;
    Ok(Page::cut(found, limit, |r| r.id))
}

/// Records the answer to an open request (`Completed` or `Rejected`), with an optional note.
///
/// # Errors
/// `NotFound`, `AlreadyClosed`, or a store failure.
pub async fn close_request(
    ctx: &Context,
    actor: &Actor,
    id: PrivacyRequestId,
    status: RequestStatus,
    note: Option<String>,
) -> Result<PrivacyRequest, PrivacyError> {
    actor.authorize(Action::HandlePersonalData)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let found = store::privacy::find_request(&txn, id).await?;
    if found.status != RequestStatus::Open {
        return Err(PrivacyError::AlreadyClosed);
    }
    let mut closed = found.closed(status, now);
    if note.is_some() {
        closed.note = note;
    }
    store::privacy::close_request(&txn, &closed).await?;
    let change = Change::of("privacy_request.close", id).detail(status.as_str());
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(closed)
}
