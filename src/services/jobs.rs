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

/// Keys of a job report that describe the run rather than what it did.
const CIRCUMSTANCES: [&str; 2] = ["dry_run", "examined"];

/// Whether a run did nothing: it succeeded, and every count in its report is 0 (every flag
/// false, every list empty), apart from what only describes the run (`examined`, `dry_run`).
pub fn is_empty_run(run: &JobRun) -> bool {
    run.status == "ok" && says_nothing(&run.report)
}

fn says_nothing(report: &serde_json::Value) -> bool {
    use serde_json::Value;
    match report {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.iter().all(says_nothing),
        Value::Object(fields) => fields
            .iter()
            .all(|(k, v)| CIRCUMSTANCES.contains(&k.as_str()) || says_nothing(v)),
    }
}

/// Runs read at most per page of runs that did something, so that a long stretch of empty
/// runs costs a bounded number of rows per request.
const SCAN_ROWS: u64 = 2_000;
/// Runs read per query while looking for runs that did something.
const SCAN_BATCH: u64 = 250;

/// A page of the runs that did something (see [`is_empty_run`]) after the run `after`,
/// newest first, and the cursor of the next page. At most 2,000 runs are read per page: past
/// a longer stretch of empty runs the page is shorter and the cursor continues behind it.
///
/// # Errors
/// `NotFound` when `after` names no run; store failure.
pub async fn runs_that_did_something(
    ctx: &Context,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Page<JobRun, uuid::Uuid>, StoreError> {
    let want = usize::try_from(limit).unwrap_or(usize::MAX);
    let (mut kept, mut cursor, mut read) = (Vec::new(), after, 0);
    loop {
        let batch = store::jobs::runs_page(&ctx.db, None, cursor, SCAN_BATCH).await?;
        let exhausted = (batch.len() as u64) < SCAN_BATCH;
        read += batch.len() as u64;
        for run in batch {
            if kept.len() > want {
                break;
            }
            cursor = Some(run.id);
            if !is_empty_run(&run) {
                kept.push(run);
            }
        }
        if kept.len() > want {
            return Ok(Page::cut(kept, limit, |r| r.id));
        }
        if exhausted {
            return Ok(Page {
                items: kept,
                next: None,
            });
        }
        if read >= SCAN_ROWS {
            return Ok(Page {
                items: kept,
                next: cursor,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(status: &str, report: serde_json::Value) -> JobRun {
        JobRun {
            id: uuid::Uuid::nil(),
            job: "campaigns".into(),
            status: status.into(),
            report,
            started_at: chrono::DateTime::UNIX_EPOCH,
            finished_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_run_is_empty_when_its_report_counts_nothing() {
        let idle = json!({ "started": 0, "recipients_written": 0, "finished": 0 });
        assert!(is_empty_run(&run("ok", idle.clone())));
        assert!(!is_empty_run(&run("failed", idle)));
        assert!(!is_empty_run(&run(
            "ok",
            json!({ "started": 1, "finished": 0 })
        )));
        let looked = json!({ "dry_run": false, "examined": 12, "erased": 0, "flagged": 0 });
        assert!(is_empty_run(&run("ok", looked)));
        assert!(!is_empty_run(&run(
            "ok",
            json!({ "examined": 3, "erased": 1 })
        )));
        assert!(!is_empty_run(&run("ok", json!({ "error": "relay down" }))));
        assert!(is_empty_run(&run("ok", json!({}))));
    }
}
