//! `/api/v1/jobs`: what the scheduler's jobs did.

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

#[derive(Debug, Deserialize)]
struct JobsQuery {
    job: Option<String>,
    limit: Option<u64>,
}

#[derive(Debug, Serialize)]
pub(super) struct JobsResponse {
    runs: Vec<JobRun>,
}

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
