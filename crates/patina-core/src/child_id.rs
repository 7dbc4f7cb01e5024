//! [`ChildId`]: a child's identity is the blake3 digest of its component bytes.
//!
//! Printed as `b3:<64 hex digits>`. Never derived from a name, a path or a
//! signature: the same bytes have the same id on every host.

use std::fmt;
use std::str::FromStr;

/// The prefix of the text form of a [`ChildId`].
const PREFIX: &str = "b3:";

/// Blake3 digest of a component's bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildId([u8; 32]);

/// A text that is not a valid child id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChildIdError {
    /// The text does not start with `b3:`.
    #[error("child id `{0}` must start with `b3:`")]
    MissingPrefix(String),
    /// The digest is not 64 lowercase or uppercase hex digits.
    #[error("child id `{0}` must be `b3:` followed by 64 hex digits")]
    BadDigest(String),
}

impl ChildId {
    /// The id of the given component bytes.
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// Wraps a digest that was computed elsewhere.
    pub const fn from_digest(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// The raw digest.
    pub const fn digest(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest as 64 lowercase hex digits, without the `b3:` prefix.
    pub fn hex(&self) -> String {
        crate::hex32("", &self.0).as_str().to_owned()
    }

    /// The first `n` hex digits, for compact display (`b3:1a2b3c4d`).
    pub fn short(&self) -> String {
        let mut hex = self.hex();
        hex.truncate(12);
        format!("{PREFIX}{hex}")
    }

    /// Whether `text` (with or without `b3:`) is a prefix of this id's hex digest.
    /// An empty prefix matches nothing, so a user never picks a child by accident.
    pub fn matches_prefix(&self, text: &str) -> bool {
        let digits = text.strip_prefix(PREFIX).unwrap_or(text);
        !digits.is_empty()
            && digits.len() <= 64
            && digits.bytes().all(|b| b.is_ascii_hexdigit())
            && self.hex().starts_with(&digits.to_ascii_lowercase())
    }
}

impl fmt::Display for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::hex32(PREFIX, &self.0).as_str())
    }
}

impl fmt::Debug for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChildId({self})")
    }
}

impl FromStr for ChildId {
    type Err = ChildIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s
            .strip_prefix(PREFIX)
            .ok_or_else(|| ChildIdError::MissingPrefix(s.to_owned()))?;
        let mut digest = [0u8; 32];
        hex::decode_to_slice(digits, &mut digest)
            .map_err(|_| ChildIdError::BadDigest(s.to_owned()))?;
        Ok(Self(digest))
    }
}

impl serde::Serialize for ChildId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(crate::hex32(PREFIX, &self.0).as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ChildId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Whether `name` can name an installed child: 1 to 128 ASCII letters,
/// digits, `-`, `_` and `.`, not starting with `.` (so a name is also a safe
/// file name, and never `.` or `..`).
pub fn is_valid_child_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_blake3_of_bytes_and_round_trips() {
        let id = ChildId::of(b"hello");
        assert_eq!(
            id.to_string(),
            "b3:ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f"
        );
        assert_eq!(id.to_string().parse::<ChildId>(), Ok(id));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<ChildId>(&json).unwrap(), id);
    }

    #[test]
    fn bad_text_is_rejected() {
        assert!(matches!(
            "ea8f".parse::<ChildId>(),
            Err(ChildIdError::MissingPrefix(_))
        ));
        assert!(matches!(
            "b3:zz".parse::<ChildId>(),
            Err(ChildIdError::BadDigest(_))
        ));
        assert!(matches!(
            "b3:ea8f".parse::<ChildId>(),
            Err(ChildIdError::BadDigest(_))
        ));
    }

    #[test]
    fn prefixes_match_like_git() {
        let id = ChildId::of(b"hello");
        assert!(id.matches_prefix("b3:ea8f16"));
        assert!(id.matches_prefix("EA8F16"));
        assert!(!id.matches_prefix(""));
        assert!(!id.matches_prefix("b3:"));
        assert!(!id.matches_prefix("ea8f17"));
        assert!(!id.matches_prefix("ea8g"));
        assert_eq!(id.short(), "b3:ea8f163db386");
    }
}
