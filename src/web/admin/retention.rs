//! Retention and data-subject requests in the admin UI: the policy, a dry run of the purge,
//! the review list, and the request log with its Close button. The same services as the API;
//! viewing never writes.

use axum::{
    Extension, Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::services::paging::Page;
use crate::{
    domain::{Action, PrivacyRequestId, SubscriberId, privacy::RequestStatus},
    scheduler,
    services::{
        privacy::{self, PrivacyError},
        retention::{self, RetentionError},
    },
    web::AppState,
    web::views::admin::{
        retention::{
            RequestsView, RetentionView, already_answered_page, requests_page, retention_page,
        },
        t,
    },
};

/// Rows per page of the review list and of the request log.
const PAGE: u64 = 50;
/// How far ahead the review list looks (the API's default).
const REVIEW_WITHIN_DAYS: i64 = 30;

#[derive(Debug, Default, Deserialize)]
pub(super) struct CursorQuery {
    #[serde(default)]
    cursor: String,
}

/// The cursor as a UUID: `None` without one; garbage names nothing, so it is not found.
fn cursor(raw: &str) -> Result<Option<uuid::Uuid>, AdminError> {
    match raw {
        "" => Ok(None),
        raw => raw.parse().map(Some).map_err(|_| AdminError::NotFound),
    }
}

/// `GET /admin/retention[?cursor=ID]`: the policy, what the next purge would do (a dry run),
/// when it runs, and a page of the review list.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<CursorQuery>,
) -> Result<Response, AdminError> {
    let after = cursor(&q.cursor)?.map(SubscriberId::from_uuid);
    let now = state.ctx.clock.now();
    let dry_run = retention::purge(&state.ctx, now, true).await?;
    let within = chrono::Duration::days(REVIEW_WITHIN_DAYS);
    let Page {
        items: review,
        next: next_cursor,
    } = privacy::retention_review_page(&state.ctx, &session.actor(), within, after, PAGE).await?;
    let v = RetentionView {
        policy: state.ctx.settings.retention.policy,
        dry_run,
        next_run: scheduler::next_runs(&state.ctx, now)
            .into_iter()
            .find(|n| n.job == "retention"),
        scheduler_enabled: state.ctx.settings.scheduler.enabled,
        review_within_days: REVIEW_WITHIN_DAYS,
        review,
        next_cursor,
    };
    Ok(retention_page(&session.ctx(), &v).into_response())
}

/// `GET /admin/privacy-requests[?cursor=ID]`: the request log, earliest deadline first.
/// Admins only, as `GET /api/v1/privacy-requests` needs an admin token: it names the people
/// who exercised their rights.
pub(super) async fn requests(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<CursorQuery>,
) -> Result<Response, AdminError> {
    let after = cursor(&q.cursor)?.map(PrivacyRequestId::from_uuid);
    let Page {
        items: requests,
        next: next_cursor,
    } = privacy::requests(&state.ctx, &session.actor(), None, after, PAGE).await?;
    let v = RequestsView {
        requests,
        next_cursor,
        now: state.ctx.clock.now(),
        may_close: true,
    };
    Ok(requests_page(&session.ctx(), &v).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct CloseForm {
    status: String,
}

/// `POST /admin/privacy-requests/{id}/close` `status=completed|rejected`: admins only, as
/// `POST /api/v1/privacy-requests/{id}/close` needs an admin token.
pub(super) async fn close_request(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
    Form(form): Form<CloseForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::HandlePersonalData)?;
    let status = match RequestStatus::parse(&form.status) {
        Ok(s) if s != RequestStatus::Open => s,
        _ => {
            let problem = t("status: completed or rejected");
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, problem).into_response());
        }
    };
    let id = PrivacyRequestId::from_uuid(id);
    match privacy::close_request(&state.ctx, &session.actor(), id, status, None).await {
        Ok(_) => Ok(Redirect::to("/admin/privacy-requests").into_response()),
        Err(PrivacyError::AlreadyClosed) => {
            let page = already_answered_page(&session.ctx());
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

impl From<RetentionError> for AdminError {
    fn from(e: RetentionError) -> Self {
        match e {
            RetentionError::NotFound => Self::NotFound,
            RetentionError::Store(e) => e.into(),
        }
    }
}
