//! Identity: a node's libp2p key is the Mother's Ed25519 key, made from the
//! same 32-byte seed `patina_receipts::Identity::from_seed` takes, so a peer
//! id *is* a Mother's key and a receipt's signer can be checked against the
//! peer that answered.
//!
//! This module converts between seeds, peer ids and 32-byte Ed25519 public
//! keys. It must never hold or log a seed longer than it takes to build the
//! keypair, and never invent a key for a peer id that does not inline one.

use libp2p::PeerId;
use libp2p::identity::{Keypair, PublicKey, ed25519};

/// The multihash code of an inlined key (the "identity" hash).
const IDENTITY_MULTIHASH: u64 = 0x00;

/// The libp2p keypair made from a Mother's 32-byte Ed25519 seed.
pub fn keypair_from_seed(seed: &[u8; 32]) -> Keypair {
    // `ed25519_from_bytes` zeroes what it is given: hand it a copy.
    // It fails only on a length other than 32, which the type rules out.
    Keypair::ed25519_from_bytes(*seed).expect("32 bytes are always an Ed25519 secret key")
}

/// The peer id of the node built from this seed.
pub fn peer_id_from_seed(seed: &[u8; 32]) -> PeerId {
    keypair_from_seed(seed).public().to_peer_id()
}

/// The 32-byte Ed25519 public key a peer id carries, or `None` when the peer
/// id is not an inlined Ed25519 key (another key type, or a hash).
pub fn peer_id_to_ed25519(peer: &PeerId) -> Option<[u8; 32]> {
    let multihash: &libp2p::multihash::Multihash<64> = peer.as_ref();
    if multihash.code() != IDENTITY_MULTIHASH {
        return None;
    }
    let key = PublicKey::try_decode_protobuf(multihash.digest()).ok()?;
    Some(key.try_into_ed25519().ok()?.to_bytes())
}

/// The peer an address names with its last component, `/p2p/<peer id>`.
pub fn peer_in(addr: &libp2p::Multiaddr) -> Option<PeerId> {
    match addr.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(peer)) => Some(peer),
        _ => None,
    }
}

/// `addr` ending in `/p2p/<peer>` (unchanged if it names a peer already).
pub fn with_peer(addr: libp2p::Multiaddr, peer: PeerId) -> libp2p::Multiaddr {
    if peer_in(&addr).is_some() {
        addr
    } else {
        addr.with(libp2p::multiaddr::Protocol::P2p(peer))
    }
}

/// The peer id of the Ed25519 public key `key`, or `None` when the bytes are
/// not a valid Ed25519 point.
pub fn ed25519_to_peer_id(key: &[u8; 32]) -> Option<PeerId> {
    let key = ed25519::PublicKey::try_from_bytes(key).ok()?;
    Some(PublicKey::from(key).to_peer_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_names_its_peer_once() {
        let peer = peer_id_from_seed(&[4; 32]);
        let base: libp2p::Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        assert_eq!(peer_in(&base), None);
        let named = with_peer(base, peer);
        assert_eq!(peer_in(&named), Some(peer));
        assert_eq!(with_peer(named.clone(), peer), named);
    }

    #[test]
    fn seed_peer_id_and_key_round_trip() {
        let seed = [42u8; 32];
        let peer = peer_id_from_seed(&seed);
        let key = peer_id_to_ed25519(&peer).expect("an Ed25519 peer id");
        assert_eq!(ed25519_to_peer_id(&key), Some(peer));
        assert_eq!(keypair_from_seed(&seed).public().to_peer_id(), peer);
        assert_ne!(peer_id_from_seed(&[43u8; 32]), peer);
    }

    #[test]
    fn a_peer_id_without_an_inlined_ed25519_key_has_none() {
        // A random identity multihash is not a protobuf-encoded key.
        let random = PeerId::from_multihash(
            libp2p::multihash::Multihash::wrap(IDENTITY_MULTIHASH, &[7u8; 32]).unwrap(),
        )
        .unwrap();
        assert_eq!(peer_id_to_ed25519(&random), None);
        // A sha2-256 peer id (how large keys are named) carries no key.
        let hashed =
            PeerId::from_multihash(libp2p::multihash::Multihash::wrap(0x12, &[9u8; 32]).unwrap())
                .unwrap();
        assert_eq!(peer_id_to_ed25519(&hashed), None);
    }
}
