//! Use cases of the scheduler's record: what the jobs did.

use crate::{
    startup::AppState,
    store::{self, StoreError, jobs::JobRun},
};

/// The most recent job runs, newest first, optionally of one job.
///
/// # Errors
/// Store failure.
pub async fn recent_runs(
    state: &AppState,
    job: Option<&str>,
    limit: u64,
) -> Result<Vec<JobRun>, StoreError> {
    store::jobs::recent_runs(&state.db, job, limit).await
}
