//! The [`Toy`] and [`ToyInstance`] traits: what a capability provider implements.

use std::time::Instant;

use patina_core::{ChildId, Grant, GrantError, Limits, ToyName};
use wasmtime::component::Val;

use crate::LogSink;

/// What a toy instance is told about the run it serves.
#[derive(Clone, Debug)]
pub struct ToyContext {
    /// The child being run.
    pub child: ChildId,
    /// The canonical grants of this toy's kind for the run (at least one,
    /// sorted, no repeats), as [`Toy::combine`] accepted them.
    pub grants: Vec<Grant>,
    /// Where log lines of this run go (returned with the run's outcome).
    pub logs: LogSink,
    /// The children whose `invoke` calls led to this run, outermost first
    /// (empty for a run a user or embedder started).
    pub invoked_by: Vec<ChildId>,
    /// The run's limits (a toy that starts other work, like `invoke`, keeps
    /// it within them).
    pub limits: Limits,
    /// When the run's wall-clock deadline passes.
    pub deadline: Instant,
}

impl ToyContext {
    /// A context for a run of `child` under `grants` that nobody invoked.
    pub fn new(child: ChildId, grants: Vec<Grant>) -> Self {
        Self {
            child,
            grants,
            logs: LogSink::new(),
            invoked_by: Vec::new(),
            limits: Limits::default(),
            deadline: Instant::now() + Limits::default().timeout,
        }
    }

    /// The one grant of a toy whose [`Toy::combine`] admits a single grant.
    pub fn grant(&self) -> Result<&Grant, ToyError> {
        match self.grants.as_slice() {
            [grant] => Ok(grant),
            _ => Err(ToyError::GrantCount {
                got: self.grants.len(),
            }),
        }
    }
}

/// A failure of a toy call that is not an answer the WIT interface can carry.
/// It ends the run: the child traps with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToyError {
    /// The child called a function this toy does not provide.
    #[error("toy `{toy}` has no function `{function}`")]
    NoSuchFunction {
        /// The toy's interface.
        toy: String,
        /// The function the child called.
        function: String,
    },
    /// The arguments did not have the shape the toy's WIT signature promises.
    #[error("bad arguments to `{function}`: {reason}")]
    BadArguments {
        /// The function called.
        function: String,
        /// What was wrong.
        reason: String,
    },
    /// A toy that admits one grant was instantiated with another number of
    /// them (the host checks [`Toy::combine`] first, so this is a host bug).
    #[error("toy backend failed: expected one grant, got {got}")]
    GrantCount {
        /// How many grants it got.
        got: usize,
    },
    /// The run's grant cannot be served (its directory is gone, it is not
    /// canonical, the host it names does not parse).
    #[error("toy backend failed: {reason}")]
    Grant {
        /// What is wrong with the grant, naming it.
        reason: String,
    },
    /// Blocking work handed to [`blocking`] did not finish (it panicked, or
    /// the runtime is shutting down).
    #[error("toy backend failed: {what} did not finish: {reason}")]
    Unfinished {
        /// The work (`the fs call`, `the kv store`).
        what: String,
        /// What happened to it.
        reason: String,
    },
    /// A worker thread of the toy failed (it panicked).
    #[error("toy backend failed: {what} failed: {reason}")]
    Worker {
        /// The worker (`git worker`, `http client`).
        what: String,
        /// What happened to it.
        reason: String,
    },
    /// The toy's own store failed (opening, reading or writing it), in a way
    /// no answer to the child could explain.
    #[error("toy backend failed: {reason}")]
    Store {
        /// What failed, naming the store.
        reason: String,
    },
    /// Any other failure of the toy's backend.
    #[error("toy backend failed: {0}")]
    Backend(String),
    /// A failure answered from a receipt during replay (the recorded message).
    #[error("{0}")]
    Replayed(String),
}

impl ToyError {
    /// A stable, machine-readable name of the case (for logs and tests).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoSuchFunction { .. } => "no-such-function",
            Self::BadArguments { .. } => "bad-arguments",
            Self::GrantCount { .. } => "grant-count",
            Self::Grant { .. } => "grant",
            Self::Unfinished { .. } => "unfinished",
            Self::Worker { .. } => "worker",
            Self::Store { .. } => "store",
            Self::Backend(_) => "backend",
            Self::Replayed(_) => "replayed",
        }
    }
}

/// A capability provider. One value serves every run; per-run state lives in
/// the [`ToyInstance`] it makes.
pub trait Toy: Send + Sync + 'static {
    /// The WIT interface this toy implements, e.g. `patina:toys/log@0.1.0`.
    fn interface(&self) -> &ToyName;

    /// The grant kind that enables it, e.g. `log`.
    fn grant_kind(&self) -> &str;

    /// One line on what a grant of this toy allows, for help texts.
    fn summary(&self) -> &str;

    /// The functions of the interface this toy serves.
    fn functions(&self) -> &[&str];

    /// Checks a grant of this kind and returns its canonical form. Called once
    /// per grant, before any child runs. The default accepts only a bare kind.
    fn canonicalize(&self, grant: &Grant) -> Result<Grant, GrantError> {
        match grant.scope() {
            None => Ok(grant.clone()),
            Some(_) => Err(GrantError::Scope {
                grant: grant.to_string(),
                reason: format!("`{}` takes no scope", self.grant_kind()),
            }),
        }
    }

    /// Checks that the canonical grants of this kind given to one run (sorted,
    /// no repeats) may be combined. The default admits one grant only: a
    /// toy that takes several (an allowlist, several files) says so here.
    fn combine(&self, grants: &[Grant]) -> Result<(), GrantError> {
        match grants {
            [] | [_] => Ok(()),
            [first, second, ..] => Err(second.scope_error(format!(
                "`{}` is granted twice with different scopes (also as `{first}`); grant it once",
                self.grant_kind()
            ))),
        }
    }

    /// Makes the per-run state of this toy for one child instance.
    fn instantiate(&self, ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError>;

    /// Links the functions this toy serves typed — those that move bytes —
    /// with [`TypedLinker::func`](crate::typed::TypedLinker::func); the host
    /// serves the others through [`ToyInstance::call`]. The default links none.
    fn link_typed(
        &self,
        linker: &mut crate::typed::TypedLinker<'_, '_>,
    ) -> Result<(), crate::typed::LinkTypedError> {
        let _ = linker;
        Ok(())
    }
}

/// Per-run state of a toy: serves the calls of one child instance.
#[async_trait::async_trait]
pub trait ToyInstance: std::any::Any + Send {
    /// Serves one call of `function` with `args` (already lifted by the
    /// component model from the child's declared signature) and returns its
    /// results, one value per WIT result.
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError>;

    /// Called once after the child's call ended (returned or not), before the
    /// run is reported: the place to flush what the run produced (metrics,
    /// say). Not called in a replay, where no backend is instantiated.
    async fn finish(&mut self) -> Result<(), ToyError> {
        Ok(())
    }
}

/// The name of the Patina toy interface `interface` in this release's
/// package, `patina:toys/<interface>@0.1.0`. For Patina's own toys, whose
/// names are literals (each toy crate's tests build its name); never call it
/// with a name that came from a child or a user.
#[doc(hidden)]
pub fn patina_interface(interface: &str) -> ToyName {
    format!("patina:toys/{interface}@0.1.0")
        .parse()
        .unwrap_or_else(|e| unreachable!("built-in toy name `{interface}`: {e}"))
}

/// Runs blocking work (files, SQLite, git, HTTP) off the async runtime, so a
/// toy call never holds up the runtime's threads. `what` names the work in
/// the error if the task itself failed (it panicked or was cancelled).
pub async fn blocking<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ToyError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ToyError::Unfinished {
            what: what.to_owned(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts children and receipts see stay what they were when every
    /// backend failure was a `Backend` string.
    #[test]
    fn backend_failures_keep_their_texts() {
        let cases = [
            (
                ToyError::GrantCount { got: 2 },
                "toy backend failed: expected one grant, got 2",
            ),
            (
                ToyError::Grant {
                    reason: "grant `git:/x` has no directory".into(),
                },
                "toy backend failed: grant `git:/x` has no directory",
            ),
            (
                ToyError::Unfinished {
                    what: "the fs call".into(),
                    reason: "panicked".into(),
                },
                "toy backend failed: the fs call did not finish: panicked",
            ),
            (
                ToyError::Worker {
                    what: "git worker".into(),
                    reason: "panicked".into(),
                },
                "toy backend failed: git worker failed: panicked",
            ),
            (
                ToyError::Store {
                    reason: "kv store /k: cannot open: locked".into(),
                },
                "toy backend failed: kv store /k: cannot open: locked",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text, "{}", error.kind());
        }
    }

    #[test]
    fn one_grant_is_required_where_one_is_expected() {
        let ctx = ToyContext::new(ChildId::of(b"c"), Vec::new());
        assert_eq!(ctx.grant(), Err(ToyError::GrantCount { got: 0 }));
    }

    #[tokio::test]
    async fn blocking_work_that_panics_is_unfinished() {
        let err = blocking("the test", || panic!("boom")).await.unwrap_err();
        assert_eq!(err.kind(), "unfinished");
        assert!(
            err.to_string()
                .starts_with("toy backend failed: the test did not finish")
        );
    }
}
