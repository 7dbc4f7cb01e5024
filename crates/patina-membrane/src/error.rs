//! [`MembraneError`]: why the membrane refused or failed a call, each with a
//! stable [`MembraneError::kind`]; and [`RemoteError`], the same seen from
//! the client side of a connection.
//!
//! On the wire a refusal is a Cap'n Proto exception whose description is
//! `[kind] message` (see `capnp/membrane.capnp`); [`RemoteError::from`]
//! reads it back. This module must never invent a kind for a Mother error
//! that already has one: those pass through as the Mother's own kind.

use patina_mother::MotherError;

/// Why the membrane refused (or could not do) what a caller asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MembraneError {
    /// The caller's role does not include this method.
    #[error("role `{role}` may not call {method}")]
    Denied {
        /// The caller's role.
        role: String,
        /// The method, e.g. `receipts.export`.
        method: String,
    },
    /// A child outside the caller's list.
    #[error("role `{role}` may not use child `{child}`")]
    ChildDenied {
        /// The caller's role.
        role: String,
        /// The child as asked for.
        child: String,
    },
    /// A receipt the caller may not see (not one of its own runs).
    #[error("role `{role}` may see only the receipts of its own runs, not {receipt}")]
    ReceiptDenied {
        /// The caller's role.
        role: String,
        /// The receipt.
        receipt: String,
    },
    /// A grant above the role's ceiling.
    #[error("grant `{grant}` is above the ceiling of role `{role}` ({ceiling})")]
    GrantAboveCeiling {
        /// The grant asked for.
        grant: String,
        /// The caller's role.
        role: String,
        /// The role's ceiling, in text form (`none` when it has none).
        ceiling: String,
    },
    /// A grant above the role's ceiling that a person at the caller's client
    /// may approve for this one run (the role's `ask` list).
    #[error("grant `{grant}` needs the approval of a person for role `{role}`")]
    ApprovalRequired {
        /// The grant asked for.
        grant: String,
        /// The caller's role.
        role: String,
    },
    /// An approval for a grant the role may not have approved.
    #[error("grant `{grant}` cannot be approved for role `{role}` (not in its `ask` list)")]
    NotApprovable {
        /// The grant.
        grant: String,
        /// The caller's role.
        role: String,
    },
    /// A bearer that is not a live token, or a caller the policy does not know.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// A limit above the role's ceiling.
    #[error("{limit} {asked} is above the ceiling of role `{role}` ({ceiling})")]
    LimitAboveCeiling {
        /// `fuel`, `timeout_ms` or `memory`.
        limit: &'static str,
        /// What was asked.
        asked: u64,
        /// The ceiling.
        ceiling: u64,
        /// The caller's role.
        role: String,
    },
    /// A live run (no receipt) asked for by a role that runs recorded only.
    #[error(
        "role `{role}` may run children only recorded, not live (a live run leaves no receipt)"
    )]
    LiveDenied {
        /// The caller's role.
        role: String,
    },
    /// Installing under a name (or with install grants) needs a role that may.
    #[error("role `{role}` may install only by digest (no name, no install grants)")]
    InstallNamed {
        /// The caller's role.
        role: String,
    },
    /// More runs than the role's rate allows.
    #[error("role `{role}` may start at most {per_second} runs a second (burst {burst})")]
    RateLimited {
        /// The caller's role.
        role: String,
        /// The rate.
        per_second: f64,
        /// The burst.
        burst: u32,
    },
    /// A capability issued under an older epoch.
    #[error(
        "capability issued under epoch {issued}, the Mother is at epoch {current}: log in again"
    )]
    StaleEpoch {
        /// The capability's epoch.
        issued: u64,
        /// The Mother's.
        current: u64,
    },
    /// A request a caller of this door may not make, or that does not parse.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Too many logins at once.
    #[error("{0}")]
    Busy(String),
    /// A connection that did not log in in time.
    #[error("no login within {0:?}")]
    LoginTimeout(std::time::Duration),
    /// A child this Mother lacks, which the caller's role may not have
    /// fetched and stored here (it needs `runtime.install`, or the child's
    /// id in its `children`).
    #[error(
        "{child} is not held here, and role `{role}` may not have it fetched (it needs runtime.install or the child's id in its children)"
    )]
    FetchDenied {
        /// The child.
        child: String,
        /// The caller's role.
        role: String,
    },
    /// A network method on a Mother that serves no peers.
    #[error("this Mother is not on a network (serve it with `mother serve --listen ADDR`)")]
    NotOnNetwork,
    /// The network layer failed (a peer unreachable, no provider, a bad
    /// receipt from a peer, a deadline); `kind` is its own.
    #[error("{message}")]
    Network {
        /// The network layer's kind (`peer-unreachable`, `child-unavailable`, ...).
        kind: &'static str,
        /// What happened.
        message: String,
    },
    /// What a peer Mother answered: its own refusal or failure, with the
    /// kind it sent (passed on as it is on the wire).
    #[error("the peer answered: {0}")]
    Remote(RemoteError),
    /// What the Mother answered.
    #[error(transparent)]
    Mother(#[from] MotherError),
    /// A connection or protocol failure.
    #[error("rpc: {0}")]
    Rpc(#[from] capnp::Error),
    /// The token file.
    #[error(transparent)]
    Tokens(#[from] crate::TokenError),
    /// A socket or file.
    #[error("{context}: {source}")]
    Io {
        /// What the membrane was doing.
        context: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

impl MembraneError {
    /// The stable, machine-readable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Denied { .. } => "denied",
            Self::ChildDenied { .. } => "child-denied",
            Self::ReceiptDenied { .. } => "receipt-denied",
            Self::GrantAboveCeiling { .. } => "grant-above-ceiling",
            Self::ApprovalRequired { .. } => "approval-required",
            Self::NotApprovable { .. } => "not-approvable",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::LimitAboveCeiling { .. } => "limit-above-ceiling",
            Self::InstallNamed { .. } => "install-named-denied",
            Self::LiveDenied { .. } => "live-denied",
            Self::RateLimited { .. } => "rate-limited",
            Self::StaleEpoch { .. } => "stale-epoch",
            Self::BadRequest(_) => "bad-request",
            Self::Busy(_) => "busy",
            Self::LoginTimeout(_) => "login-timeout",
            Self::FetchDenied { .. } => "fetch-denied",
            Self::NotOnNetwork => "not-on-network",
            Self::Network { kind, .. } => kind,
            Self::Remote(_) => "remote",
            Self::Mother(error) => error.kind(),
            Self::Rpc(_) => "rpc",
            Self::Tokens(error) => error.kind(),
            Self::Io { .. } => "io",
        }
    }

    /// The kind sent on the wire: [`Self::kind`], except that a peer's
    /// answer keeps the kind the peer sent (when it looks like one).
    pub fn wire_kind(&self) -> &str {
        match self {
            Self::Remote(remote) if is_kind(&remote.kind) => &remote.kind,
            other => other.kind(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<MembraneError> for capnp::Error {
    fn from(error: MembraneError) -> Self {
        (&error).into()
    }
}

impl From<&MembraneError> for capnp::Error {
    fn from(error: &MembraneError) -> Self {
        let message = match error {
            MembraneError::Mother(mother) => patina_mother::chain_message(mother),
            other => other.to_string(),
        };
        capnp::Error::failed(format!("[{}] {message}", error.wire_kind()))
    }
}

/// Whether `text` is shaped like a kind: 1 to 40 lower-case letters and dashes.
fn is_kind(text: &str) -> bool {
    (1..=40).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

/// A refusal or failure as a client sees it: the kind and message the
/// server sent (kind `rpc` for a failure of the connection itself).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RemoteError {
    /// The stable kind (`denied`, `stale-epoch`, `unknown-child`, ...).
    pub kind: String,
    /// For people.
    pub message: String,
}

impl RemoteError {
    /// An error of the client's own making.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

impl From<capnp::Error> for RemoteError {
    fn from(error: capnp::Error) -> Self {
        let text = error.extra.as_str();
        let text = text.strip_prefix("remote exception: ").unwrap_or(text);
        if let Some(rest) = text.strip_prefix('[')
            && let Some((kind, message)) = rest.split_once("] ")
            && is_kind(kind)
        {
            return Self::new(kind, message);
        }
        let kind = match error.kind {
            capnp::ErrorKind::Disconnected => "disconnected",
            _ => "rpc",
        };
        Self::new(kind, text)
    }
}

impl From<serde_json::Error> for RemoteError {
    fn from(error: serde_json::Error) -> Self {
        Self::new("bad-json", format!("the server's answer: {error}"))
    }
}

impl From<patina_receipts::ReceiptError> for RemoteError {
    fn from(error: patina_receipts::ReceiptError) -> Self {
        Self::new(error.kind(), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_survives_the_wire() {
        let error: capnp::Error = MembraneError::StaleEpoch {
            issued: 1,
            current: 2,
        }
        .into();
        let remote = RemoteError::from(capnp::Error::failed(format!(
            "remote exception: {}",
            error.extra
        )));
        assert_eq!(remote.kind, "stale-epoch");
        assert!(remote.message.contains("epoch 1"), "{remote:?}");
        let plain = RemoteError::from(capnp::Error::failed("[not a kind".into()));
        assert_eq!(plain.kind, "rpc");
    }
}
