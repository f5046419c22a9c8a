//! The `bulletin` binary: `serve` (default), `migrate`, `token create`, `import`.

use std::path::PathBuf;

use anyhow::Context;
use bulletin::{
    clock::Clock,
    config::Settings,
    domain::{ListSlug, Role},
    services,
    startup::{self, AppState},
    telemetry,
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
    /// Import subscribers from a CSV file into a list; prints the report as JSON.
    Import {
        /// The CSV file: a header row naming `email`, and optionally `name`, `locale`,
        /// `consent_at`, `consent_source`, `consent_text`.
        file: PathBuf,
        /// The slug of the list to import into.
        #[arg(long)]
        list: String,
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
        #[arg(long, default_value = "admin", value_parser = ["admin", "marketer"])]
        role: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref()).context("invalid configuration")?;
    // The import prints its report as JSON on stdout, so it logs nothing there.
    if !matches!(cli.command, Some(Command::Import { .. })) {
        telemetry::init_logging(&settings.log);
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            startup::App::build(settings, Clock::System)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Migrate => {
            startup::connect(&settings).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { name, role },
        } => {
            let role = Role::parse(&role).map_err(anyhow::Error::msg)?;
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.len() <= 200,
                "--name must be 1 to 200 characters"
            );
            let db = startup::connect(&settings).await?;
            let token = services::api_tokens::create(&db, &Clock::System, name, role).await?;
            println!("Created {role} token {name:?}. Keep it secret; it is shown only once:");
            println!("{token}");
            Ok(())
        }
        Command::Import { file, list } => import(settings, &file, &list).await,
    }
}

/// `bulletin import FILE --list SLUG`: the import service on the configured database, with a
/// progress bar (by bytes read) on stderr when it is a terminal.
async fn import(settings: Settings, file: &std::path::Path, list: &str) -> anyhow::Result<()> {
    let slug = ListSlug::parse(list).map_err(|e| anyhow::anyhow!("--list: {e}"))?;
    let source = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let len = source.metadata().await?.len();
    let state = AppState::build(settings, Clock::System).await?;
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template(
        "{wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
    )?);
    let result =
        services::imports::import_csv(&state, &slug, "cli", bar.wrap_async_read(source)).await;
    bar.finish_and_clear();
    let report = result.with_context(|| format!("{} was not imported", file.display()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
