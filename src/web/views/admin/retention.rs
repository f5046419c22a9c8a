//! The admin pages of retention and data-subject requests: the policy in force, what the
//! next purge would do, the review list, and the request log with its deadlines. Render only.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::{Ctx, csrf_field, layout, status};
use crate::{
    domain::{
        PrivacyRequestId, SubscriberId,
        privacy::{ANSWER_WITHIN_DAYS, PrivacyRequest, RequestStatus},
        retention::RetentionPolicy,
    },
    scheduler::NextRun,
    services::{privacy::ReviewItem, retention::PurgeReport},
};

/// What `/admin/retention` shows.
#[derive(Debug, Clone)]
pub struct RetentionView {
    /// The `[retention]` policy in force.
    pub policy: RetentionPolicy,
    /// What a purge would do now (a dry run: nothing was written).
    pub dry_run: PurgeReport,
    /// When the `retention` job fires next.
    pub next_run: Option<NextRun>,
    /// Whether this process runs the scheduler.
    pub scheduler_enabled: bool,
    /// How far ahead the review list looks, in days.
    pub review_within_days: i64,
    /// A page of the review list.
    pub review: Vec<ReviewItem>,
    /// The cursor of the next review page.
    pub next_cursor: Option<SubscriberId>,
}

/// `/admin/retention`: policy, dry run, next run and the review list.
pub fn retention_page(ctx: &Ctx, v: &RetentionView) -> Markup {
    let p = &v.policy;
    let next = v.next_run.as_ref();
    layout(
        ctx,
        "Retention",
        html! {
            div.grid {
                div.card {
                    h2 { "Policy in force" }
                    table.policy {
                        tr { th { "Pending requests deleted after" } td { (p.pending.num_days()) " days" } }
                        tr { th { "Lapsed subscribers erased after" } td { (p.lapsed.num_days()) " days" } }
                        tr { th { "Inactive subscribers reviewed after" } td { (p.review_after.num_days()) " days" } }
                        tr { th { "Inactive subscribers are" } td { @if p.erase_after_review { "erased" } @else { "flagged for review" } } }
                    }
                }
                div.card {
                    h2 { "The next run would" }
                    table.dry-run {
                        tr { th { "Candidates examined" } td.num { (v.dry_run.examined) } }
                        tr { th { "Delete stale pending requests" } td.num.pending-deleted { (v.dry_run.pending_deleted) } }
                        tr { th { "Erase subscribers" } td.num.erased { (v.dry_run.erased) } }
                        tr { th { "Flag subscribers for review" } td.num.flagged { (v.dry_run.flagged) } }
                    }
                    p.muted {
                        "Next run: "
                        span.next-run { (next.and_then(|n| n.at).map_or_else(|| "never".to_owned(), |t| ctx.time(t))) }
                        @if let Some(n) = next { " · schedule " code { (n.cron) } }
                        " · " a href="/admin/jobs" { "job runs" }
                    }
                    @if !v.scheduler_enabled {
                        p.muted { "The scheduler is off in this process (scheduler.enabled = false); another instance may run it." }
                    }
                }
            }
            h2 { "Reached by the inactivity rule within " (v.review_within_days) " days" }
            table.review {
                tr { th { "Subscriber" } th { "Last seen" } th { "Review due" } th { "Flagged" } th { "Action" } }
                @for i in &v.review {
                    tr {
                        td { a href={ "/admin/subscribers/" (i.subscriber_id) } { code { (i.subscriber_id) } } }
                        td { (ctx.time(i.last_seen_at)) } td { (ctx.time(i.review_due_at)) }
                        td { (i.flagged_at.map(|t| ctx.time(t)).unwrap_or_default()) }
                        td { (status(i.action.as_str())) }
                    }
                }
            }
            @if v.review.is_empty() { p.muted { "Nobody." } }
            @if let Some(next) = v.next_cursor { p.pager { a.button rel="next" href={ "/admin/retention?cursor=" (next) } { "Older →" } } }
        },
    )
}

/// What `/admin/privacy-requests` shows.
#[derive(Debug, Clone)]
pub struct RequestsView {
    /// A page of the log, earliest deadline first.
    pub requests: Vec<PrivacyRequest>,
    /// The cursor of the next page.
    pub next_cursor: Option<PrivacyRequestId>,
    /// The time deadlines are measured against.
    pub now: DateTime<Utc>,
    /// Whether the viewer may close requests (admins, as in the API).
    pub may_close: bool,
}

/// `/admin/privacy-requests`: the data-subject-request log with deadlines and Close buttons.
pub fn requests_page(ctx: &Ctx, v: &RequestsView) -> Markup {
    layout(
        ctx,
        "Privacy requests",
        html! {
            p.muted { "Each request must be answered within " (ANSWER_WITHIN_DAYS) " days of receipt (GDPR Art. 12(3))." }
            table.requests {
                tr { th { "Kind" } th { "Subject" } th { "Received" } th { "Due" } th { "Status" } th {} }
                @for r in &v.requests { (request_row(ctx, v, r)) }
            }
            @if v.requests.is_empty() { p.muted { "No requests logged." } }
            @if let Some(next) = v.next_cursor { p.pager { a.button rel="next" href={ "/admin/privacy-requests?cursor=" (next) } { "Older →" } } }
        },
    )
}

fn request_row(ctx: &Ctx, v: &RequestsView, r: &PrivacyRequest) -> Markup {
    let open = r.status == RequestStatus::Open;
    let overdue = r.is_overdue(v.now);
    html! {
        tr class={ "request " (r.status) @if overdue { " overdue" } } {
            td { (r.kind) } td {
                @match r.subscriber_id {
                    Some(id) => a href={ "/admin/subscribers/" (id) } { code { (id) } },
                    None => span.muted { "unknown" },
                }
            }
            td { (ctx.time(r.received_at)) }
            td {
                (ctx.time(r.due_at))
                @if open { " " span.muted { "(" (r.days_left(v.now)) " days left)" } }
            }
            td { (status(r.status.as_str())) @if overdue { " " (status("overdue")) } }
            td {
                @if open && v.may_close {
                    form.inline method="post" action={ "/admin/privacy-requests/" (r.id) "/close" } {
                        (csrf_field(&ctx.csrf))
                        select name="status" aria-label="Outcome" {
                            option value="completed" { "completed" }
                            option value="rejected" { "rejected" }
                        }
                        " " button type="submit" { "Close" }
                    }
                }
            }
        }
    }
}

/// The answer to closing a request that was closed already.
pub fn already_answered_page(ctx: &Ctx) -> Markup {
    layout(
        ctx,
        "Already answered",
        html! {
            p.error { "This request was already closed." }
            p { a href="/admin/privacy-requests" { "Back to the requests" } }
        },
    )
}
