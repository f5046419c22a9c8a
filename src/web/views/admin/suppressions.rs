//! `/admin/suppressions`: the addresses never mailed again, with why and since when, a form
//! to add one, and (for admins) lifting one with a note. Render only.

use maud::{Markup, html};

use super::{Ctx, csrf_field, field, layout, status, t, tl};
use crate::{
    domain::{Action, SuppressionReason},
    services::suppressions::Suppression,
};

/// What the page shows.
#[derive(Debug)]
pub struct SuppressionsView<'a> {
    /// This page of suppressions.
    pub items: &'a [Suppression],
    /// The cursor of the next page.
    pub next_cursor: Option<&'a str>,
    /// The reason shown, or all.
    pub reason: Option<SuppressionReason>,
    /// A problem with the last form, shown above the forms.
    pub problem: Option<&'a str>,
}

const REASONS: [SuppressionReason; 5] = [
    SuppressionReason::HardBounce,
    SuppressionReason::SoftBounceLimit,
    SuppressionReason::Complaint,
    SuppressionReason::Erased,
    SuppressionReason::Manual,
];

/// The suppressions page.
pub fn suppressions_page(ctx: &Ctx, v: &SuppressionsView<'_>) -> Markup {
    let filter = v.reason.map(|r| format!("reason={r}&")).unwrap_or_default();
    layout(
        ctx,
        t("Suppressions"),
        html! {
            p.muted { (t("Bulletin never mails these addresses again: not campaigns, notices, confirmations nor test sends. It keeps only a keyed hash of each; the person is named while they exist.")) }
            @if let Some(problem) = v.problem { p.error role="alert" { (problem) } }
            p {
                a href="/admin/suppressions" { (t("All")) }
                @for r in REASONS { " · " a href={ "/admin/suppressions?reason=" (r) } { (tl(r.as_str())) } }
            }
            table.suppressions {
                tr { th { (t("Person")) } th { (t("Reason")) } th { (t("Since")) } th { (t("Detail")) } th {} }
                @for s in v.items { (row(ctx, s)) }
            }
            @if v.items.is_empty() { p.muted { (t("No suppressions.")) } }
            @if let Some(next) = v.next_cursor {
                p.pager { a.button rel="next" href={ "/admin/suppressions?" (filter) "cursor=" (next) } { (t("More →")) } }
            }
            @if ctx.may(Action::ManageSubscribers) {
                div.card {
                    h2 { (t("Suppress an address")) }
                    form method="post" action="/admin/suppressions" {
                        (csrf_field(&ctx.csrf))
                        (field("email", t("E-mail address"), "email", "", None))
                        (field("note", t("Note (why)"), "text", "", None))
                        p { button.danger type="submit" { (t("Never mail it again")) } }
                    }
                }
            }
        },
    )
}

fn row(ctx: &Ctx, s: &Suppression) -> Markup {
    html! {
        tr {
            td {
                @match &s.subscriber {
                    Some((id, email)) => a href={ "/admin/subscribers/" (id) } { (email.as_str()) },
                    None => span.muted { (t("not known or erased")) },
                }
            }
            td { (status(s.reason.as_str())) }
            td { (ctx.time(s.created_at)) }
            td { @if let Some(d) = &s.detail { (d) } }
            td {
                @if ctx.may(Action::HandlePersonalData) {
                    form.inline method="post" action={ "/admin/suppressions/" (s.id) "/lift" } {
                        (csrf_field(&ctx.csrf))
                        input name="note" type="text" required placeholder=(t("why")) aria-label=(t("Why lift it"));
                        " " button type="submit" { (t("Lift")) }
                    }
                }
            }
        }
    }
}
