//! The peer host: a second Mother reached over libp2p on 127.0.0.1
//! (`crates/patina-peer`, the membrane over `/patina/membrane/0.1.0`). Two
//! real `mother serve --listen` processes: the peer, whose `policy.toml`
//! names the asker's key as `admin` (so the grants and limits a case asks
//! for are the peer's to decide, as on any host), and the asker (the
//! `mother serve` the served and bridge hosts share, `front.rs`), through
//! whose socket each case is sent with `network.run` to the peer's address.
//! The child is installed on the asker and pushed to the peer once
//! (`network.push`, what `mother push` does): the caller's deadline bounds
//! a remote run *including* the peer fetching and compiling a child it
//! lacks (docs/peers.md), and a case's deadline is the same on every host,
//! so a first compile of a 40 MB Python child on a debug build must not
//! count against it here (fetching by digest is tested in
//! crates/patina-peer). The peer runs it and answers with its own signed
//! receipt, which the asker checks as the peer's and keeps; that receipt is
//! what the suite compares. This adapter never listens anywhere but
//! 127.0.0.1.

use std::collections::HashSet;
use std::rc::Rc;

use anyhow::{Context, Result};
use tokio::sync::Mutex;

use super::front::LOOPBACK;
use super::home::Home;
use super::served::Served;
use super::{HostUnderTest, Prepared, Ran, Setup};
use crate::case::{Case, Named};

/// The asker's served Mother and the peer's, on the network.
pub struct Peer {
    asker: Rc<Mutex<Served>>,
    /// The peer's TCP address on 127.0.0.1, ending in `/p2p/<its id>`.
    addr: String,
    /// Children the peer holds already.
    pushed: HashSet<String>,
    /// The peer Mother (its own key logs in on its socket).
    peer: Served,
}

/// Starts the peer Mother (the asker is the shared `mother serve`).
pub async fn start(setup: &Setup<'_>) -> Result<Box<dyn HostUnderTest>> {
    let asker = setup.front("peer").await?;
    let mother = setup
        .mother
        .context("the peer host needs --mother PATH (the `mother` binary)")?;
    let peer = Home::new("peer", mother)?;
    peer.write_policy(&format!("[callers]\n\"{}\" = \"admin\"\n", asker.key))?;
    let peer = Served::start(peer, &["--json", "--listen", LOOPBACK]).await?;
    let addr = loopback_addr(peer.printed())?;
    Ok(Box::new(Peer {
        asker: asker.served,
        addr,
        pushed: HashSet::new(),
        peer,
    }))
}

/// The TCP address on 127.0.0.1 in what `mother serve --json` printed.
fn loopback_addr(printed: &str) -> Result<String> {
    let printed: serde_json::Value = serde_json::from_str(printed)
        .with_context(|| format!("`mother serve --json` printed `{printed}`"))?;
    printed["listen"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .find(|addr| addr.starts_with("/ip4/127.0.0.1/tcp/") && addr.contains("/p2p/"))
        .map(str::to_owned)
        .with_context(|| format!("no TCP address on 127.0.0.1 in `{printed}`"))
}

#[async_trait::async_trait(?Send)]
impl HostUnderTest for Peer {
    fn name(&self) -> &'static str {
        "peer"
    }

    fn metered(&self) -> bool {
        true
    }

    fn not_applicable(&self, _: &Case) -> Option<String> {
        None
    }

    /// On the peer, which runs the case and so resolves its `invoke` names.
    async fn install_named(&mut self, named: &Named, child: &Prepared) -> Result<Option<String>> {
        self.peer.install_named(named, child).await?;
        Ok(None)
    }

    async fn run(&mut self, case: &Case, child: &Prepared) -> Result<Ran> {
        let mut asker = self.asker.lock().await;
        if !self.pushed.contains(&child.id) {
            asker.install(child).await?;
            asker
                .session()
                .network_push(&child.id, &self.addr)
                .await
                .map_err(|e| anyhow::anyhow!("pushing the child: {}: {}", e.kind, e.message))?;
            self.pushed.insert(child.id.clone());
        }
        asker.run_on(Some(&self.addr), case, child).await
    }
}

#[cfg(test)]
mod tests {
    use super::loopback_addr;

    #[test]
    fn the_peer_is_reached_at_its_loopback_tcp_address() {
        let printed = r#"{"peer_id":"12D3KooWX","listen":["/ip4/127.0.0.1/udp/9/quic-v1/p2p/12D3KooWX","/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWX"]}"#;
        assert_eq!(
            loopback_addr(printed).unwrap(),
            "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWX"
        );
        let err =
            loopback_addr(r#"{"peer_id":"x","listen":["/ip6/::1/tcp/1/p2p/x"]}"#).unwrap_err();
        assert!(
            err.to_string().contains("no TCP address on 127.0.0.1"),
            "{err}"
        );
    }
}
