//! `/api/v1/jobs`: what the scheduler's jobs did, in cursor pages.

use crate::services::paging::Page;
use crate::web::error::ApiErrors;
use axum::{
    Json,
    extract::{RawQuery, State},
};
use serde::{Deserialize, Serialize};

use crate::{
    services,
    store::{StoreError, jobs::JobRun},
    web::AppState,
    web::{error::ApiError, extract::ApiCaller},
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    job: Option<String>,
    cursor: Option<String>,
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    limit: Option<super::PageLimit>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct JobsResponse {
    #[schema(value_type = Vec<Object>)]
    runs: Vec<JobRun>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])), params(("job" = Option<String>, Query, description = "only the runs of this job"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 50")), responses((status = 200, body = JobsResponse), ApiErrors))]
/// `GET /api/v1/jobs[?job=NAME][&cursor=C][&limit=N]` → runs, newest first, a page at a time.
pub(super) async fn runs(
    State(state): State<AppState>,
    _caller: ApiCaller,
    RawQuery(query): RawQuery,
) -> Result<Json<JobsResponse>, ApiError> {
    let query: JobsQuery = serde_html_form::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    if let Some(job) = query.job.as_deref()
        && !crate::scheduler::job_names().any(|name| name == job)
    {
        let names: Vec<_> = crate::scheduler::job_names().collect();
        return Err(ApiError::invalid(format!(
            "job: there is no job {job:?}; the jobs are {}",
            names.join(", ")
        )));
    }
    let limit = super::PageLimit::or(query.limit, 50);
    let after = match query.cursor.as_deref() {
        Some(c) => Some(c.parse().map_err(|_| not_a_cursor())?),
        None => None,
    };
    let Page { items: runs, next } =
        services::jobs::runs_page(&state.ctx, query.job.as_deref(), after, limit)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => not_a_cursor(),
                other => other.into(),
            })?;
    Ok(Json(JobsResponse {
        runs,
        next_cursor: next.map(|id| id.to_string()),
    }))
}

fn not_a_cursor() -> ApiError {
    ApiError::invalid("cursor: not a cursor")
}
