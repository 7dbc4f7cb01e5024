//! [`Digest`] and [`ReceiptId`]: blake3 hashes as 64 lowercase hex digits.

use std::fmt;
use std::str::FromStr;

use patina_core::hex32;

use crate::ReceiptError;

/// A blake3 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// blake3 of `domain` (a fixed label, so hashes of different things never
    /// collide) followed by `bytes`.
    pub fn of(domain: &str, bytes: &[u8]) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(domain.as_bytes()).update(&[0]).update(bytes);
        Self(*hasher.finalize().as_bytes())
    }

    /// [`Self::of`] the concatenation of `parts`, hashed one after the
    /// other (nothing is copied to join them).
    pub(crate) fn of_parts(domain: &str, parts: &[&[u8]]) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(domain.as_bytes()).update(&[0]);
        for part in parts {
            hasher.update(part);
        }
        Self(*hasher.finalize().as_bytes())
    }

    /// The 64 hex digits.
    pub fn hex(&self) -> String {
        hex32("", &self.0).as_str().to_owned()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(hex32("", &self.0).as_str())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = ReceiptError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| ReceiptError::BadId(s.to_owned()))?;
        Ok(Self(bytes))
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(hex32("", &self.0).as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The id of a receipt: the digest of everything in it but the signature.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ReceiptId(pub Digest);

impl ReceiptId {
    /// The 64 hex digits.
    pub fn hex(&self) -> String {
        self.0.hex()
    }

    /// The first 12 hex digits, for display.
    pub fn short(&self) -> String {
        self.hex()[..12].to_owned()
    }

    /// Whether `prefix` (hex, at least 4 digits) starts this id.
    pub fn matches_prefix(&self, prefix: &str) -> bool {
        prefix.len() >= 4
            && prefix.len() <= 64
            && prefix.bytes().all(|b| b.is_ascii_hexdigit())
            && self.hex().starts_with(&prefix.to_ascii_lowercase())
    }
}

impl fmt::Display for ReceiptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for ReceiptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReceiptId({self})")
    }
}

impl FromStr for ReceiptId {
    type Err = ReceiptError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}
