//! `mother serve --listen ADDR [--bootstrap ADDR]... [--mdns]`: the served
//! Mother on the network as well (`patina-peer`), configured by
//! `$PATINA_HOME/config.toml`'s `[peer]` table and these flags. Prints the
//! peer id and the listen addresses (one JSON object with `--json`) on
//! stdout, for people and for scripts that start a Mother.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use patina_membrane::MembraneServer;
use patina_peer::{PeerConfig, PeerError, PeerNode};

use crate::cli_peer::ServePeerArgs;

/// Starts the node when the flags or config.toml give a listen address.
pub async fn start(
    server: &MembraneServer,
    home: &Path,
    args: &ServePeerArgs,
) -> Result<Option<PeerNode>> {
    let mut config = PeerConfig::load(home)?;
    if !args.listen.is_empty() {
        config.listen = args
            .listen
            .iter()
            .map(|addr| addr.parse().with_context(|| format!("--listen {addr}")))
            .collect::<Result<_>>()?;
    }
    for addr in &args.bootstrap {
        let parsed = addr
            .parse()
            .ok()
            .filter(|parsed| patina_net::peer_in(parsed).is_some())
            .ok_or_else(|| PeerError::BadTarget(addr.clone()))
            .context("--bootstrap needs /ip4/…/tcp/…/p2p/<peer id>")?;
        config.bootstrap.push(parsed);
    }
    config.mdns |= args.mdns;
    if config.listen.is_empty() {
        if !config.bootstrap.is_empty() || config.mdns {
            bail!("--bootstrap and --mdns need --listen (or `listen` under [peer] in config.toml)");
        }
        return Ok(None);
    }
    let node = PeerNode::start(server.clone(), config).await?;
    let listen: Vec<String> = node
        .listen_addrs()
        .await?
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({ "peer_id": node.peer_id().to_string(), "listen": listen });
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "peer {}", node.peer_id())?;
        for addr in &listen {
            writeln!(out, "listen {addr}")?;
        }
    }
    out.flush()?;
    Ok(Some(node))
}
