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
