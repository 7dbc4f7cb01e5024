//! [`CallerKey`]: a caller's Ed25519 public key, as the policy names it.

use super::*;

/// A caller's public key (Ed25519, 32 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallerKey(pub [u8; 32]);

impl fmt::Display for CallerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for CallerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallerKey({self})")
    }
}

impl std::str::FromStr for CallerKey {
    type Err = PolicyError;
    fn from_str(text: &str) -> Result<Self, PolicyError> {
        // `mother key` prints the key with its `ed25519:`-style prefix.
        let digits = text.trim().rsplit(':').next().unwrap_or_default();
        let bytes = hex::decode(digits)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                PolicyError::Bad(format!(
                    "`{text}` is not a caller key (64 hex digits, as `mother key` prints)"
                ))
            })?;
        Ok(Self(bytes))
    }
}
