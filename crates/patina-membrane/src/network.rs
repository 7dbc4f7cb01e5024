//! [`Network`]: what the network layer of a served Mother (`patina-peer`)
//! does for the membrane — fetch a child's bytes by id, and, for a caller
//! whose role lists `network.*` methods, show the peers, find providers, run
//! on a peer and push bytes to one. And the plain data those answers are.
//!
//! The membrane decides, the network acts: an [`crate::Access`] checks the
//! caller's role (and, for a fetch, that the role may have that child
//! stored here) before it calls any of these, and this trait's implementor
//! never decides anything about a caller. A Mother that serves no peers has
//! no `Network`; its network methods answer `not-on-network`.

use std::future::Future;
use std::pin::Pin;

use patina_core::ChildId;
use patina_mother::{Installed, RunSpec};
use serde::{Deserialize, Serialize};

use crate::{MembraneError, Principal, RemoteRun};

/// A boxed `Send` future of a network operation.
pub type NetworkFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, MembraneError>> + Send + 'a>>;

/// A connected peer, as `mother peers` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerSummary {
    /// Its peer id (its Ed25519 key).
    pub peer: String,
    /// The remote address of each open connection.
    pub addresses: Vec<String>,
    /// The addresses it says it listens on.
    pub listen_addrs: Vec<String>,
    /// The last ping round trip, in milliseconds.
    pub rtt_ms: Option<f64>,
}

/// This node and its peers (`Network.info`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// This Mother's peer id.
    pub peer_id: String,
    /// The addresses it listens on, each ending in `/p2p/<peer id>`.
    pub listen: Vec<String>,
    /// The connected peers.
    pub peers: Vec<PeerSummary>,
}

/// The network layer of a served Mother, attached with
/// [`crate::MembraneServer::attach_network`].
pub trait Network: Send + Sync + 'static {
    /// The bytes of the child `child` (which this Mother lacks), for
    /// `caller`, whose role the membrane has checked already: from the
    /// caller itself when it is a peer, else from providers. The bytes must
    /// hash to `child` (the membrane checks again before storing them).
    fn fetch_child(&self, child: ChildId, caller: Principal) -> NetworkFuture<'_, Vec<u8>>;

    /// This node and its connected peers.
    fn info(&self) -> NetworkFuture<'_, NetworkInfo>;

    /// Up to `limit` providers of `child` from the DHT (peer ids).
    fn find(&self, child: ChildId, limit: usize) -> NetworkFuture<'_, Vec<String>>;

    /// Runs `spec` (its child a full `b3:` id) on `peer` (a peer id or a
    /// multiaddr), offering the child's bytes to that peer while it runs;
    /// the answer's receipt is verified as that peer's and kept here.
    fn run_on(&self, peer: String, spec: RunSpec) -> NetworkFuture<'_, RemoteRun>;

    /// Installs `bytes` (the child `child`, held here) on `peer` by digest.
    fn push(&self, peer: String, child: ChildId, bytes: Vec<u8>) -> NetworkFuture<'_, Installed>;
}
