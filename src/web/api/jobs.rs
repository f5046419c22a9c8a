//! `/api/v1/jobs`: what the scheduler's jobs did.

use crate::web::error::ErrorBody;
use axum::{
    Json,
    extract::{RawQuery, State},
};
use serde::{Deserialize, Serialize};

use crate::{
    services,
    startup::AppState,
    store::jobs::JobRun,
    web::{error::ApiError, extract::ApiCaller},
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct JobsQuery {
    job: Option<String>,
    limit: Option<u64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct JobsResponse {
    #[schema(value_type = Vec<Object>)]
    runs: Vec<JobRun>,
}

#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])), params(("job" = Option<String>, Query), ("limit" = Option<u64>, Query)), responses((status = 200, body = JobsResponse), (status = 400, description = "malformed body", body = ErrorBody), (status = 401, description = "no or bad token", body = ErrorBody), (status = 403, description = "the role may not do this", body = ErrorBody), (status = 404, description = "not found", body = ErrorBody), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "invalid field", body = ErrorBody)))]
/// `GET /api/v1/jobs[?job=NAME][&limit=N]` → the most recent runs, newest first.
pub(super) async fn runs(
    State(state): State<AppState>,
    _caller: ApiCaller,
    RawQuery(query): RawQuery,
) -> Result<Json<JobsResponse>, ApiError> {
    let query: JobsQuery = serde_html_form::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let runs = services::jobs::recent_runs(&state, query.job.as_deref(), limit).await?;
    Ok(Json(JobsResponse { runs }))
}
