//! [`PeerError`]: why a Mother on the network could not do what it was
//! asked, each with a stable [`PeerError::kind`]; and how each becomes a
//! [`MembraneError`] when the membrane asked (a peer's own answer keeps the
//! kind the peer sent).
//!
//! This module must never carry a peer's bytes into an error unbounded: a
//! peer's answer arrives as a [`RemoteError`] the membrane client already
//! decoded, and every other reason is a short text made here.

use std::time::Duration;

use patina_membrane::{MembraneError, RemoteError};
use patina_mother::MotherError;
use patina_net::{NetError, PeerId};

/// Why a Mother on the network refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// A mistake in `config.toml`, at a line.
    #[error("{file}:{line}: {message}")]
    Config {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A peer named neither by a peer id nor by a multiaddr.
    #[error("`{0}` is neither a peer id nor a multiaddr (/ip4/…/tcp/…/p2p/<peer id>)")]
    BadTarget(String),
    /// The network layer failed (a dial, a stream, the DHT).
    #[error(transparent)]
    Net(#[from] NetError),
    /// No connection to the peer could be made, or its membrane could not
    /// be opened.
    #[error("peer {peer} is unreachable: {reason}")]
    Unreachable {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: String,
    },
    /// The peer's session broke during a call (it went away, or closed it).
    #[error("peer {peer} disconnected during {during}: {reason}")]
    Disconnected {
        /// The peer.
        peer: PeerId,
        /// The call (`a run`, `an install`).
        during: &'static str,
        /// What the connection said.
        reason: String,
    },
    /// The peer refused or failed the call, with its own kind.
    #[error("peer {peer}: {error}")]
    Remote {
        /// The peer.
        peer: PeerId,
        /// What it answered (boxed: it keeps `PeerError` small).
        error: Box<RemoteError>,
    },
    /// No answer came within the run's deadline plus the grace.
    #[error("peer {peer} did not answer within {after:?} (the run's deadline and the grace)")]
    Timeout {
        /// The peer (its id, or the address it was asked at).
        peer: String,
        /// How long was waited.
        after: Duration,
    },
    /// The peer's answer carried no receipt, or one that is not the peer's
    /// signed receipt of the run asked for.
    #[error("peer {peer} sent a bad receipt: {reason}")]
    BadReceipt {
        /// The peer.
        peer: PeerId,
        /// What is wrong with it.
        reason: String,
    },
    /// No one served the child's bytes (each attempt says how it failed).
    #[error("no peer served {child}: {}", attempts.join("; "))]
    ChildUnavailable {
        /// The child.
        child: String,
        /// `<peer> <what it did>`, in the order tried.
        attempts: Vec<String>,
    },
    /// This Mother's own store or runs.
    #[error(transparent)]
    Mother(#[from] MotherError),
    /// The membrane of this Mother.
    #[error(transparent)]
    Membrane(#[from] MembraneError),
    /// A thread or file of this node.
    #[error("{context}: {source}")]
    Io {
        /// What the node was doing.
        context: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The node has stopped.
    #[error("the peer node has stopped")]
    Stopped,
}

impl PeerError {
    /// A stable, short name of the error's kind; a peer's answer keeps the
    /// kind the peer sent.
    pub fn kind(&self) -> &str {
        match self {
            Self::Remote { error, .. } => &error.kind,
            Self::Mother(error) => error.kind(),
            Self::Membrane(error) => error.wire_kind(),
            other => other.own_kind(),
        }
    }

    /// The kind of a failure of this crate's own (not a peer's answer,
    /// not the Mother's or the membrane's).
    fn own_kind(&self) -> &'static str {
        match self {
            Self::Config { .. } => "bad-config",
            Self::BadTarget(_) => "bad-peer",
            Self::Net(error) => error.kind(),
            Self::Unreachable { .. } => "peer-unreachable",
            Self::Disconnected { .. } => "peer-disconnected",
            Self::Timeout { .. } => "peer-timeout",
            Self::BadReceipt { .. } => "bad-receipt",
            Self::ChildUnavailable { .. } => "child-unavailable",
            Self::Io { .. } => "io",
            Self::Stopped => "stopped",
            // Not this crate's own: `kind` answers theirs.
            Self::Remote { .. } | Self::Mother(_) | Self::Membrane(_) => "peer-error",
        }
    }
}

impl From<PeerError> for MembraneError {
    fn from(error: PeerError) -> Self {
        match error {
            PeerError::Remote { peer, error } => MembraneError::Remote(RemoteError::new(
                error.kind,
                format!("peer {peer}: {}", error.message),
            )),
            PeerError::Mother(error) => MembraneError::Mother(error),
            PeerError::Membrane(error) => error,
            PeerError::Stopped => MembraneError::NotOnNetwork,
            other => MembraneError::Network {
                kind: other.own_kind(),
                message: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peers_kind_survives_into_the_membrane_and_onto_the_wire() {
        let peer = patina_net::peer_id_from_seed(&[5; 32]);
        let refused = PeerError::Remote {
            peer,
            error: Box::new(RemoteError::new(
                "grant-above-ceiling",
                "grant `kv` is above …",
            )),
        };
        assert_eq!(refused.kind(), "grant-above-ceiling");
        let membrane = MembraneError::from(refused);
        assert_eq!(membrane.wire_kind(), "grant-above-ceiling");
        assert!(
            membrane.to_string().contains(&peer.to_string()),
            "{membrane}"
        );
        let late = MembraneError::from(PeerError::Timeout {
            peer: peer.to_string(),
            after: Duration::from_secs(3),
        });
        assert_eq!(
            (late.kind(), late.wire_kind()),
            ("peer-timeout", "peer-timeout")
        );
    }
}
