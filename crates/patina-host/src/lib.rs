//! `patina-host`: the embeddable Patina child host.
//!
//! Load a WebAssembly component ("child") from its bytes, see its imports and
//! exports with their WIT types, and call any export with typed arguments —
//! under explicit grants and hard limits:
//!
//! ```no_run
//! # async fn demo(bytes: &[u8]) -> Result<(), patina_host::HostError> {
//! use patina_host::{Call, Host, HostConfig, RunRequest};
//!
//! let host = Host::new(HostConfig::with_toys(patina_toys::log_only(), None))?;
//! let child = host.load(bytes)?;
//! let mut request = RunRequest::new(Call::Wave("greet(\"ann\")".into()));
//! request.grants.push("log".parse()?);
//! let report = host.run(&child, &request).await?;
//! println!("{}", report.wave().unwrap_or_default());
//! # Ok(()) }
//! ```
//!
//! Deny by default: the WASI base interfaces are linked for every child but
//! carry no authority (no environment, no preopened directory, every socket
//! address denied, stdio captured, stdin empty). Authority comes only from
//! grants. This crate must never give a child anything a grant did not name,
//! never let a child's failure take the host down, and never pull in
//! networking or peer code: it is usable on its own.

mod ambient;
mod ambient_value;
mod atomic;
mod base;
mod cache;
mod child;
mod describe;
mod engine;
mod error;
mod functions;
mod grants;
mod host;
mod http;
mod linker;
mod plan;
mod preopen;
mod replay;
mod report;
mod request;
mod run;
mod state;
mod tape;
pub mod values;
mod wasi;

pub use atomic::write_atomically;
pub use cache::ArtifactCache;
pub use child::Child;
pub use describe::{
    DescribeError, Description, FunctionSchema, FunctionSignature, ItemDescription, ItemKind,
    JSON_SCHEMA_DIALECT, ParamSchema, describe_component,
};
pub use engine::{EPOCH_TICK, EngineConfig, MAX_TOY_CALL_ELEMENTS, TOY_CALL_BUDGET};
pub use error::{
    HostError, IoError, LimitTooLarge, LoadError, MissingGrant, OutputStream, RunFailure,
    RunRefused,
};
pub use functions::{ExportedFunction, FunctionIndex};
pub use grants::{Preopen, ResolvedGrants};
pub use host::{Host, HostConfig};
pub use http::incoming::{HttpCall, HttpReply, MAX_HTTP_BODY, MAX_HTTP_HEADERS};
pub use plan::{ImportStatus, import_status};
pub use replay::ReplayReport;
pub use report::{Returned, RunReport, unix_millis};
pub use request::{Call, ReplaySource, RunMode, RunRequest};

pub use patina_core::{ChildId, Grant, Limits};
pub use patina_toy::{LogLevel, LogLine, ToyRegistry};
pub use wasmtime::component::Val;
