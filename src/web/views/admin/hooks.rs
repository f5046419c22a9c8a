//! `/admin/webhooks`: the outgoing webhook endpoints, a form to add one (its secret shown
//! once), and one endpoint's delivery attempts with enable, disable and delete. Render only.

use maud::{Markup, html};

use super::{Ctx, csrf_field, field, layout, t};
use crate::{
    domain::EventType,
    store::hooks::{Attempt, Endpoint},
};

/// What the list page shows.
#[derive(Debug)]
pub struct HooksView<'a> {
    /// Every endpoint.
    pub endpoints: &'a [Endpoint],
    /// The endpoint just added and its secret, shown this once.
    pub created: Option<(&'a Endpoint, &'a str)>,
    /// A problem with the form, shown above it.
    pub problem: Option<&'a str>,
}

/// The list page.
pub fn hooks_page(ctx: &Ctx, v: &HooksView<'_>) -> Markup {
    layout(
        ctx,
        t("Webhooks"),
        html! {
            p.muted { (t("Bulletin posts each event to these URLs, signed as the Standard Webhooks specification says. The payloads hold ids, no addresses.")) }
            @if let Some((endpoint, secret)) = v.created {
                div.card role="status" {
                    h2 { (t("Webhook added")) }
                    p { (endpoint.url) }
                    p { (t("Its signing secret, shown only now:")) }
                    p { code.secret { (secret) } }
                }
            }
            @if let Some(problem) = v.problem { p.error role="alert" { (problem) } }
            table.webhooks {
                tr { th { (t("URL")) } th { (t("Events")) } th { (t("State")) } }
                @for e in v.endpoints {
                    tr {
                        td { a href={ "/admin/webhooks/" (e.id) } { (e.url) } }
                        td { (names(&e.events)) }
                        td { (state(e)) }
                    }
                }
            }
            @if v.endpoints.is_empty() { p.muted { (t("No webhooks.")) } }
            div.card {
                h2 { (t("Add a webhook")) }
                form method="post" action="/admin/webhooks" {
                    (csrf_field(&ctx.csrf))
                    (field("url", t("URL"), "url", "", None))
                    fieldset {
                        legend { (t("Events")) }
                        @for event in EventType::ALL {
                            label {
                                input type="checkbox" name="events" value=(event.as_str());
                                " " (event.as_str())
                            }
                        }
                    }
                    p { button type="submit" { (t("Add the webhook")) } }
                }
            }
        },
    )
}

fn names(events: &[EventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn state(e: &Endpoint) -> &'static str {
    match (e.enabled, e.disabled_at.is_some()) {
        (true, _) => t("enabled"),
        (false, true) => t("disabled after a day of failures"),
        (false, false) => t("disabled"),
    }
}

/// One endpoint's page: its state, the buttons, and its newest attempts.
pub fn hook_page(ctx: &Ctx, e: &Endpoint, attempts: &[Attempt]) -> Markup {
    let action = |verb: &str| format!("/admin/webhooks/{}/{verb}", e.id);
    layout(
        ctx,
        t("Webhook"),
        html! {
            p { code { (e.url) } }
            p { (names(&e.events)) }
            p { (state(e)) }
            form.inline method="post" action=(action(if e.enabled { "disable" } else { "enable" })) {
                (csrf_field(&ctx.csrf))
                button type="submit" { (if e.enabled { t("Disable") } else { t("Enable") }) }
            }
            " "
            form.inline method="post" action=(action("delete")) {
                (csrf_field(&ctx.csrf))
                button.danger type="submit" { (t("Delete the webhook")) }
            }
            h2 { (t("Delivery attempts")) }
            table.attempts {
                tr { th { (t("Time")) } th { (t("Event")) } th { (t("Attempt")) } th { (t("Answer")) } }
                @for a in attempts {
                    tr {
                        td { (ctx.time_secs(a.attempted_at)) }
                        td { (a.event_type.as_str()) " " code { (a.event_id) } }
                        td { (a.attempt) }
                        td {
                            @if let Some(code) = a.status_code { (code) " " }
                            @if let Some(error) = &a.error { span.muted { (error) } }
                        }
                    }
                }
            }
            @if attempts.is_empty() { p.muted { (t("No attempts yet.")) } }
        },
    )
}
