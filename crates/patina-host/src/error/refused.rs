//! [`RunRefused`]: why a run was refused before any child code ran.
//!
//! Everything here is decided from the request, the child's exports and
//! imports, the grants and the host's limits. A refusal must never come from
//! something the child did: that is a [`RunFailure`](super::RunFailure).

use patina_core::{ChildId, GrantError};
use patina_toy::ToyError;

/// An import of a child that no grant covers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MissingGrant {
    /// The import, e.g. `patina:toys/log@0.1.0`.
    pub import: String,
    /// The grant that would cover it, when a toy serves it (e.g. `log`).
    pub grant: Option<String>,
}

impl std::fmt::Display for MissingGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.grant {
            Some(grant) => write!(f, "{} (grant `{grant}`)", self.import),
            None => write!(f, "{} (no toy provides it)", self.import),
        }
    }
}

fn list(missing: &[MissingGrant]) -> String {
    missing
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A limit a run asked for that is outside what this host allows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitTooLarge {
    /// The memory cap is above the host's largest memory.
    #[error("memory cap {asked} is above this host's maximum of {max} bytes")]
    Memory {
        /// The cap asked for, in bytes.
        asked: u64,
        /// The host's maximum, in bytes.
        max: u64,
    },
    /// The deadline is zero or above the host's longest deadline.
    #[error("a deadline of {asked_ms} ms is outside 1 ms to {max_ms} ms")]
    Timeout {
        /// The deadline asked for, in milliseconds.
        asked_ms: u128,
        /// The host's longest deadline, in milliseconds.
        max_ms: u128,
    },
    /// The output cap is above the host's largest.
    #[error("output cap {asked} is above this host's maximum of {max} bytes")]
    Output {
        /// The cap asked for, in bytes.
        asked: u64,
        /// The host's maximum, in bytes.
        max: u64,
    },
}

/// Why a run was refused before it started.
#[derive(Debug, thiserror::Error)]
pub enum RunRefused {
    /// The call names no exported function.
    #[error("no exported function `{name}` (exports: {})", available.join(", "))]
    UnknownFunction {
        /// The name asked for.
        name: String,
        /// The functions the child exports.
        available: Vec<String>,
    },
    /// A shortened function name that matches several exports.
    #[error("`{name}` is ambiguous: {}", candidates.join(", "))]
    AmbiguousFunction {
        /// The name asked for.
        name: String,
        /// Its full names.
        candidates: Vec<String>,
    },
    /// The call expression or its arguments do not fit the WIT signature.
    #[error("bad arguments for `{function}`: {reason}")]
    BadArguments {
        /// The function called.
        function: String,
        /// What did not fit.
        reason: String,
    },
    /// The call could not be parsed.
    #[error("bad call `{call}`: {reason}")]
    BadCall {
        /// The call text.
        call: String,
        /// Why it is not a call.
        reason: String,
    },
    /// A function whose types cannot be given on the command line.
    #[error("`{function}` cannot be called from outside: {reason}")]
    Unsupported {
        /// The function.
        function: String,
        /// What it uses that cannot be written as a value.
        reason: String,
    },
    /// No call was given and the child is not a command.
    #[error("{child} is not a command (it does not export wasi:cli/run); give a call: {}", exports.join(", "))]
    NotACommand {
        /// The child.
        child: ChildId,
        /// What it does export.
        exports: Vec<String>,
    },
    /// An HTTP request was given to a child that does not export
    /// `wasi:http/incoming-handler`.
    #[error("{child} is not an HTTP handler (it does not export wasi:http/incoming-handler): {}", exports.join(", "))]
    NotAnHttpHandler {
        /// The child.
        child: ChildId,
        /// What it does export.
        exports: Vec<String>,
    },
    /// The HTTP request handed to a bridge child is malformed or too large.
    #[error("bad HTTP request: {reason}")]
    BadHttpCall {
        /// What is wrong with it.
        reason: String,
    },
    /// A grant that is malformed, unknown or points at nothing.
    #[error(transparent)]
    Grant(#[from] GrantError),
    /// The child imports something no grant covers.
    #[error("refused: the child imports what was not granted: {}", list(.missing))]
    MissingGrants {
        /// Each uncovered import.
        missing: Vec<MissingGrant>,
    },
    /// The linker could not satisfy the child's imports.
    #[error("cannot link the child: {0}")]
    Link(String),
    /// A limit asked for is larger than this host allows.
    #[error("limit too large: {0}")]
    LimitTooLarge(LimitTooLarge),
    /// A replay was given other bytes than the receipt's child.
    #[error("refused: the receipt is of child {expected}, these bytes are {got}")]
    ReplayChild {
        /// The receipt's child.
        expected: ChildId,
        /// The child given.
        got: ChildId,
    },
    /// A granted toy could not be set up for the run.
    #[error("toy `{toy}`: {source}")]
    Toy {
        /// The toy's interface.
        toy: String,
        /// What failed.
        #[source]
        source: ToyError,
    },
    /// The engine could not set up the run's store (or a replay did not record).
    #[error("engine: {0}")]
    Engine(String),
}

impl RunRefused {
    /// A stable, machine-readable name of the refusal's kind (`missing-grants`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnknownFunction { .. } => "unknown-function",
            Self::AmbiguousFunction { .. } => "ambiguous-function",
            Self::BadArguments { .. } => "bad-arguments",
            Self::BadCall { .. } => "bad-call",
            Self::Unsupported { .. } => "unsupported",
            Self::NotACommand { .. } => "not-a-command",
            Self::NotAnHttpHandler { .. } => "not-an-http-handler",
            Self::BadHttpCall { .. } => "bad-http-call",
            Self::Grant(_) => "bad-grant",
            Self::MissingGrants { .. } => "missing-grants",
            Self::Link(_) => "link",
            Self::LimitTooLarge(_) => "limit-too-large",
            Self::ReplayChild { .. } => "replay-child-mismatch",
            Self::Toy { .. } => "toy",
            Self::Engine(_) => "engine",
        }
    }
}
