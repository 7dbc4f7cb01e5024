//! The host's typed errors, split by when they happen, each with a stable
//! `kind()` that programs (and `mother --json`) can match on:
//!
//! - [`LoadError`]: the bytes could not be loaded (not wasm, a core module,
//!   invalid, not describable, the artifact cache failed);
//! - [`RunRefused`]: a run was refused before any child code ran (bad call or
//!   arguments, bad or missing grants, a limit too large, another child than
//!   the receipt's, a link failure);
//! - [`RunFailure`]: how a run that started ended without results (trap, out
//!   of fuel, deadline, memory, denial, toy failure, divergence, ...) — the
//!   `Err` of [`RunReport::outcome`](crate::RunReport::outcome), cloneable and
//!   serialisable so it can travel with a report;
//! - [`HostError`]: any of the first two, or what fails setting a host up,
//!   so `?` keeps working for callers.
//!
//! Every kind string is part of the interface: a receipt records the kind of
//! a failed run, so a kind must never change once published.

mod failure;
mod load;
mod refused;

pub use failure::{OutputStream, RunFailure};
pub use load::LoadError;
pub use refused::{LimitTooLarge, MissingGrant, RunRefused};

use patina_core::GrantError;

/// A file or directory operation of the host that failed, with what the host
/// was doing.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct IoError {
    /// What the host was doing.
    pub context: String,
    /// The underlying error.
    #[source]
    pub source: std::io::Error,
}

impl IoError {
    pub(crate) fn new(context: impl Into<String>, source: std::io::Error) -> Self {
        Self {
            context: context.into(),
            source,
        }
    }
}

/// Why a host could not be set up, a child loaded or a run started.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The engine could not be set up.
    #[error("engine: {0}")]
    Engine(String),
    /// A file or directory the host needed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The bytes could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A run was refused before it started.
    #[error(transparent)]
    Refused(#[from] RunRefused),
}

impl HostError {
    /// A stable, machine-readable name of the error's kind (`engine`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Engine(_) => "engine",
            Self::Io(_) => "io",
            Self::Load(error) => error.kind(),
            Self::Refused(error) => error.kind(),
        }
    }
}

impl From<GrantError> for HostError {
    fn from(error: GrantError) -> Self {
        Self::Refused(RunRefused::Grant(error))
    }
}
