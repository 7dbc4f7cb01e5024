//! `mother`: the command-line Mother. A thin layer over `patina-mother`: it
//! parses arguments, opens the Mother in `$PATINA_HOME`, and prints results
//! for people (`WAVE` text) or programs (`--json`). It must never hold logic
//! the libraries should own.

mod cli;
mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use patina_mother::{Mother, MotherConfig};

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let json = cli.command.wants_json();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return output::fail(
                &anyhow::Error::new(error).context("starting the async runtime"),
                json,
            );
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(error) => output::fail(&error, json),
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = MotherConfig::new(home(cli.home)?);
    // One command per process: instances on demand (no pool to reserve and
    // tear down around a single run), compiled artifacts mapped, not read.
    config.engine.pooling = false;
    config.map_artifacts = true;
    let mother = Mother::open(config)?;
    match cli.command {
        Command::Inspect(args) => commands::inspect::run(&mother, args).await,
        Command::Install(args) => commands::install::run(&mother, args).await,
        Command::List(args) => commands::list::run(&mother, args).await,
        Command::Run(args) => commands::run::run(&mother, args).await,
        Command::Receipts(command) => commands::receipts::run(&mother, command).await,
        Command::Replay(args) => commands::replay::run(&mother, args).await,
        Command::Metrics(args) => commands::metrics::run(&mother, args).await,
        #[cfg(feature = "demo")]
        Command::Demo => commands::demo::run(&mother).await,
    }
}

/// `--home` / `$PATINA_HOME`, or the platform data directory's `patina` folder.
fn home(home: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match home {
        Some(home) => Ok(home),
        None => Ok(dirs::data_dir()
            .context("no platform data directory; set PATINA_HOME")?
            .join("patina")),
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PATINA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
