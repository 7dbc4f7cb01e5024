//! [`MotherError`]: every way a Mother's operations can fail, each with a
//! stable [`MotherError::kind`] that programs (`mother --json`, and later the
//! peers, the HTTP bridge and MCP) match on.
//!
//! The kind strings are part of the interface: the host's (`out-of-fuel`, ...)
//! and the receipts' (`tampered`, ...) pass through unchanged, and a Mother's
//! own errors reuse the names `mother` always printed for them (`io`,
//! `unknown-child`, `bad-grant`, ...). This module must never invent a new
//! kind for a failure that already has one.

use std::path::PathBuf;

use patina_core::{GrantError, LimitsError};
use patina_host::{HostError, LoadError, RunFailure, RunRefused};
use patina_receipts::ReceiptError;
use patina_toys::ToyError;

/// Why a Mother could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MotherError {
    /// A file or directory the Mother needed.
    #[error("{context}: {source}")]
    Io {
        /// What the Mother was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file named by the caller (a child, a receipt) could not be read.
    #[error("reading {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// The Mother's home could not be created.
    #[error("creating {}", path.display())]
    CreateHome {
        /// The home.
        path: PathBuf,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// The toys' state (kv store, metrics, blobs, ...) could not be opened.
    #[error("opening the toys' state")]
    ToyState(#[source] ToyError),
    /// The metrics store could not be read.
    #[error(transparent)]
    Metrics(ToyError),
    /// No such child is installed.
    #[error("no child `{0}` (give a path to a .wasm file, an installed name or a child id)")]
    UnknownChild(String),
    /// A child id prefix that names several children.
    #[error("`{prefix}` names several children: {}", candidates.join(", "))]
    AmbiguousChild {
        /// The prefix given.
        prefix: String,
        /// The ids it matches.
        candidates: Vec<String>,
    },
    /// A child name that cannot be used.
    #[error(
        "bad child name `{0}`: use letters, digits, `-`, `_` and `.`, not starting with `.` or `b3:`"
    )]
    BadName(String),
    /// Installed bytes that no longer hash to their id.
    #[error("invalid component: {0}")]
    DamagedChild(String),
    /// Component bytes given to `install` that the host refused.
    #[error("installing {what}")]
    Install {
        /// The file (or "the component").
        what: String,
        /// Why the host refused them.
        #[source]
        source: LoadError,
    },
    /// A grant that does not parse.
    #[error(transparent)]
    Grant(GrantError),
    /// A grant that parses but is refused: an unknown toy, a missing
    /// directory, one reaching into the Mother's protected directories.
    #[error(transparent)]
    GrantRefused(GrantError),
    /// Install grants given without a name to invoke the child by.
    #[error("install grants need a name: they apply when another child invokes this one by name")]
    GrantsWithoutName,
    /// A limit written in a form that cannot be read.
    #[error(transparent)]
    Limits(#[from] LimitsError),
    /// The host refused to start the run (a bad call, missing grants, a limit
    /// above the host's maximum, ...): no child code ran and nothing was
    /// recorded.
    #[error(transparent)]
    Refused(RunRefused),
    /// Bytes the host could not load as a child.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The host failed outside a run (its engine).
    #[error(transparent)]
    Host(#[from] HostError),
    /// A receipt could not be stored, found, decoded or verified.
    #[error(transparent)]
    Receipt(#[from] ReceiptError),
    /// A receipt that does not verify was given to replay.
    #[error("refusing to replay a receipt that does not verify")]
    ReplayUnverified(#[source] ReceiptError),
    /// Replay needs the receipt's child bytes, which this Mother lacks.
    #[error("replay needs the child's bytes: install {child} first")]
    ReplayNeedsChild {
        /// The receipt's child.
        child: patina_core::ChildId,
        /// Why they could not be read.
        #[source]
        source: Box<MotherError>,
    },
    /// Blocking work the Mother handed to a worker thread did not finish
    /// (it panicked, or the runtime is shutting down).
    #[error("a Mother task did not finish: {0}")]
    Task(String),
}

impl MotherError {
    /// A stable, machine-readable name of the error's kind (`unknown-child`,
    /// `out-of-fuel`, `tampered`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Io { .. } | Self::Read { .. } | Self::CreateHome { .. } => "io",
            Self::UnknownChild(_) => "unknown-child",
            Self::AmbiguousChild { .. } => "ambiguous-child",
            Self::BadName(_) => "bad-name",
            Self::DamagedChild(_) => "invalid-component",
            Self::Install { source, .. } | Self::Load(source) => source.kind(),
            Self::Refused(source) => source.kind(),
            Self::Host(source) => source.kind(),
            Self::Grant(_) | Self::GrantRefused(_) | Self::GrantsWithoutName => "bad-grant",
            Self::Limits(_) => "bad-limit",
            Self::Receipt(source) | Self::ReplayUnverified(source) => source.kind(),
            Self::ReplayNeedsChild { source, .. } => source.kind(),
            Self::ToyState(source) => chain_kind(source).unwrap_or("error"),
            Self::Metrics(_) | Self::Task(_) => "error",
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn task(error: tokio::task::JoinError) -> Self {
        Self::Task(error.to_string())
    }
}

/// The kind of `error` itself, if it is one of the error types that have
/// one (a Mother's, the host's, the receipts', a grant's, a limit's, bad
/// JSON, I/O). A caller walking an error chain takes the first it finds.
pub fn known_kind(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    if let Some(mother) = error.downcast_ref::<MotherError>() {
        return Some(mother.kind());
    }
    if let Some(host) = error.downcast_ref::<HostError>() {
        return Some(host.kind());
    }
    if let Some(load) = error.downcast_ref::<LoadError>() {
        return Some(load.kind());
    }
    if let Some(refused) = error.downcast_ref::<RunRefused>() {
        return Some(refused.kind());
    }
    if let Some(failure) = error.downcast_ref::<RunFailure>() {
        return Some(failure.kind());
    }
    if let Some(receipt) = error.downcast_ref::<ReceiptError>() {
        return Some(receipt.kind());
    }
    if error.downcast_ref::<GrantError>().is_some() {
        return Some("bad-grant");
    }
    if error.downcast_ref::<LimitsError>().is_some() {
        return Some("bad-limit");
    }
    if error.downcast_ref::<serde_json::Error>().is_some() {
        return Some("bad-json");
    }
    if error.downcast_ref::<std::io::Error>().is_some() {
        return Some("io");
    }
    None
}

/// The first known kind in `error`'s chain (itself first).
fn chain_kind(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(kind) = known_kind(error) {
            return Some(kind);
        }
        cause = error.source();
    }
    None
}

/// `error` and every error under it, joined by `: ` (what `{:#}` of an
/// `anyhow::Error` prints), for a message that carries the whole story.
pub fn chain_message(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        message.push_str(": ");
        message.push_str(&error.to_string());
        cause = error.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_pass_through_wrappers() {
        let io = || std::io::Error::other("disk on fire");
        assert_eq!(MotherError::io("writing", io()).kind(), "io");
        let install = MotherError::Install {
            what: "x.wasm".into(),
            source: LoadError::CoreModule,
        };
        assert_eq!(install.kind(), "core-module");
        assert_eq!(
            chain_message(&install),
            format!("installing x.wasm: {}", LoadError::CoreModule)
        );
        let needs = MotherError::ReplayNeedsChild {
            child: patina_core::ChildId::of(b"x"),
            source: Box::new(MotherError::UnknownChild("b3:00".into())),
        };
        assert_eq!(needs.kind(), "unknown-child");
        assert_eq!(
            MotherError::ToyState(ToyError::Backend("x".into())).kind(),
            "error"
        );
        assert_eq!(known_kind(&io()), Some("io"));
        assert_eq!(known_kind(&ToyError::Backend("x".into())), None);
    }
}
