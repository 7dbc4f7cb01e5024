//! The hosts under test, behind one trait: each takes a case's child and
//! call and answers with a refusal (its kind) or a signed receipt with its
//! blobs. A host adapter translates; it never judges — the comparison is in
//! `crate::check`. A host that is not on this build yet is listed with the
//! reason, never skipped silently.
//!
//! One file per host, each with `start(&Setup) -> Box<dyn HostUnderTest>`:
//! adding a door is that file, its name in [`ALL`] and its arm in
//! [`start`]. (`mcp/` is a directory: the MCP door driven by the official
//! SDK's client; `home.rs` starts every `mother` process a host runs,
//! `serve_process.rs` a `mother serve` with a session on its socket, and
//! `front.rs` the one such process the served, bridge and peer hosts
//! share.) A
//! host outside this repository needs no Rust at all: `--external
//! NAME=COMMAND` (`external.rs`, the line protocol of `stdio.rs`).

mod bridge;
mod embedded;
mod external;
mod front;
mod home;
mod js;
mod json_call;
mod mcp;
mod peer;
mod serve_process;
mod served;
mod stdio;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use patina_mother::{CallSpec, ChildRef, LimitsSpec, RunSpec};
use patina_receipts::{Blob, Receipt};

use crate::case::{
    Case, DEFAULT_FUEL, DEFAULT_MEMORY, DEFAULT_OUTPUT, DEFAULT_TIMEOUT_MS, ExpectedOutcome, Named,
};

pub use embedded::Embedded;
pub use external::start as start_external;

/// What the hosts are started with.
pub struct Setup<'a> {
    /// The repository (for `hosts/js`).
    pub repo: &'a Path,
    /// The `mother` binary, for the hosts that run one.
    pub mother: Option<&'a Path>,
    /// The suite's own embedded Mother (also the one every receipt is
    /// replayed on).
    pub embedded: &'a Embedded,
    /// The `mother serve` the served, bridge and peer hosts share, once one
    /// of them has started it.
    pub front: tokio::sync::OnceCell<front::Front>,
}

impl Setup<'_> {
    /// The shared `mother serve` (started by the first host that asks);
    /// `what` names that host in the error when there is no `mother`.
    pub async fn front(&self, what: &str) -> Result<front::Front> {
        let mother = self.mother.with_context(|| {
            format!("the {what} host needs --mother PATH (the `mother` binary)")
        })?;
        self.front
            .get_or_try_init(|| front::Front::start(mother))
            .await
            .cloned()
    }
}

/// Starts the host `name` (one of [`ALL`]).
pub async fn start(name: &str, setup: &Setup<'_>) -> Result<Box<dyn HostUnderTest>> {
    match name {
        "embedded" => Ok(Box::new(setup.embedded.clone())),
        "served" => served::start(setup).await,
        "peer" => peer::start(setup).await,
        "bridge" => bridge::start(setup).await,
        "mcp" => mcp::start(setup).await,
        "js" => js::start(setup).await,
        _ => bail!("unknown host `{name}` (one of {})", ALL.join(", ")),
    }
}

/// A child ready to run: its bytes, file, id and description (its WIT types).
pub struct Prepared {
    /// The component bytes.
    pub bytes: Arc<Vec<u8>>,
    /// The component file.
    pub path: PathBuf,
    /// `b3:<hex>`.
    pub id: String,
    /// `patina_host::describe_component` of the bytes, as JSON.
    pub description: serde_json::Value,
}

/// What a host installed: the name it is installed under (none for an
/// install by digest) and the child id.
pub type InstallKey = (Option<String>, String);

/// What a host answered.
pub enum Ran {
    /// Refused before the child started.
    Refused {
        /// The stable kind (`missing-grants`, ...).
        kind: String,
        /// For people.
        message: String,
    },
    /// It ran: the signed receipt and its blobs.
    Recorded {
        /// The receipt.
        receipt: Box<Receipt>,
        /// Blobs it refers to.
        blobs: Vec<Blob>,
    },
    /// The host itself says the case cannot apply to it (a host driven
    /// over the line protocol may answer so).
    NotApplicable {
        /// Why.
        reason: String,
    },
}

/// One host under test.
#[async_trait::async_trait(?Send)]
pub trait HostUnderTest {
    /// Its name in the matrix (`embedded`, `served`, `js`, ...).
    fn name(&self) -> &'static str;
    /// Whether it counts fuel (wasmtime hosts): their fuel and full
    /// transcript hash must agree; the others are compared on the
    /// portable hash.
    fn metered(&self) -> bool;
    /// Why `case` cannot apply to this host at all, if it cannot (the
    /// host's own rule, e.g. no fuel meter); `None` when it applies.
    fn not_applicable(&self, case: &Case) -> Option<String>;
    /// Runs `case` with `child`; `Err` when the host itself failed (it did
    /// not answer, or answered nonsense).
    async fn run(&mut self, case: &Case, child: &Prepared) -> Result<Ran>;
    /// Installs `child` as `named` says (a name and the grants it runs
    /// with when invoked by it) where `case`'s runs will find it, unless
    /// it is there already. `Ok(Some(reason))` when this host cannot
    /// install a child by name: the case is then n/a with that reason.
    async fn install_named(&mut self, named: &Named, child: &Prepared) -> Result<Option<String>> {
        let _ = (named, child);
        Ok(Some(format!(
            "the {} host cannot install a child under a name (what an invoke case calls)",
            self.name()
        )))
    }
}

/// The limits every host is given for `case` (recorded in the transcript,
/// so they must be the same everywhere).
pub fn limits(case: &Case) -> LimitsSpec {
    LimitsSpec {
        fuel: Some(case.limits.fuel.unwrap_or(DEFAULT_FUEL)),
        timeout_ms: Some(case.limits.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS)),
        memory: Some(case.limits.memory.unwrap_or(DEFAULT_MEMORY)),
        output: Some(DEFAULT_OUTPUT),
    }
}

/// The Mother's run spec for `case`, on the installed child `id`.
pub fn spec(case: &Case, id: &str) -> RunSpec {
    let call = match (&case.call, &case.argv) {
        (Some(call), _) => CallSpec::Wave(call.clone()),
        (None, argv) => CallSpec::Command {
            args: argv.clone().unwrap_or_default(),
        },
    };
    let mut spec = RunSpec::new(ChildRef::Installed(id.to_owned()), call);
    spec.grants = case.grants.clone();
    spec.limits = limits(case);
    spec.deny_missing = case.deny_missing;
    spec
}

/// The kind of failure a case expects, if it expects one.
pub fn expected_failure(case: &Case) -> Option<&str> {
    match &case.expect.outcome {
        Some(ExpectedOutcome::Failed { kind, .. }) => Some(kind),
        _ => None,
    }
}

/// Whether an error of this kind is a refusal before the child started
/// (what a case's `refused` names), rather than a host failure.
pub fn is_refusal(kind: &str) -> bool {
    matches!(
        kind,
        "missing-grants"
            | "bad-grant"
            | "bad-arguments"
            | "bad-call"
            | "unknown-function"
            | "ambiguous-function"
            | "unsupported"
            | "not-a-command"
            | "limit-too-large"
            | "link"
    )
}

/// Every host this build knows, by name, in matrix order.
pub const ALL: &[&str] = &["embedded", "served", "peer", "bridge", "mcp", "js"];
