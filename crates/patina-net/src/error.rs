//! [`NetError`]: why the network layer could not do what it was asked, each
//! with a stable [`NetError::kind`]. Blob fetches have their own errors
//! ([`crate::FetchError`]) because they name what each provider did.
//!
//! This module must never carry a peer's bytes verbatim into an error
//! without a bound: a reason is a short text made here.

use std::time::Duration;

use libp2p::{Multiaddr, PeerId, StreamProtocol};

use crate::admission::Refusal;
use crate::stream::Direction;

/// Why the network layer refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The configuration is not usable (e.g. a bootstrap address without `/p2p/<peer id>`).
    #[error("bad network configuration: {0}")]
    Config(String),
    /// The transports or behaviours could not be built.
    #[error("could not build the swarm: {0}")]
    Build(String),
    /// A listen address was refused by every transport.
    #[error("could not listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// A dial failed (refused, unreachable, wrong peer, connection limits).
    #[error("could not dial {target}: {reason}")]
    Dial {
        /// The address or peer dialled.
        target: String,
        /// Why.
        reason: String,
    },
    /// A stream could not be opened on a connection.
    #[error("could not open a {protocol} stream to {peer}: {source}")]
    OpenStream {
        /// The peer.
        peer: PeerId,
        /// The protocol.
        protocol: StreamProtocol,
        /// Why.
        source: std::io::Error,
    },
    /// The peer does not accept this protocol.
    #[error("{peer} does not accept {protocol}")]
    UnsupportedProtocol {
        /// The peer.
        peer: PeerId,
        /// The protocol.
        protocol: StreamProtocol,
    },
    /// Too many streams of this protocol with this peer (or on this protocol) at once.
    #[error("at most {limit} {direction} {protocol} streams {scope} at once")]
    StreamLimit {
        /// The protocol.
        protocol: StreamProtocol,
        /// Which way the refused stream went.
        direction: Direction,
        /// `with <peer>` or `in all`.
        scope: String,
        /// The bound.
        limit: usize,
    },
    /// The peer refused a stream at one of its bounds.
    #[error("{peer} refused a {protocol} stream: {why}")]
    StreamRefused {
        /// The peer.
        peer: PeerId,
        /// The protocol.
        protocol: StreamProtocol,
        /// Which of its bounds.
        why: Refusal,
    },
    /// `accept` was called twice for one protocol on one node.
    #[error("{0} is already being accepted on this node")]
    AlreadyAccepting(StreamProtocol),
    /// The DHT refused or failed an operation.
    #[error("the DHT failed: {0}")]
    Dht(String),
    /// An operation took longer than its bound.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// What was waited for.
        what: &'static str,
        /// The bound.
        after: Duration,
    },
    /// The node has shut down (or its task ended).
    #[error("the network node has stopped")]
    Stopped,
}

impl NetError {
    /// A stable, short name of the error's kind, for printing and matching.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Config(_) => "net-config",
            Self::Build(_) => "net-build",
            Self::Listen { .. } => "listen",
            Self::Dial { .. } => "dial",
            Self::OpenStream { .. } => "open-stream",
            Self::UnsupportedProtocol { .. } => "unsupported-protocol",
            Self::StreamLimit { .. } => "stream-limit",
            Self::StreamRefused { .. } => "stream-refused",
            Self::AlreadyAccepting(_) => "already-accepting",
            Self::Dht(_) => "dht",
            Self::Timeout { .. } => "timeout",
            Self::Stopped => "stopped",
        }
    }
}

/// Runs `future` for at most `after`, naming `what` in the timeout error.
pub(crate) async fn bounded<T>(
    what: &'static str,
    after: Duration,
    future: impl Future<Output = Result<T, NetError>>,
) -> Result<T, NetError> {
    tokio::time::timeout(after, future)
        .await
        .unwrap_or(Err(NetError::Timeout { what, after }))
}
