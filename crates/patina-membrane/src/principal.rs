//! [`Principal`]: who a caller is, as the door that let it in proved it — an
//! Ed25519 key (a login on a socket, or a peer's authenticated connection),
//! a bearer token (HTTP, MCP over HTTP), or a local caller the home's owner
//! started with a role of their choosing (`mother mcp --role …`).
//!
//! Its text form is what a receipt's header names as the caller
//! (`ed25519:<hex>`, `token:<id>`, `local:<name>`) and what `mother receipts
//! list --caller` filters on. This module proves nothing by itself: each
//! door establishes its principal, and the policy decides what it may do.

use std::fmt;

use crate::policy::{CallerKey, PolicyError};

/// Who is calling.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    /// The holder of an Ed25519 key: a login, or a peer Mother.
    Key(CallerKey),
    /// The bearer of the token with this id (see [`crate::TokenStore`]).
    Token(String),
    /// A caller started on the Mother's own machine by its owner, under a
    /// role the owner chose (an MCP agent over stdio, say), by name.
    Local(String),
}

impl Principal {
    /// The key, for a key principal.
    pub fn key(&self) -> Option<&CallerKey> {
        match self {
            Self::Key(key) => Some(key),
            _ => None,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(key) => write!(f, "ed25519:{key}"),
            Self::Token(id) => write!(f, "token:{id}"),
            Self::Local(name) => write!(f, "local:{name}"),
        }
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Principal({self})")
    }
}

impl From<CallerKey> for Principal {
    fn from(key: CallerKey) -> Self {
        Self::Key(key)
    }
}

impl std::str::FromStr for Principal {
    type Err = PolicyError;

    /// `token:ID`, `local:NAME`, or a key (`ed25519:HEX` or bare hex).
    fn from_str(text: &str) -> Result<Self, PolicyError> {
        let text = text.trim();
        let name_ok = |name: &str| {
            !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        if let Some(id) = text.strip_prefix("token:") {
            return if name_ok(id) {
                Ok(Self::Token(id.to_owned()))
            } else {
                Err(PolicyError::Bad(format!("`{text}` is not a token id")))
            };
        }
        if let Some(name) = text.strip_prefix("local:") {
            return if name_ok(name) {
                Ok(Self::Local(name.to_owned()))
            } else {
                Err(PolicyError::Bad(format!(
                    "`{text}` is not a local caller name"
                )))
            };
        }
        text.parse::<CallerKey>().map(Self::Key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_round_trip_through_their_text() {
        let key = CallerKey([0xab; 32]);
        for principal in [
            Principal::Key(key),
            Principal::Token("3f9a1c2e".into()),
            Principal::Local("claude".into()),
        ] {
            let text = principal.to_string();
            assert_eq!(text.parse::<Principal>().unwrap(), principal, "{text}");
        }
        assert_eq!(
            Principal::Key(key).to_string(),
            format!("ed25519:{}", "ab".repeat(32))
        );
        assert_eq!(
            "ab".repeat(32).parse::<Principal>().unwrap(),
            Principal::Key(key)
        );
        for bad in [
            "token:",
            "local:a b",
            "token:../x",
            "ed25519:12",
            "nonsense",
        ] {
            assert!(bad.parse::<Principal>().is_err(), "{bad}");
        }
    }
}
