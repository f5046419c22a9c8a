//! `/api/v1/audit` (admin tokens only): the audit log of every change, newest first.

use axum::{
    Json,
    extract::{RawQuery, State},
};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::PageQuery;
use crate::services::paging::Page;
use crate::{
    services::audit,
    web::AppState,
    web::{
        error::{ApiError, ApiErrors},
        extract::ApiCaller,
    },
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AuditEntryResponse {
    id: String,
    /// `user:EMAIL` or `api:TOKEN-NAME`.
    actor: String,
    /// `area.verb`, or `api.METHOD /route` for API writes.
    action: String,
    target: Option<String>,
    detail: Option<String>,
    occurred_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AuditResponse {
    entries: Vec<AuditEntryResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = AuditResponse), ApiErrors))]
/// `GET /api/v1/audit[?cursor=C][&limit=N]` → entries, newest first, a page at a time.
pub(super) async fn entries(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<AuditResponse>, ApiError> {
    let page = PageQuery::parse(raw.as_deref())?;
    let before = page.cursor(|c| c.parse().ok())?;
    let Page { items: found, next } =
        audit::page(&state.ctx, &caller.actor(), before, page.limit())
            .await
            .map_err(|e| match e {
                audit::AuditError::Forbidden(e) => ApiError::from(e),
                audit::AuditError::Store(e) => ApiError::from(e),
            })?;
    Ok(Json(AuditResponse {
        entries: found
            .into_iter()
            .map(|(id, e)| AuditEntryResponse {
                id: id.to_string(),
                actor: e.actor,
                action: e.action,
                target: e.target,
                detail: e.detail,
                occurred_at: e.occurred_at,
            })
            .collect(),
        next_cursor: next.map(|id| id.to_string()),
    }))
}
