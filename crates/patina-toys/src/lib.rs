//! Toys: the capability interfaces a child may import, one pluggable unit each.
//!
//! A toy (think of a Spin factor) is
//! - a WIT interface in `wit/` (`patina:toys/log@0.1.0`, ...),
//! - a grant kind with a scope syntax, checked and canonicalised once
//!   ([`Toy::canonicalize`]),
//! - per-run state made from the canonical grant ([`Toy::instantiate`]), and
//! - calls served as dynamic component values ([`ToyInstance::call`]), so the
//!   host can link, record and replay every toy with one generic wrapper.
//!
//! A third party adds a toy by implementing [`Toy`] in its own crate and
//! registering it in a [`ToyRegistry`]. Toys must never reach past their grant's
//! scope, never touch another child's state, and never panic on a child's input:
//! a malformed call is a [`ToyError`], which ends the run with a typed error.

mod args;
mod blob;
mod fs;
mod fs_watch;
mod git;
mod http;
mod invoke;
mod kv;
mod log;
pub mod measure;
mod registry;
mod sqlite_busy;
mod toy;

pub use args::{Args, expect_arity, vals};
pub use blob::{BlobToy, MAX_BLOB};
pub use fs::{FsToy, MAX_LIST as MAX_FS_LIST, MAX_READ as MAX_FS_READ, canonical_fs_grant};
pub use fs_watch::{FsWatchToy, MAX_WAIT_MS};
pub use git::GitToy;
pub use http::{HttpToy, MAX_BODY as MAX_HTTP_BODY};
pub use invoke::{
    Invocation, InvokeAnswer, InvokeRequest, InvokeToy, Invoker, InvokerSlot, MAX_DEPTH,
};
pub use kv::KvToy;
pub use log::{LogLevel, LogLine, LogSink, LogToy};
pub use measure::{MeasureToy, MetricsStore};
pub use registry::{ToyRegistry, ToyStateDir, create_private_dir};
pub use toy::{Toy, ToyContext, ToyError, ToyInstance, blocking};

/// The dynamic component value type toys are called with (re-exported from wasmtime).
pub use wasmtime::component::Val;
