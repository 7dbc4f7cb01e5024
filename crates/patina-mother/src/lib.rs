//! `patina-mother`: a Patina Mother as a library — the child host, the
//! installed children, the Mother's identity and its receipt chain — and
//! the serialisable [`RunSpec`] / [`RunSummary`] that every door into a
//! Mother (the `mother` CLI, later a socket, libp2p peers, HTTP, MCP) serves.
//!
//! ```no_run
//! # async fn demo(wasm: std::path::PathBuf) -> Result<(), patina_mother::MotherError> {
//! use patina_mother::{CallSpec, ChildRef, InstallSpec, Mother, MotherConfig, RunSpec};
//!
//! let mother = Mother::open(MotherConfig::new("/tmp/my-mother"))?;
//! let installed = mother.install_file(wasm, InstallSpec::default()).await?;
//! let spec = RunSpec::new(
//!     ChildRef::Installed(installed.child.to_string()),
//!     CallSpec::Wave("add(2, 3)".into()),
//! );
//! let run = mother.run(spec).await?;
//! println!("{}", serde_json::to_string(&run.summary()).unwrap_or_default());
//! if let Some(receipt) = &run.receipt {
//!     patina_receipts::verify(receipt)?;
//! }
//! # Ok(()) }
//! ```
//!
//! `examples/embed.rs` is the same as a program. Every operation is `async`
//! and keeps blocking work (SQLite, file I/O, hashing, compilation) off the
//! async runtime with `tokio::task::spawn_blocking`; [`Mother`] is cheap to
//! clone, `Send + Sync`, and its futures are `Send`, so one Mother serves
//! many tasks at once. A recorded run always comes back with its receipt,
//! already signed and appended to the chain.
//!
//! This crate must never decide a caller's authority (that is the
//! membrane's job above it), never let a grant reach the Mother's home, and
//! never pull in peer networking or a server (the `http` toy's client is
//! reached only through a grant): it sits on `patina-host`, `patina-toys`
//! and `patina-receipts` only.

mod blocking;
mod children;
mod error;
mod home;
mod http;
mod install;
mod invoker;
mod metrics;
mod mother;
mod receipts;
mod recorder;
mod refs;
mod run;
mod runner;
mod stats;
mod wire;

pub use blocking::BlockingWork;
pub use children::{ChildStore, InstalledChild, pick_child};
pub use error::{MotherError, chain_message, known_kind};
pub use home::MotherHome;
pub use http::HttpOutput;
pub use install::{Inspection, InstallSpec};
pub use invoker::MotherInvoker;
pub use metrics::MeasuredChild;
pub use mother::{Mother, MotherConfig, ReceiptBackend};
pub use patina_host::{HttpCall, HttpReply};
pub use receipts::{ChainLink, Imported, Verified};
pub use recorder::{CommitMode, Recorder};
pub use refs::{ChildRef, ReceiptRef};
pub use run::ReplayOutput;
pub use runner::{RunOutput, Runner};
pub use stats::{DURATION_BUCKETS, RunStats, RunStatsSnapshot};
pub use wire::{
    CallSpec, ErrorSummary, Installed, LimitsSpec, ModeSpec, ReplaySummary, RunOutcome, RunSpec,
    RunSummary, exit_status, parse_grants,
};

/// Compile-time checks: the host and the Mother can be shared between
/// threads, and the futures of their operations can move between them (a
/// multi-thread runtime, `tokio::spawn`).
mod assertions {
    use super::{ChildRef, Mother, ReceiptRef, RunSpec};

    const fn send_sync<T: Send + Sync>() {}
    const _: () = send_sync::<patina_host::Host>();
    const _: () = send_sync::<Mother>();

    fn send<T: Send>(_: &T) {}

    #[allow(dead_code)]
    fn futures_are_send(mother: &Mother, spec: RunSpec, child: &ChildRef, receipt: &ReceiptRef) {
        send(&mother.run(spec));
        send(&mother.replay(receipt));
        send(&mother.load(child));
        send(&mother.install(Vec::new(), Default::default()));
        send(&mother.import_receipt(Vec::new()));
        send(&mother.metrics(None));
        send(&mother.handle_http(
            child,
            super::HttpCall::new("GET", "/"),
            &[],
            Default::default(),
        ));
    }
}
