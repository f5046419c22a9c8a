//! CSV import in the admin UI: upload a file for a list (streamed to disk), see its first
//! rows as the import reads them, check it by a dry run (the invalid rows by line, nothing
//! written), and import it in the background, with a progress page that reloads itself (no
//! script). The same import service as the API and the CLI does the work.

use std::collections::HashMap;

use axum::{
    Extension,
    extract::{
        Multipart, Path, Query, State,
        multipart::{Field, MultipartError, MultipartRejection},
    },
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use futures_util::TryStreamExt;
use maud::{Markup, html};
use serde::Deserialize;
use tokio_util::io::StreamReader;

use super::AdminSession;
use crate::{
    domain::{Action, ListSlug, MailingList},
    services::{
        imports::{
            ImportProgress, ImportReport, Preview,
            uploads::{self, Stage, StagedFile, Upload, UploadError},
        },
        lists,
    },
    web::AppState,
    web::views::admin::{self as view, Ctx, csrf_field, select},
};

type Errors = HashMap<&'static str, String>;

/// Rows shown in the preview.
const PREVIEW_ROWS: usize = 10;
/// Seconds between two reloads of the progress page.
const REFRESH_SECS: u32 = 2;

#[derive(Debug, Default, Deserialize)]
pub(super) struct FormQuery {
    #[serde(default)]
    list: String,
}

/// `GET /admin/import[?list=SLUG]`: the upload form.
pub(super) async fn form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<FormQuery>,
) -> Response {
    if session
        .actor()
        .authorize(Action::ManageSubscribers)
        .is_err()
    {
        return view::forbidden(&session.ctx());
    }
    match lists::all(&state.ctx).await {
        Ok(all) => form_page(&state, &session.ctx(), &all, &q.list, &Errors::new()),
        Err(e) => view::internal(&e),
    }
}

fn form_page(
    state: &AppState,
    ctx: &Ctx,
    all: &[MailingList],
    list: &str,
    errors: &Errors,
) -> Response {
    let e = |k: &str| errors.get(k);
    let options: Vec<(&str, &str)> = all
        .iter()
        .filter(|l| l.archived_at.is_none())
        .map(|l| (l.def.slug.as_str(), l.def.name.as_str()))
        .collect();
    let max_mib = state.ctx.settings.import.max_upload_bytes / (1024 * 1024);
    let markup = view::layout(
        ctx,
        "Import subscribers",
        html! {
            @if let Some(err) = e("form") { p.error role="alert" { (err) } }
            // The token rides in the query: the guard checks it without reading the file.
            form.card method="post" enctype="multipart/form-data"
                action={ "/admin/import/upload?csrf=" (ctx.csrf) } {
                (select("list", "List", &options, list, e("list")))
                label for="file" { "CSV file" }
                input #file type="file" name="file" accept=".csv,text/csv" required
                    aria-invalid=[e("file").map(|_| "true")];
                @if let Some(err) = e("file") { p.field-error { (err) } }
                @if !errors.is_empty() { p.muted { "Choose the file again: browsers do not keep a chosen file." } }
                p.muted {
                    "UTF-8 CSV with a header row: " code { "email" } " (required), " code { "name" } ", "
                    code { "locale" } ", " code { "consent_at" } ", " code { "consent_source" } ", "
                    code { "consent_text" } "; other columns are ignored. On a consent list the three "
                    "evidence columns are required in every row. At most " (max_mib) " MiB "
                    "(" code { "import.max_upload_bytes" } "). Nothing is imported until you check the preview and start it."
                }
                p { button type="submit" { "Upload and preview" } }
            }
        },
    );
    let code = if errors.is_empty() {
        StatusCode::OK
    } else if errors.contains_key("too_large") {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (code, markup).into_response()
}

/// What the upload form sent.
#[derive(Debug, Default)]
struct Received {
    list: String,
    file: Option<(String, StagedFile)>,
}

/// `POST /admin/import/upload` (`multipart/form-data`: `list`, `file`): streams the file to
/// disk, checks the list and the header, and shows the preview.
pub(super) async fn upload(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let ctx = session.ctx();
    let Ok(multipart) = multipart else {
        return bad_request(&ctx, "The form was not sent as a file upload.");
    };
    let all = match lists::all(&state.ctx).await {
        Ok(a) => a,
        Err(e) => return view::internal(&e),
    };
    let mut errors = Errors::new();
    let received = match receive(&state, multipart).await {
        Ok(r) => r,
        Err(e) => {
            note(&mut errors, &e);
            return match e {
                UploadError::Read(_) => bad_request(&ctx, "The upload could not be read."),
                UploadError::Disk(e) => view::internal(&e),
                _ => form_page(&state, &ctx, &all, "", &errors),
            };
        }
    };
    let slug = ListSlug::parse(&received.list);
    let (Ok(slug), Some((file_name, staged))) = (slug, received.file) else {
        if ListSlug::parse(&received.list).is_err() {
            errors.insert("list", "Choose a list.".into());
        }
        errors
            .entry("file")
            .or_insert_with(|| "Choose a CSV file.".into());
        return form_page(&state, &ctx, &all, &received.list, &errors);
    };
    match uploads::register(
        &state.ctx,
        &state.uploads,
        staged,
        &slug,
        &file_name,
        &session.actor(),
    )
    .await
    {
        Ok(upload) => Redirect::to(&format!("/admin/import/{}", upload.id)).into_response(),
        Err(UploadError::Forbidden(_)) => view::forbidden(&ctx),
        Err(UploadError::Disk(e)) => view::internal(&e),
        Err(UploadError::Store(e)) => view::internal(&e),
        Err(e) => {
            note(&mut errors, &e);
            form_page(&state, &ctx, &all, &received.list, &errors)
        }
    }
}

/// Reads the form's fields in any order; the file goes to disk as it arrives.
async fn receive(state: &AppState, mut multipart: Multipart) -> Result<Received, UploadError> {
    let mut received = Received::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("list") => received.list = small_text(field).await?,
            Some("file") => {
                let file_name = field.file_name().unwrap_or("upload.csv").to_owned();
                let stream = field.map_err(|e| io_error(&e));
                let staged = uploads::receive(&state.ctx, StreamReader::new(stream)).await?;
                received.file = Some((file_name, staged));
            }
            _ => drop(small_text(field).await?),
        }
    }
    Ok(received)
}

/// A short text field (a slug, a token): at most 1 KiB is kept, the rest is read and dropped.
async fn small_text(mut field: Field<'_>) -> Result<String, UploadError> {
    let mut text = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        let room = 1024_usize.saturating_sub(text.len());
        text.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(String::from_utf8_lossy(&text).trim().to_owned())
}

fn io_error(e: &MultipartError) -> std::io::Error {
    let kind = match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => std::io::ErrorKind::FileTooLarge,
        _ => std::io::ErrorKind::InvalidData,
    };
    std::io::Error::new(kind, e.body_text())
}

fn multipart_error(e: MultipartError) -> UploadError {
    UploadError::Read(io_error(&e))
}

/// Puts an upload error where the form shows it.
fn note(errors: &mut Errors, e: &UploadError) {
    let (key, message) = match e {
        UploadError::UnknownList(_) => ("list", "There is no such list.".to_owned()),
        UploadError::Empty => ("file", "The file is empty.".to_owned()),
        UploadError::TooLarge { .. } => {
            errors.insert("too_large", String::new());
            ("file", e.to_string())
        }
        UploadError::Invalid(e) => ("file", format!("This file cannot be imported: {e}")),
        other => ("form", other.to_string()),
    };
    errors.insert(key, message);
}

fn bad_request(ctx: &Ctx, message: &str) -> Response {
    let page = view::layout(
        ctx,
        "Upload refused",
        html! { p.error { (message) } p { a href="/admin/import" { "Try again" } } },
    );
    (StatusCode::BAD_REQUEST, page).into_response()
}

/// The upload of a page's path, or the page to answer instead.
fn upload_of(
    state: &AppState,
    session: &AdminSession,
    id: &str,
) -> Result<std::sync::Arc<Upload>, Box<Response>> {
    let ctx = session.ctx();
    if session
        .actor()
        .authorize(Action::ManageSubscribers)
        .is_err()
    {
        return Err(Box::new(view::forbidden(&ctx)));
    }
    id.parse()
        .ok()
        .and_then(|id| state.uploads.find(id))
        .ok_or_else(|| {
            let page = view::layout(
                &ctx,
                "No such upload",
                html! {
                    p { "This upload is not known here: it expired (after 24 hours), was made before a restart, or on another instance." }
                    p { a.button href="/admin/import" { "Upload a file" } }
                },
            );
            Box::new((StatusCode::NOT_FOUND, page).into_response())
        })
}

/// `GET /admin/import/{id}`: the preview and the actions, the progress while a run goes on
/// (reloading itself), or the report.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Response {
    let upload = match upload_of(&state, &session, &id) {
        Ok(u) => u,
        Err(page) => return *page,
    };
    let ctx = session.ctx();
    let stage = upload.stage();
    if let Stage::Running { dry_run, progress } = &stage {
        return progress_page(&ctx, &upload, *dry_run, progress);
    }
    let preview = match &stage {
        Stage::Imported(_) => None,
        _ => match uploads::preview(&upload, PREVIEW_ROWS).await {
            Ok(p) => Some(p),
            Err(UploadError::Disk(e)) => return view::internal(&e),
            Err(e) => return bad_request(&ctx, &e.to_string()),
        },
    };
    let (title, body) = match &stage {
        Stage::Imported(report) => (
            "Import finished",
            html! {
                (summary(&upload))
                (report_view(report))
                p { a.button href="/admin/subscribers" { "Subscribers" } " " a href="/admin/import" { "Import another file" } }
            },
        ),
        Stage::Checked(report) => (
            "Checked: nothing was written",
            html! {
                (summary(&upload))
                (report_view(report))
                (actions(&ctx, &upload, false))
                (preview_view(preview.as_ref()))
            },
        ),
        Stage::Failed { dry_run, message } => (
            "The file was refused",
            html! {
                (summary(&upload))
                p.error role="alert" {
                    @if *dry_run { "The check failed: " } @else { "The import failed and nothing was kept: " } (message)
                }
                (actions(&ctx, &upload, true))
                (preview_view(preview.as_ref()))
            },
        ),
        Stage::Uploaded | Stage::Running { .. } => (
            "Preview",
            html! {
                (summary(&upload))
                (preview_view(preview.as_ref()))
                (actions(&ctx, &upload, true))
            },
        ),
    };
    view::layout(&ctx, title, body).into_response()
}

/// The page of a running check or import: a `<progress>` bar, reloaded every few seconds.
fn progress_page(ctx: &Ctx, upload: &Upload, dry_run: bool, progress: &ImportProgress) -> Response {
    let title = if dry_run {
        "Checking the file…"
    } else {
        "Importing…"
    };
    let read = progress.bytes_read().min(upload.size_bytes);
    let done = percent(read, upload.size_bytes);
    let body = html! {
        (summary(upload))
        div.card {
            progress #progress max=(upload.size_bytes) value=(read) { (done) "%" }
            p { (progress.rows()) " rows " @if dry_run { "checked" } @else { "read" } " so far · "
                (done) "% of the file read" }
            p.muted { "This page reloads itself every " (REFRESH_SECS) " seconds. You may leave it: the work goes on." }
        }
    };
    view::refreshing_layout(ctx, title, REFRESH_SECS, body).into_response()
}

fn percent(part: u64, whole: u64) -> u64 {
    match whole {
        0 => 100,
        _ => part.min(whole).saturating_mul(100) / whole,
    }
}

fn summary(upload: &Upload) -> Markup {
    html! {
        div.card {
            p { "File " strong { (upload.file_name) } " (" (upload.size_bytes) " bytes) for the list "
                strong { (upload.list.as_str()) } ", uploaded by " (upload.uploaded_by)
                " at " (upload.uploaded_at.format("%Y-%m-%d %H:%M")) " UTC." }
        }
    }
}

fn actions(ctx: &Ctx, upload: &Upload, offer_check: bool) -> Markup {
    html! {
        div.card {
            @if offer_check {
                form.inline method="post" action={ "/admin/import/" (upload.id) "/check" } {
                    (csrf_field(&ctx.csrf))
                    button.secondary type="submit" { "Check every row (dry run)" }
                }
                " "
            }
            form.inline method="post" action={ "/admin/import/" (upload.id) "/run" } {
                (csrf_field(&ctx.csrf))
                button type="submit" { "Import now" }
            }
            p.muted { "The check reads the whole file by the import's rules and writes nothing. The import is one transaction: all rows or none. Nobody who left the list, objected, or is suppressed, blocked or restricted is subscribed again." }
        }
    }
}

fn preview_view(preview: Option<&Preview>) -> Markup {
    let Some(p) = preview else {
        return html! {};
    };
    html! {
        h2 { "First rows" }
        table.preview {
            tr {
                th { "Line" }
                @for c in &p.columns {
                    th { (c.name) br; span.muted { (c.used_as.unwrap_or("ignored")) } }
                }
            }
            @for row in &p.rows {
                tr { td.num { (row.line) } @for v in &row.values { td { (v) } } }
            }
        }
        @if p.rows.is_empty() { p.muted { "The file has a header and no rows." } }
        @if p.more { p.muted { "… and more rows." } }
        @if let Some(problem) = &p.problem {
            p.error role="alert" { "The import will refuse this file: " (problem) }
        }
    }
}

fn report_view(r: &ImportReport) -> Markup {
    let imported = if r.dry_run {
        "Would be imported"
    } else {
        "Imported"
    };
    html! {
        table.report {
            tr { th { "Rows" } th.num { (imported) } th.num { "Unchanged" } th.num { "Skipped" } }
            tr { td.num #rows { (r.rows) } td.num #imported { (r.imported) } td.num #unchanged { (r.unchanged) } td.num #skipped { (r.skipped) } }
        }
        @if !r.errors.is_empty() {
            h2 { "Rows not imported" }
            table.row-problems {
                tr { th.num { "Line" } th { "Address" } th { "Code" } th { "Reason" } }
                @for p in &r.errors {
                    tr { td.num { (p.line) } td { (p.email.as_deref().unwrap_or("")) } td { code { (p.code) } } td { (p.error) } }
                }
            }
            @if r.errors_truncated { p.muted { "Only the first " (r.errors.len()) " are listed." } }
        }
    }
}

/// `POST /admin/import/{id}/check` (dry run) or `…/run` (the import): starts it in the
/// background and shows the progress page.
pub(super) async fn start(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let dry_run = match action.as_str() {
        "check" => true,
        "run" => false,
        _ => return view::not_found(&session.ctx()),
    };
    let upload = match upload_of(&state, &session, &id) {
        Ok(u) => u,
        Err(page) => return *page,
    };
    match uploads::start(&state.ctx, &upload, dry_run, &session.actor()).await {
        Ok(()) => Redirect::to(&format!("/admin/import/{}", upload.id)).into_response(),
        Err(UploadError::Forbidden(_)) => view::forbidden(&session.ctx()),
        Err(e @ (UploadError::Busy | UploadError::Done)) => {
            let page = view::layout(
                &session.ctx(),
                "Not now",
                html! { p.error { (e.to_string()) "." } p { a href={ "/admin/import/" (upload.id) } { "Back to the file" } } },
            );
            (StatusCode::CONFLICT, page).into_response()
        }
        Err(e) => view::internal(&e),
    }
}
