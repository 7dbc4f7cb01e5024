//! [`PeerNode`]: a served Mother on the network. One libp2p node keyed by
//! the Mother's own seed (so its peer id *is* the key that signs its
//! receipts), serving its membrane to peers (`/patina/membrane/0.1.0`, one
//! session per peer), its children's bytes (`/patina/blob/0.1.0`, to the
//! peers that may have them), providing the ids of the children it holds,
//! and asking peers to run children — with their receipts checked and kept.
//!
//! Starting it attaches it to the membrane as its [`patina_membrane::Network`]
//! (fetch a missing child for a caller the membrane allowed; the
//! `network.*` methods), holding the node weakly: dropping the last
//! `PeerNode` (or [`PeerNode::shutdown`]) detaches it and stops the node.

use std::sync::Arc;

use patina_core::ChildId;
use patina_membrane::{MembraneServer, NetworkInfo, PeerSummary};
use patina_mother::{ChildRef, Installed, Mother, RunSpec};
use patina_net::{Digest, Multiaddr, NetHandle, PeerId};

use crate::blobs::{ChildBlobs, Offers};
use crate::fetch::Fetches;
use crate::inbound::{self, MEMBRANE_PROTOCOL};
use crate::remote::{Asker, PeerRun};
use crate::sessions::Sessions;
use crate::{PeerConfig, PeerError, PeerTarget, hook, provide};

/// A served Mother on the network. Cheap to clone.
#[derive(Clone)]
pub struct PeerNode {
    inner: Arc<NodeInner>,
}

pub(crate) struct NodeInner {
    pub(crate) net: NetHandle,
    pub(crate) server: MembraneServer,
    pub(crate) mother: Mother,
    pub(crate) config: PeerConfig,
    pub(crate) sessions: Sessions,
    pub(crate) offers: Offers,
    pub(crate) fetches: Fetches,
}

impl std::fmt::Debug for PeerNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerNode")
            .field("peer", &self.peer_id())
            .finish_non_exhaustive()
    }
}

impl PeerNode {
    /// Puts the Mother `server` serves on the network `config` describes:
    /// starts its node (on the current tokio runtime, which must be the
    /// multi-thread one the server was created on), serves its membrane and
    /// its children to peers, announces its children, and attaches itself
    /// to the membrane.
    pub async fn start(server: MembraneServer, config: PeerConfig) -> Result<Self, PeerError> {
        let mother = server.mother().clone();
        let net = NetHandle::start(&mother.identity().seed(), config.net_config()).await?;
        let offers = Offers::default();
        net.serve_blobs(Arc::new(ChildBlobs {
            server: server.clone(),
            offers: offers.clone(),
        }))?;
        let incoming = net.accept(MEMBRANE_PROTOCOL)?;
        inbound::serve(incoming, server.clone(), config.sessions_per_peer)?;
        let inner = Arc::new(NodeInner {
            sessions: Sessions::new(net.clone()),
            net,
            server: server.clone(),
            mother,
            config,
            offers,
            fetches: Fetches::default(),
        });
        server.attach_network(hook::attach(&inner));
        tokio::spawn(provide::provide_loop(
            Arc::downgrade(&inner),
            inner.config.provide_interval,
        ));
        tracing::info!(peer = %inner.net.local_peer_id(), "on the network");
        Ok(Self { inner })
    }

    /// This Mother's peer id (its Ed25519 key).
    pub fn peer_id(&self) -> PeerId {
        self.inner.net.local_peer_id()
    }

    /// The network node.
    pub fn net(&self) -> &NetHandle {
        &self.inner.net
    }

    /// The membrane served to peers.
    pub fn server(&self) -> &MembraneServer {
        &self.inner.server
    }

    /// The addresses this node listens on, each ending in `/p2p/<peer id>`.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, PeerError> {
        self.inner.listen_addrs().await
    }

    /// This node and its connected peers.
    pub async fn info(&self) -> Result<NetworkInfo, PeerError> {
        self.inner.info().await
    }

    /// Connects to the peer `target` names; answers its peer id.
    pub async fn reach(&self, target: &PeerTarget) -> Result<PeerId, PeerError> {
        self.inner.asker().reach(target).await
    }

    /// Runs `spec` on `target`, under the peer's own policy. The child is a
    /// `b3:` id, or a name or id prefix of a child held here (sent as its
    /// full id; the peer fetches bytes it lacks, from here or a provider).
    /// The peer's receipt is checked as its own and kept here.
    pub async fn run_on(
        &self,
        target: &PeerTarget,
        mut spec: RunSpec,
    ) -> Result<PeerRun, PeerError> {
        let id = self.inner.child_id(&spec.child).await?;
        spec.child = ChildRef::Installed(id.to_string());
        self.inner.asker().run_on(target, spec).await
    }

    /// Offers the bytes of `child` (held here) to `target` (its
    /// `runtime.install`, by digest).
    pub async fn push(&self, target: &PeerTarget, child: ChildId) -> Result<Installed, PeerError> {
        let mother = self.inner.mother.clone();
        let bytes = tokio::task::spawn_blocking(move || mother.children().read(&child))
            .await
            .map_err(|e| PeerError::Io {
                context: "reading a child".into(),
                source: std::io::Error::other(e),
            })??;
        self.inner.asker().push(target, child, bytes).await
    }

    /// Up to `limit` providers of `child` from the DHT (not this node).
    pub async fn find(&self, child: ChildId, limit: usize) -> Result<Vec<PeerId>, PeerError> {
        Ok(self
            .inner
            .net
            .find_providers(Digest(*child.digest()), limit)
            .await?)
    }

    /// The verified bytes of `child`: from `first`, else DHT providers.
    pub async fn fetch_child(
        &self,
        child: ChildId,
        first: Option<PeerId>,
    ) -> Result<Vec<u8>, PeerError> {
        self.inner.fetch_child(child, first).await
    }

    /// Announces every child held here on the DHT now; answers how many
    /// announcements reached the network.
    pub async fn provide_held(&self) -> usize {
        self.inner.provide_held().await
    }

    /// Detaches from the membrane, drops the sessions and stops the node.
    pub async fn shutdown(&self) {
        self.inner.server.detach_network();
        self.inner.sessions.clear();
        self.inner.net.shutdown().await;
    }
}

impl NodeInner {
    pub(crate) fn asker(&self) -> Asker<'_> {
        Asker {
            net: &self.net,
            mother: &self.mother,
            sessions: &self.sessions,
            offers: &self.offers,
            grace: self.config.run_grace,
        }
    }

    /// The full id a child reference names: a `b3:` id as it is, a name or
    /// id prefix as the child held here.
    pub(crate) async fn child_id(&self, child: &ChildRef) -> Result<ChildId, PeerError> {
        match child {
            ChildRef::Installed(reference) => {
                if let Ok(id) = reference.parse::<ChildId>() {
                    return Ok(id);
                }
                let mother = self.mother.clone();
                let reference = reference.clone();
                tokio::task::spawn_blocking(move || mother.children().resolve(&reference))
                    .await
                    .map_err(|e| PeerError::Io {
                        context: "resolving a child".into(),
                        source: std::io::Error::other(e),
                    })?
                    .map_err(PeerError::Mother)
            }
            ChildRef::File(path) => Err(PeerError::Membrane(
                patina_membrane::MembraneError::BadRequest(format!(
                    "install {} first, then run it on a peer by name or id",
                    path.display()
                )),
            )),
        }
    }

    pub(crate) async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, PeerError> {
        let local = self.net.local_peer_id();
        Ok(self
            .net
            .listen_addrs()
            .await?
            .into_iter()
            .map(|addr| patina_net::with_peer(addr, local))
            .collect())
    }

    pub(crate) async fn info(&self) -> Result<NetworkInfo, PeerError> {
        let listen = self.listen_addrs().await?;
        let peers = self.net.peers().await?;
        Ok(NetworkInfo {
            peer_id: self.net.local_peer_id().to_string(),
            listen: listen.iter().map(ToString::to_string).collect(),
            peers: peers
                .into_iter()
                .map(|info| PeerSummary {
                    peer: info.peer.to_string(),
                    addresses: info.addresses.iter().map(ToString::to_string).collect(),
                    listen_addrs: info.listen_addrs.iter().map(ToString::to_string).collect(),
                    rtt_ms: info.rtt.map(|rtt| rtt.as_secs_f64() * 1e3),
                })
                .collect(),
        })
    }

    pub(crate) async fn fetch_child(
        &self,
        child: ChildId,
        first: Option<PeerId>,
    ) -> Result<Vec<u8>, PeerError> {
        let bytes =
            crate::fetch::fetch_child(&self.net, &self.mother, &self.fetches, child, first).await?;
        // Held here in a moment (the membrane stores it): announce it.
        let net = self.net.clone();
        tokio::spawn(async move {
            if let Err(error) = net.provide(Digest(*child.digest())).await {
                tracing::debug!(%child, %error, "announcing a fetched child failed");
            }
        });
        Ok(bytes)
    }

    pub(crate) async fn provide_held(&self) -> usize {
        let children = match self.mother.list().await {
            Ok(children) => children,
            Err(error) => {
                tracing::warn!(%error, "listing the children to announce failed");
                return 0;
            }
        };
        let announced = futures::future::join_all(
            children
                .iter()
                .map(|child| self.net.provide(Digest(*child.id.digest()))),
        )
        .await;
        let reached = announced.iter().filter(|result| result.is_ok()).count();
        tracing::debug!(children = children.len(), reached, "children announced");
        reached
    }
}

impl Drop for NodeInner {
    fn drop(&mut self) {
        self.server.detach_network();
    }
}
