//! The `bulletin` binary: `serve` (default), `migrate`, `token create`.

use std::path::PathBuf;

use anyhow::Context;
use bulletin::{clock::Clock, config::Settings, domain::Role, services, startup, telemetry};
use clap::{Parser, Subcommand};

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
    telemetry::init_logging(&settings.log);
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
    }
}
