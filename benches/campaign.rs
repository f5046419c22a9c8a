//! Campaign throughput: imports N subscribers into a fresh database, sends one campaign with a
//! ~5 KB personalised body through the real delivery engine to postfix's `smtp-sink`, and
//! prints fan-out time, messages per second and peak RSS — next to the rate at which
//! postfix's own `smtp-source` pushes messages of the same size into the same sink (the
//! ceiling of the machine).
//!
//! ```sh
//! apt-get install postfix   # for smtp-sink and smtp-source; stop its daemon afterwards
//! cargo bench --bench campaign -- --recipients 100000 [--concurrency 8] [--batch-size 500] \
//!     [--body short|long|html]
//! BULLETIN_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench campaign
//! ```

#[path = "support.rs"]
mod support;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use anyhow::Context;
use bulletin::{
    clock::Clock,
    config::{MailTransportSettings, Settings},
    delivery,
    domain::{Actor, ListSlug},
    services::{self, campaigns::CampaignDraft},
    startup,
};
use secrecy::SecretString;
use support::{
    arg, consent_list, cpu_seconds, free_port, fresh_database, smtp_source_rate, start_sink,
    status_mib, write_csv,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if let Some(url) = arg::<String>("--prepare")? {
        return prepare(url).await;
    }
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let recipients: u64 = arg("--recipients")?.unwrap_or(100_000);
    let port = free_port()?;
    let sink = start_sink(port)?;

    let dir = tempfile::tempdir()?;
    let (url, backend) = fresh_database(dir.path()).await?;
    // The subscribers are imported by a child process, so that this process's peak memory
    // is that of sending alone.
    let status = Command::new(std::env::current_exe()?)
        .args([
            "--prepare",
            &url,
            "--dir",
            &dir.path().display().to_string(),
            "--recipients",
            &recipients.to_string(),
        ])
        .status()?;
    anyhow::ensure!(
        status.success(),
        "preparing the subscribers failed: {status}"
    );
    let ctx = startup::build_context(settings(dir.path(), url, port)?, Clock::System).await?;
    let engine = startup::build_engine(ctx.clone())?;
    let concurrency = ctx.settings.delivery.concurrency;
    let slug = ListSlug::parse("weekly").map_err(anyhow::Error::msg)?;
    let body: String = arg("--body")?.unwrap_or_else(|| "short".to_owned());

    let draft = CampaignDraft {
        name: "Benchmark".into(),
        subject: "News for {{ subscriber.name }}".into(),
        body_markdown: body_markdown(&body)?,
        lists: vec![slug],
        from: None,
        reply_to: None,
        layout: bulletin::domain::CampaignLayout::Standard,
        translations: std::collections::BTreeMap::new(),
        segment: None,
        archive: false,
    };
    let campaign = services::campaigns::create(&ctx, &Actor::Cli, draft).await?;
    services::campaigns::schedule(&ctx, &Actor::Cli, campaign.id, None).await?;
    services::campaigns::start_due(&ctx).await?;
    let fan_out_started = Instant::now();
    let written = delivery::fan_out_all(&ctx).await?;
    let fan_out_secs = fan_out_started.elapsed().as_secs_f64();

    let sink_pid = sink.pid();
    let (own_cpu, sink_cpu) = (cpu_seconds("self")?, cpu_seconds(&sink_pid)?);
    let send_started = Instant::now();
    let report = delivery::drain(&engine).await?;
    let send_secs = send_started.elapsed().as_secs_f64();
    // CPU time per message: robust against other load on the machine, unlike the rate.
    let own_cpu_us = (cpu_seconds("self")? - own_cpu) * 1e6 / recipients as f64;
    let sink_cpu_us = (cpu_seconds(&sink_pid)? - sink_cpu) * 1e6 / recipients as f64;
    anyhow::ensure!(
        report.sent as u64 == recipients,
        "sent {} of {recipients}: {report:?}",
        report.sent
    );
    let peak = status_mib("VmHWM:")?;

    let source_rate = smtp_source_rate(port, concurrency, recipients.min(50_000), 5120)?;
    println!(
        "backend={backend} body={body} recipients={recipients} concurrency={concurrency} batch_size={} dkim={} \
         fan_out_rows={written} fan_out_seconds={fan_out_secs:.2} send_seconds={send_secs:.2} \
         messages_per_second={:.0} smtp_source_messages_per_second={source_rate:.0} \
         peak_rss_mib={peak:.1} cpu_us_per_message={own_cpu_us:.0} \
         sink_cpu_us_per_message={sink_cpu_us:.0}",
        ctx.settings.delivery.batch_size,
        ctx.settings.mail.dkim.as_ref().map_or("none", |_| "on"),
        recipients as f64 / send_secs,
    );
    Ok(())
}

/// The child's part: a consent list and `--recipients` imported subscribers.
async fn prepare(url: String) -> anyhow::Result<()> {
    let dir = std::path::PathBuf::from(arg::<String>("--dir")?.context("--dir")?);
    let recipients: u64 = arg("--recipients")?.context("--recipients")?;
    let ctx = startup::build_context(settings(&dir, url, 25)?, Clock::System).await?;
    let csv = dir.join("subscribers.csv");
    write_csv(&csv, recipients)?;
    let slug = ListSlug::parse("weekly").map_err(anyhow::Error::msg)?;
    services::lists::create(&ctx, &Actor::Cli, consent_list(slug.clone())).await?;
    let imported =
        services::imports::import_csv(&ctx, &Actor::Cli, &slug, tokio::fs::File::open(&csv).await?)
            .await?;
    anyhow::ensure!(
        imported.imported == recipients,
        "imported {} of {recipients}",
        imported.imported
    );
    std::fs::remove_file(&csv)?;
    Ok(())
}

fn settings(dir: &std::path::Path, url: String, port: u16) -> anyhow::Result<Settings> {
    let mut settings = Settings::load(None)?;
    settings.database.url = SecretString::from(url);
    settings.data_dir = dir.join("data");
    settings.mail.templates_dir = dir.join("emails");
    settings.delivery.worker_enabled = false;
    settings.scheduler.enabled = false;
    if let Some(concurrency) = arg("--concurrency")? {
        settings.delivery.concurrency = concurrency;
    }
    if let Some(batch) = arg("--batch-size")? {
        settings.delivery.batch_size = batch;
    }
    // `--dkim rsa|ed25519`: every message signed with a new key, to measure what signing costs.
    if let Some(algorithm) = arg::<String>("--dkim")? {
        let algorithm = match algorithm.as_str() {
            "rsa" => bulletin::mail::dkim::Algorithm::Rsa,
            "ed25519" => bulletin::mail::dkim::Algorithm::Ed25519,
            other => anyhow::bail!("--dkim {other}: rsa or ed25519"),
        };
        let pem = bulletin::mail::dkim::generate(algorithm).map_err(anyhow::Error::msg)?;
        settings.mail.dkim = Some(bulletin::config::DkimSettings {
            domain: "example.com".into(),
            selector: "bench".into(),
            key_pem: pem.into(),
        });
    }
    settings.mail.transport = MailTransportSettings::Smtp {
        url: SecretString::from(format!("smtp://127.0.0.1:{port}")),
        pool_max: u32::try_from(settings.delivery.concurrency)?.max(1),
        timeout: Duration::from_secs(30),
    };
    Ok(settings)
}

/// About 5 KB of Markdown with personalisation in several places, shaped by `--body`:
/// `short` lines (a paragraph per part), one `long` paragraph line of the same text, or the
/// same content as minified one-line `html` (an HTML block, passed through as it is).
fn body_markdown(shape: &str) -> anyhow::Result<String> {
    let paragraph = "Our autumn release brings faster exports, a new dashboard and many small \
                     fixes that you asked for. Read on for the details and what comes next. ";
    let intro = "This is **{{ list.name }}**, written for {{ subscriber.email }}.";
    let outro = "Not interested any more? [Unsubscribe]({{ unsubscribe_url }}) or \
                 [change your preferences]({{ preferences_url }}).";
    let mut body = String::from("# Hello {{ subscriber.name }}\n\n");
    match shape {
        "short" => {
            body.push_str(&format!("{intro}\n\n"));
            for i in 1..=12 {
                body.push_str(&format!("## Part {i}\n\n{paragraph}{paragraph}\n\n"));
            }
            body.push_str(&format!("{outro}\n"));
        }
        "long" => {
            body.push_str(&format!("{intro}\n\n{}\n\n{outro}\n", paragraph.repeat(26)));
        }
        "html" => {
            body = String::from(
                "<div class=\"news\"><h1>Hello {{ subscriber.name }}</h1><p>This is \
                 <strong>{{ list.name }}</strong>, written for {{ subscriber.email }}.</p>",
            );
            for i in 1..=12 {
                body.push_str(&format!("<h2>Part {i}</h2><p>{paragraph}{paragraph}</p>"));
            }
            body.push_str(
                "<p>Not interested any more? <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a> \
                 or <a href=\"{{ preferences_url }}\">change your preferences</a>.</p></div>\n",
            );
        }
        other => anyhow::bail!("--body {other}: short, long or html"),
    }
    Ok(body)
}
