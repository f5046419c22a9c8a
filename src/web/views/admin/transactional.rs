//! The admin pages of transactional mail: the templates, the form for a new one, and one
//! template's editor with how an integrator sends it. Render only.

use maud::{Markup, html};

use super::{Ctx, csrf_field, field, layout, t, tf};
use crate::domain::{Action, TransactionalTemplate};

/// What a template form holds: as saved, or as typed when it was refused.
#[derive(Debug, Clone, Default)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct Draft {
    pub name: String,
    pub subject: String,
    pub body_markdown: String,
}

/// `/admin/transactional`: every template, and (for those who may) the form for a new one
/// with `draft` in it and `problem` above it.
pub fn templates_page(
    ctx: &Ctx,
    all: &[TransactionalTemplate],
    draft: &Draft,
    problem: Option<&str>,
) -> Markup {
    layout(
        ctx,
        t("Transactional templates"),
        html! {
            p.muted { (t("Receipts, password resets and other messages your systems ask Bulletin to send through the API. They go to one person, carry no unsubscribe link, and are never sent to a suppressed, blocked or restricted person.")) }
            @if all.is_empty() {
                p { (t("No transactional templates yet.")) }
            } @else {
                table {
                    tr { th { (t("Name")) } th { (t("Subject")) } th { (t("Changed")) } }
                    @for tpl in all {
                        tr {
                            td { a href={ "/admin/transactional/" (tpl.name) } { code { (tpl.name) } } }
                            td { (tpl.subject) }
                            td { (ctx.time(tpl.updated_at)) }
                        }
                    }
                }
            }
            @if ctx.may(Action::ManageTemplates) {
                h2 { (t("New template")) }
                form.card method="post" action="/admin/transactional" {
                    (csrf_field(&ctx.csrf))
                    @if let Some(p) = problem { p.field-error role="alert" { (p) } }
                    (field("name", t("Name (lower-case letters, digits, - and _)"), "text", &draft.name, None))
                    (text_fields(draft))
                    p { button type="submit" { (t("Save template")) } }
                }
            }
        },
    )
}

/// The subject and body fields, with how to use variables.
fn text_fields(draft: &Draft) -> Markup {
    html! {
        (field("subject", t("Subject"), "text", &draft.subject, None))
        label for="body_markdown" { (t("Body (Markdown)")) }
        textarea id="body_markdown" name="body_markdown" rows="12" { (draft.body_markdown) }
        p.muted { (t("Variables: {{ data.KEY }} for what the API call passes, {{ subscriber.name }}, {{ subscriber.email }}, {{ subscriber.attributes.KEY }}, {{ organisation }}.")) }
    }
}

/// `/admin/transactional/{name}`: the template's editor with `draft` in it and `problem`
/// above it, deleting it, and the API call that sends it.
pub fn template_page(
    ctx: &Ctx,
    template: &TransactionalTemplate,
    draft: &Draft,
    problem: Option<&str>,
) -> Markup {
    let action = format!("/admin/transactional/{}", template.name);
    let call = format!(
        "curl -X POST \"$BULLETIN/api/v1/transactional\" \\\n  -H \"Authorization: Bearer $TOKEN\" -H \"Content-Type: application/json\" \\\n  -d '{{\"template\": \"{}\", \"to\": \"person@example.com\", \"data\": {{}}}}'",
        template.name
    );
    layout(
        ctx,
        &tf("Transactional template {name}", &[("name", &template.name)]),
        html! {
            p { a href="/admin/transactional" { (t("← all transactional templates")) } }
            @if ctx.may(Action::ManageTemplates) {
                form.card method="post" action=(action) {
                    (csrf_field(&ctx.csrf))
                    @if let Some(p) = problem { p.field-error role="alert" { (p) } }
                    (text_fields(draft))
                    p { button type="submit" { (t("Save template")) } }
                }
                form method="post" action={ (action) "/delete" } {
                    (csrf_field(&ctx.csrf))
                    button.secondary type="submit" { (t("Delete template")) }
                }
            } @else {
                div.card {
                    p { strong { (draft.subject) } }
                    pre { (draft.body_markdown) }
                }
            }
            h2 { (t("Sending it")) }
            p.muted { (t("An API token of a marketer or an admin sends it; the answer's id tells where the message stands (GET /api/v1/transactional/ID).")) }
            pre { (call) }
        },
    )
}
