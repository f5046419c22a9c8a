//! The `bulletin` binary: `serve` (default), `migrate`, `token create`, `user`, `import`,
//! `purge`, `backup`.

use std::path::PathBuf;

use anyhow::Context;
use bulletin::{
    clock::Clock,
    config::Settings,
    domain::{Actor, EmailAddress, ListSlug, Password, Role},
    scheduler,
    services::{self, retention::PurgeReport},
    startup, telemetry,
};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Bulletin: newsletters and product notices with provable consent.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file, read after the built-in defaults.
    #[arg(long, global = true, env = "BULLETIN_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage admin users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import subscribers from a CSV file into a list; prints the report as JSON.
    Import {
        /// The CSV file: a header row naming `email`, and optionally `name`, `locale`,
        /// `consent_at`, `consent_source`, `consent_text`.
        file: PathBuf,
        /// The slug of the list to import into.
        #[arg(long)]
        list: String,
        /// Check every row and write nothing: the report says what an import would do.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write a consistent copy of the SQLite database to FILE while the server runs
    /// (PostgreSQL: use pg_dump).
    Backup {
        /// Where to write the copy; must not exist yet.
        file: PathBuf,
    },
    /// Apply the retention policy now, as the daily `retention` job does; prints its report.
    Purge {
        /// Print what would be deleted, erased or flagged (counts and subscriber ids), and
        /// change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// DKIM keys: make one, or print the DNS record of one.
    Dkim {
        #[command(subcommand)]
        command: DkimCommand,
    },
    /// Read one message for the bounce domain (a bounce or a complaint) from standard input,
    /// as an MTA pipes it, and act on it. Exits 0 when it was handled or ignored, 75
    /// (EX_TEMPFAIL) when the MTA should offer it again later.
    Inbound {
        /// The address the message was delivered to (Postfix: `${recipient}`; Exim:
        /// `$local_part@$domain`), which names the message it is about.
        #[arg(long)]
        recipient: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum DkimCommand {
    /// Write a new private key (PEM, readable by its owner only) and print the DNS TXT
    /// record to publish; then set `mail.dkim.*`.
    Keygen {
        /// The signing domain: that of `mail.from`, or a parent of it.
        #[arg(long)]
        domain: String,
        /// The selector, e.g. `bulletin2026`: the record goes to SELECTOR._domainkey.DOMAIN.
        #[arg(long)]
        selector: String,
        /// RSA (2048 bits, read everywhere) or Ed25519 (RFC 8463).
        #[arg(long, default_value = "rsa", value_parser = ["rsa", "ed25519"])]
        algorithm: String,
        /// Where to write the key; must not exist yet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the DNS TXT record of an existing key.
    Record {
        /// The signing domain.
        #[arg(long)]
        domain: String,
        /// The selector.
        #[arg(long)]
        selector: String,
        /// The PEM private key.
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token and print it (last line of the output).
    Create {
        /// A name to recognise the token by.
        #[arg(long)]
        name: String,
        /// What the token may do.
        #[arg(long, default_value = "admin", value_parser = ["admin", "marketer", "viewer"])]
        role: String,
        /// The address of the user who owns the token.
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an admin UI user; reads the password from the first line of stdin.
    Create {
        /// The login address.
        #[arg(long)]
        email: String,
        /// What the user may do.
        #[arg(long, value_parser = ["admin", "marketer", "viewer"])]
        role: String,
    },
    /// Change a user's role, or disable or enable them; the last active admin stays one.
    Set {
        /// The login address.
        #[arg(long)]
        email: String,
        /// The new role.
        #[arg(long, value_parser = ["admin", "marketer", "viewer"])]
        role: Option<String>,
        /// Disable the user: no login, sessions end, their API tokens are refused.
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Enable a disabled user again.
        #[arg(long)]
        enable: bool,
        /// Remove the user's one-time codes (a lost phone); their sessions end.
        #[arg(long)]
        remove_two_factor: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref()).context("invalid configuration")?;
    // The import prints its report as JSON on stdout, so it logs nothing there.
    if !matches!(
        cli.command,
        Some(Command::Import { .. } | Command::Purge { .. })
    ) {
        telemetry::init_logging(&settings.log);
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = startup::App::build(settings, Clock::System).await?;
            print!("{}", app.banner().await?);
            app.run_until_stopped().await
        }
        Command::Migrate => {
            startup::connect(&settings).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { name, role, user },
        } => {
            let role = Role::parse(&role).map_err(anyhow::Error::msg)?;
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.len() <= 200,
                "--name must be 1 to 200 characters"
            );
            let ctx = startup::build_context(settings, Clock::System).await?;
            let owner = match user {
                Some(raw) => {
                    let email =
                        EmailAddress::parse(&raw).map_err(|e| anyhow::anyhow!("--user: {e}"))?;
                    let (owner, _) = bulletin::store::users::find_by_email(&ctx.db, &email)
                        .await?
                        .context("--user: there is no such user")?;
                    Some(owner.id)
                }
                None => None,
            };
            let (_, token) =
                services::api_tokens::issue(&ctx, &Actor::Cli, name, role, owner).await?;
            println!("Created {role} token {name:?}. Keep it secret; it is shown only once:");
            println!("{token}");
            Ok(())
        }
        Command::User {
            command: UserCommand::Create { email, role },
        } => create_user(settings, &email, &role).await,
        Command::User {
            command:
                UserCommand::Set {
                    email,
                    role,
                    disable,
                    enable,
                    remove_two_factor,
                },
        } => {
            let disabled = match (disable, enable) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            set_user(
                settings,
                &email,
                role.as_deref(),
                disabled,
                remove_two_factor,
            )
            .await
        }
        Command::Import {
            file,
            list,
            dry_run,
        } => import(settings, &file, &list, dry_run).await,
        Command::Purge { dry_run } => purge(settings, dry_run).await,
        Command::Backup { file } => backup(settings, &file).await,
        Command::Inbound { recipient } => inbound(settings, recipient.as_deref()).await,
        Command::Dkim { command } => dkim(command),
    }
}

/// `bulletin inbound [--recipient ADDR]`: one message from standard input, acted on. A
/// store failure exits 75, so that the MTA keeps the message and offers it again.
async fn inbound(settings: Settings, recipient: Option<&str>) -> anyhow::Result<()> {
    use tokio::io::AsyncReadExt;
    let limit = bulletin::mail::reports::MAX_REPORT_BYTES;
    let mut raw = Vec::new();
    tokio::io::stdin()
        .take(u64::try_from(limit).unwrap_or(u64::MAX) + 1)
        .read_to_end(&mut raw)
        .await
        .context("reading the message from standard input")?;
    let outcome = match startup::build_context(settings, Clock::System).await {
        Ok(ctx) => services::inbound::handle(&ctx, &raw, recipient)
            .await
            .map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(handled) => {
            println!("{handled:?}");
            Ok(())
        }
        Err(e) => {
            eprintln!("bulletin inbound: {e:#}; the MTA should try again later");
            std::process::exit(75);
        }
    }
}

/// `bulletin user create --email E --role R`: the password comes from stdin, never from
/// the command line (which other users of the machine can read).
async fn create_user(settings: Settings, email: &str, role: &str) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let role = Role::parse(role).map_err(anyhow::Error::msg)?;
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = Password::parse(line.trim_end_matches(['\r', '\n']))
        .map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let ctx = startup::build_context(settings, Clock::System).await?;
    let user = services::users::create(&ctx, &Actor::Cli, email, role, &password).await?;
    println!("Created {role} user {}", user.email.as_str());
    Ok(())
}

/// `bulletin user set --email E [--role R] [--disable | --enable]`: the same change as on
/// `/admin/users`, audited as done by `cli`.
async fn set_user(
    settings: Settings,
    email: &str,
    role: Option<&str>,
    disabled: Option<bool>,
    remove_two_factor: bool,
) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let role = role
        .map(Role::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        role.is_some() || disabled.is_some() || remove_two_factor,
        "say what to change: --role, --disable, --enable or --remove-two-factor"
    );
    let ctx = startup::build_context(settings, Clock::System).await?;
    let (user, _) = bulletin::store::users::find_by_email(&ctx.db, &email)
        .await?
        .context("--email: there is no such user")?;
    if remove_two_factor {
        services::two_factor::remove(&ctx, &Actor::Cli, user.id).await?;
        println!("{}: one-time codes removed", user.email.as_str());
    }
    if role.is_some() || disabled.is_some() {
        let change = services::users::AccessChange { role, disabled };
        let user = services::users::change_access(&ctx, &Actor::Cli, user.id, change).await?;
        println!("{}", services::users::access_summary(&user));
    }
    Ok(())
}

/// `bulletin import FILE --list SLUG [--dry-run]`: the import service on the configured
/// database, with a progress bar (by bytes read) on stderr when it is a terminal.
async fn import(
    settings: Settings,
    file: &std::path::Path,
    list: &str,
    dry_run: bool,
) -> anyhow::Result<()> {
    let slug = ListSlug::parse(list).map_err(|e| anyhow::anyhow!("--list: {e}"))?;
    let source = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let len = source.metadata().await?.len();
    let ctx = startup::build_context(settings, Clock::System).await?;
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template(
        "{wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
    )?);
    let options = services::imports::ImportOptions {
        dry_run,
        progress: None,
    };
    let source = bar.wrap_async_read(source);
    let result =
        services::imports::import_csv_with(&ctx, &Actor::Cli, &slug, source, options).await;
    bar.finish_and_clear();
    let report = result.with_context(|| format!("{} was not imported", file.display()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    // The import is committed; settle it (SQLite: into the database file) before exiting.
    bulletin::store::settle_bulk_write(&ctx.bulk_db)
        .await
        .context("the import is kept, but settling the database after it failed")?;
    Ok(())
}

/// `bulletin purge [--dry-run]`: the retention job on the configured database, under the
/// job's lease and recorded as a job run; a dry run only reads and prints.
async fn purge(settings: Settings, dry_run: bool) -> anyhow::Result<()> {
    let ctx = startup::build_context(settings, Clock::System).await?;
    if dry_run {
        let report = services::retention::purge(&ctx, ctx.clock.now(), true).await?;
        print!("{}", dry_run_text(&report));
        return Ok(());
    }
    let run = scheduler::run_job(&ctx, "retention")
        .await?
        .context("the retention job is running on another instance; nothing was done")?;
    anyhow::ensure!(run.status == "ok", "the purge failed: {}", run.report);
    println!("{}", serde_json::to_string_pretty(&run.report)?);
    Ok(())
}

/// `bulletin backup FILE`: a consistent copy of the SQLite database, taken while the server
/// may be running. The keys in the data directory are not in it: back them up once.
async fn backup(settings: Settings, file: &std::path::Path) -> anyhow::Result<()> {
    // No migration here: the copy is of the database as the running server left it.
    let url = secrecy::ExposeSecret::expose_secret(&settings.database.url);
    let db = bulletin::store::connect(url, 1)
        .await
        .context("database.url: cannot connect")?;
    bulletin::store::backup(&db, file)
        .await
        .with_context(|| format!("no backup was written to {}", file.display()))?;
    println!("backup written to {}", file.display());
    println!(
        "keep the keys in {} with it: without them old links and suppressions stop working",
        settings.data_dir.display()
    );
    Ok(())
}

/// The dry-run listing: a count per category and up to 20 subscriber ids, never addresses.
fn dry_run_text(report: &PurgeReport) -> String {
    let samples = &report.samples;
    let mut text = format!(
        "dry run: nothing was changed ({} subscribers examined)\n",
        report.examined
    );
    for (label, count, ids) in [
        (
            "pending_deleted",
            report.pending_deleted,
            &samples.pending_deleted,
        ),
        ("erased", report.erased, &samples.erased),
        ("flagged", report.flagged, &samples.flagged),
    ] {
        text.push_str(&format!("{label}: {count}\n"));
        for id in ids {
            text.push_str(&format!("  {id}\n"));
        }
    }
    text
}

/// `bulletin dkim keygen` and `bulletin dkim record`.
fn dkim(command: DkimCommand) -> anyhow::Result<()> {
    use bulletin::mail::dkim::{self, Algorithm, DkimSigner};
    let (domain, selector, pem) = match command {
        DkimCommand::Keygen {
            domain,
            selector,
            algorithm,
            out,
        } => {
            let algorithm = match algorithm.as_str() {
                "ed25519" => Algorithm::Ed25519,
                _ => Algorithm::Rsa,
            };
            let pem = dkim::generate(algorithm).map_err(anyhow::Error::msg)?;
            // Checked before it is written: a key that does not sign is never left behind.
            DkimSigner::from_pem(&domain, &selector, pem.as_bytes()).map_err(anyhow::Error::msg)?;
            write_private(&out, &pem)?;
            eprintln!("wrote {} (mode 0600)", out.display());
            (domain, selector, pem)
        }
        DkimCommand::Record {
            domain,
            selector,
            key,
        } => {
            let pem = std::fs::read_to_string(&key)
                .with_context(|| format!("reading {}", key.display()))?;
            (domain, selector, pem)
        }
    };
    let signer =
        DkimSigner::from_pem(&domain, &selector, pem.as_bytes()).map_err(anyhow::Error::msg)?;
    let (name, value) = signer.dns_record();
    println!("{name}. IN TXT {}", dkim::zone_strings(&value));
    Ok(())
}

/// Writes `text` to a new file that only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}
