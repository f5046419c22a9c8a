//! The scheduler decides only *when*: each job below calls the services and delivery
//! functions that do the work. A job runs under a lease in the database, so two instances
//! never run it at once, and every run is recorded (`GET /api/v1/jobs`).
//!
//! | job         | schedule                           | does                                              |
//! |-------------|------------------------------------|---------------------------------------------------|
//! | `campaigns` | `scheduler.start_campaigns_cron`   | start due campaigns, fan out, mark finished sent |
//! | `retention` | `retention.purge_cron`             | delete stale requests, erase lapsed, flag inactive |
//! |             |                                    | (and ended limit windows, expired idempotency keys) |
//! |             |                                    | (once: name the people of older suppressions)     |
//! | `notices`   | `notices.cron`                     | remind non-responders, record silence after deadlines |

use std::{future::Future, pin::Pin};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::{
    context::Context,
    delivery, services,
    store::{self, jobs::JobRun},
};

type JobFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Value>> + Send + 'a>>;

/// A job: its name, its cron expression, and the function it runs.
struct JobSpec {
    name: &'static str,
    cron: fn(&Context) -> String,
    run: for<'a> fn(&'a Context) -> JobFuture<'a>,
}

/// Every job, its schedule and what it calls.
const JOBS: &[JobSpec] = &[
    JobSpec {
        name: "campaigns",
        cron: |ctx| ctx.settings.scheduler.start_campaigns_cron.clone(),
        run: |ctx| Box::pin(campaigns(ctx)),
    },
    JobSpec {
        name: "retention",
        cron: |ctx| ctx.settings.retention.purge_cron.clone(),
        run: |ctx| Box::pin(retention(ctx)),
    },
    JobSpec {
        name: "notices",
        cron: |ctx| ctx.settings.notices.cron.clone(),
        run: |ctx| Box::pin(notices(ctx)),
    },
];

/// The names of the scheduler's jobs, as their runs are recorded.
pub fn job_names() -> impl Iterator<Item = &'static str> {
    JOBS.iter().map(|j| j.name)
}

/// Reminds recipients of notices who have not acknowledged, and records silence as
/// acceptance after each deadline.
async fn notices(ctx: &Context) -> anyhow::Result<Value> {
    let report = services::notices::acknowledgements::run(ctx).await?;
    Ok(serde_json::to_value(report)?)
}

/// Starts due campaigns, writes their recipients, and marks finished ones sent.
async fn campaigns(ctx: &Context) -> anyhow::Result<Value> {
    let started = services::campaigns::start_due(ctx).await?;
    let recipients = delivery::fan_out_all(ctx).await?;
    let finished = delivery::finish_done(ctx).await?;
    Ok(json!({ "started": started, "recipients_written": recipients, "finished": finished }))
}

/// Applies the retention policy (`bulletin purge` runs the same job), deletes the
/// rate-limit windows that have ended and the idempotency keys past their 24 hours, and,
/// until it has run once, names the people of the suppressions from before suppressions
/// kept them.
async fn retention(ctx: &Context) -> anyhow::Result<Value> {
    let report = services::retention::purge(ctx, ctx.clock.now(), false).await?;
    let windows = services::rate_limit::delete_ended(ctx, ctx.clock.now()).await?;
    let keys = services::idempotency::delete_expired(ctx, ctx.clock.now()).await?;
    let linked = services::retention::link_suppressions(ctx, ctx.clock.now()).await?;
    let mut value = serde_json::to_value(report)?;
    value["rate_limit_windows_deleted"] = json!(windows);
    value["idempotency_keys_deleted"] = json!(keys);
    value["suppressions_linked"] = json!(linked);
    Ok(value)
}

/// When a job runs next, as its cron trigger computes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextRun {
    /// Job name.
    pub job: &'static str,
    /// Its cron expression (6 fields, seconds first, UTC).
    pub cron: String,
    /// The next time it fires after `now`, or `None` when the expression never fires again.
    pub at: Option<DateTime<Utc>>,
}

/// When each job fires next after `now` (whether this process runs the scheduler or not).
pub fn next_runs(ctx: &Context, now: DateTime<Utc>) -> Vec<NextRun> {
    JOBS.iter()
        .map(|spec| {
            let cron = (spec.cron)(ctx);
            NextRun {
                job: spec.name,
                at: next_fire(&cron, now),
                cron,
            }
        })
        .collect()
}

/// The next time `cron` fires after `now`, parsed the way tokio-cron-scheduler parses it
/// (seconds required, day-of-month and day-of-week both apply, UTC).
fn next_fire(cron: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(cron)
        .ok()?
        .find_next_occurrence(&now, false)
        .ok()
}

/// How long a job holds its lease: a crashed instance frees it after this. A running job
/// renews it every `RENEW_EVERY`, so a long run (a fan-out of millions) keeps it.
const LEASE: chrono::Duration = chrono::Duration::minutes(2);

/// How often a running job renews its lease.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs the job `name` now, unless another instance is running it. Returns the recorded run,
/// or `None` when the job is running elsewhere.
///
/// # Errors
/// An unknown job name, or the lease or record could not be written.
pub async fn run_job(ctx: &Context, name: &str) -> anyhow::Result<Option<JobRun>> {
    let spec = JOBS
        .iter()
        .find(|j| j.name == name)
        .with_context(|| format!("no job named {name:?}"))?;
    let holder = uuid::Uuid::new_v4().to_string();
    let started_at = ctx.clock.now();
    if !store::jobs::try_lock(&ctx.db, name, &holder, started_at + LEASE, started_at).await? {
        return Ok(None);
    }
    let job = (spec.run)(ctx);
    tokio::pin!(job);
    let mut renew =
        tokio::time::interval_at(tokio::time::Instant::now() + RENEW_EVERY, RENEW_EVERY);
    let outcome = loop {
        tokio::select! {
            outcome = &mut job => break outcome,
            _ = renew.tick() => {
                let now = ctx.clock.now();
                match store::jobs::try_lock(&ctx.db, name, &holder, now + LEASE, now).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(job = name, "the job's lease was taken over; another instance may run it too"),
                    Err(e) => tracing::warn!(job = name, error = %e, "could not renew the job's lease"),
                }
            }
        }
    };
    let finished_at = ctx.clock.now();
    store::jobs::unlock(&ctx.db, name, &holder, finished_at).await?;
    let (status, report) = match outcome {
        Ok(report) => ("ok", report),
        Err(e) => {
            tracing::error!(job = name, error = format!("{e:#}"), "job failed");
            ("failed", json!({ "error": format!("{e:#}") }))
        }
    };
    let run = JobRun {
        id: uuid::Uuid::now_v7(),
        job: name.to_owned(),
        status: status.to_owned(),
        report,
        started_at,
        finished_at,
    };
    store::jobs::record_run(&ctx.db, &run).await?;
    Ok(Some(run))
}

/// On boot, holds campaigns that missed their time by more than the grace, then starts the
/// cron triggers of every job.
///
/// # Errors
/// A cron expression the scheduler refuses, or the boot check failed.
pub async fn start(ctx: Context) -> anyhow::Result<JobScheduler> {
    let held = services::campaigns::hold_missed(&ctx).await?;
    if held > 0 {
        tracing::warn!(
            campaigns = held,
            "campaigns missed their send time while Bulletin was down; paused for a person to resume"
        );
    }
    let scheduler = JobScheduler::new().await?;
    for spec in JOBS {
        let cron = (spec.cron)(&ctx);
        let name = spec.name;
        let job_state = ctx.clone();
        let job = Job::new_async(cron.as_str(), move |_, _| {
            let ctx = job_state.clone();
            Box::pin(async move {
                if let Err(e) = run_job(&ctx, name).await {
                    tracing::error!(job = name, error = format!("{e:#}"), "job could not run");
                }
            })
        })
        .with_context(|| format!("scheduler: job {name}: bad cron expression {cron:?}"))?;
        scheduler.add(job).await?;
    }
    scheduler.start().await?;
    Ok(scheduler)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_fire_time_follows_the_six_field_cron() {
        let now = "2026-11-30T10:00:02Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            next_fire("*/5 * * * * *", now).map(|t| t.to_rfc3339()),
            Some("2026-11-30T10:00:05+00:00".to_owned())
        );
        assert_eq!(
            next_fire("0 17 3 * * *", now).map(|t| t.to_rfc3339()),
            Some("2026-12-01T03:17:00+00:00".to_owned())
        );
        assert_eq!(next_fire("not a cron", now), None);
    }
}
