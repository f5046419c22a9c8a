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

use std::{io::Write, path::Path, time::Instant};

use anyhow::Context;
use bulletin::{
    clock::Clock,
    config::{MailTransportSettings, Settings},
    domain::{LegalBasis, ListKind, ListSlug, ListVisibility, NewList, OptIn},
    services,
    startup::AppState,
};
use sea_orm::ConnectionTrait;
use secrecy::SecretString;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: u64 = arg("--rows")?.unwrap_or(100_000);
    let batch_rows: Option<usize> = arg("--batch-rows")?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("subscribers.csv");
    write_csv(&file, rows)?;
    let (url, backend) = fresh_database(dir.path()).await?;
    let mut settings = Settings::load(None)?;
    settings.database.url = SecretString::from(url);
    settings.data_dir = dir.path().join("data");
    settings.mail.transport = MailTransportSettings::File {
        outbox_dir: dir.path().join("outbox"),
    };
    settings.mail.templates_dir = dir.path().join("emails");
    settings.delivery.worker_enabled = false;
    if let Some(batch_rows) = batch_rows {
        settings.import.batch_rows = batch_rows;
    }
    let batch = settings.import.batch_rows;
    let state = AppState::build(settings, Clock::System).await?;
    let slug = ListSlug::parse("weekly").map_err(anyhow::Error::msg)?;
    services::lists::create(&state, list(slug.clone())).await?;

    let rss_before = status_kib("VmRSS:")?;
    let source = tokio::fs::File::open(&file).await?;
    let started = Instant::now();
    let report = services::imports::import_csv(&state, &slug, "bench", source).await?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.imported == rows,
        "imported {} of {rows}",
        report.imported
    );
    println!(
        "backend={backend} rows={rows} batch_rows={batch} imported={} seconds={seconds:.2} \
         rows_per_second={:.0} rss_before_import_mib={:.1} peak_rss_mib={:.1}",
        report.imported,
        rows as f64 / seconds,
        rss_before as f64 / 1024.0,
        status_kib("VmHWM:")? as f64 / 1024.0,
    );
    Ok(())
}

/// The value after `name` on the command line, parsed.
fn arg<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>> {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|a| a == name) else {
        return Ok(None);
    };
    let raw = args.get(at + 1).context(format!("{name} needs a value"))?;
    let value = raw
        .parse()
        .map_err(|_| anyhow::anyhow!("{name}: not a number"))?;
    Ok(Some(value))
}

/// A consent list: every row must carry the evidence columns, as a real migration would.
fn list(slug: ListSlug) -> NewList {
    NewList {
        slug,
        name: "Weekly".into(),
        description: String::new(),
        kind: ListKind::Newsletter,
        legal_basis: LegalBasis::Consent,
        opt_in: OptIn::Double,
        visibility: ListVisibility::Public,
        consent_text: None,
        welcome_message: None,
    }
}

/// `rows` distinct subscribers with names, locales and the evidence of consent.
fn write_csv(path: &Path, rows: u64) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "email,name,locale,consent_at,consent_source,consent_text"
    )?;
    for i in 0..rows {
        let locale = if i % 3 == 0 { "de" } else { "en" };
        writeln!(
            out,
            "subscriber{i}@example.com,Subscriber {i},{locale},2025-05-01T08:30:00Z,\
             shop checkout,\"Yes, send me the weekly newsletter. I can leave at any time.\""
        )?;
    }
    out.flush()?;
    Ok(())
}

/// A SQLite file in `dir`, or a new database on `BULLETIN_BENCH_DATABASE_URL`.
async fn fresh_database(dir: &Path) -> anyhow::Result<(String, &'static str)> {
    let Ok(server) = std::env::var("BULLETIN_BENCH_DATABASE_URL") else {
        return Ok((
            format!("sqlite://{}/bench.db?mode=rwc", dir.display()),
            "sqlite",
        ));
    };
    let name = format!("bulletin_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(&server).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    admin.close().await?;
    let mut url = url::Url::parse(&server)?;
    url.set_path(&name);
    Ok((url.to_string(), "postgresql"))
}

/// A `/proc/self/status` value in KiB (`VmHWM:` is the peak resident set).
fn status_kib(name: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(name))
        .context(format!("no {name} in /proc/self/status"))?;
    Ok(line
        .trim_start_matches(name)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?)
}
