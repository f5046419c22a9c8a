//! Import throughput: writes an N-row CSV into a temp dir, imports it into a fresh database
//! with the import service (as `bulletin import` does), and prints rows, seconds, rows per
//! second and peak RSS.
//!
//! ```sh
//! cargo run --release --example bench_import -- --rows 1000000 [--batch-rows 1000]
//! # PostgreSQL: a fresh database is created on this server (the user may create databases)
//! BULLETIN_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release --example bench_import -- --rows 1000000
//! ```

#[path = "../benches/support.rs"]
mod support;

use std::time::Instant;

use bulletin::{
    clock::Clock,
    domain::{Actor, ListSlug},
    services, startup,
};
use support::{
    arg, consent_list, cpu_seconds, fresh_database, offline_settings, status_mib, write_csv,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // RUST_LOG=bulletin=info shows the import's own log line (time to commit, the commit).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let rows: u64 = arg("--rows")?.unwrap_or(100_000);
    let batch_rows: Option<usize> = arg("--batch-rows")?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("subscribers.csv");
    write_csv(&file, rows)?;
    let (url, backend) = fresh_database(dir.path()).await?;
    let mut settings = offline_settings(dir.path(), url)?;
    if let Some(batch_rows) = batch_rows {
        settings.import.batch_rows = batch_rows;
    }
    let batch = settings.import.batch_rows;
    let ctx = startup::build_context(settings, Clock::System).await?;
    let slug = ListSlug::parse("weekly").map_err(anyhow::Error::msg)?;
    services::lists::create(&ctx, &Actor::Cli, consent_list(slug.clone())).await?;

    let rss_before = status_mib("VmRSS:")?;
    let source = tokio::fs::File::open(&file).await?;
    let cpu_before = cpu_seconds("self")?;
    let started = Instant::now();
    let report = services::imports::import_csv(&ctx, &Actor::Cli, &slug, source).await?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds("self")? - cpu_before;
    // The import answers before SQLite's write-ahead log is copied into the database file;
    // this waits for that copy (the import's own, in the background, then an empty one).
    let checkpoint_started = Instant::now();
    bulletin::store::settle_bulk_write(&ctx.bulk_db).await?;
    let checkpoint_seconds = checkpoint_started.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.imported == rows,
        "imported {} of {rows}",
        report.imported
    );
    println!(
        "backend={backend} rows={rows} batch_rows={batch} imported={} seconds={seconds:.2} \
         rows_per_second={:.0} cpu_seconds={cpu:.2} \
         checkpoint_after_seconds={checkpoint_seconds:.2} rss_before_import_mib={:.1} peak_rss_mib={:.1}",
        report.imported,
        rows as f64 / seconds,
        rss_before,
        status_mib("VmHWM:")?,
    );
    Ok(())
}
