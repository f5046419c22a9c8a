//! What the benchmarks share: arguments, a fresh database, subscriber CSVs, peak memory.
#![allow(dead_code)]

use std::{io::Write, path::Path};

use anyhow::Context;
use bulletin::domain::{LegalBasis, ListKind, ListSlug, ListVisibility, NewList, OptIn};
use sea_orm::ConnectionTrait;

/// The value after `name` on the command line, parsed.
pub fn arg<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>> {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|a| a == name) else {
        return Ok(None);
    };
    let raw = args
        .get(at + 1)
        .with_context(|| format!("{name} needs a value"))?;
    let value = raw
        .parse()
        .map_err(|_| anyhow::anyhow!("{name}: cannot read {raw:?}"))?;
    Ok(Some(value))
}

/// A consent list with double opt-in.
pub fn consent_list(slug: ListSlug) -> NewList {
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
        reply_to: None,
    }
}

/// `rows` distinct subscribers with names, locales and the evidence of consent.
pub fn write_csv(path: &Path, rows: u64) -> anyhow::Result<()> {
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
pub async fn fresh_database(dir: &Path) -> anyhow::Result<(String, &'static str)> {
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

/// Settings for a bench on `url` with everything else in `dir`: mail written to files, the
/// worker off.
pub fn offline_settings(dir: &Path, url: String) -> anyhow::Result<bulletin::config::Settings> {
    let mut settings = bulletin::config::Settings::load(None)?;
    settings.database.url = secrecy::SecretString::from(url);
    settings.data_dir = dir.join("data");
    settings.mail.transport = bulletin::config::MailTransportSettings::File {
        outbox_dir: dir.join("outbox"),
    };
    settings.mail.templates_dir = dir.join("emails");
    settings.delivery.worker_enabled = false;
    Ok(settings)
}

/// A `/proc/self/status` value in MiB (`VmHWM:` is the peak resident set).
pub fn status_mib(name: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no {name} in /proc/self/status"))?;
    Ok(kib as f64 / 1024.0)
}

/// CPU time (user + system) a process has used so far, in seconds, from `/proc/PID/stat`.
pub fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may contain spaces; the fields after it are plain numbers.
    let after_name = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: f64 = fields
        .get(11..13)
        .context("short stat")?
        .iter()
        .map(|f| f.parse::<f64>())
        .sum::<Result<f64, _>>()?;
    Ok(ticks / 100.0)
}
