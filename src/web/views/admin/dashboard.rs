//! The admin pages that only read: the dashboard, the job runs with the next runs, and the
//! audit log. Render only.

use maud::{Markup, html};

use super::{Ctx, growth_chart, layout, status};
use crate::{
    scheduler::NextRun,
    services::dashboard::{Dashboard, GROWTH_WINDOW_DAYS, Headline, percent},
    store::{audit::AuditEntry, jobs::JobRun},
};

/// `/admin/`: the headline figures, subscribers per list, growth over `growth_days` days, and
/// recent campaigns.
pub fn dashboard_page(ctx: &Ctx, d: &Dashboard, growth_days: u32) -> Markup {
    layout(
        ctx,
        "Dashboard",
        html! {
            (headline(&d.headline))
            div.grid {
                div.card {
                    h2 { "Subscribers per list" }
                    table {
                        tr { th { "List" } th.num { "Confirmed" } th.num { "Pending" } th.num { "Unsubscribed" } }
                        @for l in &d.lists {
                            tr {
                                td { a href={ "/admin/subscribers?list=" (l.list.id) } { (l.list.def.name) } }
                                td.num { (l.confirmed) } td.num { (l.pending) } td.num { (l.unsubscribed) }
                            }
                        }
                    }
                    @if d.lists.is_empty() { p.muted { "No lists yet. " a href="/admin/lists" { "Create one" } } }
                }
                div.card {
                    h2 { "Growth, last " (growth_days) " days" }
                    (growth_chart(&d.growth))
                }
            }
            div.card {
                h2 { "Recent campaigns" }
                table {
                    tr { th { "Campaign" } th { "Status" } th.num { "Recipients" } th.num { "Sent" } th.num { "Deferred" } th.num { "Failed" } th.num { "Suppressed" } }
                    @for o in &d.campaigns {
                        tr {
                            td { a href={ "/admin/campaigns/" (o.campaign.id) } { (o.campaign.def.name) } }
                            td { (status(o.campaign.status.as_str())) }
                            td.num { (o.counts.total) } td.num.sent { (o.counts.sent) }
                            td.num { (o.counts.deferred) } td.num { (o.counts.failed) } td.num { (o.counts.suppressed) }
                        }
                    }
                }
                @if d.campaigns.is_empty() { p.muted { "No campaigns yet." } }
            }
        },
    )
}

/// A per cent figure as text: "1.25 %", or "–" without a base.
fn percent_text(p: Option<f64>) -> String {
    p.map_or_else(|| "–".to_owned(), |p| format!("{p:.2} %"))
}

/// The figures the dashboard leads with: people, growth over 30 days, and the unsubscribe,
/// bounce and complaint rates of the last sent campaigns.
fn headline(h: &Headline) -> Markup {
    let net = h.net();
    let growth = match h.growth_percent {
        Some(p) => format!("{net:+} ({p:+.1} %)"),
        None => format!("{net:+}"),
    };
    let rated = h.campaigns.len();
    let over = format!(
        "of {} delivered, last {rated} sent campaign{}",
        h.delivered,
        if rated == 1 { "" } else { "s" }
    );
    html! {
        section.headline aria-label="Headline figures" {
            div.card { h2 { "People" } p.figure #people { (h.people) } p.muted { "active, with a confirmed subscription" } }
            div.card { h2 { "Growth, " (GROWTH_WINDOW_DAYS) " days" } p.figure #growth { (growth) } p.muted { (h.joined) " subscriptions confirmed, " (h.left) " left" } }
            div.card { h2 { "Unsubscribes" } p.figure #unsubscribe-rate { (percent_text(h.unsubscribe_percent)) } p.muted { (over) } }
            div.card { h2 { "Bounces" } p.figure #bounce-rate { (percent_text(h.bounce_percent)) } p.muted { (over) } }
            div.card { h2 { "Complaints" } p.figure #complaint-rate { (percent_text(h.complaint_percent)) } p.muted { (over) } }
        }
        @if !h.campaigns.is_empty() {
            div.card {
                h2 { "Last sent campaigns" }
                table {
                    tr { th { "Campaign" } th.num { "Delivered" } th.num { "Unsubscribes" } th.num { "Bounces" } th.num { "Complaints" } }
                    @for c in &h.campaigns {
                        @let n = &c.counts;
                        tr {
                            td { a href={ "/admin/campaigns/" (c.campaign.id) } { (c.campaign.def.name) } }
                            td.num { (n.sent) }
                            td.num { (percent_text(percent(n.unsubscribed, n.sent))) }
                            td.num { (percent_text(percent(n.bounced, n.sent))) }
                            td.num { (percent_text(percent(n.complaints, n.sent))) }
                        }
                    }
                }
            }
        }
    }
}

/// What `/admin/jobs` shows.
#[derive(Debug, Clone)]
pub struct JobsView {
    /// When each job runs next.
    pub upcoming: Vec<NextRun>,
    /// Whether this process runs the scheduler.
    pub scheduler_enabled: bool,
    /// A page of runs, newest first.
    pub runs: Vec<JobRun>,
    /// The cursor of the next page.
    pub next_cursor: Option<uuid::Uuid>,
    /// Whether runs that did nothing are shown.
    pub show_empty: bool,
}

/// `/admin/jobs`: the next run of each job and a page of what the scheduler did.
pub fn jobs_page(ctx: &Ctx, v: &JobsView) -> Markup {
    layout(
        ctx,
        "Job runs",
        html! {
            div.card {
                h2 { "Next runs" }
                @if !v.scheduler_enabled {
                    p.muted { "The scheduler is off in this process (scheduler.enabled = false); another instance may run it." }
                }
                table {
                    tr { th { "Job" } th { "Schedule (UTC)" } th { "Next run" } }
                    @for n in &v.upcoming {
                        tr {
                            td { (n.job) } td { code { (n.cron) } }
                            td.next-run { (n.at.map(|t| ctx.time_secs(t)).unwrap_or_else(|| "never".to_owned())) }
                        }
                    }
                }
            }
            h2 { "Runs" }
            @if v.show_empty {
                p { "Showing every run. " a href="/admin/jobs" { "Hide empty runs" } }
            } @else {
                p { "Runs that did nothing are hidden. " a href="/admin/jobs?empty=1" { "Show empty runs" } }
            }
            table {
                tr { th { "Job" } th { "Status" } th { "Started" } th { "Finished" } th { "Report" } }
                @for r in &v.runs {
                    tr {
                        td { (r.job) } td { (status(&r.status)) }
                        td { (ctx.time_secs(r.started_at)) }
                        td { (ctx.time_secs(r.finished_at)) }
                        td { code { (r.report) } }
                    }
                }
            }
            @if v.runs.is_empty() {
                p.muted { @if v.show_empty { "No job has run yet." } @else { "No run did anything on this page." } }
            }
            @if let Some(next) = v.next_cursor {
                p.pager { a.button rel="next" href={ "/admin/jobs?cursor=" (next) @if v.show_empty { "&empty=1" } } { "Older →" } }
            }
        },
    )
}

/// `/admin/audit`: the audit log, newest first.
pub fn audit_page(ctx: &Ctx, entries: &[AuditEntry]) -> Markup {
    layout(
        ctx,
        "Audit log",
        html! {
            table {
                tr { th { "When" } th { "Who" } th { "Action" } th { "Record" } th { "Detail" } }
                @for e in entries {
                    tr {
                        td { (ctx.time_secs(e.occurred_at)) }
                        td { (e.actor) } td { code { (e.action) } }
                        td { (e.target.as_deref().unwrap_or("")) }
                        td { (e.detail.as_deref().unwrap_or("")) }
                    }
                }
            }
            @if entries.is_empty() { p.muted { "Nothing yet." } }
        },
    )
}
