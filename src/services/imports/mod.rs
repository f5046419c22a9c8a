//! Bulk import of subscribers into one list from a CSV stream (HTTP, CLI and the admin UI's
//! uploads), and adding one subscriber through the API, by the same rules per row. An import
//! reads the file in batches of `import.batch_rows` (memory stays flat) and is one
//! transaction: all of it or nothing. A dry run takes the same steps and writes nothing.

mod batch;
mod csv;
pub mod uploads;

use std::{
    collections::HashMap,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{self, Poll},
    time::Instant,
};

use chrono::{DateTime, Utc};
use tokio::{
    io::{AsyncRead, ReadBuf},
    sync::mpsc,
};

pub use self::csv::{Preview, PreviewColumn, PreviewRow};

use self::batch::{ImportRow, Ledger, Plan, TextMemo};
use super::{
    audit::{self, Change},
    subscribers::{self, SubscriberOverview},
};
use crate::{
    context::Context,
    domain::{
        Action, Actor, AttributeError, ConsentProof, EmailAddress, EmailAddressError, Forbidden,
        LegalBasis, ListSlug, Locale, MailingList, ProofError, SubscriberName, SubscriberNameError,
        SubscriptionId,
    },
    signing::AddressHasher,
    store::{self, StoreError},
};

/// The most row problems an import report lists.
const MAX_REPORTED: usize = 1000;

/// What an import did: counts per outcome, and the rows not imported with the reason.
/// `rows = imported + unchanged + skipped`, and every skipped row has an entry in `errors`
/// (the first 1000, by line).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// The list's slug.
    pub list: String,
    /// Whether this was a dry run: the counts say what an import would do; nothing was written.
    pub dry_run: bool,
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Rows that subscribed someone (new, or pending before).
    pub imported: u64,
    /// Rows for subscriptions that were confirmed already.
    pub unchanged: u64,
    /// Rows not imported (invalid, repeated, suppressed, unsubscribed, blocked).
    pub skipped: u64,
    /// Why rows were skipped, in line order.
    pub errors: Vec<RowProblem>,
    /// Whether more rows were skipped than `errors` lists.
    pub errors_truncated: bool,
}

/// One row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    /// Its line (the header is line 1).
    pub line: u64,
    /// The address as given, if there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A stable code: see `RowIssue::code`.
    pub code: &'static str,
    /// A readable reason.
    pub error: String,
}

/// Why one row (or one API request for one list) is not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowIssue {
    /// The address is not acceptable.
    #[error("{0}")]
    InvalidEmail(EmailAddressError),
    /// The name is not acceptable.
    #[error("{0}")]
    InvalidName(SubscriberNameError),
    /// The evidence of consent is missing or not acceptable.
    #[error("{0}")]
    Proof(ProofError),
    /// The address came earlier in the file (on this line, if known); the first row wins.
    #[error("the address already appeared {}", match .0 {
        Some(line) => format!("on line {line}"),
        None => "earlier in the file".to_owned(),
    })]
    Duplicate(Option<u64>),
    /// The address is on the suppression list (hard bounce, complaint, erasure).
    #[error("the address is suppressed and is never subscribed again")]
    Suppressed,
    /// The person left the list (or objected); only they can subscribe again.
    #[error("the person left this list; an import never subscribes them again")]
    Unsubscribed,
    /// The subscriber is blocked by the operator.
    #[error("the subscriber is blocked")]
    Blocked,
    /// The subscriber restricted processing (GDPR Art. 18): nothing is added meanwhile.
    #[error("the subscriber has restricted processing of their data")]
    Restricted,
    /// The subscriber was erased.
    #[error("the subscriber was erased")]
    Erased,
    /// An attribute cell is not of its column's type, or the attributes break the limits.
    #[error("{0}")]
    Attribute(AttributeError),
}

impl RowIssue {
    /// The stable code: `invalid_email`, `invalid_name`, `missing_consent_proof`,
    /// `invalid_consent_proof`, `duplicate`, `suppressed`, `unsubscribed`, `blocked`, `restricted`,
    /// `erased`, `invalid_attribute`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEmail(_) => "invalid_email",
            Self::InvalidName(_) => "invalid_name",
            Self::Proof(ProofError::Missing(_)) => "missing_consent_proof",
            Self::Proof(_) => "invalid_consent_proof",
            Self::Duplicate(_) => "duplicate",
            Self::Suppressed => "suppressed",
            Self::Unsubscribed => "unsubscribed",
            Self::Blocked => "blocked",
            Self::Restricted => "restricted",
            Self::Erased => "erased",
            Self::Attribute(_) => "invalid_attribute",
        }
    }
}

/// Why an import was refused as a whole; nothing of it is kept.
#[derive(Debug, thiserror::Error)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub enum ImportError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// No list has this slug.
    #[error("there is no list {0:?}")]
    UnknownList(String),
    /// The header names no `email` column.
    #[error("line 1: the header has no email column")]
    MissingEmailColumn,
    /// The file is not well-formed CSV (or not UTF-8) at this line.
    #[error("line {line}: {reason}")]
    Malformed {
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The stream failed (the client went away, or the body is too large).
    #[error("the file could not be read: {0}")]
    Read(#[source] std::io::Error),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How far a running import is, for a progress bar: bytes of the file read and data rows
/// checked so far. Shared with whoever shows it.
#[derive(Debug, Default)]
pub struct ImportProgress {
    bytes_read: AtomicU64,
    rows: AtomicU64,
}

impl ImportProgress {
    /// Bytes of the file read so far (the reader runs up to one batch ahead of the rows).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Data rows checked (and, unless a dry run, written) so far.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }
}

/// How to run an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Check every row as an import would, and write nothing: the report says what an import
    /// would do now.
    pub dry_run: bool,
    /// Where to report progress, if anywhere.
    pub progress: Option<Arc<ImportProgress>>,
}

/// Imports the CSV rows of `source` into the list `slug` on behalf of `actor` (`api:<token
/// name>` or `cli`). Bad rows are reported and skipped; the rest is committed at once.
///
/// # Errors
/// An unknown list, a bad header, a syntax error or unreadable stream anywhere in the file,
/// or a store failure; nothing is kept then.
pub async fn import_csv<R: AsyncRead + Unpin + Send + 'static>(
    ctx: &Context,
    actor: &Actor,
    slug: &ListSlug,
    source: R,
) -> Result<ImportReport, ImportError> {
    import_csv_with(ctx, actor, slug, source, ImportOptions::default()).await
}

/// `import_csv` with options: a dry run, and progress reporting.
///
/// A dry run reads and checks the whole file in the same batches, by the same rules and the
/// same look-ups, inside a transaction that only reads (plus the import's temporary table of
/// addresses met) and is rolled back; on SQLite it does not take the write lock.
///
/// # Errors
/// As `import_csv`; a dry run refuses a file exactly when an import would.
pub async fn import_csv_with<R: AsyncRead + Unpin + Send + 'static>(
    ctx: &Context,
    actor: &Actor,
    slug: &ListSlug,
    source: R,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    actor.authorize(Action::ManageSubscribers)?;
    let started = Instant::now();
    let actor_name = actor.name();
    let list = store::lists::find_by_slugs(&ctx.db, std::slice::from_ref(slug))
        .await?
        .pop()
        .ok_or_else(|| ImportError::UnknownList(slug.as_str().to_owned()))?;
    let source = Counted {
        inner: source,
        progress: options.progress.clone(),
    };
    // The header is checked before the transaction starts.
    let rows = csv::CsvRows::open(source).await?;
    let ledger = Ledger {
        list: &list,
        actor: &actor_name,
        source: "import",
        now: ctx.clock.now(),
    };
    let checks = RowChecks {
        legal_basis: list.def.legal_basis,
        now: ledger.now,
        hasher: ctx.address_hasher.clone(),
        batch_rows: ctx.settings.import.batch_rows,
    };
    let mut reader = BatchReader::spawn(rows, checks);
    let mut run = Run::new(slug, &options);
    let txn = match options.dry_run {
        true => store::begin_read(&ctx.db).await?,
        false => store::begin_write(&ctx.bulk_db).await?,
    };
    store::imports::widen_cache(&txn).await?;
    store::imports::open_seen(&txn).await?;
    import_batches(&txn, &mut reader, &ledger, &mut run).await?;
    store::imports::close_seen(&txn).await?;
    store::imports::narrow_cache(&txn).await?;
    let ending = Instant::now();
    let report = run.report;
    match options.dry_run {
        true => store::roll_back(txn).await?,
        false => {
            let detail = format!(
                "{} rows, {} imported, {} unchanged, {} skipped",
                report.rows, report.imported, report.unchanged, report.skipped
            );
            let change = Change::of("subscribers.import", slug.as_str()).detail(detail);
            audit::append(&txn, actor, change, ledger.now).await?;
            store::commit(txn).await?;
            checkpoint_in_background(ctx);
        }
    }
    tracing::info!(
        list = slug.as_str(),
        dry_run = report.dry_run,
        rows = report.rows,
        imported = report.imported,
        seconds = started.elapsed().as_secs_f64(),
        commit_seconds = ending.elapsed().as_secs_f64(),
        "import finished"
    );
    Ok(report)
}

/// What an import checks before it reads the file: that `actor` may import and that the
/// list exists; run before a body is spooled, so that a refused import costs no disk.
///
/// # Errors
/// `Forbidden`, `UnknownList`, or a store failure.
pub async fn check(ctx: &Context, actor: &Actor, slug: &ListSlug) -> Result<(), ImportError> {
    actor.authorize(Action::ManageSubscribers)?;
    store::lists::find_by_slugs(&ctx.db, std::slice::from_ref(slug))
        .await?
        .pop()
        .ok_or_else(|| ImportError::UnknownList(slug.as_str().to_owned()))?;
    Ok(())
}

/// Copies a CSV that arrives over the network into an anonymous file under
/// `<data.dir>/imports/` (it has no name, so it is gone once dropped, even after a crash) and
/// returns it rewound: the import's transaction then opens only once the whole file is here,
/// so a client that sends slowly cannot hold the database's write lock.
///
/// # Errors
/// The stream fails (`Read`; `FileTooLarge` past the body limit), or the disk does.
pub async fn spool<R: AsyncRead + Unpin>(
    ctx: &Context,
    mut source: R,
) -> Result<tokio::fs::File, ImportError> {
    use tokio::io::{AsyncSeekExt, AsyncWriteExt};
    let dir = ctx.settings.data_dir.join(uploads::DIR);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ImportError::Read)?;
    let file = tokio::task::spawn_blocking(move || tempfile::tempfile_in(dir))
        .await
        .map_err(std::io::Error::other)
        .flatten()
        .map_err(ImportError::Read)?;
    let mut file = tokio::fs::File::from_std(file);
    tokio::io::copy(&mut source, &mut file)
        .await
        .map_err(ImportError::Read)?;
    file.flush().await.map_err(ImportError::Read)?;
    file.rewind().await.map_err(ImportError::Read)?;
    Ok(file)
}

/// Settles the database after the import has answered (SQLite: the write-ahead log copied
/// into the database file; PostgreSQL: fresh planner statistics); the next import waits for
/// it (they share one connection).
fn checkpoint_in_background(ctx: &Context) {
    let db = ctx.bulk_db.clone();
    tokio::spawn(async move {
        let started = Instant::now();
        match store::settle_bulk_write(&db).await {
            Ok(()) => tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "database settled after an import"
            ),
            Err(e) => tracing::warn!(error = %e, "settling the database after an import failed"),
        }
    });
}

/// A byte stream that counts what was read into an `ImportProgress`.
struct Counted<R> {
    inner: R,
    progress: Option<Arc<ImportProgress>>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Counted<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Some(progress) = &this.progress {
            let read = (buf.filled().len() - before) as u64;
            progress.bytes_read.fetch_add(read, Ordering::Relaxed);
        }
        result
    }
}

/// Writes the batches the reader hands over, in file order, until the last one.
async fn import_batches(
    txn: &impl store::Connection,
    reader: &mut BatchReader,
    ledger: &Ledger<'_>,
    run: &mut Run,
) -> Result<(), ImportError> {
    loop {
        let batch = reader.next().await?;
        run.report.rows += batch.rows;
        if let Some(progress) = &run.progress {
            progress.rows.fetch_add(batch.rows, Ordering::Relaxed);
        }
        let mut problems = apply_batch(txn, ledger, batch.valid, run).await?;
        problems.extend(batch.problems);
        run.report_problems(problems);
        if !batch.more {
            return Ok(());
        }
    }
}

/// What checking one row on its own needs.
struct RowChecks {
    legal_basis: LegalBasis,
    now: DateTime<Utc>,
    hasher: Arc<AddressHasher>,
    batch_rows: usize,
}

/// Reads and checks the file in a task of its own, a batch at a time, so that reading and
/// checking run on one core while the database writes on another. At most two batches wait
/// to be written, so memory stays flat; dropping the reader stops the task.
struct BatchReader {
    batches: mpsc::Receiver<Result<Batch, ImportError>>,
    task: tokio::task::JoinHandle<()>,
}

impl BatchReader {
    fn spawn<R: AsyncRead + Unpin + Send + 'static>(
        mut rows: csv::CsvRows<R>,
        checks: RowChecks,
    ) -> Self {
        let (sender, batches) = mpsc::channel(2);
        let task = tokio::spawn(async move {
            loop {
                let batch = read_batch(&mut rows, &checks).await;
                let last = !matches!(&batch, Ok(b) if b.more);
                if sender.send(batch).await.is_err() || last {
                    return;
                }
            }
        });
        Self { batches, task }
    }

    /// The next batch; the one after the last is never asked for.
    async fn next(&mut self) -> Result<Batch, ImportError> {
        match self.batches.recv().await {
            Some(batch) => batch,
            // The task ended without handing over the last batch: it panicked.
            None => Err(ImportError::Read(std::io::Error::other(
                "the import's reader stopped unexpectedly",
            ))),
        }
    }
}

impl Drop for BatchReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The report being built, the texts kept so far, how many rows the scratch table holds, and
/// an id older than every subscription this import creates.
struct Run {
    report: ImportReport,
    texts: TextMemo,
    seen: u64,
    first_id: SubscriptionId,
    progress: Option<Arc<ImportProgress>>,
}

impl Run {
    fn new(slug: &ListSlug, options: &ImportOptions) -> Self {
        Self {
            progress: options.progress.clone(),
            report: ImportReport {
                list: slug.as_str().to_owned(),
                dry_run: options.dry_run,
                rows: 0,
                imported: 0,
                unchanged: 0,
                skipped: 0,
                errors: Vec::new(),
                errors_truncated: false,
            },
            texts: TextMemo::default(),
            seen: 0,
            first_id: SubscriptionId::new(),
        }
    }

    /// Counts skipped rows and lists them (line order within the batch), up to the cap.
    fn report_problems(&mut self, mut problems: Vec<RowProblem>) {
        problems.sort_by_key(|p| p.line);
        let report = &mut self.report;
        report.skipped += problems.len() as u64;
        let room = MAX_REPORTED.saturating_sub(report.errors.len());
        report.errors_truncated |= problems.len() > room;
        report.errors.extend(problems.into_iter().take(room));
    }
}

/// Up to `batch_rows` rows as read: the valid ones (each address once) and the problems of
/// the others.
struct Batch {
    valid: Vec<ImportRow>,
    problems: Vec<RowProblem>,
    rows: u64,
    more: bool,
}

/// Reads the next batch and says whether the file goes on.
async fn read_batch<R: AsyncRead + Unpin + Send>(
    rows: &mut csv::CsvRows<R>,
    checks: &RowChecks,
) -> Result<Batch, ImportError> {
    let size = checks.batch_rows;
    let mut batch = Batch {
        valid: Vec::with_capacity(size),
        problems: Vec::new(),
        rows: 0,
        more: true,
    };
    // The first line of each address in the batch: later rows with it are repeats.
    let mut first: HashMap<String, u64> = HashMap::with_capacity(size);
    while batch.valid.len() < size {
        let Some(raw) = rows.next().await? else {
            batch.more = false;
            break;
        };
        batch.rows += 1;
        match parse_row(&raw, checks) {
            Ok(row) => match first.get(&row.hash) {
                Some(&line) => batch
                    .problems
                    .push(problem_of(&row, &RowIssue::Duplicate(Some(line)))),
                None => {
                    first.insert(row.hash.clone(), row.line);
                    batch.valid.push(row);
                }
            },
            Err(problem) => batch.problems.push(problem),
        }
    }
    Ok(batch)
}

/// Checks one row on its own: address, name, evidence of consent; the locale falls back
/// to the default.
fn parse_row(raw: &csv::RawRow<'_>, checks: &RowChecks) -> Result<ImportRow, RowProblem> {
    let given = raw.email.trim();
    let problem = |issue: RowIssue| RowProblem {
        line: raw.line,
        email: (!given.is_empty()).then(|| given.chars().take(254).collect()),
        code: issue.code(),
        error: issue.to_string(),
    };
    let email = EmailAddress::parse(given).map_err(|e| problem(RowIssue::InvalidEmail(e)))?;
    let name = SubscriberName::parse(raw.name.unwrap_or_default())
        .map_err(|e| problem(RowIssue::InvalidName(e)))?;
    let proof = ConsentProof::parse(
        checks.legal_basis,
        raw.consent_at,
        raw.consent_source,
        raw.consent_text,
        checks.now,
    )
    .map_err(|e| problem(RowIssue::Proof(e)))?;
    // An empty cell sets nothing (a blank in a spreadsheet is rarely meant to erase).
    let mut attributes = serde_json::Map::new();
    for (column, cell) in &raw.attributes {
        let value = column
            .kind
            .read(&column.key, cell)
            .map_err(|e| problem(RowIssue::Attribute(e)))?;
        if !value.is_null() {
            attributes.insert(column.key.clone(), value);
        }
    }
    crate::domain::Attributes::default()
        .merge(&attributes)
        .map_err(|e| problem(RowIssue::Attribute(e)))?;
    Ok(ImportRow {
        line: raw.line,
        hash: checks.hasher.hash(&email),
        email,
        name,
        locale: raw.locale.and_then(Locale::from_tag).unwrap_or_default(),
        proof,
        attributes,
        merged: None,
    })
}

/// Drops repeated addresses, plans and writes one batch; returns the problems of its rows.
async fn apply_batch(
    conn: &impl store::Connection,
    ledger: &Ledger<'_>,
    batch: Vec<ImportRow>,
    run: &mut Run,
) -> Result<Vec<RowProblem>, ImportError> {
    let (batch, mut problems) = drop_repeated(conn, batch, run.seen).await?;
    let planned = batch::plan(conn, ledger.list.id, batch, Some(run.first_id)).await?;
    let mut settled = Vec::new();
    for (row, plan) in &planned {
        match plan {
            Plan::Skip(issue @ RowIssue::Duplicate(_)) => problems.push(problem_of(row, issue)),
            Plan::Skip(issue) => {
                problems.push(problem_of(row, issue));
                settled.push((row.hash.as_str(), row.line));
            }
            Plan::Unchanged => {
                run.report.unchanged += 1;
                settled.push((row.hash.as_str(), row.line));
            }
            Plan::ConfirmPending(..) => {
                run.report.imported += 1;
                settled.push((row.hash.as_str(), row.line));
            }
            Plan::NewSubscriber | Plan::NewSubscription(_) => {
                run.report.imported += 1;
                // A dry run writes no subscription to recognise the address by later.
                if run.report.dry_run {
                    settled.push((row.hash.as_str(), row.line));
                }
            }
        }
    }
    // New subscriptions are recognised later by their ids; the other rows are noted.
    store::imports::mark_seen(conn, &settled).await?;
    run.seen += settled.len() as u64;
    if !run.report.dry_run {
        batch::write(conn, ledger, &planned, &mut run.texts).await?;
    }
    Ok(problems)
}

fn problem_of(row: &ImportRow, issue: &RowIssue) -> RowProblem {
    RowProblem {
        line: row.line,
        email: Some(row.email.as_str().to_owned()),
        code: issue.code(),
        error: issue.to_string(),
    }
}

/// Drops rows whose address an earlier batch left unchanged or skipped (the scratch table,
/// asked only when it has rows); the batch itself holds each address once.
async fn drop_repeated(
    conn: &impl store::Connection,
    batch: Vec<ImportRow>,
    seen: u64,
) -> Result<(Vec<ImportRow>, Vec<RowProblem>), StoreError> {
    if seen == 0 {
        return Ok((batch, Vec::new()));
    }
    let hashes: Vec<&str> = batch.iter().map(|r| r.hash.as_str()).collect();
    let earlier = store::imports::seen_lines(conn, &hashes).await?;
    let mut kept = Vec::with_capacity(batch.len());
    let mut problems = Vec::new();
    for row in batch {
        match earlier.get(&row.hash) {
            Some(&line) => problems.push(problem_of(&row, &RowIssue::Duplicate(Some(line)))),
            None => kept.push(row),
        }
    }
    Ok((kept, problems))
}

/// One subscriber for the API: the lists by slug and the evidence of consent, raw.
#[derive(Debug, Clone)]
pub struct NewSubscriber {
    /// The address.
    pub email: EmailAddress,
    /// The name (kept only for a new subscriber).
    pub name: SubscriberName,
    /// The language (kept only for a new subscriber).
    pub locale: Locale,
    /// The lists to subscribe to.
    pub lists: Vec<ListSlug>,
    /// When the person consented (required for consent lists).
    pub consent_at: Option<String>,
    /// Where they consented (required for consent lists).
    pub consent_source: Option<String>,
    /// What they agreed to (required for consent lists).
    pub consent_text: Option<String>,
}

/// Why one subscriber was not added; nothing is kept then.
#[derive(Debug, thiserror::Error)]
pub enum AddSubscriberError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// No list was named.
    #[error("lists: name at least one list")]
    NoList,
    /// A slug names no list.
    #[error("there is no list {0:?}")]
    UnknownList(String),
    /// The request breaks a rule of an import row (e.g. no evidence for a consent list).
    #[error("{list}: {issue}")]
    Invalid {
        /// The list it concerns.
        list: String,
        /// The rule.
        issue: RowIssue,
    },
    /// The address may not be subscribed to a list (suppressed, left it, blocked).
    #[error("{list}: {issue}")]
    Refused {
        /// The list it concerns.
        list: String,
        /// The reason.
        issue: RowIssue,
    },
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds one subscriber to lists by the rules of an import row, all lists or none. Returns the
/// subscriber and whether anything changed.
///
/// # Errors
/// No or unknown lists, missing evidence of consent, a refused address, or a store failure.
pub async fn add_subscriber(
    ctx: &Context,
    actor: &Actor,
    new: NewSubscriber,
) -> Result<(SubscriberOverview, bool), AddSubscriberError> {
    actor.authorize(Action::ManageSubscribers)?;
    let lists = lists_named(ctx, &new.lists).await?;
    let actor_name = actor.name();
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let mut texts = TextMemo::default();
    let mut changed = false;
    for list in &lists {
        let ledger = Ledger {
            list,
            actor: &actor_name,
            source: "api",
            now,
        };
        let row = row_for(ctx, &new, &ledger)?;
        let planned = batch::plan(&txn, list.id, vec![row], None).await?;
        for (_, plan) in &planned {
            match plan {
                Plan::Skip(issue) => return Err(refused(list, issue.clone())),
                Plan::Unchanged => {}
                _ => changed = true,
            }
        }
        batch::write(&txn, &ledger, &planned, &mut texts).await?;
    }
    if changed {
        let slugs: Vec<&str> = lists.iter().map(|l| l.def.slug.as_str()).collect();
        let change = Change {
            action: "subscriber.add",
            target: None,
            detail: Some(format!("to {}", slugs.join(", "))),
        };
        audit::append(&txn, actor, change, now).await?;
    }
    store::commit(txn).await?;
    let overview = subscribers::find_by_email(ctx, &new.email)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok((overview, changed))
}

fn refused(list: &MailingList, issue: RowIssue) -> AddSubscriberError {
    AddSubscriberError::Refused {
        list: list.def.slug.as_str().to_owned(),
        issue,
    }
}

/// The lists named, each once; every slug must name a list.
async fn lists_named(
    ctx: &Context,
    slugs: &[ListSlug],
) -> Result<Vec<MailingList>, AddSubscriberError> {
    if slugs.is_empty() {
        return Err(AddSubscriberError::NoList);
    }
    let found = store::lists::find_by_slugs(&ctx.db, slugs).await?;
    let by_slug: HashMap<&ListSlug, &MailingList> =
        found.iter().map(|l| (&l.def.slug, l)).collect();
    if let Some(unknown) = slugs.iter().find(|s| !by_slug.contains_key(s)) {
        return Err(AddSubscriberError::UnknownList(unknown.as_str().to_owned()));
    }
    Ok(found)
}

fn row_for(
    ctx: &Context,
    new: &NewSubscriber,
    ledger: &Ledger<'_>,
) -> Result<ImportRow, AddSubscriberError> {
    let proof = ConsentProof::parse(
        ledger.list.def.legal_basis,
        new.consent_at.as_deref(),
        new.consent_source.as_deref(),
        new.consent_text.as_deref(),
        ledger.now,
    )
    .map_err(|e| AddSubscriberError::Invalid {
        list: ledger.list.def.slug.as_str().to_owned(),
        issue: RowIssue::Proof(e),
    })?;
    Ok(ImportRow {
        line: 0,
        email: new.email.clone(),
        hash: ctx.address_hasher.hash(&new.email),
        name: new.name.clone(),
        locale: new.locale,
        proof,
        attributes: serde_json::Map::new(),
        merged: None,
    })
}
