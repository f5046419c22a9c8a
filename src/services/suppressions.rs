//! The suppression list as people see it: who may never be mailed again and why, an
//! operator's own additions, and lifting one (admins only, with a note, audited).

use chrono::{DateTime, Utc};

use super::{
    audit::{self, Change},
    paging::{Page, fetch_size},
};
use crate::{
    context::Context,
    domain::{Action, Actor, EmailAddress, Forbidden, Subscriber, SubscriberId, SuppressionReason},
    store::{self, StoreError, suppressions::StoredSuppression},
};

/// A suppression with the person it names, where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Opaque and stable: the keyed hash of the address.
    pub id: String,
    /// Why.
    pub reason: SuppressionReason,
    /// The refusal's status line, the note, or what else was recorded.
    pub detail: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The person, while they exist (not after an erasure; not for suppressions from before
    /// Bulletin kept it).
    pub subscriber: Option<(SubscriberId, EmailAddress)>,
}

/// Why a suppression change was refused.
#[derive(Debug, thiserror::Error)]
pub enum SuppressionsError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// No suppression has this id.
    #[error("there is no such suppression")]
    NotFound,
    /// Lifting needs a note saying why.
    #[error("note: say why the suppression is lifted")]
    NoteMissing,
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A page of suppressions (of one reason, or all), by id.
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn page(
    ctx: &Context,
    actor: &Actor,
    reason: Option<SuppressionReason>,
    after: Option<&str>,
    limit: u64,
) -> Result<Page<Suppression, String>, SuppressionsError> {
    actor.authorize(Action::Read)?;
    let found = store::suppressions::page(&ctx.db, reason, after, fetch_size(limit)).await?;
    let page = Page::cut(found, limit, |s| s.address_hash.clone());
    let ids: Vec<SubscriberId> = page.items.iter().filter_map(|s| s.subscriber_id).collect();
    let people = store::subscribers::find_many(&ctx.db, &ids).await?;
    let named = |s: StoredSuppression| {
        let subscriber = s.subscriber_id.and_then(|id| {
            people
                .iter()
                .find(|p| p.id == id)
                .map(|p| (p.id, p.email.clone()))
        });
        Suppression {
            id: s.address_hash,
            reason: s.reason,
            detail: s.detail,
            created_at: s.created_at,
            subscriber,
        }
    };
    Ok(Page {
        items: page.items.into_iter().map(named).collect(),
        next: page.next,
    })
}

/// Suppresses an address by hand (`manual`, with the note as detail); a no-op when it is
/// suppressed already. The address need not belong to anyone.
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn add(
    ctx: &Context,
    actor: &Actor,
    email: &EmailAddress,
    note: Option<&str>,
) -> Result<Suppression, SuppressionsError> {
    actor.authorize(Action::ManageSubscribers)?;
    let now = ctx.clock.now();
    let hash = ctx.address_hasher.hash(email);
    let txn = store::begin_write(&ctx.writer).await?;
    let subscriber = store::subscribers::find_by_email(&txn, email).await?;
    // A complaint or erasure gives way to the operator's block, which only an admin lifts.
    let existing = store::suppressions::find(&txn, &hash).await?;
    if existing.is_none_or(|e| e.reason.is_lifted_by_opt_in()) {
        let why = (SuppressionReason::Manual, note);
        store::suppressions::add(&txn, &hash, why, subscriber.as_ref().map(|s| s.id), now).await?;
        let change = Change::of("suppression.add", &hash).detail(note.unwrap_or_default());
        audit::append(&txn, actor, change, now).await?;
    }
    let stored = store::suppressions::find(&txn, &hash)
        .await?
        .ok_or(SuppressionsError::NotFound)?;
    store::commit(txn).await?;
    Ok(Suppression {
        id: stored.address_hash,
        reason: stored.reason,
        detail: stored.detail,
        created_at: stored.created_at,
        subscriber: subscriber.map(|s| (s.id, s.email)),
    })
}

/// Lifts a suppression: the address may be mailed again. Admins only, with a note saying
/// why; the audit log keeps the reason it had and the note.
///
/// # Errors
/// `Forbidden`, `NoteMissing`, `NotFound`, or a store failure.
pub async fn lift(
    ctx: &Context,
    actor: &Actor,
    id: &str,
    note: &str,
) -> Result<(), SuppressionsError> {
    actor.authorize(Action::HandlePersonalData)?;
    let note = note.trim();
    if note.is_empty() {
        return Err(SuppressionsError::NoteMissing);
    }
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let Some(stored) = store::suppressions::find(&txn, id).await? else {
        return Err(SuppressionsError::NotFound);
    };
    store::suppressions::remove(&txn, id).await?;
    let detail = format!("was {}: {note}", stored.reason);
    audit::append(
        &txn,
        actor,
        Change::of("suppression.lift", id).detail(detail),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(())
}

/// Whether a person's address is suppressed: the reason and since when.
///
/// # Errors
/// Store failure.
pub async fn of(
    ctx: &Context,
    subscriber: &Subscriber,
) -> Result<Option<(SuppressionReason, DateTime<Utc>)>, StoreError> {
    let hash = ctx.address_hasher.hash(&subscriber.email);
    Ok(store::suppressions::find(&ctx.db, &hash)
        .await?
        .map(|s| (s.reason, s.created_at)))
}

/// What an import of a suppression list did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    /// Addresses suppressed now.
    pub added: u64,
    /// Addresses that were suppressed already.
    pub already: u64,
    /// Rows that were not taken, by line (at most 100 listed).
    pub errors: Vec<ImportRowError>,
}

/// A row of a suppression list that was not taken.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportRowError {
    /// The line in the file.
    pub line: u64,
    /// Why.
    pub message: String,
}

/// Why a suppression list was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// Not a CSV with an `email` column.
    #[error("{0}")]
    BadFile(String),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports another provider's suppression list: a CSV with an `email` column and optionally
/// `reason` (a bounce becomes `hard_bounce`, a complaint, spam or abuse report `complaint`,
/// anything else `manual`). One transaction; bad rows are reported by line and skipped.
///
/// # Errors
/// `Forbidden`, `BadFile` (no header with `email`, or not CSV), or a store failure.
pub async fn import(
    ctx: &Context,
    actor: &Actor,
    file: std::fs::File,
) -> Result<ImportReport, ImportError> {
    actor.authorize(Action::ManageSubscribers)?;
    let (rows, mut report) = tokio::task::spawn_blocking(move || read_list(file))
        .await
        .map_err(|e| ImportError::BadFile(e.to_string()))??;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    for (email, reason) in rows {
        let hash = ctx.address_hasher.hash(&email);
        // An existing complaint or erasure gives way to an imported block the person cannot
        // lift (a bounce, a manual entry); anything else existing stays.
        let existing = store::suppressions::find(&txn, &hash).await?;
        if existing.is_some_and(|e| !e.reason.is_lifted_by_opt_in() || reason.is_lifted_by_opt_in())
        {
            report.already += 1;
            continue;
        }
        let subscriber = store::subscribers::find_by_email(&txn, &email).await?;
        let why = (reason, Some("imported from a suppression list"));
        store::suppressions::add(&txn, &hash, why, subscriber.map(|s| s.id), now).await?;
        report.added += 1;
    }
    let detail = format!(
        "{} rows, {} added, {} already",
        report.rows, report.added, report.already
    );
    audit::append(
        &txn,
        actor,
        Change::of("suppression.import", "csv").detail(detail),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(report)
}

type ListRows = Vec<(EmailAddress, SuppressionReason)>;

fn read_list(file: std::fs::File) -> Result<(ListRows, ImportReport), ImportError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let header = reader
        .headers()
        .map_err(|e| ImportError::BadFile(format!("line 1: {e}")))?
        .clone();
    let column = |name: &str| {
        header.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    };
    let Some(email_col) = column("email") else {
        return Err(ImportError::BadFile(
            "line 1: the header must name an email column".into(),
        ));
    };
    let reason_col = column("reason");
    let mut rows = Vec::new();
    let mut report = ImportReport::default();
    for (n, record) in reader.records().enumerate() {
        let line = u64::try_from(n).unwrap_or(u64::MAX).saturating_add(2);
        report.rows += 1;
        let record = record.map_err(|e| ImportError::BadFile(format!("line {line}: {e}")))?;
        let raw = record.get(email_col).unwrap_or_default();
        match EmailAddress::parse(raw) {
            Ok(email) => {
                let reason = reason_col.and_then(|c| record.get(c)).unwrap_or_default();
                rows.push((email, reason_of(reason)));
            }
            Err(e) if report.errors.len() < 100 => report.errors.push(ImportRowError {
                line,
                message: format!("email: {e}"),
            }),
            Err(_) => {}
        }
    }
    Ok((rows, report))
}

/// Another provider's words for why an address is suppressed, as Bulletin's reasons.
fn reason_of(theirs: &str) -> SuppressionReason {
    let theirs = theirs.to_ascii_lowercase();
    if theirs.contains("bounce") {
        SuppressionReason::HardBounce
    } else if ["complaint", "spam", "abuse"]
        .iter()
        .any(|w| theirs.contains(w))
    {
        SuppressionReason::Complaint
    } else {
        SuppressionReason::Manual
    }
}
