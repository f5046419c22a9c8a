//! The admin pages of the CSV import: the upload form, the preview with the actions, the
//! report of a check or an import, the progress page (reloading itself only when the user
//! asked: `?watch=1`), and the refusals. Render only.

use maud::{Markup, html};

use super::{
    Ctx, Errors, csrf_field, i18n, layout, open_list_options, refreshing_layout, select,
    subscribers::filled, t, tf, tl,
};
use crate::{
    domain::{Locale, MailingList},
    services::imports::{
        ImportProgress, ImportReport, Preview,
        uploads::{Stage, Upload},
    },
};

/// Seconds between two reloads of the progress page while the user watches it.
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
        t("Import subscribers"),
        html! {
            @if let Some(err) = e("form") { p.error role="alert" { (err) } }
            // The token rides in the query: the guard checks it without reading the file.
            form.card method="post" enctype="multipart/form-data"
                action={ "/admin/import/upload?csrf=" (ctx.csrf) } {
                (select("list", t("List"), &options, list, e("list")))
                label for="file" { (t("CSV file")) }
                input #file type="file" name="file" accept=".csv,text/csv" required
                    aria-invalid=[e("file").map(|_| "true")];
                @if let Some(err) = e("file") { p.field-error { (err) } }
                @if !errors.is_empty() { p.muted { (t("Choose the file again: browsers do not keep a chosen file.")) } }
                p.muted {
                    (filled(
                        t("UTF-8 CSV with a header row: {email} (required), {name}, {locale}, {consent_at}, {consent_source}, {consent_text}; other columns are ignored. On a consent list the three evidence columns are required in every row. At most {max} MiB ({setting}). Nothing is imported until you check the preview and start it."),
                        &[
                            ("email", html! { code { "email" } }),
                            ("name", html! { code { "name" } }),
                            ("locale", html! { code { "locale" } }),
                            ("consent_at", html! { code { "consent_at" } }),
                            ("consent_source", html! { code { "consent_source" } }),
                            ("consent_text", html! { code { "consent_text" } }),
                            ("max", html! { (max_mib) }),
                            ("setting", html! { code { "import.max_upload_bytes" } }),
                        ],
                    ))
                }
                p.muted #attribute-columns {
                    (filled(
                        t("Optional columns {attr} set the person's attributes (e.g. {example}): text, or with the suffix {number}, {boolean} or {date} a number, yes/no or a date YYYY-MM-DD. An empty cell sets nothing."),
                        &[
                            ("attr", html! { code { "attr.KEY" } }),
                            ("example", html! { code { "attr.company" } ", " code { "attr.seats:number" } }),
                            ("number", html! { code { ":number" } }),
                            ("boolean", html! { code { ":boolean" } }),
                            ("date", html! { code { ":date" } }),
                        ],
                    ))
                }
                p { button type="submit" { (t("Upload and preview")) } }
            }
        },
    )
}

/// The answer to an upload that cannot be read (or a file that cannot be previewed).
pub fn upload_refused_page(ctx: &Ctx, message: &str) -> Markup {
    layout(
        ctx,
        t("Upload refused"),
        html! { p.error { (message) } p { a href="/admin/import" { (t("Try again")) } } },
    )
}

/// The answer to the path of an upload this process does not have.
pub fn no_such_upload_page(ctx: &Ctx) -> Markup {
    layout(
        ctx,
        t("No such upload"),
        html! {
            p { (t("This upload is not known here: it expired (after 24 hours), was made before a restart, or on another instance.")) }
            p { a.button href="/admin/import" { (t("Upload a file")) } }
        },
    )
}

/// The answer to starting a check or an import that cannot start now (`problem`: why).
pub fn not_now_page(ctx: &Ctx, upload: &Upload, problem: &str) -> Markup {
    layout(
        ctx,
        t("Not now"),
        html! { p.error { (problem) "." } p { a href={ "/admin/import/" (upload.id) } { (t("Back to the file")) } } },
    )
}

/// `/admin/import/{id}` when no run goes on: the preview and the actions, or the report of
/// the check or the import.
pub fn upload_page(ctx: &Ctx, upload: &Upload, stage: &Stage, preview: Option<&Preview>) -> Markup {
    let (title, body) = match stage {
        Stage::Imported(report) => (
            t("Import finished"),
            html! {
                (summary(ctx, upload))
                (report_view(report))
                p { a.button href="/admin/subscribers" { (t("Subscribers")) } " " a href="/admin/import" { (t("Import another file")) } }
            },
        ),
        Stage::Checked(report) => (
            t("Checked: nothing was written"),
            html! {
                (summary(ctx, upload))
                (report_view(report))
                (actions(ctx, upload, false))
                (preview_view(preview))
            },
        ),
        Stage::Failed { dry_run, message } => (
            t("The file was refused"),
            html! {
                (summary(ctx, upload))
                p.error role="alert" {
                    @if *dry_run { (t("The check failed:")) } @else { (t("The import failed and nothing was kept:")) } " " (reason(message))
                }
                (actions(ctx, upload, true))
                (preview_view(preview))
            },
        ),
        Stage::Uploaded | Stage::Running { .. } => (
            t("Preview"),
            html! {
                (summary(ctx, upload))
                (preview_view(preview))
                (actions(ctx, upload, true))
            },
        ),
    };
    layout(ctx, title, body)
}

/// `/admin/import/{id}` while a check or import runs: a `<progress>` bar. With `watch`
/// (`?watch=1`, where starting a run leads) the page reloads every few seconds and offers to
/// stop; without, it shows the progress once with a link to refresh it and one to watch it
/// (a page that reloads unasked breaks WCAG 2.2.1).
pub fn progress_page(
    ctx: &Ctx,
    upload: &Upload,
    dry_run: bool,
    progress: &ImportProgress,
    watch: bool,
) -> Markup {
    let title = if dry_run {
        t("Checking the file…")
    } else {
        t("Importing…")
    };
    let read = progress.bytes_read().min(upload.size_bytes);
    let done = percent(read, upload.size_bytes);
    let here = format!("/admin/import/{}", upload.id);
    let body = html! {
        (summary(ctx, upload))
        div.card {
            progress #progress max=(upload.size_bytes) value=(read) { (done) "%" }
            @let (rows, percent) = (i18n::number(progress.rows()), done);
            p { @if dry_run {
                (tf("{rows} rows checked so far · {percent}% of the file read", &[("rows", &rows), ("percent", &percent)]))
            } @else {
                (tf("{rows} rows read so far · {percent}% of the file read", &[("rows", &rows), ("percent", &percent)]))
            } }
            @if watch {
                p.muted.watch {
                    (tf("This page reloads itself every {secs} seconds. You may leave it: the work goes on.", &[("secs", &REFRESH_SECS)]))
                    " " a href=(here) { (t("Stop reloading")) }
                }
            } @else {
                p.watch {
                    a.button href=(here) { (t("Refresh")) } " "
                    a href={ (here) "?watch=1" } { (t("Watch it live")) }
                    " " (tf("(the page reloads every {n} seconds)", &[("n", &REFRESH_SECS)]))
                }
                p.muted { (t("You may leave this page: the work goes on.")) }
            }
        }
    };
    if watch {
        refreshing_layout(ctx, title, REFRESH_SECS, body)
    } else {
        layout(ctx, title, body)
    }
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
            p { (filled(
                t("File {file} ({size} bytes) for the list {list}, uploaded by {user} at {time}."),
                &[
                    ("file", html! { strong { (upload.file_name) } }),
                    ("size", html! { (i18n::number(upload.size_bytes)) }),
                    ("list", html! { strong { (upload.list.as_str()) } }),
                    ("user", html! { (upload.uploaded_by) }),
                    ("time", html! { (ctx.time(upload.uploaded_at)) }),
                ],
            )) }
        }
    }
}

fn actions(ctx: &Ctx, upload: &Upload, offer_check: bool) -> Markup {
    html! {
        div.card {
            @if offer_check {
                form.inline method="post" action={ "/admin/import/" (upload.id) "/check" } {
                    (csrf_field(&ctx.csrf))
                    button.secondary type="submit" { (t("Check every row (dry run)")) }
                }
                " "
            }
            form.inline method="post" action={ "/admin/import/" (upload.id) "/run" } {
                (csrf_field(&ctx.csrf))
                button type="submit" { (t("Import now")) }
            }
            p.muted { (t("The check reads the whole file by the import's rules and writes nothing. The import is one transaction: all rows or none. Nobody who left the list, objected, or is suppressed, blocked or restricted is subscribed again.")) }
        }
    }
}

fn preview_view(preview: Option<&Preview>) -> Markup {
    let Some(p) = preview else {
        return html! {};
    };
    html! {
        h2 #first-rows { (t("First rows")) }
        // As wide as the file: it scrolls sideways on a phone, by keyboard too.
        div.scroll tabindex="0" role="region" aria-labelledby="first-rows" {
        table.preview {
            tr {
                th { (t("Line")) }
                @for c in &p.columns {
                    th { (c.name) br; span.muted { (c.used_as.unwrap_or(t("ignored"))) } }
                }
            }
            @for row in &p.rows {
                tr { td.num { (row.line) } @for v in &row.values { td { (v) } } }
            }
        }
        }
        @if p.rows.is_empty() { p.muted { (t("The file has a header and no rows.")) } }
        @if p.more { p.muted { (t("… and more rows.")) } }
        @if let Some(problem) = &p.problem {
            p.error role="alert" { (t("The import will refuse this file:")) " " (reason(problem)) }
        }
    }
}

fn report_view(r: &ImportReport) -> Markup {
    let imported = if r.dry_run {
        t("Would be imported")
    } else {
        t("Imported")
    };
    html! {
        table.report {
            tr { th { (t("Rows")) } th.num { (imported) } th.num { (t("Unchanged")) } th.num { (t("Skipped")) } }
            tr { td.num #rows { (r.rows) } td.num #imported { (r.imported) } td.num #unchanged { (r.unchanged) } td.num #skipped { (r.skipped) } }
        }
        @if !r.errors.is_empty() {
            h2 { (t("Rows not imported")) }
            table.row-problems {
                tr { th.num { (t("Line")) } th { (t("Address")) } th { (t("Code")) } th { (t("Reason")) } }
                @for p in &r.errors {
                    tr { td.num { (p.line) } td { (p.email.as_deref().unwrap_or("")) } td { code { (p.code) } } td { (reason(&p.error)) } }
                }
            }
            @if r.errors_truncated { p.muted { (tf("Only the first {n} are listed.", &[("n", &i18n::number(r.errors.len() as u64))])) } }
        }
    }
}

/// A reason the import service gives (a row's problem, why a file or a subscriber is
/// refused) in the page's language: a fixed text by its `[labels]` entry, a text with values
/// in it by its pattern; one with neither stays as it is.
pub fn reason(text: &str) -> String {
    if i18n::locale() == Locale::En {
        return text.to_owned();
    }
    let exact = tl(text);
    if exact != text {
        return exact.to_owned();
    }
    let patterns = [
        ("line {line}: {reason}", t("line {line}: {reason}")),
        (
            "the address already appeared on line {line}",
            t("the address already appeared on line {line}"),
        ),
        (
            "a consent list needs consent_at, consent_source and consent_text; missing: {fields}",
            t(
                "a consent list needs consent_at, consent_source and consent_text; missing: {fields}",
            ),
        ),
        (
            "the row has {len} fields, but the header has {expected}",
            t("the row has {len} fields, but the header has {expected}"),
        ),
        (
            "the column {name} appears twice",
            t("the column {name} appears twice"),
        ),
        (
            "{field} is too long (at most {max} characters)",
            t("{field} is too long (at most {max} characters)"),
        ),
        (
            "{field} contains a NUL character",
            t("{field} contains a NUL character"),
        ),
        ("there is no list {list}", t("there is no list {list}")),
        ("{list}: {reason}", t("{list}: {reason}")),
    ];
    for (en, said) in patterns {
        if let Some(values) = matched(en, text) {
            let mut out = said.to_owned();
            for (name, value) in values {
                let value = match name {
                    "reason" => reason(value),
                    _ => value.to_owned(),
                };
                out = out.replace(&format!("{{{name}}}"), &value);
            }
            return out;
        }
    }
    text.to_owned()
}

/// The values of `pattern`'s `{name}`s if `text` is written by it. Only a `reason` or
/// `fields` may hold spaces; no value is empty.
fn matched<'p, 't>(pattern: &'p str, text: &'t str) -> Option<Vec<(&'p str, &'t str)>> {
    let (lead, mut pattern) = pattern.split_once('{')?;
    let mut rest = text.strip_prefix(lead)?;
    let mut values = Vec::new();
    loop {
        let (name, after) = pattern.split_once('}')?;
        let value = match after.split_once('{') {
            Some((literal, next)) => {
                let at = rest.find(literal)?;
                let value = &rest[..at];
                rest = &rest[at + literal.len()..];
                pattern = next;
                value
            }
            None => {
                let value = rest.strip_suffix(after)?;
                rest = "";
                pattern = "";
                value
            }
        };
        let spaced = !matches!(name, "reason" | "fields") && value.contains(char::is_whitespace);
        if value.is_empty() || spaced {
            return None;
        }
        values.push((name, value));
        if pattern.is_empty() {
            return rest.is_empty().then_some(values);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::views::admin::i18n::ADMIN_LOCALE;

    #[tokio::test]
    async fn reasons_with_values_in_them_are_said_in_german_and_others_stay() {
        let duplicate = "line 3: the address already appeared on line 2";
        let missing = "monthly: a consent list needs consent_at, consent_source and \
                       consent_text; missing: consent_at, consent_text";
        let unknown = "the upload could not be read: connection reset";
        ADMIN_LOCALE
            .scope(Locale::De, async {
                assert_eq!(
                    reason(duplicate),
                    "Zeile 3: Die Adresse kam schon in Zeile 2 vor."
                );
                assert_eq!(
                    reason(missing),
                    "monthly: Eine Einwilligungsliste braucht consent_at, consent_source und \
                     consent_text; es fehlt: consent_at, consent_text"
                );
                assert_eq!(
                    reason("the subscriber is blocked"),
                    "Der Abonnent ist gesperrt."
                );
                assert_eq!(reason(unknown), unknown);
            })
            .await;
        assert_eq!(reason(duplicate), duplicate);
    }

    #[test]
    fn a_filled_text_escapes_the_words_and_keeps_the_markup() {
        let said = super::filled(
            "{n} <people> {unknown} found",
            &[("n", html! { strong #count { "3" } })],
        );
        assert_eq!(
            said.into_string(),
            "<strong id=\"count\">3</strong> &lt;people&gt; {unknown} found"
        );
    }
}
