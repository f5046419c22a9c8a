//! The admin pages that only read: the dashboard, the job runs with the next runs, and the
//! audit log. Render only.

use maud::{Markup, html};

use super::{Ctx, growth_chart, i18n, i18n::number, layout, status, t, tf, tn};
use crate::domain::Locale;
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
        t("Dashboard"),
        html! {
            (headline(&d.headline))
            div.grid {
                div.card {
                    h2 { (t("Subscribers per list")) }
                    table {
                        tr { th { (t("List")) } th.num { (t("Confirmed")) } th.num { (t("Pending")) } th.num { (t("Unsubscribed")) } }
                        @for l in &d.lists {
                            tr {
                                td { a href={ "/admin/subscribers?list=" (l.list.id) } { (l.list.def.name) } }
                                td.num { (number(l.confirmed)) } td.num { (number(l.pending)) } td.num { (number(l.unsubscribed)) }
                            }
                        }
                    }
                    @if d.lists.is_empty() { p.muted { (t("No lists yet.")) " " a href="/admin/lists" { (t("Create one")) } } }
                }
                div.card {
                    h2 { (tn("Growth, last {n} day", "Growth, last {n} days", growth_days.into())) }
                    (growth_chart(&d.growth))
                }
            }
            div.card {
                h2 { (t("Recent campaigns")) }
                table {
                    tr {
                        th { (t("Campaign")) } th { (t("Status")) } th.num { (t("Recipients")) } th.num { (t("Sent")) }
                        th.num { (t("Deferred")) } th.num { (t("Failed")) } th.num { (t("Suppressed")) }
                    }
                    @for o in &d.campaigns {
                        tr {
                            td { a href={ "/admin/campaigns/" (o.campaign.id) } { (o.campaign.def.name) } }
                            td { (status(o.campaign.status.as_str())) }
                            td.num { (number(o.counts.total)) } td.num.sent { (number(o.counts.sent)) }
                            td.num { (number(o.counts.deferred)) } td.num { (number(o.counts.failed)) }
                            td.num { (number(o.counts.suppressed)) }
                        }
                    }
                }
                @if d.campaigns.is_empty() { p.muted { (t("No campaigns yet.")) } }
            }
        },
    )
}

/// A per cent figure as text: "1.25 %", or "–" without a base.
fn percent_text(p: Option<f64>) -> String {
    p.map_or_else(|| "–".to_owned(), |p| decimal(format!("{p:.2} %")))
}

/// A number written with a decimal point (`12.5`) as the page's language writes it: `12,5`
/// in German.
pub(super) fn decimal(text: String) -> String {
    match i18n::locale() {
        Locale::De => text.replace('.', ","),
        _ => text,
    }
}

/// The figures the dashboard leads with: people, growth over 30 days, and the unsubscribe,
/// bounce and complaint rates of the last sent campaigns.
fn headline(h: &Headline) -> Markup {
    let net = h.net();
    let growth = match h.growth_percent {
        Some(p) => decimal(format!("{net:+} ({p:+.1} %)")),
        None => format!("{net:+}"),
    };
    let rated = h.campaigns.len();
    let over = tn(
        "of {delivered} delivered, last {n} sent campaign",
        "of {delivered} delivered, last {n} sent campaigns",
        rated as u64,
    )
    .replace("{delivered}", &number(h.delivered));
    let window = tn(
        "Growth, {n} day",
        "Growth, {n} days",
        GROWTH_WINDOW_DAYS.unsigned_abs(),
    );
    let moved = tf(
        "{joined} subscriptions confirmed, {left} left",
        &[("joined", &number(h.joined)), ("left", &number(h.left))],
    );
    html! {
        section.headline aria-label=(t("Headline figures")) {
            div.card { h2 { (t("People")) } p.figure #people { (number(h.people)) } p.muted { (t("active, with a confirmed subscription")) } }
            div.card { h2 { (window) } p.figure #growth { (growth) } p.muted { (moved) } }
            div.card { h2 { (t("Unsubscribes")) } p.figure #unsubscribe-rate { (percent_text(h.unsubscribe_percent)) } p.muted { (over) } }
            div.card { h2 { (t("Bounces")) } p.figure #bounce-rate { (percent_text(h.bounce_percent)) } p.muted { (over) } }
            div.card { h2 { (t("Complaints")) } p.figure #complaint-rate { (percent_text(h.complaint_percent)) } p.muted { (over) } }
        }
        @if !h.campaigns.is_empty() {
            div.card {
                h2 { (t("Last sent campaigns")) }
                table {
                    tr {
                        th { (t("Campaign")) } th.num { (t("Delivered")) } th.num { (t("Unsubscribes")) }
                        th.num { (t("Bounces")) } th.num { (t("Complaints")) }
                    }
                    @for c in &h.campaigns {
                        @let n = &c.counts;
                        tr {
                            td { a href={ "/admin/campaigns/" (c.campaign.id) } { (c.campaign.def.name) } }
                            td.num { (number(n.sent)) }
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
        t("Job runs"),
        html! {
            div.card {
                h2 { (t("Next runs")) }
                @if !v.scheduler_enabled {
                    p.muted { (t("The scheduler is off in this process (scheduler.enabled = false); another instance may run it.")) }
                }
                table {
                    tr { th { (t("Job")) } th { (t("Schedule (UTC)")) } th { (t("Next run")) } }
                    @for n in &v.upcoming {
                        tr {
                            td { (n.job) } td { code { (n.cron) } }
                            td.next-run { (n.at.map(|t| ctx.time_secs(t)).unwrap_or_else(|| t("never").to_owned())) }
                        }
                    }
                }
            }
            h2 { (t("Runs")) }
            @if v.show_empty {
                p { (t("Showing every run.")) " " a href="/admin/jobs" { (t("Hide empty runs")) } }
            } @else {
                p { (t("Runs that did nothing are hidden.")) " " a href="/admin/jobs?empty=1" { (t("Show empty runs")) } }
            }
            table {
                tr { th { (t("Job")) } th { (t("Status")) } th { (t("Started")) } th { (t("Finished")) } th { (t("Report")) } }
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
                p.muted { @if v.show_empty { (t("No job has run yet.")) } @else { (t("No run did anything on this page.")) } }
            }
            @if let Some(next) = v.next_cursor {
                p.pager { a.button rel="next" href={ "/admin/jobs?cursor=" (next) @if v.show_empty { "&empty=1" } } { (t("Older →")) } }
            }
        },
    )
}

/// `/admin/audit`: the audit log, newest first.
pub fn audit_page(ctx: &Ctx, entries: &[AuditEntry]) -> Markup {
    layout(
        ctx,
        t("Audit log"),
        html! {
            table {
                tr { th { (t("When")) } th { (t("Who")) } th { (t("Action")) } th { (t("Record")) } th { (t("Detail")) } }
                @for e in entries {
                    tr {
                        td { (ctx.time_secs(e.occurred_at)) }
                        td { (e.actor) } td { code { (e.action) } }
                        td { (e.target.as_deref().unwrap_or("")) }
                        td { (e.detail.as_deref().unwrap_or("")) }
                    }
                }
            }
            @if entries.is_empty() { p.muted { (t("Nothing yet.")) } }
        },
    )
}
