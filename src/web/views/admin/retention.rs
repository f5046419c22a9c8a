//! The admin pages of retention and data-subject requests: the policy in force, what the
//! next purge would do, the review list, and the request log with its deadlines. Render only.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::{Ctx, csrf_field, i18n, layout, status, t, tf, tl, tn};
use crate::{
    domain::{
        Locale, PrivacyRequestId, SubscriberId,
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
        t("Retention"),
        html! {
            div.grid {
                div.card {
                    h2 { (t("Policy in force")) }
                    table.policy {
                        tr { th { (t("Pending requests deleted after")) } td { (days(p.pending.num_days())) } }
                        tr { th { (t("Lapsed subscribers erased after")) } td { (days(p.lapsed.num_days())) } }
                        tr { th { (t("Inactive subscribers reviewed after")) } td { (days(p.review_after.num_days())) } }
                        tr { th { (t("Inactive subscribers are")) } td { @if p.erase_after_review { (t("erased")) } @else { (t("flagged for review")) } } }
                    }
                }
                div.card {
                    h2 { (t("The next run would")) }
                    table.dry-run {
                        tr { th { (t("Candidates examined")) } td.num { (v.dry_run.examined) } }
                        tr { th { (t("Delete stale pending requests")) } td.num.pending-deleted { (v.dry_run.pending_deleted) } }
                        tr { th { (t("Erase subscribers")) } td.num.erased { (v.dry_run.erased) } }
                        tr { th { (t("Flag subscribers for review")) } td.num.flagged { (v.dry_run.flagged) } }
                    }
                    p.muted {
                        (t("Next run:")) " "
                        span.next-run { (next.and_then(|n| n.at).map_or_else(|| t("never").to_owned(), |at| ctx.time(at))) }
                        @if let Some(n) = next { " · " (t("schedule")) " " code { (n.cron) } }
                        " · " a href="/admin/jobs" { (t("job runs")) }
                    }
                    @if !v.scheduler_enabled {
                        p.muted { (t("The scheduler is off in this process (scheduler.enabled = false); another instance may run it.")) }
                    }
                }
            }
            h2 { (tf("Reached by the inactivity rule within {n} days", &[("n", &v.review_within_days)])) }
            table.review {
                tr { th { (t("Subscriber")) } th { (t("Last seen")) } th { (t("Review due")) } th { (t("Flagged")) } th { (t("Action")) } }
                @for i in &v.review {
                    tr {
                        td { a href={ "/admin/subscribers/" (i.subscriber_id) } { code { (i.subscriber_id) } } }
                        td { (ctx.time(i.last_seen_at)) } td { (ctx.time(i.review_due_at)) }
                        td { (i.flagged_at.map(|t| ctx.time(t)).unwrap_or_default()) }
                        td { (status(i.action.as_str())) }
                    }
                }
            }
            @if v.review.is_empty() { p.muted { (t("Nobody.")) } }
            @if let Some(next) = v.next_cursor { p.pager { a.button rel="next" href={ "/admin/retention?cursor=" (next) } { (t("Older →")) } } }
        },
    )
}

/// A number of days: `180 days`.
fn days(n: i64) -> String {
    tn("{n} day", "{n} days", n.unsigned_abs())
}

/// "Subject", the person a request is about: in English the one word, which elsewhere is an
/// e-mail's subject; so the other languages look it up by a key of its own.
fn data_subject() -> &'static str {
    match i18n::locale() {
        Locale::De => t("Subject (the person a request is about)"),
        _ => "Subject",
    }
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
        t("Privacy requests"),
        html! {
            p.muted { (tf("Each request must be answered within {n} days of receipt (GDPR Art. 12(3)).", &[("n", &ANSWER_WITHIN_DAYS)])) }
            table.requests {
                tr { th { (t("Kind")) } th { (data_subject()) } th { (t("Received")) } th { (t("Due")) } th { (t("Status")) } th {} }
                @for r in &v.requests { (request_row(ctx, v, r)) }
            }
            @if v.requests.is_empty() { p.muted { (t("No requests logged.")) } }
            @if let Some(next) = v.next_cursor { p.pager { a.button rel="next" href={ "/admin/privacy-requests?cursor=" (next) } { (t("Older →")) } } }
        },
    )
}

fn request_row(ctx: &Ctx, v: &RequestsView, r: &PrivacyRequest) -> Markup {
    let open = r.status == RequestStatus::Open;
    let overdue = r.is_overdue(v.now);
    html! {
        tr class={ "request " (r.status) @if overdue { " overdue" } } {
            td { (tl(r.kind.as_str())) } td {
                @match r.subscriber_id {
                    Some(id) => a href={ "/admin/subscribers/" (id) } { code { (id) } },
                    None => span.muted { (t("unknown")) },
                }
            }
            td { (ctx.time(r.received_at)) }
            td {
                (ctx.time(r.due_at))
                @if open { " " span.muted { (tf("({n} days left)", &[("n", &r.days_left(v.now))])) } }
            }
            td { (status(r.status.as_str())) @if overdue { " " (status("overdue")) } }
            td {
                @if open && v.may_close {
                    form.inline method="post" action={ "/admin/privacy-requests/" (r.id) "/close" } {
                        (csrf_field(&ctx.csrf))
                        select name="status" aria-label=(t("Outcome")) {
                            option value="completed" { (tl("completed")) }
                            option value="rejected" { (tl("rejected")) }
                        }
                        " " button type="submit" { (t("Close")) }
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
        t("Already answered"),
        html! {
            p.error { (t("This request was already closed.")) }
            p { a href="/admin/privacy-requests" { (t("Back to the requests")) } }
        },
    )
}
