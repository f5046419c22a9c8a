//! The admin pages of e-mail templates: the files per message and language, one file's
//! editor with its preview frame, and the preview itself. Render only.

use maud::{Markup, html};

use super::{Ctx, csrf_field, layout, status};
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
        "E-mail templates",
        html! {
            p.muted { "The messages Bulletin sends, per language. An override saved here is used by every instance at once and survives deploys; revert goes back to the built-in." }
            table {
                tr { th { "Message" } @for l in Locale::ALL { th { (l.as_str()) } } }
                @for m in &messages {
                    tr {
                        td { (m) }
                        @for l in Locale::ALL {
                            td {
                                @for t in all.iter().filter(|t| t.file.message == *m && t.file.locale == l) {
                                    a href={ "/admin/templates/" (t.file.path) } { (t.file.part) }
                                    @if t.saved.is_some() { " " (status("overridden")) }
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
pub fn template_page(ctx: &Ctx, t: &TemplateInfo, typed: &str, error: Option<&str>) -> Markup {
    let action = format!("/admin/templates/{}", t.file.path);
    layout(
        ctx,
        &format!("Template {}", t.file.path),
        html! {
            p { a href="/admin/templates" { "← all templates" } }
            div.card {
                p {
                    "Message " strong { (t.file.message) } ", part " code { (t.file.part) } ", language " (t.file.locale.as_str()) ". "
                    @match &t.saved {
                        Some(o) => { (status("overridden")) " saved by " (o.updated_by) " at " (ctx.time(o.updated_at)) }
                        None => { (status("built-in")) }
                    }
                }
                @if ctx.may(Action::ManageTemplates) {
                    form method="post" action=(action) {
                        (csrf_field(&ctx.csrf))
                        label for="source" { "Source (minijinja; variables as in the built-in below)" }
                        textarea id="source" name="source" aria-invalid=[error.map(|_| "true")] { (typed) }
                        @if let Some(e) = error { p.field-error role="alert" { (e) } }
                        p {
                            button type="submit" { "Save override" } " "
                            button.secondary type="submit" formaction={ (action) "/preview" } formtarget="template-preview" { "Preview without saving" }
                        }
                    }
                    @if t.saved.is_some() {
                        form method="post" action={ (action) "/revert" } {
                            (csrf_field(&ctx.csrf))
                            button.secondary type="submit" { "Revert to the built-in" }
                        }
                    }
                } @else {
                    pre { (typed) }
                }
            }
            details { summary { "Built-in source" } pre { (t.builtin) } }
            h2 { "Preview with sample values" }
            p.muted { "As saved; “Preview without saving” shows what is typed above instead." }
            iframe.preview sandbox="" name="template-preview" src={ (action) "/preview" } title="Preview of the e-mail" {}
        },
    )
}

/// The preview frame's document: the subject and text part (escaped) at the top of the
/// message's HTML as rendered with sample values, all one HTML document.
pub fn preview(subject: &str, text: &str, html: &str) -> Markup {
    let header = html! {
        div {
            p { strong { "Subject: " } (subject) }
            details { summary { "Text part" } pre { (text) } }
            hr;
        }
    };
    super::preview_document(Some(header), html)
}
