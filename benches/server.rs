//! The running server, measured as users run it: starts the release `bulletin` binary as a
//! process of its own against a fresh database and postfix's `smtp-sink`, imports subscribers
//! through `POST /api/v1/subscribers/import`, then sends one campaign per body shape through
//! the API (the scheduler starts it, the worker sends it) and loads the public endpoints with
//! `wrk`. It prints one table: messages per second next to `smtp-source`'s rate with the same
//! number of connections into the same sink in the same run, CPU µs per message of the server
//! and of the sink, the server's RSS, the cost of a campaign's status, and requests per second
//! with latency percentiles of `POST /subscribe` and the one-click unsubscribe, idle and while
//! a campaign sends.
//!
//! ```sh
//! apt-get install postfix wrk   # smtp-sink, smtp-source and wrk; stop postfix's daemon
//! cargo bench --bench server -- [--recipients 100000] [--shapes short,paragraph,html]
//!     [--dkim none|ed25519|rsa] [--concurrency 8] [--http-secs 10] [--instances 1]
//!     [--skip-http]
//! eval "$(.ci/postgres.sh start)"
//! BULLETIN_BENCH_DATABASE_URL=$BULLETIN_TEST_DATABASE_URL cargo bench --bench server -- --instances 2
//! ```

#[path = "support.rs"]
mod support;

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use bulletin::signing::{Keyring, Purpose, SigningKey};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use support::{
    Proc, SINK, SOURCE, arg, cpu_seconds, free_port, fresh_database, smtp_source_rate, start_sink,
    write_csv,
};

const BIN: &str = env!("CARGO_BIN_EXE_bulletin");
const WRK: &str = "wrk";
/// The From address: its domain is the DKIM signing domain.
const FROM_DOMAIN: &str = "bench.example";

/// One instance of `bulletin serve` and how to reach it.
struct Server {
    proc: Proc,
    base: String,
}

/// The resident set of the server processes, sampled every 100 ms while the benchmark runs.
#[derive(Clone)]
struct Rss {
    pids: Vec<String>,
    peak_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Rss {
    fn start(pids: Vec<String>) -> Self {
        let rss = Self {
            pids,
            peak_kib: Arc::default(),
            stop: Arc::default(),
        };
        let sampler = rss.clone();
        std::thread::spawn(move || {
            while !sampler.stop.load(Ordering::Relaxed) {
                let now = sampler.now_kib();
                sampler.peak_kib.fetch_max(now, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        rss
    }

    /// The largest instance's resident set now, in KiB.
    fn now_kib(&self) -> u64 {
        self.pids
            .iter()
            .filter_map(|pid| proc_status_kib(pid, "VmRSS:"))
            .max()
            .unwrap_or(0)
    }

    fn mib(kib: u64) -> f64 {
        kib as f64 / 1024.0
    }
}

/// A `/proc/PID/status` value in KiB.
fn proc_status_kib(pid: &str, name: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(name))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// What one campaign's send measured.
struct Send {
    shape: &'static str,
    message_bytes: usize,
    seconds: f64,
    rate: f64,
    ceiling: f64,
    server_cpu_us: f64,
    /// Each instance's share of `server_cpu_us`.
    per_instance_us: Vec<f64>,
    sink_cpu_us: f64,
}

/// What one `wrk` run measured.
struct Load {
    what: String,
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let recipients: u64 = arg("--recipients")?.unwrap_or(100_000);
    let concurrency: usize = arg("--concurrency")?.unwrap_or(8);
    let instances: usize = arg("--instances")?.unwrap_or(1);
    let http_secs: u64 = arg("--http-secs")?.unwrap_or(10);
    let dkim: String = arg("--dkim")?.unwrap_or_else(|| "none".into());
    let shapes: String = arg("--shapes")?.unwrap_or_else(|| "short,paragraph,html".into());
    let skip_http = std::env::args().any(|a| a == "--skip-http");
    for tool in [SINK, SOURCE] {
        anyhow::ensure!(
            Path::new(tool).exists(),
            "{tool} is missing: apt-get install postfix"
        );
    }

    // reqwest is built without a TLS provider of its own; the server uses ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let sink_port = free_port()?;
    let sink = start_sink(sink_port)?;

    let (url, backend) = fresh_database(dir.path()).await?;
    let key = SigningKey::generate();
    let env = server_env(dir.path(), &url, &key, sink_port, concurrency, &dkim)?;
    run(&env, &["migrate"])?;
    let token = run(
        &env,
        &["token", "create", "--name", "bench", "--role", "admin"],
    )?
    .lines()
    .last()
    .context("no token printed")?
    .trim()
    .to_owned();
    let servers = (0..instances)
        .map(|i| start_server(&env, dir.path(), i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let http = reqwest::Client::new();
    for server in &servers {
        wait_ready(&http, &server.base).await?;
    }
    let pids: Vec<String> = servers.iter().map(|s| s.proc.pid()).collect();
    let rss = Rss::start(pids.clone());
    let api = Api {
        http: http.clone(),
        base: servers[0].base.clone(),
        token,
    };
    let mut table = String::new();
    writeln!(
        table,
        "backend={backend} instances={instances} recipients={recipients} concurrency={concurrency} dkim={dkim}"
    )?;

    // --- import -------------------------------------------------------------------------
    api.post(
        "/api/v1/lists",
        json!({"slug": "weekly", "name": "Weekly", "kind": "newsletter",
               "legal_basis": "consent", "opt_in": "double"}),
    )
    .await?;
    let csv = dir.path().join("subscribers.csv");
    write_csv(&csv, recipients)?;
    let body = tokio::fs::read(&csv).await?;
    let cpu_before = cpu_of(&pids)?;
    let started = Instant::now();
    let report = api
        .http
        .post(format!(
            "{}/api/v1/subscribers/import?list=weekly",
            api.base
        ))
        .bearer_auth(&api.token)
        .header("Content-Type", "text/csv")
        .timeout(Duration::from_secs(3600))
        .body(body)
        .send()
        .await?;
    let status = report.status();
    let report: Value = report.json().await?;
    let import_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        status.is_success() && report["imported"].as_u64() == Some(recipients),
        "import answered {status}: {report}"
    );
    let import_cpu = cpu_of(&pids)? - cpu_before;
    std::fs::remove_file(&csv)?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    writeln!(
        table,
        "\n| import through the API | rows | seconds | rows/s | server CPU s | RSS 3 s after | peak RSS so far |\n|---|---:|---:|---:|---:|---:|---:|\n| `POST /api/v1/subscribers/import` | {recipients} | {import_secs:.1} | {:.0} | {import_cpu:.1} | {:.1} MiB | {:.1} MiB |",
        recipients as f64 / import_secs,
        Rss::mib(rss.now_kib()),
        Rss::mib(rss.peak_kib.load(Ordering::Relaxed)),
    )?;

    // --- one campaign per body shape ------------------------------------------------------
    let mut sends = Vec::new();
    let mut status_ms = Vec::new();
    let mut loads = Vec::new();
    for shape in shapes.split(',').filter(|s| !s.is_empty()) {
        let shape: &'static str = match shape {
            "short" => "short",
            "paragraph" => "paragraph",
            "html" => "html",
            other => anyhow::bail!("--shapes: {other} is not short, paragraph or html"),
        };
        let id = api.create_campaign(shape).await?;
        let message_bytes = api.message_bytes(&id).await?;
        let ceiling = smtp_source_rate(
            sink_port,
            concurrency,
            recipients.min(50_000),
            message_bytes,
        )?;
        let cpu_before = cpu_of(&pids)?;
        let each_before = pids
            .iter()
            .map(|p| cpu_seconds(p))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let sink_before = cpu_seconds(&sink.pid())?;
        api.post(
            &format!("/api/v1/campaigns/{id}/schedule"),
            json!({"send_at": null}),
        )
        .await?;
        let (seconds, sent) = api.wait_sent(&id, recipients).await?;
        let server_cpu = cpu_of(&pids)? - cpu_before;
        let per_instance_us = pids
            .iter()
            .zip(&each_before)
            .map(|(p, before)| Ok((cpu_seconds(p)? - before) * 1e6 / recipients as f64))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let sink_cpu = cpu_seconds(&sink.pid())? - sink_before;
        sends.push(Send {
            shape,
            message_bytes,
            seconds,
            rate: sent as f64 / seconds,
            ceiling,
            server_cpu_us: server_cpu * 1e6 / recipients as f64,
            per_instance_us,
            sink_cpu_us: sink_cpu * 1e6 / recipients as f64,
        });
        status_ms.push(api.status_cost(&id).await?);
    }
    let steady = rss.now_kib();

    // --- public endpoints ---------------------------------------------------------------------
    if !skip_http {
        let wrk_dir = dir.path().join("wrk");
        std::fs::create_dir_all(&wrk_dir)?;
        let paths = unsubscribe_paths(&url, &key, &wrk_dir).await?;
        loads.push(wrk(
            &api.base,
            "/subscribe",
            &signup_script(&wrk_dir)?,
            http_secs,
            "POST /subscribe, idle",
        )?);
        loads.push(wrk(
            &api.base,
            "/",
            &unsubscribe_script(&wrk_dir, &paths)?,
            http_secs,
            "one-click unsubscribe POST, idle",
        )?);
        // The same while a campaign sends at full speed.
        let id = api.create_campaign("short").await?;
        api.post(
            &format!("/api/v1/campaigns/{id}/schedule"),
            json!({"send_at": null}),
        )
        .await?;
        api.wait_sending(&id).await?;
        loads.push(wrk(
            &api.base,
            "/subscribe",
            &signup_script(&wrk_dir)?,
            http_secs,
            "POST /subscribe, while a campaign sends",
        )?);
        loads.push(wrk(
            &api.base,
            "/",
            &unsubscribe_script(&wrk_dir, &paths)?,
            http_secs,
            "one-click unsubscribe POST, while a campaign sends",
        )?);
        api.post(&format!("/api/v1/campaigns/{id}/cancel"), json!({}))
            .await
            .ok();
    }

    let peak = pids
        .iter()
        .filter_map(|pid| proc_status_kib(pid, "VmHWM:"))
        .max()
        .unwrap_or(0);
    rss.stop.store(true, Ordering::Relaxed);

    writeln!(
        table,
        "\n| campaign body | message | seconds | msg/s | smtp-source msg/s ({concurrency} conn.) | ratio | server CPU µs/msg (per instance) | sink CPU µs/msg | status call |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for (s, ms) in sends.iter().zip(&status_ms) {
        writeln!(
            table,
            "| {} | {:.1} KB | {:.1} | {:.0} | {:.0} | **{:.2}** | {:.0} ({}) | {:.0} | {ms:.2} ms |",
            s.shape,
            s.message_bytes as f64 / 1000.0,
            s.seconds,
            s.rate,
            s.ceiling,
            s.rate / s.ceiling,
            s.server_cpu_us,
            s.per_instance_us
                .iter()
                .map(|us| format!("{us:.0}"))
                .collect::<Vec<_>>()
                .join(" + "),
            s.sink_cpu_us,
        )?;
    }
    writeln!(
        table,
        "\nserver RSS: steady {:.1} MiB after the campaigns, peak {:.1} MiB (largest instance)",
        Rss::mib(steady),
        Rss::mib(peak)
    )?;
    if !loads.is_empty() {
        writeln!(
            table,
            "\n| endpoint (wrk, 32 connections, {http_secs} s) | req/s | p50 | p99 | non-2xx |\n|---|---:|---:|---:|---:|"
        )?;
        for l in &loads {
            writeln!(
                table,
                "| {} | {:.0} | {:.1} ms | {:.1} ms | {} |",
                l.what, l.requests_per_sec, l.p50_ms, l.p99_ms, l.non_2xx
            )?;
        }
    }
    println!("{table}");
    drop(servers);
    drop(sink);
    Ok(())
}

/// The environment every `bulletin` command of the run gets.
fn server_env(
    dir: &Path,
    url: &str,
    key: &SigningKey,
    sink_port: u16,
    concurrency: usize,
    dkim: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut env = vec![
        ("BULLETIN__DATABASE__URL", url.to_owned()),
        (
            "BULLETIN__DATA__DIR",
            dir.join("data").display().to_string(),
        ),
        ("BULLETIN__SIGNING__KEY", key.encode()),
        ("BULLETIN__MAIL__TRANSPORT", "smtp".into()),
        (
            "BULLETIN__MAIL__SMTP_URL",
            format!("smtp://127.0.0.1:{sink_port}"),
        ),
        ("BULLETIN__MAIL__SMTP_POOL_MAX", concurrency.to_string()),
        (
            "BULLETIN__MAIL__FROM",
            format!("Bench <news@{FROM_DOMAIN}>"),
        ),
        (
            "BULLETIN__MAIL__TEMPLATES_DIR",
            dir.join("emails").display().to_string(),
        ),
        ("BULLETIN__DELIVERY__CONCURRENCY", concurrency.to_string()),
        ("BULLETIN__DELIVERY__TEST_SENDS_PER_HOUR", "0".into()),
        ("BULLETIN__HTTP__MAX_CONNECTIONS_PER_CLIENT", "0".into()),
        ("BULLETIN__SUBSCRIPTIONS__SIGNUPS_PER_HOUR", "0".into()),
        ("BULLETIN__LIMITS__MAILS_PER_RECIPIENT_PER_DAY", "0".into()),
        ("BULLETIN__LIMITS__MAILS_PER_NETWORK_PER_HOUR", "0".into()),
        ("BULLETIN__LOG__FILTER", "warn".into()),
    ];
    if dkim != "none" {
        let algorithm = match dkim {
            "rsa" | "ed25519" => dkim,
            other => anyhow::bail!("--dkim {other}: none, rsa or ed25519"),
        };
        let file = dir.join("dkim.pem");
        run(
            &[],
            &[
                "dkim",
                "keygen",
                "--domain",
                FROM_DOMAIN,
                "--selector",
                "bench",
                "--algorithm",
                algorithm,
                "--out",
                &file.display().to_string(),
            ],
        )?;
        env.push(("BULLETIN__MAIL__DKIM__DOMAIN", FROM_DOMAIN.into()));
        env.push(("BULLETIN__MAIL__DKIM__SELECTOR", "bench".into()));
        env.push(("BULLETIN__MAIL__DKIM__KEY_FILE", file.display().to_string()));
    }
    Ok(env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Runs `bulletin ARGS` to its end and returns what it printed.
fn run(env: &[(String, String)], args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("BULLETIN_CONFIG")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .with_context(|| format!("cannot run {BIN}"))?;
    anyhow::ensure!(
        out.status.success(),
        "bulletin {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// Starts instance `i` of `bulletin serve` on a port of its own.
fn start_server(env: &[(String, String)], dir: &Path, i: usize) -> anyhow::Result<Server> {
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(dir.join(format!("server{i}.log")))?;
    let child = Command::new(BIN)
        .arg("serve")
        .env_remove("BULLETIN_CONFIG")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("BULLETIN__HTTP__BIND", format!("127.0.0.1:{port}"))
        .env("BULLETIN__HTTP__PUBLIC_URL", &base)
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {BIN}"))?;
    Ok(Server {
        proc: Proc(child),
        base,
    })
}

async fn wait_ready(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the server at {base} did not answer /healthz")
}

/// CPU seconds the server processes used so far.
fn cpu_of(pids: &[String]) -> anyhow::Result<f64> {
    pids.iter().map(|p| cpu_seconds(p)).sum()
}

/// The API with the run's admin token.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let text = r.text().await?;
        anyhow::ensure!(status.is_success(), "POST {path}: {status} {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        let status = r.status();
        let text = r.text().await?;
        anyhow::ensure!(status.is_success(), "GET {path}: {status} {text}");
        Ok(serde_json::from_str(&text)?)
    }

    async fn create_campaign(&self, shape: &str) -> anyhow::Result<String> {
        let created = self
            .post(
                "/api/v1/campaigns",
                json!({"name": format!("Bench {shape}"), "subject": "News for {{ subscriber.name }}",
                       "body_markdown": body(shape), "lists": ["weekly"]}),
            )
            .await?;
        Ok(created["id"].as_str().context("no campaign id")?.to_owned())
    }

    /// About the size of one message on the wire: the preview's text and HTML and the
    /// headers and MIME parts around them.
    async fn message_bytes(&self, id: &str) -> anyhow::Result<usize> {
        let preview = self.get(&format!("/api/v1/campaigns/{id}/preview")).await?;
        let part = |name: &str| preview[name].as_str().map_or(0, str::len);
        Ok(part("text") + part("html") + 1_600)
    }

    /// Polls the campaign until every delivery is done; the seconds from its first sent
    /// message to its last, and how many were sent in them.
    async fn wait_sent(&self, id: &str, recipients: u64) -> anyhow::Result<(f64, u64)> {
        let mut first: Option<(Instant, u64)> = None;
        let deadline = Instant::now() + Duration::from_secs(3600);
        loop {
            anyhow::ensure!(
                Instant::now() < deadline,
                "the campaign did not finish in an hour"
            );
            let c = self.get(&format!("/api/v1/campaigns/{id}")).await?;
            let sent = c["counts"]["sent"].as_u64().unwrap_or(0);
            if sent > 0 && first.is_none() {
                first = Some((Instant::now(), sent));
            }
            match c["status"].as_str() {
                Some("sent") => {
                    let failed = c["counts"]["failed"].as_u64().unwrap_or(0);
                    anyhow::ensure!(
                        sent == recipients,
                        "sent {sent} of {recipients} ({failed} failed): {c}"
                    );
                    let (at, before) = first.context("no message seen sent")?;
                    return Ok((at.elapsed().as_secs_f64(), sent - before));
                }
                Some("paused" | "cancelled") => anyhow::bail!("the campaign stopped: {c}"),
                _ => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    async fn wait_sending(&self, id: &str) -> anyhow::Result<()> {
        for _ in 0..400 {
            let c = self.get(&format!("/api/v1/campaigns/{id}")).await?;
            if c["counts"]["sent"].as_u64().unwrap_or(0) > 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the campaign did not start sending")
    }

    /// Wall milliseconds of `GET /api/v1/campaigns/{id}` (its counts included), the median
    /// of 21 calls one after another.
    async fn status_cost(&self, id: &str) -> anyhow::Result<f64> {
        let mut times = Vec::new();
        for _ in 0..21 {
            let started = Instant::now();
            self.get(&format!("/api/v1/campaigns/{id}")).await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        Ok(times[times.len() / 2])
    }
}

/// The Markdown of a ~5 KB campaign body with personalisation: `short` lines, one long line
/// per `paragraph`, or minified one-line `html`.
fn body(shape: &str) -> String {
    let sentence = "Our autumn release brings faster exports, a new dashboard and many small \
                    fixes that you asked for. Read on for the details and what comes next. ";
    let head = "# Hello {{ subscriber.name }}\n\nThis is **{{ list.name }}**, written for \
                {{ subscriber.email }}.\n\n";
    let foot = "Not interested any more? [Unsubscribe]({{ unsubscribe_url }}) or [change your \
                preferences]({{ preferences_url }}).\n";
    let mut body = String::from(head);
    match shape {
        "short" => {
            for i in 1..=12 {
                body.push_str(&format!("## Part {i}\n\n"));
                // Wrapped at about 70 characters, as a person types it.
                let text = sentence.repeat(2);
                let mut line = String::new();
                for word in text.split_whitespace() {
                    if line.len() + word.len() > 70 {
                        body.push_str(line.trim_end());
                        body.push('\n');
                        line.clear();
                    }
                    line.push_str(word);
                    line.push(' ');
                }
                body.push_str(line.trim_end());
                body.push_str("\n\n");
            }
        }
        "paragraph" => {
            for i in 1..=3 {
                body.push_str(&format!(
                    "## Part {i}\n\n{}\n\n",
                    sentence.repeat(8).trim_end()
                ));
            }
        }
        _ => {
            body.clear();
            body.push_str("<table role=\"presentation\" width=\"100%\" style=\"max-width:600px;margin:0 auto\"><tr><td style=\"padding:24px;font-family:Arial,sans-serif\">");
            body.push_str("<h1 style=\"font-size:24px;margin:0 0 16px\">Hello {{ subscriber.name }}</h1><p style=\"margin:0 0 12px\">Written for {{ subscriber.email }}.</p>");
            for i in 1..=12 {
                body.push_str(&format!("<h2 style=\"font-size:18px;margin:16px 0 8px\">Part {i}</h2><p style=\"margin:0 0 12px;line-height:1.5\">{}</p>", sentence.repeat(2).trim_end()));
            }
            body.push_str("<p style=\"font-size:12px;color:#666\"><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a> · <a href=\"{{ preferences_url }}\">Preferences</a></p></td></tr></table>\n");
            return body;
        }
    }
    body.push_str(foot);
    body
}

/// The one-click unsubscribe paths of (up to) 20,000 of the imported subscriptions, signed
/// with the server's key, one per line in a file for `wrk`.
async fn unsubscribe_paths(url: &str, key: &SigningKey, dir: &Path) -> anyhow::Result<PathBuf> {
    let db = sea_orm::Database::connect(url).await?;
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id FROM subscriptions LIMIT 20000",
        ))
        .await?;
    let keyring = Keyring::new(key.clone(), Vec::new());
    let mut paths = String::new();
    for row in rows {
        let id: uuid::Uuid = row.try_get("", "id")?;
        let token = keyring.sign(Purpose::Unsubscribe, id, None);
        writeln!(paths, "/unsubscribe/{}", token.as_str())?;
    }
    db.close().await?;
    let file = dir.join("unsubscribe-paths.txt");
    std::fs::write(&file, paths)?;
    Ok(file)
}

/// The start of every wrk script: each thread gets its number (`no`), so that the threads
/// take different addresses or paths.
const THREAD_NUMBERS: &str = r#"
local thread_no = 0
function setup(thread)
  thread:set("no", thread_no)
  thread_no = thread_no + 1
end
"#;

/// A wrk script that signs up a new address with every request.
fn signup_script(dir: &Path) -> anyhow::Result<PathBuf> {
    let file = dir.join("signup.lua");
    let requests = r#"
local n = 0
local run = tostring(os.time())
request = function()
  n = n + 1
  local body = "email=s" .. run .. "-" .. no .. "-" .. n .. "%40example.com&name=Bench&list=weekly&consent=weekly"
  return wrk.format("POST", "/subscribe", {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
"#;
    std::fs::write(&file, format!("{THREAD_NUMBERS}{requests}"))?;
    Ok(file)
}

/// A wrk script that posts RFC 8058's one-click body to the paths of `paths` in turn, each
/// thread its own share.
fn unsubscribe_script(dir: &Path, paths: &Path) -> anyhow::Result<PathBuf> {
    let file = dir.join("unsubscribe.lua");
    let requests = format!(
        r#"
local paths = {{}}
for line in io.lines("{}") do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n + 1
  local path = paths[((n * 2 + no) % #paths) + 1]
  return wrk.format("POST", path, {{["Content-Type"] = "application/x-www-form-urlencoded"}}, "List-Unsubscribe=One-Click")
end
"#,
        paths.display()
    );
    std::fs::write(&file, format!("{THREAD_NUMBERS}{requests}"))?;
    Ok(file)
}

/// Runs wrk (2 threads, 32 connections) against `base` + `path` and reads its summary.
fn wrk(base: &str, path: &str, script: &Path, secs: u64, what: &str) -> anyhow::Result<Load> {
    let out = Command::new(WRK)
        .args(["-t2", "-c32", &format!("-d{secs}s"), "--latency", "-s"])
        .arg(script)
        .arg(format!("{base}{path}"))
        .output()
        .with_context(|| format!("cannot run {WRK}: apt-get install wrk"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(out.status.success(), "wrk failed: {text}");
    let field = |prefix: &str| {
        text.lines().find_map(|l| {
            l.trim()
                .strip_prefix(prefix)
                .map(str::trim)
                .map(str::to_owned)
        })
    };
    let requests_per_sec = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no rate in wrk's output:\n{text}"))?;
    let ms = |v: Option<String>| v.as_deref().and_then(parse_duration_ms).unwrap_or(f64::NAN);
    Ok(Load {
        what: what.to_owned(),
        requests_per_sec,
        p50_ms: ms(field("50%")),
        p99_ms: ms(field("99%")),
        non_2xx: field("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    })
}

/// wrk's durations (`812.00us`, `12.34ms`, `1.20s`) in milliseconds.
fn parse_duration_ms(v: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}
