//! Wiring: settings → `Context` → delivery `Engine` → web `AppState`; binds the
//! listener, spawns the delivery worker and the scheduler, serves, and shuts down gracefully.

use std::{net::SocketAddr, path::Path, sync::Arc};

use anyhow::Context as _;
use lettre::message::Mailbox;
use secrecy::ExposeSecret;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::{
    clock::Clock,
    config::Settings,
    context::Context,
    delivery::{self, Engine},
    domain::Locale,
    mail::{Links, Templates, Transport, templates},
    scheduler,
    signing::{AddressHasher, Keyring, SigningKey},
    store, telemetry,
    web::{self, AppState, views::text},
};

/// Connects, migrates and loads the keys and the e-mail templates: what the services need,
/// and nothing of HTTP or SMTP.
///
/// # Errors
/// Any part of the configuration that does not work (named in the message).
pub async fn build_context(settings: Settings, clock: Clock) -> anyhow::Result<Context> {
    // One TLS provider in the whole process, ring; reqwest (provider webhooks) is built
    // without one of its own. Already installed (a second App in one process) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    register_languages(&settings.mail.templates_dir)?;
    let db = connect(&settings).await?;
    let url = settings.database.url.expose_secret();
    let bulk_db = store::connect_bulk(url, &db, settings.import.timeout)
        .await
        .context("database.url: cannot connect")?;
    let writer = store::connect_writer(url, &db, settings.database.busy_timeout)
        .await
        .context("database.url: cannot connect")?;
    let keyring = load_keyring(&settings)?;
    let address_hasher = AddressHasher::new(match &settings.address_hash_key {
        Some(key) => SigningKey::parse(key.expose_secret()).context("privacy.hash_key")?,
        None => key_from_file(&settings.data_dir.join("address-hash.key"))?,
    });
    let templates = Templates::load(&settings.mail.templates_dir)?;
    let ctx = Context {
        db,
        writer,
        bulk_db,
        links: Links::new(settings.http.public_url.clone()),
        settings: Arc::new(settings),
        keyring: Arc::new(keyring),
        address_hasher: Arc::new(address_hasher),
        clock,
        templates: Arc::new(templates),
        outbox: Arc::default(),
    };
    ctx.refresh_templates()
        .await
        .context("reading the e-mail template overrides")?;
    Ok(ctx)
}

/// Registers each language the operator added to `dir` (`mail.templates_dir`): a folder
/// named by its code (`fr`: two or three lower-case letters; `en` and `de` are built in)
/// holding every file of the built-in `emails/en/` and a `pages.toml` with the words of the
/// public pages. Runs before the templates load and before any locale is parsed.
///
/// # Errors
/// A language folder that lacks a template file or whose `pages.toml` is missing, malformed
/// or lacks a key (each named), or a `dir` that cannot be listed.
pub fn register_languages(dir: &Path) -> anyhow::Result<Vec<Locale>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).context(format!("mail.templates_dir: {}", dir.display())),
    };
    let mut codes: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| Locale::is_code(name) && !Locale::parse(name).is_ok_and(Locale::is_built_in))
        .collect();
    codes.sort_unstable();
    let mut added = Vec::with_capacity(codes.len());
    for code in codes {
        let folder = dir.join(&code);
        let missing = templates::missing_files(&folder);
        if !missing.is_empty() {
            anyhow::bail!(
                "mail.templates_dir: the language folder {} lacks {}; a language needs every file of emails/en/",
                folder.display(),
                missing.join(", ")
            );
        }
        let locale = Locale::register(&code).context("mail.templates_dir")?;
        let words = text::load_pages(&folder.join("pages.toml"))
            .context("mail.templates_dir: the words of the public pages")?;
        text::register_pages(locale, words);
        added.push(locale);
    }
    Ok(added)
}

/// The delivery engine on `ctx`: the transport and sender of `[mail]`.
///
/// # Errors
/// A transport or `mail.from` that does not work.
pub fn build_engine(ctx: Context) -> anyhow::Result<Engine> {
    let mail = &ctx.settings.mail;
    let transport = Transport::from_settings(&mail.transport, &mail.helo_name, mail.dkim.as_ref())?;
    warn_of_a_test_set_up(&ctx.settings);
    let from: Mailbox = ctx.settings.mail.from.parse().context("mail.from")?;
    Ok(Engine::new(ctx, transport, from))
}

/// Warns when a server that sends real mail (SMTP) still has settings only fit for trying it
/// out: links to `http://` or a loopback host, or the default From address.
fn warn_of_a_test_set_up(settings: &Settings) {
    if !matches!(
        settings.mail.transport,
        crate::config::MailTransportSettings::Smtp { .. }
    ) {
        return;
    }
    let url = &settings.http.public_url;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => true,
    };
    if url.scheme() != "https" || loopback {
        tracing::warn!(
            public_url = %url,
            "links in e-mails point to a non-HTTPS or loopback address: set http.public_url"
        );
    }
    if settings.mail.postal_address.is_empty() {
        tracing::warn!(
            "e-mails carry no postal address: set mail.postal_address (CAN-SPAM and imprint \
             duties ask for it)"
        );
    }
    if settings
        .mail
        .from_address
        .domain()
        .ends_with("bulletin.localhost")
    {
        tracing::warn!(
            from = %settings.mail.from,
            "mail goes out from the default address: set mail.from"
        );
    }
}

/// Opens the database (creating the SQLite directory) and applies migrations.
///
/// # Errors
/// The database cannot be opened or migrated.
pub async fn connect(settings: &Settings) -> anyhow::Result<store::Database> {
    let url = settings.database.url.expose_secret();
    if let Some(file) = url
        .strip_prefix("sqlite://")
        .and_then(|p| p.split('?').next())
        .filter(|p| !p.is_empty())
    {
        let path = Path::new(file);
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("database.url: cannot create {}", parent.display()))?;
        }
        create_private(path).with_context(|| format!("database.url: cannot create {file}"))?;
    }
    let db = store::connect_waiting(
        url,
        settings.database.max_connections,
        settings.database.busy_timeout,
    )
    .await
    .context("database.url: cannot connect")?;
    store::migrate(&db)
        .await
        .context("database migrations failed")?;
    Ok(db)
}

/// The configured keys, or the key in `<data.dir>/signing.key`, generated on first start.
///
/// # Errors
/// A configured key that is not valid, or an unreadable/unwritable key file.
pub fn load_keyring(settings: &Settings) -> anyhow::Result<Keyring> {
    let previous = settings
        .signing
        .previous_keys
        .iter()
        .map(|k| SigningKey::parse(k.expose_secret()))
        .collect::<Result<Vec<_>, _>>()
        .context("signing.previous_keys")?;
    let current = match &settings.signing.key {
        Some(key) => SigningKey::parse(key.expose_secret()).context("signing.key")?,
        None => key_from_file(&settings.data_dir.join("signing.key"))?,
    };
    Ok(Keyring::new(current, previous))
}

fn key_from_file(path: &Path) -> anyhow::Result<SigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            SigningKey::parse(&text).with_context(|| format!("signing key file {}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate();
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("data.dir: cannot create {}", dir.display()))?;
            }
            write_private(path, &key.encode())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(key.id = %key.id(), path = %path.display(), "generated a new key");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Creates an empty file readable by its owner only, unless it exists: SQLite then opens it,
/// and gives its `-wal` and `-shm` files the same mode.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

/// A running server: its address, state, and the tasks to stop.
pub struct App {
    addr: SocketAddr,
    state: AppState,
    server: JoinHandle<std::io::Result<()>>,
    worker: Option<JoinHandle<()>>,
    scheduler: Option<tokio_cron_scheduler::JobScheduler>,
    /// The bounce receiver's address and task, when `inbound.bind` is set.
    inbound: Option<(SocketAddr, JoinHandle<std::io::Result<()>>)>,
    shutdown: watch::Sender<bool>,
}

impl App {
    /// Builds the state, binds `http.bind` and starts serving (and the worker, if enabled).
    ///
    /// # Errors
    /// Configuration that does not work, or an address that cannot be bound.
    pub async fn build(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let bind = settings.http.bind;
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("http.bind: cannot listen on {bind}"))?;
        Self::build_on(listener, settings, clock).await
    }

    /// Like `build`, on a listener the caller bound (tests bind port 0 first, so that
    /// `http.public_url` can name the real port).
    ///
    /// # Errors
    /// Configuration that does not work.
    pub async fn build_on(
        listener: TcpListener,
        settings: Settings,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let engine = build_engine(build_context(settings, clock).await?)?;
        let webhooks =
            crate::services::webhooks::Webhooks::new(&engine.ctx).map_err(anyhow::Error::msg)?;
        let state = AppState::new(engine, telemetry::metrics_handle(), webhooks);
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = watch::channel(false);
        let router = web::router(state.clone());
        let http = &state.ctx.settings.http;
        let limits = web::server::ConnectionLimits {
            header_timeout: http.header_timeout,
            max_connections: http.max_connections,
            max_connections_per_client: http.max_connections_per_client,
            shutdown_grace: http.request_timeout,
        };
        let server = tokio::spawn(web::server::serve(
            listener,
            router,
            limits,
            stopped.clone(),
        ));
        let inbound = match start_inbound(&state.ctx, stopped.clone()).await {
            Ok(inbound) => inbound,
            Err(e) => {
                shutdown.send_replace(true);
                return Err(e);
            }
        };
        let worker = state.ctx.settings.delivery.worker_enabled.then(|| {
            // The webhook outbox's worker runs beside the mail worker, and stops with it.
            let hooks = delivery::hooks::run(state.ctx.clone(), stopped.clone());
            let mail = delivery::worker::run(state.engine.clone(), stopped);
            tokio::spawn(async move {
                tokio::join!(mail, hooks);
            })
        });
        let scheduler = match state.ctx.settings.scheduler.enabled {
            true => Some(scheduler::start(state.ctx.clone()).await?),
            false => None,
        };
        tracing::info!(%addr, "Bulletin is serving");
        Ok(Self {
            addr,
            state,
            server,
            worker,
            scheduler,
            inbound,
            shutdown,
        })
    }

    /// Where the bounce receiver listens, when it runs.
    pub fn inbound_addr(&self) -> Option<SocketAddr> {
        self.inbound.as_ref().map(|(addr, _)| *addr)
    }

    /// What a person starting the server needs to read, on standard output: where it serves,
    /// where the database is and where mail goes (credentials left out), and while no user
    /// exists a fresh one-time set-up link.
    ///
    /// # Errors
    /// Store failure.
    pub async fn banner(&self) -> anyhow::Result<String> {
        let settings = &self.state.ctx.settings;
        let base = &settings.http.public_url;
        let mail = match &settings.mail.transport {
            crate::config::MailTransportSettings::File { outbox_dir } => format!(
                "written as .eml files to {} (BULLETIN__MAIL__TRANSPORT=smtp sends them)",
                outbox_dir.display()
            ),
            crate::config::MailTransportSettings::Smtp { url, .. } => {
                format!("sent through {}", without_credentials(url.expose_secret()))
            }
        };
        let database = without_credentials(settings.database.url.expose_secret());
        let mut text = format!(
            "Bulletin {} is serving at {base} (listening on {})\n  database  {database}\n  mail      {mail}\n  admin     {}\n",
            env!("CARGO_PKG_VERSION"),
            self.addr,
            crate::config::join_url(base, "admin/"),
        );
        if let (Some(addr), Some(domain)) = (self.inbound_addr(), &settings.mail.bounce_domain) {
            text.push_str(&format!(
                "  bounces   {}\n",
                crate::inbound::describe(addr, domain)
            ));
        }
        if let Some(secret) = self.open_setup().await? {
            let url = crate::config::join_url(base, &format!("admin/setup/{secret}"));
            // The one secret Bulletin shows: with no user yet, the operator opens this link
            // once to create the first admin. It lives in memory only, until used or restart.
            text.push_str(&format!(
                "  set-up    {url}\n            (one-time link: creates the first admin)\n"
            ));
        }
        Ok(text)
    }

    /// While no user exists: a fresh one-time set-up secret for `/admin/setup/SECRET`.
    ///
    /// # Errors
    /// Store failure.
    pub async fn open_setup(&self) -> anyhow::Result<Option<String>> {
        Ok(crate::services::users::open_setup(&self.state.ctx, &self.state.setup).await?)
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the services read.
    pub fn context(&self) -> &Context {
        &self.state.ctx
    }

    /// The delivery engine.
    pub fn engine(&self) -> &Engine {
        &self.state.engine
    }

    /// Serves until Ctrl-C or SIGTERM, then drains in-flight requests and stops the worker.
    ///
    /// # Errors
    /// The server failed.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.stop().await
    }

    /// Stops serving and the worker, waiting for both.
    ///
    /// # Errors
    /// The server failed.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.send_replace(true);
        if let Some(mut scheduler) = self.scheduler {
            scheduler
                .shutdown()
                .await
                .context("scheduler did not stop")?;
        }
        if let Some(worker) = self.worker {
            worker.await.context("delivery worker panicked")?;
        }
        if let Some((_, inbound)) = self.inbound {
            inbound.await.context("bounce receiver panicked")??;
        }
        self.server.await.context("server task panicked")??;
        // Leave no write-ahead log behind: what it held is in the database file, where
        // erased rows were overwritten.
        store::truncate_log(&self.state.ctx.db)
            .await
            .context("emptying the write-ahead log at shutdown")?;
        Ok(())
    }
}

/// Binds `inbound.bind` and starts the bounce receiver on it, when set.
async fn start_inbound(
    ctx: &Context,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<Option<(SocketAddr, JoinHandle<std::io::Result<()>>)>> {
    let settings = &ctx.settings;
    let (Some(bind), Some(domain)) = (settings.inbound.bind, &settings.mail.bounce_domain) else {
        return Ok(None);
    };
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("inbound.bind: cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    let limits = crate::inbound::ReceiverLimits {
        max_message_bytes: settings.inbound.max_message_bytes,
        max_connections: settings.inbound.max_connections,
        domain: domain.clone(),
    };
    tracing::info!(%addr, "the bounce receiver is listening");
    let task = tokio::spawn(crate::inbound::serve(
        listener,
        ctx.clone(),
        limits,
        stopped,
    ));
    Ok(Some((addr, task)))
}

/// A database or relay URL without user name and password, for showing.
fn without_credentials(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.has_host() => {
            // Setting them fails only for URLs without a host, excluded above.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A complete language folder `dir/code`: the English templates with `[code]` in front
    /// of every subject, and the example page words.
    fn language_folder(dir: &Path, code: &str) {
        let folder = dir.join(code);
        std::fs::create_dir_all(&folder).unwrap();
        let emails = Path::new(env!("CARGO_MANIFEST_DIR")).join("emails/en");
        for name in templates::file_names() {
            let mut source = std::fs::read_to_string(emails.join(name)).unwrap();
            if name.ends_with(".subject.txt") {
                source = format!("[{code}] {source}");
            }
            std::fs::write(folder.join(name), source).unwrap();
        }
        let pages = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/pages.fr.toml");
        std::fs::copy(pages, folder.join("pages.toml")).unwrap();
    }

    #[test]
    fn a_language_folder_lacking_a_template_stops_the_start_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        language_folder(dir.path(), "sv");
        std::fs::remove_file(dir.path().join("sv/welcome.html")).unwrap();
        let err = format!("{:#}", register_languages(dir.path()).unwrap_err());
        assert!(
            err.contains("sv") && err.contains("lacks welcome.html"),
            "{err}"
        );
        assert!(Locale::parse("sv").is_err(), "nothing is registered");
    }

    #[test]
    fn a_language_folder_without_its_page_words_stops_the_start_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        language_folder(dir.path(), "nl");
        std::fs::write(
            dir.path().join("nl/pages.toml"),
            "signup_title = \"Aanmelden\"\n",
        )
        .unwrap();
        let err = format!("{:#}", register_languages(dir.path()).unwrap_err());
        assert!(
            err.contains("pages.toml") && err.contains("\"email\" is missing"),
            "{err}"
        );
    }

    #[test]
    fn a_complete_language_folder_registers_the_language_with_its_words_and_mails() {
        // "nl" is the only extra language the library's tests register.
        let dir = tempfile::tempdir().unwrap();
        language_folder(dir.path(), "nl");
        std::fs::create_dir_all(dir.path().join("notes")).unwrap();
        let added = register_languages(dir.path()).unwrap();
        let nl = Locale::parse("nl").unwrap();
        assert_eq!(added, [nl], "a folder not named like a language is not one");
        assert_eq!(
            register_languages(dir.path()).unwrap(),
            [nl],
            "twice is fine"
        );
        assert_eq!(text::text(nl).subscribe, "S'abonner");
        let loaded = Templates::load(dir.path()).unwrap();
        let ctx = crate::mail::MailContext {
            list_name: "Weekly".into(),
            organisation: "ACME".into(),
            postal_address: String::new(),
            unsubscribe_url: "https://x.test/u".into(),
            preferences_url: "https://x.test/p".into(),
            privacy_url: "https://x.test/privacy".into(),
            confirm_url: "https://x.test/c".into(),
            expires_in_days: "7".into(),
            expires_in_minutes: "60".into(),
            welcome_message: String::new(),
        };
        let mail = loaded
            .render(nl, crate::mail::SystemTemplate::Confirmation, &ctx)
            .unwrap();
        assert!(mail.subject.starts_with("[nl] "), "{}", mail.subject);
        let english = loaded
            .render(Locale::En, crate::mail::SystemTemplate::Confirmation, &ctx)
            .unwrap();
        assert!(!english.subject.starts_with('['));
    }
}
