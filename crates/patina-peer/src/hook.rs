//! The node as the membrane's [`Network`]: each method translates the
//! membrane's call (already decided there) into the node's work and its
//! errors back into the membrane's. It holds the node weakly, so the
//! membrane never keeps a stopped node alive; a call after the node is gone
//! answers `not-on-network`. Nothing here decides anything.

use std::sync::{Arc, Weak};

use patina_core::ChildId;
use patina_membrane::{MembraneError, Network, NetworkFuture, NetworkInfo, Principal, RemoteRun};
use patina_mother::{Installed, RunSpec};
use patina_net::{Digest, ed25519_to_peer_id};

use crate::PeerTarget;
use crate::node::NodeInner;

struct Hook(Weak<NodeInner>);

/// The membrane's handle on `node`.
pub(crate) fn attach(node: &Arc<NodeInner>) -> Arc<dyn Network> {
    Arc::new(Hook(Arc::downgrade(node)))
}

impl Hook {
    fn node(&self) -> Result<Arc<NodeInner>, MembraneError> {
        self.0.upgrade().ok_or(MembraneError::NotOnNetwork)
    }
}

fn target(peer: &str) -> Result<PeerTarget, MembraneError> {
    peer.parse::<PeerTarget>().map_err(MembraneError::from)
}

impl Network for Hook {
    fn fetch_child(&self, child: ChildId, caller: Principal) -> NetworkFuture<'_, Vec<u8>> {
        Box::pin(async move {
            let node = self.node()?;
            // The caller is where a peer's run came from: ask it first.
            let first = caller.key().and_then(|key| ed25519_to_peer_id(&key.0));
            Ok(node.fetch_child(child, first).await?)
        })
    }

    fn info(&self) -> NetworkFuture<'_, NetworkInfo> {
        Box::pin(async move { Ok(self.node()?.info().await?) })
    }

    fn find(&self, child: ChildId, limit: usize) -> NetworkFuture<'_, Vec<String>> {
        Box::pin(async move {
            let node = self.node()?;
            let found = node
                .net
                .find_providers(Digest(*child.digest()), limit)
                .await
                .map_err(crate::PeerError::from)?;
            Ok(found.iter().map(ToString::to_string).collect())
        })
    }

    fn run_on(&self, peer: String, spec: RunSpec) -> NetworkFuture<'_, RemoteRun> {
        Box::pin(async move {
            let node = self.node()?;
            let target = target(&peer)?;
            Ok(node.asker().run_on(&target, spec).await?.run)
        })
    }

    fn push(&self, peer: String, child: ChildId, bytes: Vec<u8>) -> NetworkFuture<'_, Installed> {
        Box::pin(async move {
            let node = self.node()?;
            let target = target(&peer)?;
            Ok(node.asker().push(&target, child, bytes).await?)
        })
    }
}
