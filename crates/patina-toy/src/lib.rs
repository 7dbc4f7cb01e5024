//! The toy SDK: what a capability provider ("toy") implements, and nothing
//! else. A third party writes a toy against this crate alone.
//!
//! A toy (think of a Spin factor) is
//! - a WIT interface (`patina:toys/log@0.1.0`, `acme:counter/counter@1.0.0`, ...),
//! - a grant kind with a scope syntax, checked and canonicalised once
//!   ([`Toy::canonicalize`]),
//! - per-run state made from the canonical grant ([`Toy::instantiate`]), and
//! - calls served as dynamic component values ([`ToyInstance::call`]), so the
//!   host can link, record and replay every toy with one generic wrapper.
//!
//! Here: the [`Toy`] / [`ToyInstance`] traits, the [`ToyContext`] a run hands
//! a toy, [`ToyError`], the [`ToyRegistry`] a host links from, the
//! [`ToyStateDir`] layout, typed argument helpers ([`Args`], [`vals`]), the
//! [`OutgoingHttp`] backend the host's `wasi:http` sends through, the
//! run's [`LogSink`], [`blocking`], the grant helpers several toys share
//! ([`canonical_fs_grant`]), [`create_private_dir`] and, behind the `sqlite`
//! feature, the opener of the toys' own SQLite stores; in [`typed`], the
//! fast path for functions that move bytes (and the [`RunStore`](typed::RunStore)
//! a run's wasmtime store holds); behind `wit`, the
//! check of a toy's functions against its WIT interface (for tests).
//!
//! What this crate must never do: contain a backend (no toy of Patina's own
//! lives here: they are `patina-toy-*`, gathered by the `patina-toys`
//! facade), or depend on anything beyond `patina-core`, `wasmtime` and small
//! support crates — so that implementing one toy never compiles gix, ureq,
//! notify, rusqlite (unless asked for with `sqlite`) or cap-std.
//!
//! Toys must never reach past their grant's scope, never touch another
//! child's state, and never panic on a child's input: a malformed call is a
//! [`ToyError`], which ends the run with a typed error.

mod args;
mod grant;
pub mod log;
pub mod outgoing;
mod registry;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod toy;
pub mod typed;
#[cfg(feature = "wit")]
pub mod wit;

pub use args::{Args, expect_arity, vals};
pub use grant::canonical_fs_grant;
pub use log::{LogLevel, LogLine, LogSink};
pub use outgoing::{HttpAnswer, HttpError, HttpRequest, HttpResponse, OutgoingHttp};
pub use registry::{ToyRegistry, ToyStateDir, create_private_dir};
pub use toy::{Toy, ToyContext, ToyError, ToyInstance, blocking, patina_interface};

/// The vocabulary a toy speaks (re-exported from `patina-core`, so that a
/// toy needs this crate alone).
pub use patina_core::{ChildId, FsAccess, FsScope, Grant, GrantError, Limits, ToyName};

/// The dynamic component value type toys are called with (re-exported from wasmtime).
pub use wasmtime::component::Val;
