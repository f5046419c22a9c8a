//! The dashboard, the job runs and the audit log: read-only pages.

use axum::{
    Extension,
    extract::State,
    response::{IntoResponse, Response},
};
use maud::html;

use super::AdminSession;
use crate::{
    services::{audit, dashboard, jobs},
    startup::AppState,
    web::views::admin::{self as view, growth_chart, status},
};

/// Days of growth shown.
const GROWTH_DAYS: u32 = 90;

/// `GET /admin/`.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    let d = match dashboard::dashboard(&state, GROWTH_DAYS, 5).await {
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

/// `GET /admin/jobs`: what the scheduler did.
pub(super) async fn jobs(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    let runs = match jobs::recent_runs(&state, None, 100).await {
        Ok(r) => r,
        Err(e) => return view::internal(&e),
    };
    let s = &state.settings.scheduler;
    view::layout(
        &session.ctx(),
        "Job runs",
        html! {
            div.card {
                p { "Campaigns are started on the schedule " code { (s.start_campaigns_cron) }
                    "; the retention purge runs on " code { (state.settings.retention.purge_cron) } "." }
            }
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
        },
    )
    .into_response()
}

/// `GET /admin/audit`: every admin change, newest first.
pub(super) async fn audit(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    let entries = match audit::recent(&state, 500).await {
        Ok(e) => e,
        Err(e) => return view::internal(&e),
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
