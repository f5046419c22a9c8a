//! The dashboard, the job runs and the audit log: read-only pages.

use axum::{
    Extension,
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use maud::html;

use super::AdminSession;
use crate::{
    scheduler,
    services::{audit, dashboard, jobs},
    store::StoreError,
    web::AppState,
    web::views::admin::{self as view, growth_chart, status},
};

/// Days of growth shown.
const GROWTH_DAYS: u32 = 90;

/// `GET /admin/`.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    let d = match dashboard::dashboard(&state.ctx, GROWTH_DAYS, 5).await {
        Ok(d) => d,
        Err(e) => return view::internal(&e),
    };
    let ctx = session.ctx();
    view::layout(
        &ctx,
        "Dashboard",
        html! {
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
                    h2 { "Growth, last " (GROWTH_DAYS) " days" }
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
    .into_response()
}

/// Job runs per page.
const JOBS_PAGE: u64 = 50;

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct JobsQuery {
    #[serde(default)]
    cursor: String,
}

/// `GET /admin/jobs[?cursor=ID]`: when each job runs next, and what the scheduler did, newest
/// first, a page at a time.
pub(super) async fn jobs(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<JobsQuery>,
) -> Response {
    let ctx = session.ctx();
    let after = match q.cursor.as_str() {
        "" => None,
        raw => match raw.parse() {
            Ok(id) => Some(id),
            Err(_) => return view::not_found(&ctx),
        },
    };
    let (runs, next) = match jobs::runs_page(&state.ctx, None, after, JOBS_PAGE).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return view::not_found(&ctx),
        Err(e) => return view::internal(&e),
    };
    let now = state.ctx.clock.now();
    let upcoming = scheduler::next_runs(&state.ctx, now);
    view::layout(
        &ctx,
        "Job runs",
        html! {
            div.card {
                h2 { "Next runs" }
                @if !state.ctx.settings.scheduler.enabled {
                    p.muted { "The scheduler is off in this process (scheduler.enabled = false); another instance may run it." }
                }
                table {
                    tr { th { "Job" } th { "Schedule (UTC)" } th { "Next run (UTC)" } }
                    @for n in &upcoming {
                        tr {
                            td { (n.job) } td { code { (n.cron) } }
                            td.next-run { (n.at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "never".to_owned())) }
                        }
                    }
                }
            }
            h2 { "Runs" }
            table {
                tr { th { "Job" } th { "Status" } th { "Started" } th { "Finished" } th { "Report" } }
                @for r in &runs {
                    tr {
                        td { (r.job) } td { (status(&r.status)) }
                        td { (r.started_at.format("%Y-%m-%d %H:%M:%S")) }
                        td { (r.finished_at.format("%Y-%m-%d %H:%M:%S")) }
                        td { code { (r.report) } }
                    }
                }
            }
            @if runs.is_empty() { p.muted { "No job has run yet." } }
            @if let Some(next) = next { p.pager { a.button rel="next" href={ "/admin/jobs?cursor=" (next) } { "Older →" } } }
        },
    )
    .into_response()
}

/// `GET /admin/audit`: every admin change, newest first.
pub(super) async fn audit(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    let entries = match audit::recent(&state.ctx, &session.actor(), 500).await {
        Ok(e) => e,
        Err(audit::AuditError::Forbidden(_)) => return view::forbidden(&session.ctx()),
        Err(audit::AuditError::Store(e)) => return view::internal(&e),
    };
    view::layout(
        &session.ctx(),
        "Audit log",
        html! {
            table {
                tr { th { "When" } th { "Who" } th { "Action" } th { "Record" } th { "Detail" } }
                @for e in &entries {
                    tr {
                        td { (e.occurred_at.format("%Y-%m-%d %H:%M:%S")) }
                        td { (e.actor) } td { code { (e.action) } }
                        td { (e.target.as_deref().unwrap_or("")) }
                        td { (e.detail.as_deref().unwrap_or("")) }
                    }
                }
            }
            @if entries.is_empty() { p.muted { "Nothing yet." } }
        },
    )
    .into_response()
}
