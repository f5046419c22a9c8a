//! What the benchmarks share: arguments, a fresh database, subscriber CSVs, peak memory.
#![allow(dead_code)]

use std::{
    io::Write,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

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

/// postfix's test sink (`apt-get install postfix`).
pub const SINK: &str = "/usr/sbin/smtp-sink";
/// postfix's test sender, the ceiling the benchmarks compare with.
pub const SOURCE: &str = "/usr/sbin/smtp-source";

/// A child process stopped when the benchmark ends, also on error.
pub struct Proc(pub Child);

impl Proc {
    /// The process id, as `/proc` names it.
    pub fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `smtp-sink` on loopback `port` (backlog 1024) and gives it a moment to listen.
pub fn start_sink(port: u16) -> anyhow::Result<Proc> {
    let sink = Proc(
        Command::new(SINK)
            .args(["-u", "nobody", &format!("127.0.0.1:{port}"), "1024"])
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {SINK}: install Debian's postfix package"))?,
    );
    std::thread::sleep(Duration::from_millis(300));
    Ok(sink)
}

/// Messages per second that `smtp-source` alone pushes into the sink over `sessions`
/// reused connections, `bytes` each: the ceiling of this machine.
pub fn smtp_source_rate(
    port: u16,
    sessions: usize,
    messages: u64,
    bytes: usize,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let status = Command::new(SOURCE)
        .args([
            "-d",
            "-s",
            &sessions.to_string(),
            "-m",
            &messages.to_string(),
        ])
        .args(["-l", &bytes.to_string()])
        .args(["-f", "bench@example.com", "-t", "sink@example.com"])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {SOURCE}"))?;
    anyhow::ensure!(status.success(), "smtp-source failed: {status}");
    Ok(messages as f64 / started.elapsed().as_secs_f64())
}

/// A free TCP port on loopback.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
