//! The admin pages of e-mail templates: the files per message and language, one file's
//! editor with its preview frame, and the preview itself. Render only.

use maud::{Markup, html};

use super::{Ctx, csrf_field, layout, status, t, tf};
use crate::{
    domain::{Action, Locale},
    services::templates::TemplateInfo,
};

/// `/admin/templates`: every message per language, with the parts that are overridden.
pub fn templates_page(ctx: &Ctx, all: &[TemplateInfo]) -> Markup {
    let mut messages: Vec<&str> = all.iter().map(|t| t.file.message).collect();
    messages.dedup();
    messages.sort_unstable();
    messages.dedup();
    layout(
        ctx,
        t("E-mail templates"),
        html! {
            p.muted { (t("The messages Bulletin sends, per language. An override saved here is used by every instance at once and survives deploys; revert goes back to the built-in.")) }
            p { a href="/admin/transactional" { (t("Transactional templates")) } " — " (t("receipts and other messages your systems send through the API.")) }
            table {
                tr { th { (t("Message")) } @for l in Locale::all() { th { (l.as_str()) } } }
                @for m in &messages {
                    tr {
                        td { (m) }
                        @for l in Locale::all() {
                            td {
                                @for file in all.iter().filter(|f| f.file.message == *m && f.file.locale == l) {
                                    a href={ "/admin/templates/" (file.file.path()) } { (file.file.part) }
                                    @if file.saved.is_some() { " " (status("overridden")) }
                                    br;
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// `/admin/templates/{locale}/{file}`: the file, the editor with `typed` in it and `error`
/// at it, revert, the built-in source and the preview frame.
pub fn template_page(ctx: &Ctx, info: &TemplateInfo, typed: &str, error: Option<&str>) -> Markup {
    let action = format!("/admin/templates/{}", info.file.path());
    layout(
        ctx,
        &tf("Template {path}", &[("path", &info.file.path())]),
        html! {
            p { a href="/admin/templates" { (t("← all templates")) } }
            div.card {
                p {
                    (t("Message")) " " strong { (info.file.message) } ", " (t("part")) " " code { (info.file.part) } ", " (t("language")) " " (info.file.locale.as_str()) ". "
                    @match &info.saved {
                        Some(o) => { (status("overridden")) " " (tf("saved by {who} at {time}", &[("who", &o.updated_by), ("time", &ctx.time(o.updated_at))])) }
                        None => { (status("built-in")) }
                    }
                }
                @if ctx.may(Action::ManageTemplates) {
                    form method="post" action=(action) {
                        (csrf_field(&ctx.csrf))
                        label for="source" { (t("Source (minijinja; variables as in the built-in below)")) }
                        textarea id="source" name="source" aria-invalid=[error.map(|_| "true")] { (typed) }
                        @if let Some(e) = error { p.field-error role="alert" { (e) } }
                        p {
                            button type="submit" { (t("Save override")) } " "
                            button.secondary type="submit" formaction={ (action) "/preview" } formtarget="template-preview" { (t("Preview without saving")) }
                        }
                    }
                    @if info.saved.is_some() {
                        form method="post" action={ (action) "/revert" } {
                            (csrf_field(&ctx.csrf))
                            button.secondary type="submit" { (t("Revert to the built-in")) }
                        }
                    }
                } @else {
                    pre { (typed) }
                }
            }
            details { summary { (t("Built-in source")) } pre { (info.builtin) } }
            h2 { (t("Preview with sample values")) }
            p.muted { (t("As saved; “Preview without saving” shows what is typed above instead.")) }
            iframe.preview sandbox="" name="template-preview" src={ (action) "/preview" } title=(t("Preview of the e-mail")) {}
        },
    )
}

/// The preview frame's document: the subject and text part (escaped) at the top of the
/// message's HTML as rendered with sample values, all one HTML document.
pub fn preview(subject: &str, text: &str, html: &str) -> Markup {
    let header = html! {
        div {
            p { strong { (t("Subject:")) " " } (subject) }
            details { summary { (t("Text part")) } pre { (text) } }
            hr;
        }
    };
    super::preview_document(Some(header), html)
}
