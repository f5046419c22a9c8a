//! The admin pages of campaigns: the list, the compose form, one campaign's page with its
//! figures, chart, moves and preview frame, and the preview itself. Render only.

use maud::{Markup, PreEscaped, html};

use super::{CampaignChart, Ctx, Errors, campaign_chart, csrf_field, field, layout, status};
use crate::{
    domain::{Action, Campaign, MailingList},
    services::campaigns::{CampaignCounts, CampaignOverview, CampaignTimeline},
};

/// `/admin/campaigns`: every campaign with its status.
pub fn campaigns_page(ctx: &Ctx, all: &[Campaign]) -> Markup {
    layout(
        ctx,
        "Campaigns",
        html! {
            @if ctx.may(Action::ManageCampaigns) { p { a.button href="/admin/campaigns/new" { "New campaign" } } }
            table {
                tr { th { "Name" } th { "Subject" } th { "Status" } th { "Send at" } }
                @for c in all {
                    tr {
                        td { a href={ "/admin/campaigns/" (c.id) } { (c.def.name) } }
                        td { (c.def.subject) } td { (status(c.status.as_str())) }
                        td { (c.send_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()) }
                    }
                }
            }
            @if all.is_empty() { p.muted { "No campaigns yet." } }
        },
    )
}

/// The values typed into the compose form.
#[derive(Debug, Default, Clone, Copy)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct ComposeFormView<'a> {
    /// The internal name.
    pub name: &'a str,
    pub subject: &'a str,
    pub body_markdown: &'a str,
    /// The slugs of the lists ticked.
    pub lists: &'a [String],
    /// Where replies go (empty: the list's address, else `mail.reply_to`).
    pub reply_to: &'a str,
}

/// `/admin/campaigns/new`: the compose form over `all` lists, with its errors in place.
pub fn compose_page(
    ctx: &Ctx,
    all: &[MailingList],
    form: &ComposeFormView,
    errors: &Errors,
) -> Markup {
    let e = |k: &str| errors.get(k);
    layout(
        ctx,
        "New campaign",
        html! {
            @if !errors.is_empty() { p.error role="alert" { "Please correct the fields marked below." } }
            form.card method="post" action="/admin/campaigns" {
                (csrf_field(&ctx.csrf))
                (field("name", "Internal name", "text", form.name, e("name")))
                (field("subject", "Subject", "text", form.subject, e("subject")))
                label { "Lists" }
                @for l in all {
                    label.check { input type="checkbox" name="list" value=(l.def.slug.as_str()) checked[form.lists.iter().any(|s| s == l.def.slug.as_str())]; " " (l.def.name) }
                }
                @if let Some(err) = e("list") { p.field-error { (err) } }
                (field("reply_to", "Replies go to (any address, e.g. a helpdesk; empty: the list's, else mail.reply_to)", "email", form.reply_to, e("reply_to")))
                label for="body_markdown" { "Body (Markdown; variables such as " code { "{{ subscriber.name }}" } ")" }
                textarea id="body_markdown" name="body_markdown" aria-invalid=[e("body_markdown").map(|_| "true")] { (form.body_markdown) }
                @if let Some(err) = e("body_markdown") { p.field-error { (err) } }
                p { button type="submit" { "Save draft and preview" } }
            }
        },
    )
}

/// What `/admin/campaigns/{id}` shows.
#[derive(Debug, Clone)]
pub struct CampaignView {
    /// The campaign and its figures.
    pub overview: CampaignOverview,
    /// Its sends and unsubscribes over time, once it started.
    pub timeline: Option<CampaignTimeline>,
    /// Why the last move was refused, shown above everything.
    pub error: Option<String>,
}

/// `/admin/campaigns/{id}`: figures, progress, chart, the moves and the preview frame.
pub fn campaign_page(ctx: &Ctx, v: &CampaignView) -> Markup {
    let c = &v.overview.campaign;
    let n = &v.overview.counts;
    let done = n.sent + n.failed + n.suppressed;
    let action = |verb: &str| format!("/admin/campaigns/{}/{verb}", c.id);
    layout(
        ctx,
        &c.def.name,
        html! {
            @if let Some(e) = &v.error { p.error role="alert" { (e) } }
            div.card {
                p { "Status: " (status(c.status.as_str()))
                    @if let Some(t) = c.send_at { " · send at " (t.format("%Y-%m-%d %H:%M UTC")) }
                    @if let Some(r) = &c.paused_reason { " · paused: " (r) } }
                @if let Some(r) = &c.def.reply_to { p { "Replies go to " code { (r.as_str()) } } }
                @if n.total > 0 {
                    progress max=(n.total) value=(done) { (done) " of " (n.total) }
                }
                table.figures {
                    tr { th.num { "Recipients" } th.num { "Sent" } th.num { "Queued" } th.num { "Deferred" } th.num { "Failed" } th.num { "Suppressed" } th.num { "Unsubscribed because of it" } }
                    tr { td.num { (n.total) } td.num #sent { (n.sent) } td.num { (n.queued + n.sending) } td.num { (n.deferred) } td.num { (n.failed) } td.num { (n.suppressed) } td.num #unsubscribed { (n.unsubscribed) } }
                }
            }
            @if let Some(t) = &v.timeline {
                div.card {
                    h2 { "Over time" }
                    (campaign_chart(&chart(n, t)))
                    p.muted { "Blue: messages sent per " (bucket_label(t.bucket_secs)) "; red: people who left by this campaign's unsubscribe link, on their own scale. A pause shows as a gap; unsubscribes that follow the sends closely are a reaction to the content." }
                }
            }
            @if ctx.may(Action::ManageCampaigns) {
                div.card {
                    form.inline method="post" action=(action("schedule")) {
                        (csrf_field(&ctx.csrf))
                        label for="send_at" { "Send at (UTC; empty: now)" }
                        input #send_at type="datetime-local" name="send_at";
                        " " button type="submit" { "Schedule" }
                    }
                    p {
                        @for (verb, label) in [("pause", "Pause"), ("resume", "Resume"), ("cancel", "Cancel")] {
                            form.inline method="post" action=(action(verb)) {
                                (csrf_field(&ctx.csrf))
                                button.secondary type="submit" { (label) } " "
                            }
                        }
                    }
                    form method="post" action=(action("test")) {
                        (csrf_field(&ctx.csrf))
                        label for="to" { "Send a test to" }
                        input #to type="email" name="to";
                        " " button.secondary type="submit" { "Send test" }
                    }
                }
            }
            h2 { "Preview" }
            p.muted { "Subject: " (c.def.subject) }
            iframe.preview sandbox="" src=(action("preview")) title="Preview of the e-mail" {}
        },
    )
}

fn bucket_label(secs: i64) -> String {
    match secs {
        604_800 => "week".to_owned(),
        86_400 => "day".to_owned(),
        3600 => "hour".to_owned(),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s => format!("{} min", s / 60),
    }
}

fn chart(n: &CampaignCounts, t: &CampaignTimeline) -> CampaignChart {
    CampaignChart {
        outcomes: vec![
            ("sent", n.sent, "#3aa76d"),
            ("waiting", n.queued + n.sending + n.deferred, "#f2c14e"),
            ("failed", n.failed, "#c0392b"),
            ("suppressed", n.suppressed, "#9aa5bd"),
        ],
        start: t.start.format("%Y-%m-%d %H:%M UTC").to_string(),
        bucket: bucket_label(t.bucket_secs),
        sent: t.sent.clone(),
        unsubscribed: t.unsubscribed.clone(),
    }
}

/// The preview frame's document: the campaign's HTML as a sample recipient would get it.
pub fn preview(html: String) -> Markup {
    // Rendered by our campaign template engine; the sandboxing CSP the handler sets
    // contains it.
    PreEscaped(html)
}
