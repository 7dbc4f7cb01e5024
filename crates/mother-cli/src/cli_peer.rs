//! The command line of a Mother on the network: `mother serve`'s peer
//! flags and the `peers`, `find` and `push` commands (`run --on` is a flag
//! of `run`). Declared here so the shared `cli.rs` only names them.

use clap::Args;

use crate::cli::Command;

/// `mother serve`'s flags for serving peers over libp2p. Any of them (or a
/// `[peer] listen` in `$PATINA_HOME/config.toml`) puts the Mother on the network.
#[derive(Debug, Args)]
pub struct ServePeerArgs {
    /// Listen for peers on this multiaddr (repeat), e.g. /ip4/127.0.0.1/tcp/0
    /// or /ip4/0.0.0.0/udp/4001/quic-v1. Replaces config.toml's `listen`.
    #[arg(long, value_name = "MULTIADDR")]
    pub listen: Vec<String>,
    /// Join the DHT through this peer (repeat): /ip4/…/tcp/…/p2p/<peer id>.
    /// Added to config.toml's `bootstrap`.
    #[arg(long, value_name = "MULTIADDR")]
    pub bootstrap: Vec<String>,
    /// Find peers on the local link with mDNS (off by default).
    #[arg(long)]
    pub mdns: bool,
    /// Print the peer id and listen addresses as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PeersArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FindArgs {
    /// An installed name, a child id (prefix) held here, or a full `b3:` id.
    pub child: String,
    /// At most this many providers.
    #[arg(long, default_value_t = 8)]
    pub limit: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// A .wasm file, an installed name or a child id (prefix).
    pub child: String,
    /// The peer (a peer id or a multiaddr); its policy must allow `runtime.install`.
    #[arg(long, value_name = "PEER")]
    pub to: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl Command {
    /// Whether the command works only through a served Mother (the home's
    /// socket unless `--connect` names another).
    pub fn needs_served(&self) -> bool {
        match self {
            Self::Peers(_) | Self::Find(_) | Self::Push(_) => true,
            Self::Run(args) => args.on.is_some(),
            _ => false,
        }
    }
}
