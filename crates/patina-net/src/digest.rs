//! [`Digest`]: the 32-byte blake3 digest that names content on the network
//! (a DHT key, a blob asked for). Printed `b3:<hex>` like a child id.
//!
//! This module only names bytes; it must never decide what the bytes are
//! (a child, a receipt): the layers above know that, this one does not.

use std::fmt;

/// A blake3 digest: the key of a provider record and the name of a blob.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex of the 32 bytes, without the `b3:` prefix.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The Kademlia key of this digest: its 32 bytes.
    pub(crate) fn record_key(&self) -> libp2p::kad::RecordKey {
        libp2p::kad::RecordKey::new(&self.0)
    }
}

impl From<[u8; 32]> for Digest {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl From<blake3::Hash> for Digest {
    fn from(hash: blake3::Hash) -> Self {
        Self(*hash.as_bytes())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b3:{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_a_child_id() {
        let digest = Digest::of(b"abc");
        assert_eq!(digest, Digest::from(blake3::hash(b"abc")));
        assert_eq!(
            digest.to_string(),
            format!("b3:{}", blake3::hash(b"abc").to_hex())
        );
        assert_eq!(digest.record_key().as_ref(), digest.as_bytes());
    }
}
