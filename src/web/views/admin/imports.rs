//! The admin pages of the CSV import: the upload form, the preview with the actions, the
//! report of a check or an import, the progress page that reloads itself, and the refusals.
//! Render only.

use maud::{Markup, html};

use super::{Ctx, Errors, csrf_field, layout, open_list_options, refreshing_layout, select};
use crate::{
    domain::MailingList,
    services::imports::{
        ImportProgress, ImportReport, Preview,
        uploads::{Stage, Upload},
    },
};

/// Seconds between two reloads of the progress page.
const REFRESH_SECS: u32 = 2;

/// `/admin/import`: the upload form for one of the open `lists` (`list` chosen), with its
/// errors in place; `max_mib` is `import.max_upload_bytes` in MiB.
pub fn upload_form_page(
    ctx: &Ctx,
    lists: &[MailingList],
    list: &str,
    errors: &Errors,
    max_mib: usize,
) -> Markup {
    let e = |k: &str| errors.get(k);
    let options = open_list_options(lists);
    layout(
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
    )
}

/// The answer to an upload that cannot be read (or a file that cannot be previewed).
pub fn upload_refused_page(ctx: &Ctx, message: &str) -> Markup {
    layout(
        ctx,
        "Upload refused",
        html! { p.error { (message) } p { a href="/admin/import" { "Try again" } } },
    )
}

/// The answer to the path of an upload this process does not have.
pub fn no_such_upload_page(ctx: &Ctx) -> Markup {
    layout(
        ctx,
        "No such upload",
        html! {
            p { "This upload is not known here: it expired (after 24 hours), was made before a restart, or on another instance." }
            p { a.button href="/admin/import" { "Upload a file" } }
        },
    )
}

/// The answer to starting a check or an import that cannot start now (`problem`: why).
pub fn not_now_page(ctx: &Ctx, upload: &Upload, problem: &str) -> Markup {
    layout(
        ctx,
        "Not now",
        html! { p.error { (problem) "." } p { a href={ "/admin/import/" (upload.id) } { "Back to the file" } } },
    )
}

/// `/admin/import/{id}` when no run goes on: the preview and the actions, or the report of
/// the check or the import.
pub fn upload_page(ctx: &Ctx, upload: &Upload, stage: &Stage, preview: Option<&Preview>) -> Markup {
    let (title, body) = match stage {
        Stage::Imported(report) => (
            "Import finished",
            html! {
                (summary(ctx, upload))
                (report_view(report))
                p { a.button href="/admin/subscribers" { "Subscribers" } " " a href="/admin/import" { "Import another file" } }
            },
        ),
        Stage::Checked(report) => (
            "Checked: nothing was written",
            html! {
                (summary(ctx, upload))
                (report_view(report))
                (actions(ctx, upload, false))
                (preview_view(preview))
            },
        ),
        Stage::Failed { dry_run, message } => (
            "The file was refused",
            html! {
                (summary(ctx, upload))
                p.error role="alert" {
                    @if *dry_run { "The check failed: " } @else { "The import failed and nothing was kept: " } (message)
                }
                (actions(ctx, upload, true))
                (preview_view(preview))
            },
        ),
        Stage::Uploaded | Stage::Running { .. } => (
            "Preview",
            html! {
                (summary(ctx, upload))
                (preview_view(preview))
                (actions(ctx, upload, true))
            },
        ),
    };
    layout(ctx, title, body)
}

/// `/admin/import/{id}` while a check or import runs: a `<progress>` bar, reloaded every
/// few seconds.
pub fn progress_page(
    ctx: &Ctx,
    upload: &Upload,
    dry_run: bool,
    progress: &ImportProgress,
) -> Markup {
    let title = if dry_run {
        "Checking the file…"
    } else {
        "Importing…"
    };
    let read = progress.bytes_read().min(upload.size_bytes);
    let done = percent(read, upload.size_bytes);
    let body = html! {
        (summary(ctx, upload))
        div.card {
            progress #progress max=(upload.size_bytes) value=(read) { (done) "%" }
            p { (progress.rows()) " rows " @if dry_run { "checked" } @else { "read" } " so far · "
                (done) "% of the file read" }
            p.muted { "This page reloads itself every " (REFRESH_SECS) " seconds. You may leave it: the work goes on." }
        }
    };
    refreshing_layout(ctx, title, REFRESH_SECS, body)
}

fn percent(part: u64, whole: u64) -> u64 {
    match whole {
        0 => 100,
        _ => part.min(whole).saturating_mul(100) / whole,
    }
}

fn summary(ctx: &Ctx, upload: &Upload) -> Markup {
    html! {
        div.card {
            p { "File " strong { (upload.file_name) } " (" (upload.size_bytes) " bytes) for the list "
                strong { (upload.list.as_str()) } ", uploaded by " (upload.uploaded_by)
                " at " (ctx.time(upload.uploaded_at)) "." }
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
