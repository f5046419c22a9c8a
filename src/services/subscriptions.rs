//! The subscriber journey: signup (double opt-in), confirmation, leaving, preferences.
//! Every state change appends a consent event in the same transaction; confirmation and
//! welcome e-mails are enqueued in it too, and sent by the delivery worker.

use chrono::{DateTime, Utc};

use super::{
    Requester,
    lists::{self, SignupListsError},
    rate_limit::{self, Limit, Scope},
};
use crate::{
    context::Context,
    domain::{
        Action, Actor, CampaignId, ConsentAction, ConsentEvent, ConsentEventId, ConsentText,
        EmailAddress, Forbidden, LegalBasis, ListRef, Locale, MailingList, MessageKind, Subscriber,
        SubscriberId, SubscriberName, SubscriberStatus, Subscription, SubscriptionError,
        SubscriptionId, SubscriptionStatus, SuppressionReason, Transition,
    },
    store::{self, StoreError, deliveries::NewDelivery, suppressions::StoredSuppression},
};

/// A signup form, parsed.
#[derive(Debug, Clone)]
pub struct Signup {
    /// The address to subscribe.
    pub email: EmailAddress,
    /// The name given (stored, never mailed).
    pub name: SubscriberName,
    /// The lists chosen.
    pub lists: Vec<ListRef>,
    /// Whether the consent box was ticked.
    pub consent: bool,
}

/// Why a signup was refused. Whether the address is known is never among the reasons.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// The lists named are not acceptable.
    #[error(transparent)]
    Lists(#[from] SignupListsError),
    /// GDPR Art. 7: no subscription without an explicit consent.
    #[error("consent was not given")]
    ConsentMissing,
    /// The consent text an API caller named is empty or longer than
    /// [`MAX_CONSENT_TEXT_CHARS`].
    #[error("consent_text must be 1 to {MAX_CONSENT_TEXT_CHARS} characters")]
    ConsentText,
    /// The actor's role may not sign people up.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The client's network has used up its signups for the hour.
    #[error("too many signups from this network; try again later")]
    RateLimited {
        /// Seconds until the window ends.
        retry_after_secs: u64,
    },
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an e-mailed link's action could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum LinkActionError {
    /// The record the link points to no longer exists (e.g. erased).
    #[error("the record behind the link no longer exists")]
    Gone,
    /// The state machine refuses the move.
    #[error(transparent)]
    Refused(#[from] SubscriptionError),
    /// Store failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for LinkActionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::Gone,
            other => Self::Store(other),
        }
    }
}

/// Where a signup comes from, which decides its limit and what the ledger records as its
/// source and consent text.
#[derive(Debug, Clone, Copy)]
enum Origin<'a> {
    /// The public form: limited per client network; the list's own consent text was shown.
    Form,
    /// A website's backend through `POST /api/v1/subscriptions`: limited per API token; the
    /// caller names the consent text it showed, else the list's own.
    Api {
        /// The token that called.
        actor: &'a Actor,
        /// The text the person agreed to on the caller's site.
        consent_text: Option<&'a ConsentText>,
    },
}

impl Origin<'_> {
    /// The ledger's and the subscription's `source`: `form`, or `api:TOKEN-NAME`.
    fn source(&self) -> String {
        match self {
            Self::Form => "form".into(),
            Self::Api { actor, .. } => actor.name(),
        }
    }

    /// The text the person agreed to for `list`.
    fn consent_text(&self, list: &MailingList, locale: Locale) -> ConsentText {
        match self {
            Self::Api {
                consent_text: Some(text),
                ..
            } => (*text).clone(),
            _ => list.consent_text(locale),
        }
    }

    /// The limit that counts this signup, and the key it is counted under.
    fn limit(&self, ctx: &Context, requester: &Requester) -> (Limit, String) {
        match self {
            Self::Form => (
                Limit::of(Scope::Signups, &ctx.settings),
                requester.ip_anon().unwrap_or_default(),
            ),
            Self::Api { actor, .. } => (Limit::of(Scope::ApiSignups, &ctx.settings), {
                match actor {
                    Actor::Token { id, .. } => id.to_string(),
                    other => other.name(),
                }
            }),
        }
    }
}

/// The most characters of a consent text an API caller may name.
pub const MAX_CONSENT_TEXT_CHARS: usize = 10_000;

/// Handles a signup form: creates or renews pending subscriptions and enqueues one
/// confirmation e-mail for all the lists of the request, within each list's cooldown and cap
/// and the limits on e-mails strangers can trigger. The outcome is the same whether the
/// address was new, pending, confirmed, unsubscribed, blocked or suppressed.
///
/// # Errors
/// Missing consent, unacceptable lists, the client network's hourly share used up
/// (`RateLimited`), or a store failure; nothing is stored then.
pub async fn subscribe(
    ctx: &Context,
    signup: Signup,
    requester: &Requester,
) -> Result<(), SubscribeError> {
    start(ctx, &signup, requester, Origin::Form).await
}

/// A website's backend signs a visitor up (`POST /api/v1/subscriptions`): the same double
/// opt-in as the form, the same e-mail and the same ledger evidence, with the visitor's
/// network, user agent and language as the caller names them and the consent text it showed
/// (the list's own when it names none). The caller's token is limited, not its network.
///
/// # Errors
/// `Forbidden` (a viewer), an empty or overlong consent text (`ConsentText`), unacceptable
/// lists, the token's hourly share used up (`RateLimited`), or a store failure; nothing is
/// stored then.
pub async fn subscribe_for(
    ctx: &Context,
    actor: &Actor,
    signup: Signup,
    requester: &Requester,
    consent_text: Option<&str>,
) -> Result<(), SubscribeError> {
    actor.authorize(Action::ManageSubscribers)?;
    let consent_text = match consent_text.map(str::trim) {
        None => None,
        Some(t) if t.is_empty() || t.chars().count() > MAX_CONSENT_TEXT_CHARS => {
            return Err(SubscribeError::ConsentText);
        }
        Some(t) => Some(ConsentText::new(t)),
    };
    let origin = Origin::Api {
        actor,
        consent_text: consent_text.as_ref(),
    };
    start(ctx, &signup, requester, origin).await
}

async fn start(
    ctx: &Context,
    signup: &Signup,
    requester: &Requester,
    origin: Origin<'_>,
) -> Result<(), SubscribeError> {
    let lists = lists::for_signup(ctx, &signup.lists).await?;
    if !signup.consent {
        return Err(SubscribeError::ConsentMissing);
    }
    // Two signups for a new address at once (a double click) both try to insert it on
    // PostgreSQL; the second fails on the unique address and is run once more, when it finds
    // the first's subscriber (locked, so the two take turns from there on).
    match subscribe_once(ctx, signup, &lists, requester, origin).await {
        Err(SubscribeError::Store(StoreError::Conflict(_))) => {
            subscribe_once(ctx, signup, &lists, requester, origin).await
        }
        outcome => outcome,
    }
}

async fn subscribe_once(
    ctx: &Context,
    signup: &Signup,
    lists: &[MailingList],
    requester: &Requester,
    origin: Origin<'_>,
) -> Result<(), SubscribeError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let network = requester.ip_anon();
    let (limit, key) = origin.limit(ctx, requester);
    if let Err(refused) = limit.hit(ctx, &txn, &key, now).await? {
        store::roll_back(txn).await?;
        return Err(SubscribeError::RateLimited {
            retry_after_secs: refused.retry_after_secs,
        });
    }
    // A suppressed address (a bounce, the operator's) is never mailed again, not even to
    // confirm. A complaint or an erasure was the person's own wish and gives way to a new one:
    // the confirmation request goes out within the same caps, and confirming lifts it.
    let address_hash = ctx.address_hasher.hash(&signup.email);
    let suppression = store::suppressions::find(&txn, &address_hash).await?;
    let mut enqueued = false;
    if suppression
        .as_ref()
        .is_none_or(|s| s.reason.is_lifted_by_opt_in())
    {
        let subscriber = find_or_create_subscriber(&txn, signup, requester, now).await?;
        // An erasure stays unlinked until the owner confirms: naming the new, unconfirmed
        // person on it would show "erased" on someone a stranger may have typed in.
        if suppression
            .is_some_and(|s| s.subscriber_id.is_none() && s.reason != SuppressionReason::Erased)
        {
            store::suppressions::link(&txn, &address_hash, subscriber.id).await?;
        }
        if subscriber.status == SubscriberStatus::Active {
            let mut due = Vec::new();
            for list in lists {
                match request(&txn, ctx, &subscriber, list, requester, origin, now).await? {
                    Some((sub, true)) => due.push(sub),
                    Some((sub, false)) => store::subscriptions::update(&txn, &sub, now).await?,
                    None => {}
                }
            }
            enqueued = confirm_by_mail(&txn, ctx, &subscriber.email, due, network, now).await?;
        }
    }
    store::commit(txn).await?;
    metrics::counter!("bulletin_signups_total").increment(1);
    if enqueued {
        ctx.outbox.notify_one();
    }
    Ok(())
}

/// Enqueues one confirmation e-mail for the subscriptions `due` (all of one request; the
/// link confirms them together), if a stranger may make Bulletin mail `to` now, and stores
/// the subscriptions with their counts. Returns whether the e-mail was enqueued.
async fn confirm_by_mail(
    conn: &impl store::Connection,
    ctx: &Context,
    to: &EmailAddress,
    mut due: Vec<Subscription>,
    network: Option<String>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let send = match due.first() {
        Some(_) => rate_limit::may_mail_stranger(ctx, conn, to, network.as_deref(), now).await?,
        None => false,
    };
    if let (true, Some(first)) = (send, due.first()) {
        enqueue(conn, ctx, MessageKind::Confirmation, first, now).await?;
    }
    for sub in &mut due {
        if send {
            sub.confirmations_sent += 1;
            sub.last_confirmation_at = Some(now);
        }
        store::subscriptions::update(conn, sub, now).await?;
    }
    Ok(send)
}

async fn find_or_create_subscriber(
    conn: &impl store::Connection,
    signup: &Signup,
    requester: &Requester,
    now: DateTime<Utc>,
) -> Result<Subscriber, StoreError> {
    if let Some(existing) =
        store::subscribers::find_by_email_for_update(conn, &signup.email).await?
    {
        // An unauthenticated form never changes a known person's data.
        return Ok(existing);
    }
    let subscriber = Subscriber {
        id: SubscriberId::new(),
        email: signup.email.clone(),
        name: signup.name.clone(),
        locale: requester.locale,
        status: SubscriberStatus::Active,
        created_at: now,
        attributes: Default::default(),
    };
    store::subscribers::insert(conn, &subscriber, now).await?;
    Ok(subscriber)
}

/// Records one list's request; returns the subscription for the caller to store and whether
/// it is due a confirmation e-mail by its cooldown and cap, or `None` when it was confirmed
/// already (nothing changes).
async fn request(
    conn: &impl store::Connection,
    ctx: &Context,
    subscriber: &Subscriber,
    list: &MailingList,
    requester: &Requester,
    origin: Origin<'_>,
    now: DateTime<Utc>,
) -> Result<Option<(Subscription, bool)>, StoreError> {
    let text = origin.consent_text(list, requester.locale);
    store::consent_events::remember_text(conn, &text, now).await?;
    let mut sub =
        match store::subscriptions::find_for_update_of(conn, subscriber.id, list.id).await? {
            Some(existing) => existing,
            None => {
                let fresh = new_pending(subscriber.id, list, &origin.source(), now);
                store::subscriptions::insert(conn, &fresh, now).await?;
                fresh
            }
        };
    let settings = &ctx.settings.subscriptions;
    match sub.status.request() {
        Transition::Changed { to, .. } => {
            // A new request after leaving is answered at once, but the cap counts on until
            // the last cycle's links have expired: cancelling and asking again cannot be
            // used to mail an address without end.
            sub.status = to;
            sub.requested_at = Some(now);
            if sub
                .last_confirmation_at
                .is_none_or(|last| now - last >= settings.confirm_link_ttl)
            {
                sub.confirmations_sent = 0;
            }
            sub.last_confirmation_at = None;
        }
        Transition::Unchanged if sub.status == SubscriptionStatus::Confirmed => return Ok(None),
        Transition::Unchanged => sub.requested_at = Some(now),
    }
    let mut event = ledger_entry(
        &sub,
        list,
        ConsentAction::Requested,
        now,
        "subscriber",
        &origin.source(),
    );
    event.consent_text_hash = Some(text.hash().to_owned());
    stamp(&mut event, requester);
    store::consent_events::append(conn, &event).await?;
    let due =
        sub.may_resend_confirmation(now, settings.resend_cooldown, settings.max_confirmations);
    Ok(Some((sub, due)))
}

fn new_pending(
    subscriber: SubscriberId,
    list: &MailingList,
    source: &str,
    now: DateTime<Utc>,
) -> Subscription {
    Subscription {
        id: SubscriptionId::new(),
        subscriber_id: subscriber,
        list_id: list.id,
        status: SubscriptionStatus::Pending,
        source: source.to_owned(),
        requested_at: Some(now),
        confirmed_at: None,
        unsubscribed_at: None,
        confirmations_sent: 0,
        last_confirmation_at: None,
    }
}

fn ledger_entry(
    sub: &Subscription,
    list: &MailingList,
    action: ConsentAction,
    now: DateTime<Utc>,
    actor: &str,
    source: &str,
) -> ConsentEvent {
    ConsentEvent {
        id: ConsentEventId::new(),
        subscriber_id: sub.subscriber_id,
        list_id: Some(list.id),
        action,
        legal_basis: list.def.legal_basis,
        consent_text_hash: None,
        ip_anon: None,
        user_agent: None,
        actor: actor.to_owned(),
        source: source.to_owned(),
        occurred_at: now,
        evidence: None,
        subject_hash: None,
        campaign_id: None,
    }
}

fn stamp(event: &mut ConsentEvent, requester: &Requester) {
    event.ip_anon = requester.ip_anon();
    event.user_agent = requester.user_agent();
}

async fn enqueue(
    conn: &impl store::Connection,
    ctx: &Context,
    kind: MessageKind,
    sub: &Subscription,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let message_id = format!(
        "{}.{}@{}",
        kind,
        uuid::Uuid::now_v7(),
        ctx.settings.mail.from_address.domain()
    );
    let delivery = NewDelivery {
        kind,
        subscriber_id: sub.subscriber_id,
        subscription_id: Some(sub.id),
        message_id,
    };
    store::deliveries::enqueue(conn, &delivery, now).await?;
    Ok(())
}

/// A subscription and its list, for pages that show what a link will do.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct SubscriptionSummary {
    pub list: MailingList,
    /// The lists asked for in the same request, whose link also acts on them (confirming or
    /// cancelling a pending signup for several lists).
    pub companions: Vec<MailingList>,
    /// Where the subscription stands.
    pub status: SubscriptionStatus,
    /// The subscriber's language, for the page.
    pub locale: Locale,
}

impl SubscriptionSummary {
    /// The names of the list and its companions, for a page: "News, Offers".
    pub fn list_names(&self) -> String {
        std::iter::once(&self.list)
            .chain(&self.companions)
            .map(|l| l.def.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn summarise(
    conn: &impl store::Connection,
    sub: &Subscription,
    list: MailingList,
    companions: Vec<MailingList>,
) -> Result<SubscriptionSummary, StoreError> {
    let subscriber = store::subscribers::find(conn, sub.subscriber_id).await?;
    Ok(SubscriptionSummary {
        list,
        companions,
        status: sub.status,
        locale: subscriber.locale,
    })
}

/// What a confirmation or unsubscribe link points to (reads only).
///
/// # Errors
/// `Gone` when the subscription no longer exists, or a store failure.
pub async fn summary(
    ctx: &Context,
    id: SubscriptionId,
) -> Result<SubscriptionSummary, LinkActionError> {
    let sub = store::subscriptions::find(&ctx.db, id).await?;
    let list = store::lists::find(&ctx.db, sub.list_id).await?;
    let companions = match sub.status {
        SubscriptionStatus::Pending => store::subscriptions::companions(&ctx.db, &sub).await?,
        _ => Vec::new(),
    };
    let mut companion_lists = Vec::with_capacity(companions.len());
    for companion in &companions {
        companion_lists.push(store::lists::find(&ctx.db, companion.list_id).await?);
    }
    Ok(summarise(&ctx.db, &sub, list, companion_lists).await?)
}

/// Confirms a pending subscription (double opt-in), and the other lists asked for in the
/// same request, each with its own ledger entry; repeated confirmation is harmless.
/// Enqueues the welcome e-mail of each list that has one. The person's own confirmed opt-in
/// lifts a complaint or erasure suppression of their address; the ledger entry of the
/// confirmation says so.
///
/// # Errors
/// `Gone`, `Refused` (the request was cancelled), or a store failure.
pub async fn confirm(
    ctx: &Context,
    id: SubscriptionId,
    requester: &Requester,
) -> Result<SubscriptionSummary, LinkActionError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let mut sub = store::subscriptions::find_for_update(&txn, id).await?;
    let companions = match sub.status {
        SubscriptionStatus::Pending => {
            store::subscriptions::companions_for_update(&txn, &sub).await?
        }
        _ => Vec::new(),
    };
    let lifted = match sub.status {
        SubscriptionStatus::Pending => {
            lift_by_opt_in(&txn, ctx, sub.subscriber_id, sub.requested_at).await?
        }
        SubscriptionStatus::Confirmed | SubscriptionStatus::Unsubscribed => None,
    };
    let list = store::lists::find(&txn, sub.list_id).await?;
    let how = (requester, lifted.as_ref(), now);
    let mut welcome = confirm_one(&txn, ctx, &mut sub, &list, how).await?;
    let mut companion_lists = Vec::with_capacity(companions.len());
    for mut companion in companions {
        let list = store::lists::find(&txn, companion.list_id).await?;
        welcome |= confirm_one(&txn, ctx, &mut companion, &list, (requester, None, now)).await?;
        companion_lists.push(list);
    }
    let summary = summarise(&txn, &sub, list, companion_lists).await?;
    store::commit(txn).await?;
    if welcome {
        ctx.outbox.notify_one();
    }
    Ok(summary)
}

/// A suppression of the person's address that their own confirmed double opt-in replaces (a
/// complaint, an erasure): lifts it inside the confirmation's transaction and returns it, for
/// the confirmation's ledger entry. Any other suppression stays, and so does one that came
/// after the request being confirmed (its link was mailed before the person objected).
async fn lift_by_opt_in(
    conn: &impl store::Connection,
    ctx: &Context,
    subscriber: SubscriberId,
    requested_at: Option<DateTime<Utc>>,
) -> Result<Option<StoredSuppression>, StoreError> {
    let person = store::subscribers::find(conn, subscriber).await?;
    let hash = ctx.address_hasher.hash(&person.email);
    let Some(found) = store::suppressions::find(conn, &hash).await? else {
        return Ok(None);
    };
    let asked_after = requested_at.is_some_and(|at| at >= found.created_at);
    if !found.reason.is_lifted_by_opt_in() || !asked_after {
        return Ok(None);
    }
    store::suppressions::remove(conn, &hash).await?;
    tracing::info!(subscriber.id = %subscriber, reason = %found.reason, "suppression lifted by the person's own confirmed opt-in");
    Ok(Some(found))
}

/// Confirms one subscription, at the request of `requester` at `now`, noting a suppression
/// the confirmation lifted in its ledger entry; returns whether a welcome e-mail was enqueued.
async fn confirm_one(
    conn: &impl store::Connection,
    ctx: &Context,
    sub: &mut Subscription,
    list: &MailingList,
    (requester, lifted, now): (&Requester, Option<&StoredSuppression>, DateTime<Utc>),
) -> Result<bool, LinkActionError> {
    let Transition::Changed { to, action } = sub.status.confirm()? else {
        return Ok(false);
    };
    sub.status = to;
    sub.confirmed_at = Some(now);
    store::subscriptions::update(conn, sub, now).await?;
    let mut event = ledger_entry(sub, list, action, now, "subscriber", "email_link");
    stamp(&mut event, requester);
    // GDPR Art. 7(1): the record of the new consent shows what it replaced.
    event.evidence = lifted.map(|s| {
        serde_json::json!({
            "suppression_lifted": { "reason": s.reason.as_str(), "suppressed_at": s.created_at }
        })
    });
    store::consent_events::append(conn, &event).await?;
    store::subscribers::touch(conn, sub.subscriber_id, now).await?;
    if list.def.welcome_message.is_some() {
        enqueue(conn, ctx, MessageKind::Welcome, sub, now).await?;
        return Ok(true);
    }
    Ok(false)
}

/// Sends a fresh confirmation link for a still-pending subscription (and the lists asked for
/// with it), within the cooldown and cap and the limits on e-mails strangers can trigger;
/// otherwise does nothing. The caller shows the same page either way.
///
/// # Errors
/// `Gone`, or a store failure.
pub async fn resend_confirmation(
    ctx: &Context,
    id: SubscriptionId,
    requester: &Requester,
) -> Result<(), LinkActionError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let sub = store::subscriptions::find_for_update(&txn, id).await?;
    let settings = &ctx.settings.subscriptions;
    let mut send = false;
    if sub.may_resend_confirmation(now, settings.resend_cooldown, settings.max_confirmations) {
        let subscriber = store::subscribers::find(&txn, sub.subscriber_id).await?;
        let mut due = store::subscriptions::companions_for_update(&txn, &sub).await?;
        due.insert(0, sub);
        send = confirm_by_mail(&txn, ctx, &subscriber.email, due, requester.ip_anon(), now).await?;
    }
    store::commit(txn).await?;
    if send {
        ctx.outbox.notify_one();
    }
    Ok(())
}

/// Ends a subscription (or cancels a pending request); idempotent. `source` says how:
/// `one_click` (RFC 8058), `unsubscribe_page`, `preferences`.
///
/// # Errors
/// `Gone`, or a store failure.
pub async fn unsubscribe(
    ctx: &Context,
    id: SubscriptionId,
    requester: &Requester,
    (source, feedback): (&str, Option<&Feedback>),
    campaign: Option<CampaignId>,
) -> Result<SubscriptionSummary, LinkActionError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let mut sub = store::subscriptions::find_for_update(&txn, id).await?;
    // Cancelling a pending signup cancels the lists asked for with it (one e-mail confirmed
    // them together).
    let companions = match sub.status {
        SubscriptionStatus::Pending => {
            store::subscriptions::companions_for_update(&txn, &sub).await?
        }
        _ => Vec::new(),
    };
    let list = store::lists::find(&txn, sub.list_id).await?;
    let how = ("subscriber", source);
    let was_open = sub.status != SubscriptionStatus::Unsubscribed;
    leave(&txn, &mut sub, &list, requester, how, (now, campaign)).await?;
    // Said once, when leaving; kept apart from the person.
    if let Some(f) = feedback.filter(|_| was_open) {
        let comment = f.comment.as_deref();
        store::unsubscribe_reasons::insert(&txn, (campaign, list.id), f.reason, comment, now)
            .await?;
    }
    let mut companion_lists = Vec::with_capacity(companions.len());
    for mut companion in companions {
        let list = store::lists::find(&txn, companion.list_id).await?;
        leave(&txn, &mut companion, &list, requester, how, (now, campaign)).await?;
        companion_lists.push(list);
    }
    let summary = summarise(&txn, &sub, list, companion_lists).await?;
    store::commit(txn).await?;
    Ok(summary)
}

/// Why a person left, as they said it on the unsubscribe page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// The reason chosen.
    pub reason: crate::domain::UnsubscribeReason,
    /// What they wrote, trimmed and cut to `MAX_UNSUBSCRIBE_COMMENT_CHARS`; `None` if nothing.
    pub comment: Option<String>,
}

impl Feedback {
    /// The feedback of the form's fields: `None` when no reason was chosen and nothing was
    /// written (a comment alone counts as `other`); an unknown reason is `other`.
    pub fn of(reason: Option<&str>, comment: Option<&str>) -> Option<Self> {
        use crate::domain::{UnsubscribeReason, subscription::MAX_UNSUBSCRIBE_COMMENT_CHARS};
        let comment: Option<String> = comment
            .map(|c| {
                c.trim()
                    .chars()
                    .filter(|ch| !ch.is_control() || *ch == '\n')
                    .take(MAX_UNSUBSCRIBE_COMMENT_CHARS)
                    .collect::<String>()
            })
            .filter(|c| !c.is_empty());
        let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => UnsubscribeReason::parse(r).unwrap_or(UnsubscribeReason::Other),
            None if comment.is_some() => UnsubscribeReason::Other,
            None => return None,
        };
        Some(Self { reason, comment })
    }
}

async fn leave(
    conn: &impl store::Connection,
    sub: &mut Subscription,
    list: &MailingList,
    requester: &Requester,
    (actor, source): (&str, &str),
    (now, campaign): (DateTime<Utc>, Option<CampaignId>),
) -> Result<(), StoreError> {
    // Art. 7(3) withdrawal for consent lists; Art. 21 objection for legitimate interest.
    let action = match list.def.legal_basis {
        LegalBasis::Consent => ConsentAction::Unsubscribed,
        LegalBasis::LegitimateInterest => ConsentAction::Objected,
    };
    if let Transition::Changed { to, action } = sub.status.leave(action) {
        sub.status = to;
        sub.unsubscribed_at = Some(now);
        store::subscriptions::update(conn, sub, now).await?;
        let mut event = ledger_entry(sub, list, action, now, actor, source);
        stamp(&mut event, requester);
        // The campaign whose link the person left by, for its "unsubscribed" figure.
        event.campaign_id = campaign;
        store::consent_events::append(conn, &event).await?;
    }
    Ok(())
}

/// One line of the preferences page.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct Preference {
    pub subscription_id: SubscriptionId,
    pub list: MailingList,
    /// Where it stands.
    pub status: SubscriptionStatus,
}

/// A subscriber's subscriptions and language, for the preferences page.
#[derive(Debug, Clone)]
pub struct Preferences {
    /// The subscriber's language.
    pub locale: Locale,
    /// One line per subscription.
    pub items: Vec<Preference>,
    /// The lists open for signup (public, consent, not archived) the person is not on
    /// (never subscribed, or left): the page offers them, through double opt-in.
    pub offered: Vec<MailingList>,
}

/// A subscriber's subscriptions, for the preferences page.
///
/// # Errors
/// `Gone` for an unknown subscriber, or a store failure.
pub async fn preferences(
    ctx: &Context,
    subscriber: SubscriberId,
) -> Result<Preferences, LinkActionError> {
    load_preferences(&ctx.db, subscriber).await
}

async fn load_preferences(
    conn: &impl store::Connection,
    subscriber: SubscriberId,
) -> Result<Preferences, LinkActionError> {
    let locale = store::subscribers::find(conn, subscriber).await?.locale;
    let lists = store::lists::all(conn).await?;
    let items: Vec<Preference> = store::subscriptions::of_subscriber(conn, subscriber)
        .await?
        .into_iter()
        .filter_map(|s| {
            let list = lists.iter().find(|l| l.id == s.list_id)?.clone();
            Some(Preference {
                subscription_id: s.id,
                list,
                status: s.status,
            })
        })
        .collect();
    let offered = lists
        .into_iter()
        .filter(|l| l.is_open_for_signup())
        .filter(|l| {
            !items
                .iter()
                .any(|p| p.list.id == l.id && p.status != SubscriptionStatus::Unsubscribed)
        })
        .collect();
    Ok(Preferences {
        locale,
        items,
        offered,
    })
}

/// From the preferences page: asks to join more lists, by the same double opt-in as the
/// signup form (a pending subscription and a confirmation e-mail, never a silent
/// subscription). The consent text is recorded in the person's language, the one the page
/// showed it in.
///
/// # Errors
/// `Lists` (a list not open for signup), `RateLimited`, `Store` (`NotFound` for an unknown
/// subscriber), as `subscribe`.
pub async fn request_more(
    ctx: &Context,
    subscriber: SubscriberId,
    lists: Vec<ListRef>,
    requester: &Requester,
) -> Result<(), SubscribeError> {
    let person = store::subscribers::find(&ctx.db, subscriber).await?;
    let requester = Requester {
        locale: person.locale,
        ..requester.clone()
    };
    let signup = Signup {
        email: person.email,
        name: person.name,
        lists,
        consent: true,
    };
    subscribe(ctx, signup, &requester).await
}

/// Leaves the chosen subscriptions of a subscriber (all of them when `only` is `None`);
/// ids that are not the subscriber's are ignored. Returns the updated preferences.
///
/// # Errors
/// `Gone` for an unknown subscriber, or a store failure.
pub async fn leave_lists(
    ctx: &Context,
    subscriber: SubscriberId,
    only: Option<&[SubscriptionId]>,
    requester: &Requester,
) -> Result<Preferences, LinkActionError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    leave_lists_in(
        &txn,
        subscriber,
        only,
        requester,
        ("subscriber", "preferences"),
        (now, None),
    )
    .await?;
    let updated = load_preferences(&txn, subscriber).await?;
    store::commit(txn).await?;
    Ok(updated)
}

/// The RFC 8058 one-click POST to the preferences page (the `List-Unsubscribe` of a message
/// that belongs to no list, the privacy link): withdraws every consent (Art. 7(3)), recorded
/// as `one_click`. Product notices (legitimate interest) stay: the objection to them is the
/// notice's own link (Art. 21). Returns the updated preferences.
///
/// # Errors
/// `Gone` for an unknown subscriber, or a store failure.
pub async fn leave_newsletters(
    ctx: &Context,
    subscriber: SubscriberId,
    requester: &Requester,
) -> Result<Preferences, LinkActionError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let consents: Vec<SubscriptionId> = load_preferences(&txn, subscriber)
        .await?
        .items
        .into_iter()
        .filter(|p| p.list.def.legal_basis == LegalBasis::Consent)
        .map(|p| p.subscription_id)
        .collect();
    leave_lists_in(
        &txn,
        subscriber,
        Some(&consents),
        requester,
        ("subscriber", "one_click"),
        (now, None),
    )
    .await?;
    let updated = load_preferences(&txn, subscriber).await?;
    store::commit(txn).await?;
    Ok(updated)
}

/// Leaves the chosen subscriptions (all when `only` is `None`) inside the caller's
/// transaction, each with a ledger entry of `actor` and `source` (and the campaign whose link
/// the person left by, if any); returns how many changed.
pub(super) async fn leave_lists_in(
    conn: &impl store::Connection,
    subscriber: SubscriberId,
    only: Option<&[SubscriptionId]>,
    requester: &Requester,
    actor_source: (&str, &str),
    (now, campaign): (DateTime<Utc>, Option<CampaignId>),
) -> Result<usize, LinkActionError> {
    let mut changed = 0;
    for pref in load_preferences(conn, subscriber).await?.items {
        if only.is_some_and(|ids| !ids.contains(&pref.subscription_id)) {
            continue;
        }
        let mut sub = store::subscriptions::find_for_update(conn, pref.subscription_id).await?;
        let before = sub.status;
        leave(
            conn,
            &mut sub,
            &pref.list,
            requester,
            actor_source,
            (now, campaign),
        )
        .await?;
        changed += usize::from(sub.status != before);
    }
    Ok(changed)
}
