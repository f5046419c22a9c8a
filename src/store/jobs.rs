//! Scheduler bookkeeping: a lease per job, so a job runs on one instance at a time, and the
//! record of every run.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};

use super::{
    StoreError,
    entities::{job_locks, job_runs},
};

/// Takes the lease of `job` for `holder` until `until`, if nobody else holds it now.
/// Returns whether the lease is ours.
///
/// # Errors
/// Database failure.
pub async fn try_lock(
    conn: &impl ConnectionTrait,
    job: &str,
    holder: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let row = job_locks::ActiveModel {
        job: Set(job.to_owned()),
        holder: Set(holder.to_owned()),
        locked_until: Set(now - chrono::Duration::seconds(1)),
    };
    job_locks::Entity::insert(row)
        .on_conflict(
            OnConflict::column(job_locks::Column::Job)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    let free = Condition::any()
        .add(job_locks::Column::LockedUntil.lt(now))
        .add(job_locks::Column::Holder.eq(holder));
    let taken = job_locks::Entity::update_many()
        .col_expr(job_locks::Column::Holder, Expr::value(holder))
        .col_expr(job_locks::Column::LockedUntil, Expr::value(until))
        .filter(job_locks::Column::Job.eq(job))
        .filter(free)
        .exec(conn)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Gives the lease of `job` back, if `holder` has it.
///
/// # Errors
/// Database failure.
pub async fn unlock(
    conn: &impl ConnectionTrait,
    job: &str,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    job_locks::Entity::update_many()
        .col_expr(
            job_locks::Column::LockedUntil,
            Expr::value(now - chrono::Duration::seconds(1)),
        )
        .filter(job_locks::Column::Job.eq(job))
        .filter(job_locks::Column::Holder.eq(holder))
        .exec(conn)
        .await?;
    Ok(())
}

/// One recorded run of a job.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobRun {
    /// Its id (the cursor of the page that ends with it).
    pub id: uuid::Uuid,
    /// Job name.
    pub job: String,
    /// `ok` or `failed`.
    pub status: String,
    /// What the run did (JSON).
    pub report: serde_json::Value,
    /// Start time.
    pub started_at: DateTime<Utc>,
    /// End time.
    pub finished_at: DateTime<Utc>,
}

/// Records a run.
///
/// # Errors
/// Database failure.
pub async fn record_run(conn: &impl ConnectionTrait, run: &JobRun) -> Result<(), StoreError> {
    let row = job_runs::ActiveModel {
        id: Set(run.id),
        job: Set(run.job.clone()),
        status: Set(run.status.clone()),
        report: Set(run.report.to_string()),
        started_at: Set(run.started_at),
        finished_at: Set(run.finished_at),
    };
    job_runs::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// A page of runs, newest first (by start time, then id), optionally of one job: the runs
/// after the run `after` (the previous page's last one).
///
/// # Errors
/// `NotFound` when `after` names no run; database failure.
pub async fn runs_page(
    conn: &impl ConnectionTrait,
    job: Option<&str>,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<JobRun>, StoreError> {
    let mut query = job_runs::Entity::find();
    if let Some(job) = job {
        query = query.filter(job_runs::Column::Job.eq(job));
    }
    if let Some(after) = after {
        let cursor = job_runs::Entity::find_by_id(after)
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        query = query.filter(
            Condition::any()
                .add(job_runs::Column::StartedAt.lt(cursor.started_at))
                .add(
                    Condition::all()
                        .add(job_runs::Column::StartedAt.eq(cursor.started_at))
                        .add(job_runs::Column::Id.lt(cursor.id)),
                ),
        );
    }
    Ok(query
        .order_by_desc(job_runs::Column::StartedAt)
        .order_by_desc(job_runs::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| JobRun {
            id: m.id,
            job: m.job,
            status: m.status,
            report: serde_json::from_str(&m.report).unwrap_or(serde_json::Value::String(m.report)),
            started_at: m.started_at,
            finished_at: m.finished_at,
        })
        .collect())
}
