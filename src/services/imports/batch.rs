//! One batch of rows for one list: look all its addresses up with three queries, decide each
//! row, then write the batch with multi-row inserts and one `imported` event per change.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::RowIssue;
use crate::{
    domain::{
        Attributes, ConsentAction, ConsentEvent, ConsentEventId, ConsentProof, ConsentText,
        EmailAddress, ListId, Locale, MailingList, Subscriber, SubscriberId, SubscriberName,
        SubscriberStatus, Subscription, SubscriptionId, SubscriptionStatus,
    },
    store::{
        self, StoreError,
        imports::{KnownSubscriber, KnownSubscription},
    },
};

/// A row that passed every check of its own: what is to be imported.
#[derive(Debug, Clone)]
pub(super) struct ImportRow {
    /// Line of the file (1 for the header), or 0 for an API request.
    pub line: u64,
    /// The address.
    pub email: EmailAddress,
    /// Keyed hash of the address (suppressions, repeated addresses).
    pub hash: String,
    /// Name for a new subscriber.
    pub name: SubscriberName,
    /// Language for a new subscriber.
    pub locale: Locale,
    /// Evidence of the consent given elsewhere.
    pub proof: ConsentProof,
    /// Attributes to set (merged into a known subscriber's).
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// A known subscriber and their attributes with the row's merged in, when that changes
    /// them (set by `plan`).
    pub merged: Option<(SubscriberId, Attributes)>,
}

/// What happens to one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Plan {
    /// A new subscriber with a confirmed subscription.
    NewSubscriber,
    /// A known subscriber gets a confirmed subscription to the list.
    NewSubscription(SubscriberId),
    /// A pending subscription of a known subscriber is confirmed.
    ConfirmPending(SubscriberId, SubscriptionId),
    /// Already confirmed: nothing to do.
    Unchanged,
    /// Not imported, for this reason.
    Skip(RowIssue),
}

/// Who imports into which list and when: what every written row shares.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ledger<'a> {
    pub list: &'a MailingList,
    /// The ledger's actor: `api:<token name>` or `cli`.
    pub actor: &'a str,
    /// The ledger's source when a row names none, and the subscriptions' source.
    pub source: &'static str,
    /// The time of the import.
    pub now: DateTime<Utc>,
}

/// Decides every row of a batch from the stored state of its addresses. `this_run` is an id
/// made when the import began: ids are time-ordered within the process, so a confirmed
/// subscription with a later id was imported from an earlier row of the same file.
///
/// # Errors
/// Store failure.
pub(super) async fn plan(
    conn: &impl store::Connection,
    list: ListId,
    rows: Vec<ImportRow>,
    this_run: Option<SubscriptionId>,
) -> Result<Vec<(ImportRow, Plan)>, StoreError> {
    let hashes: Vec<&str> = rows.iter().map(|r| r.hash.as_str()).collect();
    let suppressed = store::suppressions::among(conn, &hashes).await?;
    let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
    let known: HashMap<String, KnownSubscriber> =
        store::imports::subscribers_by_email(conn, &emails)
            .await?
            .into_iter()
            .map(|k| (k.email.clone(), k))
            .collect();
    let ids: Vec<SubscriberId> = known.values().map(|k| k.id).collect();
    let subscriptions = store::imports::subscriptions_to_list(conn, list, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|mut row| {
            let known = known.get(row.email.as_str());
            let existing = known.and_then(|k| subscriptions.get(&k.id)).copied();
            let mut plan = match existing {
                Some(s)
                    if s.status == SubscriptionStatus::Confirmed
                        && this_run.is_some_and(|first| s.id >= first) =>
                {
                    Plan::Skip(RowIssue::Duplicate(None))
                }
                _ => decide(suppressed.contains_key(&row.hash), known, existing),
            };
            let skipped = matches!(plan, Plan::Skip(_));
            if let Some(known) = known.filter(|_| !row.attributes.is_empty() && !skipped) {
                let mut merged = known.attributes.clone();
                match merged.merge(&row.attributes) {
                    Ok(changed) if !changed.is_empty() => row.merged = Some((known.id, merged)),
                    Ok(_) => {}
                    Err(e) => plan = Plan::Skip(RowIssue::Attribute(e)),
                }
            }
            (row, plan)
        })
        .collect())
}

/// The import rules: a suppressed address, a blocked or erased subscriber and a subscription
/// that was left are never (re)subscribed; pending becomes confirmed; confirmed stays.
fn decide(
    suppressed: bool,
    known: Option<&KnownSubscriber>,
    existing: Option<KnownSubscription>,
) -> Plan {
    if suppressed {
        return Plan::Skip(RowIssue::Suppressed);
    }
    let Some(known) = known else {
        return Plan::NewSubscriber;
    };
    match known.status {
        SubscriberStatus::Active => {}
        SubscriberStatus::Blocked => return Plan::Skip(RowIssue::Blocked),
        SubscriberStatus::Restricted => return Plan::Skip(RowIssue::Restricted),
        SubscriberStatus::Erased => return Plan::Skip(RowIssue::Erased),
    }
    let Some(existing) = existing else {
        return Plan::NewSubscription(known.id);
    };
    match existing.status {
        SubscriptionStatus::Pending => Plan::ConfirmPending(known.id, existing.id),
        SubscriptionStatus::Confirmed => Plan::Unchanged,
        // GDPR Art. 7(3) / 21: a withdrawal or objection stands until the person acts again.
        SubscriptionStatus::Unsubscribed => Plan::Skip(RowIssue::Unsubscribed),
    }
}

/// The subscriptions, confirmations and events of one batch, as they go to the database.
#[derive(Debug, Default)]
struct Writes {
    subscriptions: Vec<Subscription>,
    pending: Vec<SubscriptionId>,
    events: Vec<ConsentEvent>,
}

/// Writes the planned changes of a batch: subscribers, subscriptions, confirmations, and
/// one `imported` ledger event per changed subscription.
///
/// # Errors
/// Store failure (`Conflict` when a concurrent signup took an address meanwhile).
pub(super) async fn write(
    conn: &impl store::Connection,
    ledger: &Ledger<'_>,
    planned: &[(ImportRow, Plan)],
    texts: &mut TextMemo,
) -> Result<(), StoreError> {
    let now = ledger.now;
    let mut subscribers = Vec::new();
    // Per row, the subscriber whose subscription changes.
    let mut changed = Vec::with_capacity(planned.len());
    for (row, plan) in planned {
        let subscriber = match plan {
            Plan::NewSubscriber => {
                let subscriber = new_subscriber(row, now);
                let id = subscriber.id;
                subscribers.push(subscriber);
                id
            }
            Plan::NewSubscription(id) | Plan::ConfirmPending(id, _) => *id,
            Plan::Unchanged | Plan::Skip(_) => {
                changed.push(None);
                continue;
            }
        };
        changed.push(Some(subscriber));
        if let Some(text) = &row.proof.text {
            texts.remember(conn, text, now).await?;
        }
    }
    let backend = conn.get_database_backend();
    let first = store::imports::prepare_subscribers(backend, &subscribers, now)?;
    // The other statements are built while the database stores the subscribers.
    let (stored, rest) = tokio::join!(first.run(conn), async {
        let writes = writes_of(ledger, planned, &changed);
        Ok::<_, StoreError>((
            store::imports::prepare_subscriptions(backend, &writes.subscriptions, now)?,
            writes.pending,
            store::imports::prepare_events(backend, &writes.events)?,
        ))
    });
    stored?;
    let (subscriptions, pending, events) = rest?;
    for (row, plan) in planned {
        if let (Some((id, merged)), false) = (&row.merged, matches!(plan, Plan::Skip(_))) {
            store::privacy::set_attributes(conn, *id, merged, now).await?;
        }
    }
    subscriptions.run(conn).await?;
    store::imports::confirm_pending(conn, &pending, now).await?;
    events.run(conn).await
}

/// The subscriptions, confirmations and events of the planned rows, given the subscriber
/// whose subscription each row changes.
fn writes_of(
    ledger: &Ledger<'_>,
    planned: &[(ImportRow, Plan)],
    changed: &[Option<SubscriberId>],
) -> Writes {
    let mut writes = Writes::default();
    for ((row, plan), subscriber) in planned.iter().zip(changed) {
        let Some(subscriber) = *subscriber else {
            continue;
        };
        match plan {
            Plan::NewSubscriber | Plan::NewSubscription(_) => {
                writes
                    .subscriptions
                    .push(new_subscription(subscriber, ledger));
            }
            Plan::ConfirmPending(_, subscription) => writes.pending.push(*subscription),
            Plan::Unchanged | Plan::Skip(_) => continue,
        }
        writes
            .events
            .push(imported_event(subscriber, &row.proof, ledger));
    }
    writes
}

fn new_subscriber(row: &ImportRow, now: DateTime<Utc>) -> Subscriber {
    Subscriber {
        id: SubscriberId::new(),
        email: row.email.clone(),
        name: row.name.clone(),
        locale: row.locale,
        status: SubscriberStatus::Active,
        created_at: now,
        attributes: new_attributes(row),
    }
}

/// The attributes of a new subscriber: the row's (checked when the row was read).
fn new_attributes(row: &ImportRow) -> Attributes {
    let mut attributes = Attributes::default();
    // `parse_row` refused the row if this could fail.
    let _ = attributes.merge(&row.attributes);
    attributes
}

fn new_subscription(subscriber: SubscriberId, ledger: &Ledger<'_>) -> Subscription {
    Subscription {
        id: SubscriptionId::new(),
        subscriber_id: subscriber,
        list_id: ledger.list.id,
        // The evidence brought along stands in for the double opt-in (consent lists); a
        // legitimate-interest list needs none.
        status: SubscriptionStatus::Confirmed,
        source: ledger.source.to_owned(),
        requested_at: None,
        confirmed_at: Some(ledger.now),
        unsubscribed_at: None,
        confirmations_sent: 0,
        last_confirmation_at: None,
    }
}

fn imported_event(
    subscriber: SubscriberId,
    proof: &ConsentProof,
    ledger: &Ledger<'_>,
) -> ConsentEvent {
    ConsentEvent {
        id: ConsentEventId::new(),
        subscriber_id: subscriber,
        list_id: Some(ledger.list.id),
        action: ConsentAction::Imported,
        legal_basis: ledger.list.def.legal_basis,
        consent_text_hash: proof.text.as_ref().map(|t| t.hash().to_owned()),
        ip_anon: None,
        user_agent: None,
        actor: ledger.actor.to_owned(),
        source: proof.source_or(ledger.source).to_owned(),
        occurred_at: ledger.now,
        evidence: proof.evidence(),
        subject_hash: None,
        campaign_id: None,
    }
}

/// The consent texts already kept during this import, so each is written once; bounded.
#[derive(Debug, Default)]
pub(super) struct TextMemo(HashSet<String>);

impl TextMemo {
    /// The most texts remembered before the memo starts afresh.
    const CAPACITY: usize = 1000;

    /// Keeps the text by its hash unless this import already did.
    ///
    /// # Errors
    /// Store failure.
    async fn remember(
        &mut self,
        conn: &impl store::Connection,
        text: &ConsentText,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if self.0.contains(text.hash()) {
            return Ok(());
        }
        if self.0.len() >= Self::CAPACITY {
            self.0.clear();
        }
        store::consent_events::remember_text(conn, text, now).await?;
        self.0.insert(text.hash().to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(status: SubscriberStatus) -> KnownSubscriber {
        KnownSubscriber {
            id: SubscriberId::new(),
            email: "jane@example.com".into(),
            status,
            attributes: Attributes::default(),
        }
    }

    fn existing(status: SubscriptionStatus) -> Option<KnownSubscription> {
        Some(KnownSubscription {
            id: SubscriptionId::from_uuid(uuid::Uuid::nil()),
            status,
        })
    }

    #[test]
    fn the_import_rules_hold_for_every_case() {
        use SubscriptionStatus::{Confirmed, Pending, Unsubscribed};
        let active = known(SubscriberStatus::Active);
        let sub = SubscriptionId::from_uuid(uuid::Uuid::nil());
        assert_eq!(decide(false, None, None), Plan::NewSubscriber);
        assert_eq!(decide(true, None, None), Plan::Skip(RowIssue::Suppressed));
        assert_eq!(
            decide(true, Some(&active), existing(Confirmed)),
            Plan::Skip(RowIssue::Suppressed)
        );
        assert_eq!(
            decide(false, Some(&active), None),
            Plan::NewSubscription(active.id)
        );
        assert_eq!(
            decide(false, Some(&active), existing(Pending)),
            Plan::ConfirmPending(active.id, sub)
        );
        assert_eq!(
            decide(false, Some(&active), existing(Confirmed)),
            Plan::Unchanged
        );
        assert_eq!(
            decide(false, Some(&active), existing(Unsubscribed)),
            Plan::Skip(RowIssue::Unsubscribed)
        );
        for (status, issue) in [
            (SubscriberStatus::Blocked, RowIssue::Blocked),
            (SubscriberStatus::Restricted, RowIssue::Restricted),
            (SubscriberStatus::Erased, RowIssue::Erased),
        ] {
            for current in [None, existing(Pending), existing(Confirmed)] {
                assert_eq!(
                    decide(false, Some(&known(status)), current),
                    Plan::Skip(issue.clone())
                );
            }
        }
    }
}
