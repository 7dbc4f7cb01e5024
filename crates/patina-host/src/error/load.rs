//! [`LoadError`]: why component bytes could not become a [`Child`](crate::Child).
//!
//! Only what fails before a run is even asked for belongs here; nothing here
//! may depend on a run's call, grants or limits.

use crate::describe::DescribeError;

use super::IoError;

/// Why component bytes could not be loaded (or described).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not WebAssembly at all.
    #[error("not a WebAssembly component: {0}")]
    NotWasm(String),
    /// The bytes are a core module, not a component.
    #[error(
        "this is a core WebAssembly module, not a component (wrap it with `wasm-tools component new`)"
    )]
    CoreModule,
    /// The bytes claim to be a component but do not validate or compile (or
    /// an installed copy no longer hashes to its id).
    #[error("invalid component: {0}")]
    InvalidComponent(String),
    /// The component compiled but its WIT surface cannot be described. (Not
    /// a `#[source]`: the message already says it, once.)
    #[error("invalid component: {0}")]
    Undescribable(DescribeError),
    /// The compiled-artifact cache failed (the run can still compile afresh).
    #[error("artifact cache: {0}")]
    Cache(String),
    /// A file or directory of the artifact cache.
    #[error(transparent)]
    Io(#[from] IoError),
}

impl LoadError {
    /// A stable, machine-readable name of the error's kind (`not-wasm`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotWasm(_) => "not-wasm",
            Self::CoreModule => "core-module",
            Self::InvalidComponent(_) | Self::Undescribable(_) => "invalid-component",
            Self::Cache(_) => "cache",
            Self::Io(_) => "io",
        }
    }
}
