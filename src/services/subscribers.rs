//! Use cases of the operator's view of subscribers: look one up and read their ledger.

use super::paging::Page;
use super::{
    audit::{self, Change},
    csv_export::CsvTable,
};
use crate::{
    context::Context,
    domain::{
        Action, Actor, ConsentEvent, ConsentEventId, EmailAddress, Forbidden, ListSlug, Subscriber,
        SubscriberId, SubscriptionStatus,
    },
    store::{self, StoreError},
};

/// A subscriber with each subscription's list slug and status.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct SubscriberOverview {
    pub subscriber: Subscriber,
    /// (list slug, status) per subscription.
    pub subscriptions: Vec<(ListSlug, SubscriptionStatus)>,
    /// Why and since when the address is never mailed, if it is suppressed.
    pub suppressed: Option<(
        crate::domain::SuppressionReason,
        chrono::DateTime<chrono::Utc>,
    )>,
}

/// The subscriber with this id.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn find(ctx: &Context, id: SubscriberId) -> Result<Subscriber, StoreError> {
    store::subscribers::find(&ctx.db, id).await
}

/// The subscriber with this address and their subscriptions.
///
/// # Errors
/// Store failure.
pub async fn find_by_email(
    ctx: &Context,
    email: &EmailAddress,
) -> Result<Option<SubscriberOverview>, StoreError> {
    let Some(subscriber) = store::subscribers::find_by_email(&ctx.db, email).await? else {
        return Ok(None);
    };
    let lists = store::lists::all(&ctx.db).await?;
    let subscriptions = store::subscriptions::of_subscriber(&ctx.db, subscriber.id)
        .await?
        .into_iter()
        .filter_map(|s| {
            let list = lists.iter().find(|l| l.id == s.list_id)?;
            Some((list.def.slug.clone(), s.status))
        })
        .collect();
    let suppressed = super::suppressions::of(ctx, &subscriber).await?;
    Ok(Some(SubscriberOverview {
        subscriber,
        subscriptions,
        suppressed,
    }))
}

/// A subscriber's consent ledger, oldest first.
///
/// # Errors
/// `NotFound` for an unknown subscriber, or a store failure.
pub async fn consent_history(
    ctx: &Context,
    id: SubscriberId,
) -> Result<Vec<ConsentEvent>, StoreError> {
    store::subscribers::find(&ctx.db, id).await?;
    store::consent_events::for_subscriber(&ctx.db, id).await
}

/// A page of a subscriber's ledger after the event `after`, oldest first, and the next
/// cursor.
///
/// # Errors
/// `NotFound` for an unknown subscriber or a cursor not of theirs, or a store failure.
pub async fn consent_history_page(
    ctx: &Context,
    id: SubscriberId,
    after: Option<ConsentEventId>,
    limit: u64,
) -> Result<Page<ConsentEvent, ConsentEventId>, StoreError> {
    use super::paging;
    store::subscribers::find(&ctx.db, id).await?;
    let found =
        store::consent_events::page_for_subscriber(&ctx.db, id, after, paging::fetch_size(limit))
            .await?;
    Ok(Page::cut(found, limit, |e| e.id))
}

/// One page of a subscriber search, newest first, and the cursor of the next page.
///
/// # Errors
/// Store failure.
pub async fn search(
    ctx: &Context,
    filter: &store::overview::SubscriberFilter,
    before: Option<SubscriberId>,
    page_size: u64,
) -> Result<Page<Subscriber, SubscriberId>, StoreError> {
    let fetch = super::paging::fetch_size(page_size);
    let found = store::overview::search_subscribers(&ctx.db, filter, before, fetch).await?;
    Ok(Page::cut(found, page_size, |s| s.id))
}

/// A page of a search as the admin UI shows it: how many match in all, and, when the search
/// is for one list, each person's status on that list.
#[derive(Debug, Clone)]
pub struct Browse {
    /// The page of people.
    pub page: Page<Subscriber, SubscriberId>,
    /// How many people match, on every page together.
    pub total: u64,
    /// Each person's subscription status on the list searched for (empty without a list).
    pub on_list: std::collections::HashMap<SubscriberId, SubscriptionStatus>,
}

/// A page of people `filter` finds, with the total and their status on its list.
///
/// # Errors
/// Store failure.
pub async fn browse(
    ctx: &Context,
    filter: &store::overview::SubscriberFilter,
    before: Option<SubscriberId>,
    page_size: u64,
) -> Result<Browse, StoreError> {
    let page = search(ctx, filter, before, page_size).await?;
    let total = store::overview::count_subscribers(&ctx.db, filter).await?;
    let on_list = match filter.list {
        Some(list) => {
            let people: Vec<SubscriberId> = page.items.iter().map(|s| s.id).collect();
            store::overview::statuses_on_list(&ctx.db, list, &people)
                .await?
                .into_iter()
                .collect()
        }
        None => std::collections::HashMap::new(),
    };
    Ok(Browse {
        page,
        total,
        on_list,
    })
}

/// Rows read per page while exporting.
const EXPORT_PAGE: u64 = 1000;

/// The export was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The actor may not copy the addresses out.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Everyone a search finds, as CSV (id, email, name, locale, status, created_at), read page
/// by page along the search's keyset. A copy of every address is more than reading one
/// record: it is for those who manage subscribers, and it is audited.
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn export_csv(
    ctx: &Context,
    actor: &Actor,
    filter: &store::overview::SubscriberFilter,
) -> Result<String, ExportError> {
    actor.authorize(Action::ManageSubscribers)?;
    let mut table = CsvTable::new(["id", "email", "name", "locale", "status", "created_at"]);
    let (mut before, mut rows) = (None, 0_u64);
    loop {
        let Page { items: found, next } = search(ctx, filter, before, EXPORT_PAGE).await?;
        for s in &found {
            table.row([
                s.id.to_string(),
                s.email.as_str().to_owned(),
                s.name.as_str().to_owned(),
                s.locale.as_str().to_owned(),
                s.status.as_str().to_owned(),
                s.created_at.to_rfc3339(),
            ]);
        }
        rows += found.len() as u64;
        match next {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    let change = Change {
        action: "subscribers.export",
        target: filter.list.map(|l| l.to_string()),
        detail: Some(format!("{rows} rows")),
    };
    audit::record(ctx, actor, change).await?;
    Ok(table.into_string())
}

/// A subscriber with every subscription (and its list) and the whole consent ledger.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct SubscriberDetail {
    pub subscriber: Subscriber,
    /// Subscriptions with their lists.
    pub subscriptions: Vec<(crate::domain::MailingList, crate::domain::Subscription)>,
    /// The ledger, oldest first.
    pub history: Vec<ConsentEvent>,
    /// Why and since when the address is never mailed, if it is suppressed.
    pub suppressed: Option<(
        crate::domain::SuppressionReason,
        chrono::DateTime<chrono::Utc>,
    )>,
}

/// Everything the subscriber page shows.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn detail(ctx: &Context, id: SubscriberId) -> Result<SubscriberDetail, StoreError> {
    let subscriber = store::subscribers::find(&ctx.db, id).await?;
    let lists = store::lists::all(&ctx.db).await?;
    let subscriptions = store::subscriptions::of_subscriber(&ctx.db, id)
        .await?
        .into_iter()
        .filter_map(|s| {
            let list = lists.iter().find(|l| l.id == s.list_id)?.clone();
            Some((list, s))
        })
        .collect();
    let history = store::consent_events::for_subscriber(&ctx.db, id).await?;
    let suppressed = super::suppressions::of(ctx, &subscriber).await?;
    Ok(SubscriberDetail {
        subscriber,
        subscriptions,
        history,
        suppressed,
    })
}

/// The most people one bulk action may reach: one request does the work person by person,
/// and beyond this a narrower filter, the CSV import or the API is the better tool.
pub const MAX_BULK_PEOPLE: u64 = 10_000;

/// What a bulk action does to each person the filter finds.
#[derive(Debug, Clone)]
pub enum BulkAction {
    /// Ends every subscription (as the person's own "unsubscribe from every list").
    Unsubscribe,
    /// Blocks the person.
    Block,
    /// Adds the person to a list, by the rules of an import row; for a consent list, the
    /// evidence of consent applies to everyone.
    AddToList {
        /// The list.
        list: ListSlug,
        /// When they consented.
        consent_at: Option<String>,
        /// Where they consented.
        consent_source: Option<String>,
        /// What they agreed to.
        consent_text: Option<String>,
    },
}

impl BulkAction {
    fn audit_action(&self) -> &'static str {
        match self {
            Self::Unsubscribe => "subscriber.bulk_unsubscribe",
            Self::Block => "subscriber.bulk_block",
            Self::AddToList { .. } => "subscriber.bulk_add",
        }
    }
}

/// What a bulk action did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkReport {
    /// People the filter found.
    pub found: u64,
    /// People the action changed.
    pub changed: u64,
    /// People it left as they were (already unsubscribed, blocked, on the list).
    pub unchanged: u64,
    /// People it may not act on (suppressed, left the list, blocked, erased meanwhile).
    pub refused: u64,
}

/// Why a bulk action was not done (nothing was changed then).
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The filter finds more people than one request may act on.
    #[error(
        "the filter finds {0} people; one bulk action reaches at most {MAX_BULK_PEOPLE}: narrow the filter, or use the CSV import or the API"
    )]
    TooMany(u64),
    /// The action's own fields are wrong (an unknown list, missing evidence of consent).
    #[error("{0}")]
    Invalid(String),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How many people a filter finds.
///
/// # Errors
/// Store failure.
pub async fn count(
    ctx: &Context,
    filter: &store::overview::SubscriberFilter,
) -> Result<u64, StoreError> {
    store::overview::count_subscribers(&ctx.db, filter).await
}

/// Does `action` to everyone `filter` finds, person by person through the same services as
/// the one-person actions (each with its own ledger entries and audit entry), and records one
/// audit entry for the whole with the filter and the counts. Refuses above
/// `MAX_BULK_PEOPLE`. The set is read first, page by page along the keyset, so that people
/// the action moves out of the filter are neither missed nor visited twice.
///
/// # Errors
/// `Forbidden`, `TooMany`, `Invalid` (nothing done), or a store failure (the people done so
/// far stay done, each on their own record).
pub async fn bulk(
    ctx: &Context,
    actor: &Actor,
    filter: &store::overview::SubscriberFilter,
    action: &BulkAction,
) -> Result<BulkReport, BulkError> {
    actor.authorize(Action::ManageSubscribers)?;
    let found = count(ctx, filter).await?;
    if found > MAX_BULK_PEOPLE {
        return Err(BulkError::TooMany(found));
    }
    let people = everyone(ctx, filter).await?;
    let mut report = BulkReport {
        found: people.len() as u64,
        ..BulkReport::default()
    };
    for person in &people {
        match act_on(ctx, actor, person, action).await? {
            Some(true) => report.changed += 1,
            Some(false) => report.unchanged += 1,
            None => report.refused += 1,
        }
    }
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let change = Change {
        action: action.audit_action(),
        target: None,
        detail: Some(describe(filter, action, &report)),
    };
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    tracing::info!(
        found = report.found,
        changed = report.changed,
        refused = report.refused,
        "bulk action on subscribers done"
    );
    Ok(report)
}

/// Everyone the filter finds, newest first, read a page at a time.
async fn everyone(
    ctx: &Context,
    filter: &store::overview::SubscriberFilter,
) -> Result<Vec<Subscriber>, StoreError> {
    const PAGE: u64 = 500;
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let Page { items, next } = search(ctx, filter, before, PAGE).await?;
        out.extend(items);
        match next {
            Some(next) if (out.len() as u64) <= MAX_BULK_PEOPLE => before = Some(next),
            _ => return Ok(out),
        }
    }
}

/// Acts on one person: `Some(changed)`, or `None` when the action may not apply to them.
async fn act_on(
    ctx: &Context,
    actor: &Actor,
    person: &Subscriber,
    action: &BulkAction,
) -> Result<Option<bool>, BulkError> {
    use super::imports::{self, AddSubscriberError, NewSubscriber};
    use super::privacy::{self, Party, PrivacyError};
    let party = Party::operator(actor, None);
    let done = match action {
        BulkAction::Unsubscribe => privacy::withdraw(ctx, person.id, None, &party)
            .await
            .map(|n| n > 0),
        BulkAction::Block => {
            let before = person.status;
            privacy::block(ctx, person.id, true, &party)
                .await
                .map(|after| after != before)
        }
        BulkAction::AddToList {
            list,
            consent_at,
            consent_source,
            consent_text,
        } => {
            let new = NewSubscriber {
                email: person.email.clone(),
                name: person.name.clone(),
                locale: person.locale,
                lists: vec![list.clone()],
                consent_at: consent_at.clone(),
                consent_source: consent_source.clone(),
                consent_text: consent_text.clone(),
            };
            return match imports::add_subscriber(ctx, actor, new).await {
                Ok((_, changed)) => Ok(Some(changed)),
                Err(AddSubscriberError::Refused { .. }) => Ok(None),
                Err(AddSubscriberError::Forbidden(e)) => Err(e.into()),
                Err(AddSubscriberError::Store(e)) => Err(e.into()),
                Err(e) => Err(BulkError::Invalid(e.to_string())),
            };
        }
    };
    match done {
        Ok(changed) => Ok(Some(changed)),
        Err(PrivacyError::Forbidden(e)) => Err(e.into()),
        Err(PrivacyError::Store(e)) => Err(e.into()),
        Err(_) => Ok(None),
    }
}

/// The audit detail of a bulk action: the filter (a search text only as its presence: it
/// may be an address) and the counts.
fn describe(
    filter: &store::overview::SubscriberFilter,
    action: &BulkAction,
    r: &BulkReport,
) -> String {
    let mut parts = Vec::new();
    if filter.query.is_some() {
        parts.push("search text".to_owned());
    }
    if let Some(list) = filter.list {
        parts.push(format!("list {list}"));
    }
    if let Some(status) = filter.status {
        parts.push(format!("status {}", status.as_str()));
    }
    if let Some(suppressed) = filter.suppressed {
        parts.push(format!("suppressed {suppressed}"));
    }
    let filter = match parts.is_empty() {
        true => "everyone".to_owned(),
        false => parts.join(", "),
    };
    let to = match action {
        BulkAction::AddToList { list, .. } => format!(" to {}", list.as_str()),
        BulkAction::Unsubscribe | BulkAction::Block => String::new(),
    };
    format!(
        "{}{to}; filter: {filter}; found {}, changed {}, unchanged {}, refused {}",
        action.audit_action(),
        r.found,
        r.changed,
        r.unchanged,
        r.refused
    )
}
