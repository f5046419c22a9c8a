//! Retention and data-subject requests in the admin UI: the policy, a dry run of the purge,
//! the review list, and the request log with its Close button. The same services as the API;
//! viewing never writes.

use axum::{
    Extension, Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::AdminSession;
use crate::{
    domain::{Action, PrivacyRequestId, SubscriberId, privacy::RequestStatus},
    scheduler,
    services::{
        privacy::{self, PrivacyError},
        retention,
    },
    web::AppState,
    web::views::admin::{
        self as view,
        retention::{RequestsView, RetentionView, requests_page, retention_page},
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

/// The cursor as a UUID: `Ok(None)` without one, `Err(())` for garbage.
fn cursor(raw: &str) -> Result<Option<uuid::Uuid>, ()> {
    match raw {
        "" => Ok(None),
        raw => raw.parse().map(Some).map_err(|_| ()),
    }
}

/// `GET /admin/retention[?cursor=ID]`: the policy, what the next purge would do (a dry run),
/// when it runs, and a page of the review list.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<CursorQuery>,
) -> Response {
    let ctx = session.ctx();
    let Ok(after) = cursor(&q.cursor) else {
        return view::not_found(&ctx);
    };
    let now = state.ctx.clock.now();
    let dry_run = match retention::purge(&state.ctx, now, true).await {
        Ok(r) => r,
        Err(e) => return view::internal(&e),
    };
    let within = chrono::Duration::days(REVIEW_WITHIN_DAYS);
    let after = after.map(SubscriberId::from_uuid);
    let (review, next_cursor) =
        match privacy::retention_review_page(&state.ctx, &session.actor(), within, after, PAGE)
            .await
        {
            Ok(page) => page,
            Err(e) => return view::internal(&e),
        };
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
    retention_page(&ctx, &v).into_response()
}

/// `GET /admin/privacy-requests[?cursor=ID]`: the request log, earliest deadline first.
/// Admins only, as `GET /api/v1/privacy-requests` needs an admin token: it names the people
/// who exercised their rights.
pub(super) async fn requests(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<CursorQuery>,
) -> Response {
    let ctx = session.ctx();
    let Ok(after) = cursor(&q.cursor) else {
        return view::not_found(&ctx);
    };
    let after = after.map(PrivacyRequestId::from_uuid);
    let actor = session.actor();
    let (requests, next_cursor) =
        match privacy::requests(&state.ctx, &actor, None, after, PAGE).await {
            Ok(page) => page,
            Err(PrivacyError::Forbidden(_)) => return view::forbidden(&ctx),
            Err(PrivacyError::NotFound) => return view::not_found(&ctx),
            Err(e) => return view::internal(&e),
        };
    let v = RequestsView {
        requests,
        next_cursor,
        now: state.ctx.clock.now(),
        may_close: true,
    };
    requests_page(&ctx, &v).into_response()
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
) -> Response {
    let ctx = session.ctx();
    let actor = session.actor();
    if actor.authorize(Action::HandlePersonalData).is_err() {
        return view::forbidden(&ctx);
    }
    let status = match RequestStatus::parse(&form.status) {
        Ok(s) if s != RequestStatus::Open => s,
        _ => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                "status: completed or rejected",
            )
                .into_response();
        }
    };
    let id = PrivacyRequestId::from_uuid(id);
    match privacy::close_request(&state.ctx, &actor, id, status, None).await {
        Ok(_) => Redirect::to("/admin/privacy-requests").into_response(),
        Err(PrivacyError::Forbidden(_)) => view::forbidden(&ctx),
        Err(PrivacyError::NotFound) => view::not_found(&ctx),
        Err(PrivacyError::AlreadyClosed) => {
            let page = view::layout(
                &ctx,
                "Already answered",
                html! {
                    p.error { "This request was already closed." }
                    p { a href="/admin/privacy-requests" { "Back to the requests" } }
                },
            );
            (StatusCode::CONFLICT, page).into_response()
        }
        Err(e) => view::internal(&e),
    }
}
