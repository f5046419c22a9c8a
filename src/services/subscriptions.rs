//! The subscriber journey: signup (double opt-in), confirmation, leaving, preferences.
//! Every state change appends a consent event in the same transaction; confirmation and
//! welcome e-mails are enqueued in it too, and sent by the delivery worker.

use chrono::{DateTime, Utc};

use super::{
    Requester,
    lists::{self, SignupListsError},
};
use crate::{
    context::Context,
    domain::{
        CampaignId, ConsentAction, ConsentEvent, ConsentEventId, EmailAddress, LegalBasis,
        ListSlug, Locale, MailingList, MessageKind, Subscriber, SubscriberId, SubscriberName,
        SubscriberStatus, Subscription, SubscriptionError, SubscriptionId, SubscriptionStatus,
        Transition,
    },
    store::{self, StoreError, deliveries::NewDelivery},
};

/// A signup form, parsed.
#[derive(Debug, Clone)]
pub struct Signup {
    /// The address to subscribe.
    pub email: EmailAddress,
    /// The name given (stored, never mailed).
    pub name: SubscriberName,
    /// The lists chosen.
    pub lists: Vec<ListSlug>,
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

/// Handles a signup form: creates or renews pending subscriptions and enqueues at most one
/// confirmation e-mail per list within the cooldown and cap. The outcome is the same
/// whether the address was new, pending, confirmed, unsubscribed or blocked.
///
/// # Errors
/// Missing consent, unacceptable lists, or a store failure; nothing is stored then.
pub async fn subscribe(
    ctx: &Context,
    signup: Signup,
    requester: &Requester,
) -> Result<(), SubscribeError> {
    let lists = lists::for_signup(ctx, &signup.lists).await?;
    if !signup.consent {
        return Err(SubscribeError::ConsentMissing);
    }
    // Two signups for a new address at once (a double click) both try to insert it on
    // PostgreSQL; the second fails on the unique address and is run once more, when it finds
    // the first's subscriber (locked, so the two take turns from there on).
    match subscribe_once(ctx, &signup, &lists, requester).await {
        Err(SubscribeError::Store(StoreError::Conflict(_))) => {
            subscribe_once(ctx, &signup, &lists, requester).await
        }
        outcome => outcome,
    }
}

async fn subscribe_once(
    ctx: &Context,
    signup: &Signup,
    lists: &[MailingList],
    requester: &Requester,
) -> Result<(), SubscribeError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.db).await?;
    // A suppressed address (hard bounce, erasure) is never mailed again, not even to confirm.
    let address_hash = ctx.address_hasher.hash(&signup.email);
    let suppressed = store::suppressions::contains(&txn, &address_hash).await?;
    let mut enqueued = false;
    if !suppressed {
        let subscriber = find_or_create_subscriber(&txn, signup, requester, now).await?;
        if subscriber.status == SubscriberStatus::Active {
            for list in lists {
                enqueued |= request(&txn, ctx, &subscriber, list, requester, now).await?;
            }
        }
    }
    store::commit(txn).await?;
    metrics::counter!("bulletin_signups_total").increment(1);
    if enqueued {
        ctx.outbox.notify_one();
    }
    Ok(())
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
    };
    store::subscribers::insert(conn, &subscriber, now).await?;
    Ok(subscriber)
}

/// Records one list's request; returns whether a confirmation e-mail was enqueued.
async fn request(
    conn: &impl store::Connection,
    ctx: &Context,
    subscriber: &Subscriber,
    list: &MailingList,
    requester: &Requester,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let text = list.consent_text(requester.locale);
    store::consent_events::remember_text(conn, &text, now).await?;
    let mut sub =
        match store::subscriptions::find_for_update_of(conn, subscriber.id, list.id).await? {
            Some(existing) => existing,
            None => {
                let fresh = new_pending(subscriber.id, list, now);
                store::subscriptions::insert(conn, &fresh, now).await?;
                fresh
            }
        };
    match sub.status.request() {
        Transition::Changed { to, .. } => {
            // A new request after leaving starts a new confirmation cycle.
            sub.status = to;
            sub.requested_at = Some(now);
            sub.confirmations_sent = 0;
            sub.last_confirmation_at = None;
        }
        Transition::Unchanged if sub.status == SubscriptionStatus::Confirmed => return Ok(false),
        Transition::Unchanged => sub.requested_at = Some(now),
    }
    let mut event = ledger_entry(
        &sub,
        list,
        ConsentAction::Requested,
        now,
        "subscriber",
        "form",
    );
    event.consent_text_hash = Some(text.hash().to_owned());
    stamp(&mut event, requester);
    store::consent_events::append(conn, &event).await?;
    let settings = &ctx.settings.subscriptions;
    let send =
        sub.may_resend_confirmation(now, settings.resend_cooldown, settings.max_confirmations);
    if send {
        enqueue(conn, ctx, MessageKind::Confirmation, &sub, now).await?;
        sub.confirmations_sent += 1;
        sub.last_confirmation_at = Some(now);
    }
    store::subscriptions::update(conn, &sub, now).await?;
    Ok(send)
}

fn new_pending(subscriber: SubscriberId, list: &MailingList, now: DateTime<Utc>) -> Subscription {
    Subscription {
        id: SubscriptionId::new(),
        subscriber_id: subscriber,
        list_id: list.id,
        status: SubscriptionStatus::Pending,
        source: "form".into(),
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
    /// Where the subscription stands.
    pub status: SubscriptionStatus,
    /// The subscriber's language, for the page.
    pub locale: Locale,
}

async fn summarise(
    conn: &impl store::Connection,
    sub: &Subscription,
    list: MailingList,
) -> Result<SubscriptionSummary, StoreError> {
    let subscriber = store::subscribers::find(conn, sub.subscriber_id).await?;
    Ok(SubscriptionSummary {
        list,
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
    Ok(summarise(&ctx.db, &sub, list).await?)
}

/// Confirms a pending subscription (double opt-in); repeated confirmation is harmless.
/// Enqueues the welcome e-mail when the list has one.
///
/// # Errors
/// `Gone`, `Refused` (the request was cancelled), or a store failure.
pub async fn confirm(
    ctx: &Context,
    id: SubscriptionId,
    requester: &Requester,
) -> Result<SubscriptionSummary, LinkActionError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.db).await?;
    let mut sub = store::subscriptions::find_for_update(&txn, id).await?;
    let list = store::lists::find(&txn, sub.list_id).await?;
    let mut welcome = false;
    if let Transition::Changed { to, action } = sub.status.confirm()? {
        sub.status = to;
        sub.confirmed_at = Some(now);
        store::subscriptions::update(&txn, &sub, now).await?;
        let mut event = ledger_entry(&sub, &list, action, now, "subscriber", "email_link");
        stamp(&mut event, requester);
        store::consent_events::append(&txn, &event).await?;
        store::subscribers::touch(&txn, sub.subscriber_id, now).await?;
        if list.def.welcome_message.is_some() {
            enqueue(&txn, ctx, MessageKind::Welcome, &sub, now).await?;
            welcome = true;
        }
    }
    let summary = summarise(&txn, &sub, list).await?;
    store::commit(txn).await?;
    if welcome {
        ctx.outbox.notify_one();
    }
    Ok(summary)
}

/// Sends a fresh confirmation link for a still-pending subscription, within the cooldown
/// and cap; otherwise does nothing. The caller shows the same page either way.
///
/// # Errors
/// `Gone`, or a store failure.
pub async fn resend_confirmation(ctx: &Context, id: SubscriptionId) -> Result<(), LinkActionError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.db).await?;
    let mut sub = store::subscriptions::find_for_update(&txn, id).await?;
    let settings = &ctx.settings.subscriptions;
    let send =
        sub.may_resend_confirmation(now, settings.resend_cooldown, settings.max_confirmations);
    if send {
        enqueue(&txn, ctx, MessageKind::Confirmation, &sub, now).await?;
        sub.confirmations_sent += 1;
        sub.last_confirmation_at = Some(now);
        store::subscriptions::update(&txn, &sub, now).await?;
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
    source: &str,
    campaign: Option<CampaignId>,
) -> Result<SubscriptionSummary, LinkActionError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.db).await?;
    let mut sub = store::subscriptions::find_for_update(&txn, id).await?;
    let list = store::lists::find(&txn, sub.list_id).await?;
    leave(
        &txn,
        &mut sub,
        &list,
        requester,
        ("subscriber", source),
        (now, campaign),
    )
    .await?;
    let summary = summarise(&txn, &sub, list).await?;
    store::commit(txn).await?;
    Ok(summary)
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
    let items = store::subscriptions::of_subscriber(conn, subscriber)
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
    Ok(Preferences { locale, items })
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
    let txn = store::begin_write(&ctx.db).await?;
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
