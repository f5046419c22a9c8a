//! Operations: health and metrics, security headers, configuration errors at start,
//! `migrate`, robustness against hostile requests, and the real background worker.

use std::{path::Path, process::Output, time::Duration};

use reqwest::{Method, StatusCode, header};

use crate::support::TestApp;

/// The `bulletin` binary to run in `dir` with `env` and no `BULLETIN*` variable inherited
/// from the test's own environment; with `fd_limit`, allowed that many open descriptors.
fn bulletin_command(
    dir: &Path,
    env: &[(&str, &str)],
    fd_limit: Option<u32>,
) -> tokio::process::Command {
    let bin = env!("CARGO_BIN_EXE_bulletin");
    let mut command = match fd_limit {
        Some(n) => {
            let mut sh = tokio::process::Command::new("sh");
            sh.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), bin]);
            sh
        }
        None => tokio::process::Command::new(bin),
    };
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BULLETIN") {
            command.env_remove(key);
        }
    }
    // Capturing anyhow's backtrace on the error path takes longer than the rest of the run.
    command
        .env("RUST_LIB_BACKTRACE", "0")
        .envs(env.iter().copied())
        .current_dir(dir)
        .kill_on_drop(true);
    command
}

/// Runs the `bulletin` binary in `dir` with `args` and `env` until it ends.
async fn bulletin(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    bulletin_command(dir, env, None)
        .args(args)
        .output()
        .await
        .unwrap()
}

fn describe(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn health_answers_200_and_metrics_count_requests_and_sent_messages() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(
        app.get("/metrics").await.status(),
        StatusCode::UNAUTHORIZED,
        "metrics need a token: they would tell strangers which addresses are known"
    );

    let (status, metrics) = crate::support::body(app.api_get("/metrics").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        metrics.contains("bulletin_http_requests_total"),
        "{metrics}"
    );

    app.create_list("weekly").await;
    app.sign_up("jane@example.com", "weekly").await;
    assert_eq!(app.deliver_all().await.sent, 1);
    let (status, metrics) = crate::support::body(app.api_get("/metrics").await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        metrics.contains("bulletin_messages_sent_total"),
        "{metrics}"
    );
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let responses = [
        ("index", app.get("/").await),
        ("signup form", app.get("/subscribe?list=weekly").await),
        ("privacy notice", app.get("/privacy-notice").await),
        ("not found", app.get("/no-such-page").await),
        ("bad link", app.get("/unsubscribe/xyz").await),
        ("preferences", app.get("/preferences/xyz").await),
        (
            "signup error",
            app.subscribe(&[("email", "oops"), ("list", "weekly")])
                .await,
        ),
        ("signup", app.sign_up("jane@example.com", "weekly").await),
        ("api", app.api_get("/api/v1/lists").await),
    ];
    app.deliver_all().await;
    for (page, response) in responses {
        let headers = response.headers();
        let value = |name: header::HeaderName| {
            headers
                .get(&name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{page}: no {name}"))
                .to_owned()
        };
        assert!(
            value(header::CONTENT_SECURITY_POLICY).contains("default-src"),
            "{page}"
        );
        assert_eq!(value(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{page}");
        assert!(!value(header::REFERRER_POLICY).is_empty(), "{page}");
    }
}

#[tokio::test]
async fn a_page_opened_by_a_link_is_neither_cached_nor_passed_on_as_referrer() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.sign_up("jane@example.com", "weekly").await;
    let mails = app.deliver_and_take().await;
    let confirm = crate::support::link(&mails[0], "/confirm/");
    let pages = [
        confirm,
        "/unsubscribe/xyz".to_owned(),
        "/preferences/xyz".to_owned(),
        "/object/xyz".to_owned(),
        "/acknowledge/xyz".to_owned(),
        "/privacy/xyz".to_owned(),
    ];
    for page in pages {
        let response = app.get(&page).await;
        let headers = response.headers();
        assert_eq!(
            headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{page}"
        );
        assert_eq!(
            headers
                .get(header::REFERRER_POLICY)
                .and_then(|v| v.to_str().ok()),
            Some("no-referrer"),
            "{page}"
        );
    }
}

#[tokio::test]
async fn a_bad_configuration_stops_the_start_with_a_message_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/x.db?mode=rwc", dir.path().display());
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("BULLETIN__MAIL__TRANSPORT", "smtp"),
                ("BULLETIN__MAIL__SMTP_URL", "http://nope"),
            ],
            "mail.smtp_url",
        ),
        (
            &[("BULLETIN__HTTP__PUBLIC_URL", "not-a-url")],
            "http.public_url",
        ),
        (
            &[("BULLETIN__DELIVERY__BATCH_SIZE", "0")],
            "delivery.batch_size",
        ),
    ];
    for (env, key) in cases {
        let mut env = env.to_vec();
        env.push(("BULLETIN__DATABASE__URL", &database));
        let output = bulletin(dir.path(), &["migrate"], &env).await;
        assert!(!output.status.success(), "{key}: {}", describe(&output));
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(key),
            "{key}: {}",
            describe(&output)
        );
    }
    assert!(
        !dir.path().join("x.db").exists(),
        "stopped before touching the database"
    );
}

#[tokio::test]
async fn migrate_creates_a_fresh_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fresh").join("x.db");
    let database = format!("sqlite://{}?mode=rwc", file.display());
    let output = bulletin(
        dir.path(),
        &["migrate"],
        &[("BULLETIN__DATABASE__URL", &database)],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    assert!(file.is_file(), "{}", describe(&output));

    let again = bulletin(
        dir.path(),
        &["migrate"],
        &[("BULLETIN__DATABASE__URL", &database)],
    )
    .await;
    assert!(again.status.success(), "idempotent: {}", describe(&again));
}

#[tokio::test]
async fn migrate_with_the_default_configuration_creates_data_bulletin_db_in_the_working_directory()
{
    let dir = tempfile::tempdir().unwrap();
    let output = bulletin(dir.path(), &["migrate"], &[]).await;
    assert!(output.status.success(), "{}", describe(&output));
    assert!(
        dir.path().join("data").join("bulletin.db").is_file(),
        "{}",
        describe(&output)
    );
}

#[tokio::test]
async fn backup_copies_the_database_of_a_running_server_and_never_overwrites() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    app.confirmed_subscriber("jane@example.com", "weekly").await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let copy_arg = copy.display().to_string();
    let env = [("BULLETIN__DATABASE__URL", app.database_url.as_str())];
    let output = bulletin(dir.path(), &["backup", &copy_arg], &env).await;
    if !app.database_url.starts_with("sqlite:") {
        assert!(!output.status.success(), "{}", describe(&output));
        assert!(String::from_utf8_lossy(&output.stderr).contains("pg_dump"));
        return;
    }
    assert!(output.status.success(), "{}", describe(&output));
    // The copy is a database of its own: the server started from it knows Jane.
    let url = format!("sqlite://{}?mode=rw", copy.display());
    let db = bulletin::store::connect(&url, 1).await.unwrap();
    let email = bulletin::domain::EmailAddress::parse("jane@example.com").unwrap();
    assert!(
        bulletin::store::subscribers::find_by_email(&db, &email)
            .await
            .unwrap()
            .is_some()
    );
    let again = bulletin(dir.path(), &["backup", &copy_arg], &env).await;
    assert!(!again.status.success(), "an existing file is kept");
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
}

#[tokio::test]
async fn the_first_start_ends_with_a_banner_and_keeps_the_libraries_quiet() {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("BULLETIN__HTTP__BIND", "127.0.0.1:0"),
        ("BULLETIN__SCHEDULER__ENABLED", "true"),
    ];
    let mut child = bulletin_command(dir.path(), &env, None)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let done = line.contains("one-time link");
            banner.push(line);
            if done {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the banner within a minute");
    child.kill().await.unwrap();
    let stderr = child.wait_with_output().await.unwrap().stderr;
    let log = String::from_utf8_lossy(&stderr);
    let banner = banner.join("\n");
    assert!(banner.starts_with("Bulletin "), "{banner}");
    assert!(
        banner.contains("written as .eml files to outbox"),
        "{banner}"
    );
    assert!(banner.contains("/admin/setup/"), "{banner}");
    assert!(
        !log.contains("Applying migration") && !log.contains("Job creator"),
        "the libraries' start-up chatter stays out of the log: {log}"
    );
}

/// `bulletin serve` as users run it, in `dir` on a free port with the defaults: the child and
/// the address it listens on (read from its banner).
async fn serve(dir: &Path, env: &[(&str, &str)]) -> (tokio::process::Child, String) {
    serve_with_fd_limit(dir, env, None).await
}

/// `serve`, with at most `fd_limit` open file descriptors for the server (`ulimit -n`).
async fn serve_with_fd_limit(
    dir: &Path,
    env: &[(&str, &str)],
    fd_limit: Option<u32>,
) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = bulletin_command(dir, env, fd_limit)
        .env("BULLETIN__HTTP__BIND", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let find = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.trim_end_matches(')').to_owned();
            }
        }
        panic!("no banner");
    };
    let addr = tokio::time::timeout(Duration::from_secs(60), find)
        .await
        .expect("the server starts within a minute");
    // Keep reading, so that the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, format!("http://{addr}"))
}

/// The resident set of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_flood_of_logins_with_huge_addresses_does_not_grow_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let limit = [("BULLETIN__ADMIN__LOGIN_ATTEMPTS_PER_IP", "5")];
    let (child, base) = serve(dir.path(), &limit).await;
    let pid = child.id().unwrap();
    let http = crate::support::client();
    let attempt = |n: usize| {
        // Just under the body limit: an address of 60 KiB, new each time.
        let email = format!("{n}{}@example.com", "a".repeat(60 * 1024));
        http.post(format!("{base}/admin/login"))
            .header(header::COOKIE, "bulletin_login_csrf=t")
            .form(&[("email", email.as_str()), ("password", "x"), ("csrf", "t")])
            .send()
    };
    // The first attempts use up the network's share (and warm the allocator).
    for n in 0..20 {
        attempt(n).await.unwrap();
    }
    let before = rss_kib(pid);
    for chunk in (20..1_020).collect::<Vec<_>>().chunks(16) {
        let answers = futures_util::future::join_all(chunk.iter().map(|n| attempt(*n))).await;
        for answer in answers {
            assert_eq!(answer.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
        }
    }
    let grown_mib = rss_kib(pid).saturating_sub(before) / 1024;
    println!("1,000 refused logins with 60 KiB addresses grew the server by {grown_mib} MiB");
    assert!(grown_mib < 24, "grew by {grown_mib} MiB");
}

#[tokio::test]
async fn half_sent_requests_neither_take_the_server_nor_stop_healthz() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let env = [("BULLETIN__HTTP__HEADER_TIMEOUT_SECS", "2")];
    // Few descriptors, so that the attack below would use them all up.
    let (_child, base) = serve_with_fd_limit(dir.path(), &env, Some(200)).await;
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    // Slowloris from 127.0.0.2: 300 connections, each sending half a request, then nothing.
    let mut held = Vec::new();
    for _ in 0..300 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        if let Ok(mut stream) = socket.connect(addr).await {
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await;
            held.push(stream);
        }
    }
    let health = crate::support::client()
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert_eq!(
        health.map(|r| r.status()).ok(),
        Some(StatusCode::OK),
        "healthz answers another client during the attack"
    );
    // Every half-sent request is cut off: at once beyond the client's share of connections,
    // after the header timeout within it.
    let cut_off = futures_util::future::join_all(held.iter_mut().map(|stream| async move {
        let mut buf = [0_u8; 256];
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf)).await;
        matches!(read, Ok(Ok(0) | Err(_)))
    }))
    .await;
    assert!(
        cut_off.iter().all(|c| *c),
        "a half-sent request stayed open"
    );
}

/// A hostile request: method, path, and an optional content type and body.
type Nasty = (Method, String, Option<(&'static str, Vec<u8>)>);

#[tokio::test]
async fn no_input_makes_the_server_answer_5xx() {
    let app = TestApp::spawn().await;
    app.create_list("weekly").await;
    let long = "A".repeat(10_000);
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let form = "application/x-www-form-urlencoded";
    let mut requests: Vec<Nasty> = Vec::new();
    for path in [
        "/no-such-page".to_owned(),
        "/%00".to_owned(),
        "/subscribe%00".to_owned(),
        "/subscribe?list=%00".to_owned(),
        "/subscribe?list=%ff%fe".to_owned(),
        "/subscribe?list=weekly&list=weekly&list=Bad%20Slug".to_owned(),
        "/confirm/".to_owned(),
        "/confirm/%00".to_owned(),
        "/confirm/..%2F..%2Fetc%2Fpasswd".to_owned(),
        "/unsubscribe/../../etc/passwd".to_owned(),
        "/unsubscribe/%ff%fe%00".to_owned(),
        "/preferences/..%2f".to_owned(),
        format!("/unsubscribe/{long}"),
        format!("/confirm/{long}"),
        format!("/preferences/{long}"),
        format!("/{long}"),
        "/api/v1/nope".to_owned(),
        "/api/v1/subscribers?email=%00".to_owned(),
        "/api/v1/subscribers?email=a@b&email=c@d".to_owned(),
        "/api/v1/subscribers/%00/consent-events".to_owned(),
        format!("/api/v1/subscribers/{long}/consent-events"),
    ] {
        requests.push((Method::GET, path, None));
    }
    for method in [Method::HEAD, Method::OPTIONS, Method::DELETE, Method::PUT] {
        requests.push((method, "/subscribe".to_owned(), None));
    }
    requests.push((
        Method::POST,
        "/subscribe".to_owned(),
        Some((
            "application/json",
            br#"{"email":"a@example.com","list":"weekly","consent":"yes"}"#.to_vec(),
        )),
    ));
    requests.push((
        Method::POST,
        "/subscribe".to_owned(),
        Some((form, binary.clone())),
    ));
    for path in [
        "/unsubscribe/%ff%00garbage".to_owned(),
        format!("/unsubscribe/{long}"),
        "/preferences/garbage".to_owned(),
        "/confirm/garbage".to_owned(),
        "/confirm/garbage/resend".to_owned(),
    ] {
        requests.push((Method::POST, path.clone(), Some((form, binary.clone()))));
        requests.push((
            Method::POST,
            path,
            Some(("application/octet-stream", binary.clone())),
        ));
    }
    requests.push((
        Method::POST,
        "/api/v1/lists".to_owned(),
        Some(("application/json", b"null".to_vec())),
    ));
    requests.push((
        Method::POST,
        "/api/v1/lists".to_owned(),
        Some(("application/json", binary.clone())),
    ));

    for (method, path, body) in requests {
        let mut request = app
            .http
            .request(method.clone(), app.url(&path))
            .bearer_auth(&app.token);
        if let Some((content_type, bytes)) = body {
            request = request
                .header(header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().as_u16() < 500,
            "{method} {}: {}",
            &path[..path.len().min(80)],
            response.status()
        );
    }

    let huge_token = app
        .http
        .get(app.url("/api/v1/lists"))
        .header(header::AUTHORIZATION, format!("Bearer {long}"))
        .send()
        .await
        .unwrap();
    assert_eq!(huge_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "still up"
    );
}

#[tokio::test]
async fn the_background_worker_sends_the_confirmation_without_being_driven() {
    let app = TestApp::spawn_with(|s| {
        s.delivery.worker_enabled = true;
        s.delivery.poll_interval = Duration::from_millis(50);
    })
    .await;
    app.create_list("weekly").await;
    assert_eq!(
        app.sign_up("jane@example.com", "weekly").await.status(),
        StatusCode::OK
    );
    let mails = app.smtp.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_to, vec!["jane@example.com".to_owned()]);
    assert!(mails[0].text_body().contains("/confirm/"));
}

#[tokio::test]
async fn a_restart_or_a_second_instance_does_not_reset_a_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limit = [("BULLETIN__PRIVACY__REQUESTS_PER_HOUR", "1")];
    let http = crate::support::client();
    let ask = |base: &str| {
        http.post(format!("{base}/privacy"))
            .form(&[("email", "jane@example.com")])
            .send()
    };
    let (mut first, base) = serve(dir.path(), &limit).await;
    assert_eq!(ask(&base).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        ask(&base).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // A second instance on the same database counts against the same window ...
    let (mut second, other) = serve(dir.path(), &limit).await;
    assert_eq!(
        ask(&other).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // ... and so does a fresh start of both.
    first.kill().await.unwrap();
    second.kill().await.unwrap();
    let (_third, base) = serve(dir.path(), &limit).await;
    let refused = ask(&base).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key(header::RETRY_AFTER));
}
