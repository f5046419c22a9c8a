//! The dashboard, the job runs and the audit log: read-only pages.

use axum::{
    Extension,
    extract::{Query, State},
    response::{IntoResponse, Response},
};

use super::{AdminError, AdminSession};
use crate::services::paging::Page;
use crate::{
    scheduler,
    services::{
        audit::{self, AuditError},
        dashboard, jobs,
    },
    web::AppState,
    web::views::admin::dashboard::{JobsView, audit_page, dashboard_page, jobs_page},
};

/// Days of growth shown.
const GROWTH_DAYS: u32 = 90;

/// `GET /admin/`.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    let d = dashboard::dashboard(&state.ctx, GROWTH_DAYS, 5).await?;
    Ok(dashboard_page(&session.ctx(), &d, GROWTH_DAYS).into_response())
}

/// Job runs per page.
const JOBS_PAGE: u64 = 50;

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct JobsQuery {
    #[serde(default)]
    cursor: String,
    /// Any value: show the runs that did nothing too.
    #[serde(default)]
    empty: String,
}

/// `GET /admin/jobs[?cursor=ID][&empty=1]`: when each job runs next, and what the scheduler
/// did, newest first, a page at a time; runs that did nothing only with `empty`.
pub(super) async fn jobs(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<JobsQuery>,
) -> Result<Response, AdminError> {
    let after = match q.cursor.as_str() {
        "" => None,
        raw => Some(raw.parse().map_err(|_| AdminError::NotFound)?),
    };
    let show_empty = !q.empty.is_empty();
    let Page {
        items: runs,
        next: next_cursor,
    } = if show_empty {
        jobs::runs_page(&state.ctx, None, after, JOBS_PAGE).await?
    } else {
        jobs::runs_that_did_something(&state.ctx, after, JOBS_PAGE).await?
    };
    let v = JobsView {
        show_empty,
        upcoming: scheduler::next_runs(&state.ctx, state.ctx.clock.now()),
        scheduler_enabled: state.ctx.settings.scheduler.enabled,
        runs,
        next_cursor,
    };
    Ok(jobs_page(&session.ctx(), &v).into_response())
}

/// `GET /admin/audit`: every admin change, newest first.
pub(super) async fn audit(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    let entries = audit::recent(&state.ctx, &session.actor(), 500).await?;
    Ok(audit_page(&session.ctx(), &entries).into_response())
}

impl From<AuditError> for AdminError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Forbidden(_) => Self::Forbidden,
            AuditError::Store(e) => e.into(),
        }
    }
}
