//! Use cases of the scheduler's record: what the jobs did.

use super::paging::Page;
use crate::{
    context::Context,
    store::{self, StoreError, jobs::JobRun},
};

/// A page of job runs after the run `after`, newest first, optionally of one job, and the
/// cursor of the next page (the id of this page's last run) when there is one.
///
/// # Errors
/// `NotFound` when `after` names no run; store failure.
pub async fn runs_page(
    ctx: &Context,
    job: Option<&str>,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Page<JobRun, uuid::Uuid>, StoreError> {
    let found =
        store::jobs::runs_page(&ctx.db, job, after, super::paging::fetch_size(limit)).await?;
    Ok(Page::cut(found, limit, |r| r.id))
}
