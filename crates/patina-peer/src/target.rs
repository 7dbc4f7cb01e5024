//! [`PeerTarget`]: how a peer is named on the command line and in the
//! `network.*` methods — its peer id, or a multiaddr to dial (which, when it
//! ends in `/p2p/<peer id>`, is checked against the peer that answers).

use std::fmt;
use std::str::FromStr;

use patina_net::{Multiaddr, PeerId};

use crate::PeerError;

/// A peer to reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerTarget {
    /// A peer id: reached at an address the node knows (bootstrap, DHT,
    /// identify, an earlier dial).
    Id(PeerId),
    /// An address to dial.
    Addr(Multiaddr),
}

impl FromStr for PeerTarget {
    type Err = PeerError;

    fn from_str(text: &str) -> Result<Self, PeerError> {
        let text = text.trim();
        let bad = || PeerError::BadTarget(text.chars().take(200).collect());
        if text.starts_with('/') {
            text.parse().map(Self::Addr).map_err(|_| bad())
        } else {
            text.parse().map(Self::Id).map_err(|_| bad())
        }
    }
}

impl fmt::Display for PeerTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(peer) => write!(f, "{peer}"),
            Self::Addr(addr) => write!(f, "{addr}"),
        }
    }
}

impl From<PeerId> for PeerTarget {
    fn from(peer: PeerId) -> Self {
        Self::Id(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_addresses_parse_and_the_rest_is_refused() {
        let peer = patina_net::peer_id_from_seed(&[1; 32]);
        assert_eq!(
            peer.to_string().parse::<PeerTarget>().unwrap(),
            PeerTarget::Id(peer)
        );
        let addr = format!("/ip4/127.0.0.1/tcp/4001/p2p/{peer}");
        let target: PeerTarget = addr.parse().unwrap();
        assert_eq!(target.to_string(), addr);
        for bad in ["", "peer", "/ip4/999.0.0.1/tcp/1", "12D3KooWnot"] {
            let error = bad.parse::<PeerTarget>().unwrap_err();
            assert_eq!(error.kind(), "bad-peer", "{bad}");
        }
    }
}
