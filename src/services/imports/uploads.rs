//! CSV files uploaded in the admin UI: streamed to a file under `<data.dir>/imports/` (never
//! held in memory whole), previewed, checked by a dry run and imported in the background, with
//! progress. Uploads are kept per process, in memory; a file is deleted once imported, and
//! files and uploads older than `MAX_AGE` go at the next upload.

use std::{
    collections::HashMap,
    io,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::{ImportError, ImportOptions, ImportProgress, ImportReport, csv::Preview};
use crate::{
    context::Context,
    domain::{Action, Actor, Forbidden, ListSlug},
    services::audit::{self, Change},
    store,
};

/// How long an upload that was not imported is kept.
const MAX_AGE: chrono::Duration = chrono::Duration::hours(24);
/// The uploads' directory under `data.dir`.
pub(super) const DIR: &str = "imports";

/// Why an upload or a run was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// No list has this slug.
    #[error("there is no list {0:?}")]
    UnknownList(String),
    /// The file has no bytes.
    #[error("the file is empty")]
    Empty,
    /// The file is larger than `import.max_upload_bytes`.
    #[error("the file is larger than {max_bytes} bytes (import.max_upload_bytes)")]
    TooLarge {
        /// The limit.
        max_bytes: usize,
    },
    /// The file cannot be imported as a whole (its header, or it is not CSV).
    #[error(transparent)]
    Invalid(ImportError),
    /// The upload could not be read from the client.
    #[error("the upload could not be read: {0}")]
    Read(#[source] io::Error),
    /// The file could not be stored or read back (disk full, permissions).
    #[error("the upload could not be stored: {0}")]
    Disk(#[source] io::Error),
    /// No such upload (unknown, expired, or made by another process).
    #[error("no such upload")]
    NotFound,
    /// A check or import of this file is running.
    #[error("a check or import of this file is running")]
    Busy,
    /// Too many uploads wait on disk, this user's or all together.
    #[error("too many uploads are waiting to be imported ({0}); import or wait for earlier ones")]
    Quota(&'static str),
    /// The file was imported already.
    #[error("this file was imported already")]
    Done,
    /// Store failure.
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Where an upload stands.
#[derive(Debug, Clone)]
pub enum Stage {
    /// Stored and previewed; nothing checked yet.
    Uploaded,
    /// A dry run or an import is running.
    Running {
        /// Whether it is a dry run.
        dry_run: bool,
        /// How far it is.
        progress: Arc<ImportProgress>,
    },
    /// A dry run finished: what an import would do.
    Checked(ImportReport),
    /// The import finished and was committed; the file is deleted.
    Imported(ImportReport),
    /// The dry run or import failed as a whole; nothing was written.
    Failed {
        /// Whether it was a dry run.
        dry_run: bool,
        /// Why.
        message: String,
    },
}

/// One uploaded file and what was done with it.
#[derive(Debug)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct Upload {
    /// Its id (in the page's URL).
    pub id: uuid::Uuid,
    /// The list it is for.
    pub list: ListSlug,
    /// The file's name as the browser gave it (for display only).
    pub file_name: String,
    pub size_bytes: u64,
    /// Who uploaded it (`user:EMAIL`).
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: DateTime<Utc>,
    path: PathBuf,
    stage: Mutex<Stage>,
}

impl Upload {
    /// Where it stands now.
    pub fn stage(&self) -> Stage {
        lock(&self.stage).clone()
    }

    fn set_stage(&self, stage: Stage) {
        *lock(&self.stage) = stage;
    }
}

/// The uploads of this process.
#[derive(Debug, Default)]
pub struct Uploads(Mutex<HashMap<uuid::Uuid, Arc<Upload>>>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A file being received; deleted when dropped unless registered as an upload.
#[derive(Debug)]
pub struct StagedFile {
    id: uuid::Uuid,
    path: PathBuf,
    size_bytes: u64,
    keep: bool,
}

impl StagedFile {
    /// Its size.
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Streams an upload to a new file under `<data.dir>/imports/`, at most
/// `import.max_upload_bytes`.
///
/// # Errors
/// `TooLarge` (the partial file is deleted), `Read` when the client's stream fails, `Disk`.
pub async fn receive<R: AsyncRead + Unpin>(
    ctx: &Context,
    mut source: R,
) -> Result<StagedFile, UploadError> {
    let dir = ctx.settings.data_dir.join(DIR);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(UploadError::Disk)?;
    let id = uuid::Uuid::now_v7();
    let mut staged = StagedFile {
        id,
        path: dir.join(format!("{id}.csv")),
        size_bytes: 0,
        keep: false,
    };
    let mut file = tokio::fs::File::create(&staged.path)
        .await
        .map_err(UploadError::Disk)?;
    let max_bytes = ctx.settings.import.max_upload_bytes;
    let mut buf = vec![0_u8; 64 * 1024];
    loop {
        let n = source.read(&mut buf).await.map_err(read_error(max_bytes))?;
        if n == 0 {
            break;
        }
        staged.size_bytes += n as u64;
        if staged.size_bytes > max_bytes as u64 {
            return Err(UploadError::TooLarge { max_bytes });
        }
        file.write_all(&buf[..n]).await.map_err(UploadError::Disk)?;
    }
    file.flush().await.map_err(UploadError::Disk)?;
    Ok(staged)
}

/// A failing client stream; one cut by the body limit is `TooLarge`.
fn read_error(max_bytes: usize) -> impl Fn(io::Error) -> UploadError {
    move |e| match e.kind() {
        io::ErrorKind::FileTooLarge => UploadError::TooLarge { max_bytes },
        _ => UploadError::Read(e),
    }
}

/// Registers a received file as an upload for `list`, after checking the list and the file's
/// header (so a file the import would refuse is refused now, and deleted).
///
/// # Errors
/// `UnknownList`, `Empty`, `Invalid`, `Disk`, or a store failure.
pub async fn register(
    ctx: &Context,
    uploads: &Uploads,
    mut staged: StagedFile,
    list: &ListSlug,
    file_name: &str,
    actor: &Actor,
) -> Result<Arc<Upload>, UploadError> {
    actor.authorize(Action::ManageSubscribers)?;
    if store::lists::find_by_slugs(&ctx.db, std::slice::from_ref(list))
        .await?
        .is_empty()
    {
        return Err(UploadError::UnknownList(list.as_str().to_owned()));
    }
    if staged.size_bytes == 0 {
        return Err(UploadError::Empty);
    }
    read_preview(&staged.path, 0).await?;
    sweep(ctx, uploads).await;
    uploads.check_quota(&actor.name(), staged.size_bytes, &ctx.settings.import)?;
    let upload = Arc::new(Upload {
        id: staged.id,
        list: list.clone(),
        file_name: file_name.chars().take(200).collect(),
        size_bytes: staged.size_bytes,
        uploaded_by: actor.name(),
        uploaded_at: ctx.clock.now(),
        path: staged.path.clone(),
        stage: Mutex::new(Stage::Uploaded),
    });
    staged.keep = true;
    lock(&uploads.0).insert(upload.id, Arc::clone(&upload));
    Ok(upload)
}

impl Uploads {
    /// Refuses one more waiting file of `size_bytes` from `owner` beyond `import`'s quotas:
    /// files a stranger with a marketer's password could otherwise pile up for a day.
    fn check_quota(
        &self,
        owner: &str,
        size_bytes: u64,
        import: &crate::config::ImportSettings,
    ) -> Result<(), UploadError> {
        let uploads = lock(&self.0);
        let waiting = || {
            uploads
                .values()
                .filter(|u| !matches!(u.stage(), Stage::Imported(_)))
        };
        if waiting().filter(|u| u.uploaded_by == owner).count() >= import.uploads_per_user {
            return Err(UploadError::Quota("import.uploads_per_user"));
        }
        let total: u64 = waiting().map(|u| u.size_bytes).sum();
        if total.saturating_add(size_bytes) > import.uploads_total_bytes {
            return Err(UploadError::Quota("import.uploads_total_bytes"));
        }
        Ok(())
    }

    /// The upload with this id, if this process has it.
    pub fn find(&self, id: uuid::Uuid) -> Option<Arc<Upload>> {
        lock(&self.0).get(&id).cloned()
    }
}

/// The header and the first `rows` rows of an upload that is not imported yet.
///
/// # Errors
/// `Done` once imported; `Invalid`, `Disk`.
pub async fn preview(upload: &Upload, rows: usize) -> Result<Preview, UploadError> {
    if matches!(upload.stage(), Stage::Imported(_)) {
        return Err(UploadError::Done);
    }
    read_preview(&upload.path, rows).await
}

async fn read_preview(path: &Path, rows: usize) -> Result<Preview, UploadError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(UploadError::Disk)?;
    super::csv::preview(tokio::io::BufReader::new(file), rows)
        .await
        .map_err(UploadError::Invalid)
}

/// Starts a dry run or the import of an upload in the background, on behalf of `actor`
/// (`user:EMAIL`, the ledger's actor). The import is audited when it ends.
///
/// # Errors
/// `Busy` while a run of the file goes on, `Done` once it was imported.
pub async fn start(
    ctx: &Context,
    upload: &Arc<Upload>,
    dry_run: bool,
    actor: &Actor,
) -> Result<(), UploadError> {
    actor.authorize(Action::ManageSubscribers)?;
    let progress = Arc::new(ImportProgress::default());
    {
        let mut stage = lock(&upload.stage);
        match &*stage {
            Stage::Running { .. } => return Err(UploadError::Busy),
            Stage::Imported(_) => return Err(UploadError::Done),
            Stage::Uploaded | Stage::Checked(_) | Stage::Failed { .. } => {}
        }
        *stage = Stage::Running {
            dry_run,
            progress: Arc::clone(&progress),
        };
    }
    if !dry_run {
        let detail = format!("{} ({} bytes)", upload.file_name, upload.size_bytes);
        let change = Change::of("subscribers.import_start", upload.list.as_str()).detail(detail);
        audit::record(ctx, actor, change).await?;
    }
    let ctx = ctx.clone();
    let upload = Arc::clone(upload);
    let actor = actor.clone();
    tokio::spawn(async move {
        let options = ImportOptions {
            dry_run,
            progress: Some(progress),
        };
        let outcome = run(&ctx, &upload, &actor, options).await;
        finish(&ctx, &upload, &actor, dry_run, outcome).await;
    });
    Ok(())
}

/// Runs the import service over the file. It is not cut off after a time: the file is on
/// disk, so nobody can slow it down, and a run dropped while it commits could be kept while
/// reported as failed.
async fn run(
    ctx: &Context,
    upload: &Upload,
    actor: &Actor,
    options: ImportOptions,
) -> Result<ImportReport, String> {
    let file = tokio::fs::File::open(&upload.path)
        .await
        .map_err(|e| UploadError::Disk(e).to_string())?;
    let source = tokio::io::BufReader::with_capacity(64 * 1024, file);
    super::import_csv_with(ctx, actor, &upload.list, source, options)
        .await
        .map_err(|e| e.to_string())
}

/// Records the outcome: the stage, the audit log for a failed import (the import writes its
/// own entry when it is kept), and the file's deletion once it is imported.
async fn finish(
    ctx: &Context,
    upload: &Upload,
    actor: &Actor,
    dry_run: bool,
    outcome: Result<ImportReport, String>,
) {
    let (stage, audit) = match outcome {
        Ok(report) if dry_run => (Stage::Checked(report), None),
        Ok(report) => (Stage::Imported(report), None),
        Err(message) => {
            tracing::warn!(upload.id = %upload.id, dry_run, error = %message, "import of an upload failed");
            let detail = format!("{}: {message}", upload.file_name);
            let audit = (!dry_run).then_some(("subscribers.import_failed", detail));
            (Stage::Failed { dry_run, message }, audit)
        }
    };
    let imported = matches!(stage, Stage::Imported(_));
    upload.set_stage(stage);
    if imported && let Err(e) = tokio::fs::remove_file(&upload.path).await {
        tracing::warn!(upload.id = %upload.id, error = %e, "could not delete an imported upload");
    }
    if let Some((action, detail)) = audit {
        let change = Change::of(action, upload.list.as_str()).detail(detail);
        if let Err(e) = audit::record(ctx, actor, change).await {
            tracing::error!(error = %e, action, "could not write the audit log");
        }
    }
}

/// Forgets uploads older than `MAX_AGE` that are not running, and deletes their files and
/// any other file of the directory that old (left by an earlier process).
async fn sweep(ctx: &Context, uploads: &Uploads) {
    let cutoff = ctx.clock.now() - MAX_AGE;
    let stale: Vec<Arc<Upload>> = {
        let mut uploads = lock(&uploads.0);
        let stale: Vec<uuid::Uuid> = uploads
            .values()
            .filter(|u| u.uploaded_at < cutoff && !matches!(u.stage(), Stage::Running { .. }))
            .map(|u| u.id)
            .collect();
        stale.iter().filter_map(|id| uploads.remove(id)).collect()
    };
    for upload in stale {
        let _ = tokio::fs::remove_file(&upload.path).await;
    }
    let Ok(mut entries) = tokio::fs::read_dir(ctx.settings.data_dir.join(DIR)).await else {
        return;
    };
    let max_age = MAX_AGE.to_std().unwrap_or_default();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let old = entry
            .metadata()
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > max_age);
        if old && entry.path().extension().is_some_and(|e| e == "csv") {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
}
