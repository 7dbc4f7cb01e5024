//! The command line: every `mother` command and flag, declared with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What a bare `--connect` stands for: the home's `mother.sock`.
pub const HOME_SOCKET: &str = "@home";

/// A Mother: runs WebAssembly children against explicitly granted toys.
#[derive(Debug, Parser)]
#[command(name = "mother", version, about, propagate_version = true)]
pub struct Cli {
    /// State directory (installed children, compiled cache). Default: the
    /// platform data directory, e.g. ~/.local/share/patina.
    #[arg(long, env = "PATINA_HOME", global = true)]
    pub home: Option<PathBuf>,
    /// More diagnostics on stderr (-v, -vv, -vvv); or set PATINA_LOG.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Act through a served Mother (`mother serve`) instead of opening the
    /// home: `--connect` for `$PATINA_HOME/mother.sock`, `--connect=SOCKET`
    /// for another. Works with list, install, inspect, run, receipts
    /// list|show|verify|export and replay; the output is the same.
    #[arg(long, value_name = "SOCKET", global = true, num_args = 0..=1, require_equals = true, default_missing_value = HOME_SOCKET)]
    pub connect: Option<PathBuf>,
    /// The key to log in with through --connect (a 32-byte secret seed file,
    /// as in the home's identity). Default: the home's own identity.
    #[arg(
        long = "key",
        id = "login_key",
        value_name = "FILE",
        global = true,
        env = "PATINA_KEY"
    )]
    pub login_key: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show a child's id, imports and exports with their WIT types.
    Inspect(InspectArgs),
    /// Install a component under its id (and a name).
    Install(InstallArgs),
    /// List installed children.
    List(ListArgs),
    /// Run a child: call an export, or run a command child with arguments.
    Run(RunArgs),
    /// Work with receipts: the signed record of every run.
    #[command(subcommand)]
    Receipts(ReceiptsCommand),
    /// Re-run a receipt's child with every toy call answered from the receipt.
    Replay(ReplayArgs),
    /// Show what children measured with the `measure` toy (counters, gauges, histograms).
    Metrics(MetricsArgs),
    /// Serve this Mother on a Unix socket (`$PATINA_HOME/mother.sock`) through the membrane.
    Serve(ServeArgs),
    /// Serve an MCP agent on stdin/stdout: each command of each child its role allows is a tool.
    Mcp(crate::commands::mcp::McpArgs),
    /// Print this Mother's public key (what a policy names a caller by).
    Key(KeyArgs),
    /// Check, explain or change `$PATINA_HOME/policy.toml`.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Show or advance the epoch (every capability issued before a bump goes stale).
    #[command(subcommand)]
    Epoch(EpochCommand),
    /// Make, list or revoke bearer tokens (for the HTTP bridge and MCP over HTTP).
    #[command(subcommand)]
    Token(TokenCommand),
    /// The peers the served Mother is connected to (`mother serve --listen`).
    Peers(crate::cli_peer::PeersArgs),
    /// Peers that provide a child, from the DHT (through the served Mother).
    Find(crate::cli_peer::FindArgs),
    /// Offer a child's bytes to a peer that allows installs (through the served Mother).
    Push(crate::cli_peer::PushArgs),
    /// Install the example children and run them: imports, grants, results, limits, receipts.
    #[cfg(feature = "demo")]
    Demo,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The socket (default: `$PATINA_HOME/mother.sock`).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// How long shutdown waits for runs in flight, e.g. 30s.
    #[arg(long, value_name = "DUR", default_value = "30s")]
    pub drain: String,
    /// Also serve MCP over streamable HTTP on this loopback address
    /// (`127.0.0.1:PORT`, path `/mcp`), for bearer tokens (`mother token create`).
    #[arg(long, value_name = "ADDR")]
    pub mcp: Option<std::net::SocketAddr>,
    /// Also serve the REST bridge on this address, e.g. 127.0.0.1:8080
    /// (bearer tokens: `mother token create --role R`; docs/bridge.md).
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
    /// Serve a bridge child (it exports wasi:http/incoming-handler) under a
    /// path prefix of the REST bridge, with grants for its runs (checked
    /// against each caller's role), e.g. /app=web-gateway,invoke:calc.
    /// Repeat for more.
    #[arg(long, value_name = "PREFIX=CHILD[,GRANT...]", requires = "http")]
    pub mount: Vec<patina_bridge::mount::Mount>,
    /// Serving peers over libp2p too (`--listen`, `--bootstrap`, `--mdns`).
    #[command(flatten)]
    pub peer: crate::cli_peer::ServePeerArgs,
}

#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Print the key of this seed file instead of the home's identity.
    #[arg(long, value_name = "FILE")]
    pub of: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file (default: `$PATINA_HOME/policy.toml`).
    Check {
        /// The file.
        file: Option<PathBuf>,
    },
    /// Print what the caller with KEY may do.
    Explain {
        /// A caller key (as `mother key` prints it).
        key: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Give the caller with KEY a role (adds it to policy.toml).
    Allow {
        /// A caller key (as `mother key` prints it).
        key: String,
        /// The role: admin, runner, reader or one the file defines.
        #[arg(long)]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EpochCommand {
    /// Print the current epoch.
    Show,
    /// Advance the epoch (a serving Mother is told at once).
    Bump,
}

#[derive(Debug, Subcommand)]
pub enum ReceiptsCommand {
    /// List receipts, newest first.
    List(ReceiptsListArgs),
    /// Show one receipt: header, grants and the transcript event by event.
    Show(ReceiptArg),
    /// Check a receipt's signature, hashes and chain link.
    Verify(ReceiptArg),
    /// Print a receipt (with the blobs it refers to) as canonical JSON.
    Export(ReceiptArg),
    /// Verify a receipt file (e.g. a peer's) and keep it.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ReceiptsListArgs {
    /// Only receipts of this child (a name, id or id prefix of an installed child).
    #[arg(long)]
    pub child: Option<String>,
    /// Only receipts of runs this caller asked for: `ed25519:KEY` (a key, a
    /// peer), `token:ID` (a bearer token), `local:NAME` (e.g. an MCP agent).
    #[arg(long)]
    pub caller: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReceiptArg {
    /// A receipt id (or unique prefix of at least 4 hex digits), or a receipt file.
    pub receipt: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A file written by `mother receipts export`.
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A receipt id (or unique prefix), or a receipt file.
    pub receipt: String,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Whether a run is recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// Record every toy call and sign a receipt (the default).
    #[default]
    Record,
    /// Run without recording or a receipt.
    Live,
}

impl Command {
    /// Whether errors should be printed as JSON.
    pub fn wants_json(&self) -> bool {
        match self {
            Self::Inspect(a) => a.json || a.json_schema,
            Self::List(a) => a.json,
            Self::Run(a) => a.json,
            Self::Install(a) => a.json,
            Self::Replay(a) => a.json,
            Self::Receipts(ReceiptsCommand::List(a)) => a.json,
            Self::Receipts(
                ReceiptsCommand::Show(a) | ReceiptsCommand::Verify(a) | ReceiptsCommand::Export(a),
            ) => a.json,
            Self::Receipts(ReceiptsCommand::Import(a)) => a.json,
            Self::Metrics(a) => a.json,
            Self::Policy(PolicyCommand::Explain { json, .. }) => *json,
            Self::Token(TokenCommand::List { json }) => *json,
            Self::Peers(a) => a.json,
            Self::Find(a) => a.json,
            Self::Push(a) => a.json,
            Self::Serve(a) => a.peer.json,
            Self::Mcp(_) | Self::Key(_) | Self::Policy(_) | Self::Epoch(_) | Self::Token(_) => {
                false
            }
            #[cfg(feature = "demo")]
            Self::Demo => false,
        }
    }

    /// Whether the command serves its embedded Mother to others while it
    /// runs (the demo's second Mother reaches it as a peer), so that
    /// Mother's blocking work must go to blocking threads.
    pub fn serves_embedded(&self) -> bool {
        #[cfg(feature = "demo")]
        if let Self::Demo = self {
            return true;
        }
        false
    }
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A .wasm file, an installed name or a child id (prefix).
    pub child: String,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Print the whole world as WIT text.
    #[arg(long, conflicts_with = "json")]
    pub wit: bool,
    /// Print each command's JSON Schemas (2020-12) of its arguments (as an
    /// array and as an object) and its result, as JSON.
    #[arg(long, conflicts_with_all = ["json", "wit"])]
    pub json_schema: bool,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The component file.
    pub file: PathBuf,
    /// A name to run it by (letters, digits, `-`, `_`, `.`).
    #[arg(long)]
    pub name: Option<String>,
    /// A grant the child runs with when another child invokes it (repeat;
    /// needs --name). The caller's grants never pass to it.
    #[arg(long = "grant", short = 'g', value_name = "GRANT", requires = "name")]
    pub grants: Vec<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Only this child's metrics (an installed name, or an id prefix).
    #[arg(long)]
    pub child: Option<String>,
    /// Print JSON.
    #[arg(long, conflicts_with = "prometheus")]
    pub json: bool,
    /// Print Prometheus text (exposition format 0.0.4).
    #[arg(long)]
    pub prometheus: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run on this peer Mother (a peer id or a multiaddr) through the
    /// served Mother, under the peer's policy; its receipt is kept here.
    #[arg(long, value_name = "PEER")]
    pub on: Option<String>,
    /// A .wasm file, an installed name or a child id (prefix).
    pub child: String,
    /// A WAVE call such as 'add(2, 3)' or 'ops.greet("ann")' (or just the
    /// function name with --args-json). Omit it to run a command child.
    pub call: Option<String>,
    /// Grant a toy: `log`, `fs:DIR:ro`, `fs:DIR:rw`, `net:IP[:PORT]`. Repeatable.
    #[arg(long = "grant", short = 'g', value_name = "GRANT")]
    pub grants: Vec<String>,
    /// Link ungranted imports to stubs that fail with `denied: <import>`
    /// instead of refusing the run.
    #[arg(long)]
    pub deny_missing: bool,
    /// Fuel budget (about one unit per wasm instruction).
    #[arg(long, value_name = "N")]
    pub fuel: Option<u64>,
    /// Wall-clock deadline, e.g. 500ms, 5s, 2m.
    #[arg(long, value_name = "DUR")]
    pub timeout: Option<String>,
    /// Memory cap, e.g. 64MiB.
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// The call's arguments as a JSON array (CALL is then the function name).
    #[arg(long, value_name = "JSON", conflicts_with = "args")]
    pub args_json: Option<String>,
    /// `record` (default: sign a receipt of every toy call) or `live`.
    #[arg(long, value_enum, default_value_t = ModeArg::Record)]
    pub mode: ModeArg,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Arguments of a command child (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token for a policy role; its secret is printed once, only a
    /// hash of it is kept.
    Create {
        /// The role it acts under (`mother policy check` lists them).
        #[arg(long)]
        role: String,
        /// A label for people (`ci`, `grafana`, ...).
        #[arg(long, default_value = "")]
        name: String,
        /// How long it stays good (`30d`, `12h`); default: until revoked.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires: Option<std::time::Duration>,
    },
    /// List the tokens (ids, roles, names; never secrets).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: it authenticates nobody from the next request on.
    Revoke {
        /// The token's id (`mother token list`).
        id: String,
    },
}
