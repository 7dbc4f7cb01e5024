//! `mother`: the command-line Mother. A thin layer over `patina-mother`: it
//! parses arguments, opens the Mother in `$PATINA_HOME`, and prints results
//! for people (`WAVE` text) or programs (`--json`). It must never hold logic
//! the libraries should own.

// The `mcp` command's future (rmcp's server over stdio) is deeper than the
// compiler's default layout query limit when built without the demo.
#![recursion_limit = "256"]

mod cli;
mod cli_peer;
mod commands;
mod door;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use patina_mother::{Mother, MotherConfig};

use crate::cli::{Cli, Command};
use crate::door::Door;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let json = cli.command.wants_json();
    if let Command::Serve(args) = cli.command {
        // Its own multi-thread runtime: runs on every core.
        return match home(cli.home).and_then(|home| commands::serve::run(home, args)) {
            Ok(code) => code,
            Err(error) => output::fail(&error, json),
        };
    }
    if let Command::Mcp(args) = cli.command {
        return match home(cli.home).and_then(|home| commands::mcp::run(home, args)) {
            Ok(code) => code,
            Err(error) => output::fail(&error, json),
        };
    }
    // A short command prints and exits: when its reader goes away
    // (`mother receipts show ID | head`), it ends quietly as any Unix tool
    // does, instead of panicking in `println!` on a broken pipe. (`serve`
    // and `mcp`, above, keep Rust's default of ignoring SIGPIPE: a client
    // that hangs up must never kill a server.)
    restore_default_sigpipe();
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
    // A LocalSet: a membrane client (`--connect`) is single-threaded.
    let local = tokio::task::LocalSet::new();
    match local.block_on(&runtime, dispatch(cli)) {
        Ok(code) => code,
        Err(error) => output::fail(&error, json),
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let home = home(cli.home)?;
    match cli.command {
        Command::Key(args) => return commands::admin::key(&home, args),
        Command::Policy(command) => return commands::admin::policy(&home, command),
        Command::Epoch(command) => return commands::admin::epoch(&home, command).await,
        Command::Token(command) => return commands::token::run(&home, command),
        _ => {}
    }
    // The network commands go through the served Mother, the home's unless
    // `--connect` names another.
    let served = cli
        .command
        .needs_served()
        .then(|| PathBuf::from(cli::HOME_SOCKET));
    let door = match cli.connect.or(served) {
        Some(socket) => {
            let socket = if socket.as_os_str() == cli::HOME_SOCKET {
                home.join("mother.sock")
            } else {
                socket
            };
            let key = cli.login_key.unwrap_or_else(|| home.join("identity.key"));
            let seed = patina_receipts::Identity::load_or_create(&key)
                .with_context(|| format!("reading the key {}", key.display()))?
                .seed();
            let session = patina_membrane::Connection::unix(&socket)
                .await?
                .login(&seed)
                .await?;
            Door::Remote { session, home }
        }
        // One command per process: instances on demand, compiled artifacts
        // mapped, a short receipt log (see `MotherConfig::short_lived`).
        None => {
            let mut config = MotherConfig::short_lived(home);
            if cli.command.serves_embedded() {
                // Served on a multi-thread runtime too: its blocking work
                // must not hold a worker thread.
                config.blocking = patina_mother::BlockingWork::Pool;
            }
            Door::Embedded(Mother::open(config)?)
        }
    };
    let answered = run_command(&door, cli.command).await;
    if let Door::Embedded(_) = door {
        // The command is answered (a run's receipt is durable before its
        // answer is printed): the process ends without tearing the Mother
        // down — no engine, compiled code or SQLite connection to take apart
        // only for the kernel to free them anyway. A connection left open is
        // what a crash leaves, which SQLite is built to recover from.
        std::mem::forget(door);
    }
    answered
}

async fn run_command(door: &Door, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Inspect(args) => commands::inspect::run(door, args).await,
        Command::Install(args) => commands::install::run(door, args).await,
        Command::List(args) => commands::list::run(door, args).await,
        Command::Run(args) => commands::run::run(door, args).await,
        Command::Receipts(command) => commands::receipts::run(door, command).await,
        Command::Replay(args) => commands::replay::run(door, args).await,
        Command::Metrics(args) => commands::metrics::run(door.mother("metrics")?, args).await,
        Command::Peers(args) => commands::network::peers(door, args).await,
        Command::Find(args) => commands::network::find(door, args).await,
        Command::Push(args) => commands::network::push(door, args).await,
        #[cfg(feature = "demo")]
        Command::Demo => commands::demo::run(door.mother("demo")?).await,
        Command::Serve(_)
        | Command::Mcp(_)
        | Command::Key(_)
        | Command::Policy(_)
        | Command::Epoch(_)
        | Command::Token(_) => {
            unreachable!("handled above")
        }
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
        // yamux warns of a connection that closed under it (a peer that
        // went away first): not the user's business unless asked for.
        0 => "warn,yamux=error",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PATINA_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Puts SIGPIPE back to its default action (end the process), which the
/// Rust runtime sets to "ignore" before `main`.
fn restore_default_sigpipe() {
    // SAFETY: called on the main thread before any other thread exists
    // (the runtime is built after it); `signal` with `SIG_DFL` installs no
    // handler, so no code of ours runs in signal context.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
