//! [`HostError`]: every way loading or running a child can fail, each with a
//! stable `kind()` that programs (and `mother --json`) can match on.

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

/// Why a child could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The engine could not be set up.
    #[error("engine: {0}")]
    Engine(String),
    /// The bytes are not WebAssembly at all.
    #[error("not a WebAssembly component: {0}")]
    NotWasm(String),
    /// The bytes are a core module, not a component.
    #[error(
        "this is a core WebAssembly module, not a component (wrap it with `wasm-tools component new`)"
    )]
    CoreModule,
    /// The bytes claim to be a component but do not validate or compile.
    #[error("invalid component: {0}")]
    InvalidComponent(String),
    /// The compiled-artifact cache failed (the run can still compile afresh).
    #[error("artifact cache: {0}")]
    Cache(String),
    /// A file or directory the host needed.
    #[error("{context}: {source}")]
    Io {
        /// What the host was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
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
    /// A grant that is malformed, unknown or points at nothing.
    #[error(transparent)]
    Grant(#[from] GrantError),
    /// The child imports something no grant covers; the run was refused before it started.
    #[error("refused: the child imports what was not granted: {}", list(.missing))]
    MissingGrants {
        /// Each uncovered import.
        missing: Vec<MissingGrant>,
    },
    /// The linker could not satisfy the child's imports.
    #[error("cannot link the child: {0}")]
    Link(String),
    /// The fuel budget ran out.
    #[error("out of fuel: the run used its whole budget of {budget} units")]
    OutOfFuel {
        /// The budget it had.
        budget: u64,
    },
    /// The wall-clock deadline passed.
    #[error("deadline exceeded: the run was stopped after {timeout_ms} ms")]
    DeadlineExceeded {
        /// The deadline, in milliseconds.
        timeout_ms: u64,
    },
    /// The child tried to grow its memory past the cap.
    #[error("memory limit exceeded: the child asked for {requested} bytes, the cap is {cap}")]
    MemoryLimitExceeded {
        /// Bytes the child asked for.
        requested: u64,
        /// The cap.
        cap: u64,
    },
    /// The child called a function of an import that was linked as a deny stub.
    #[error("denied: {import}")]
    Denied {
        /// The denied import (interface or function).
        import: String,
    },
    /// A toy failed in a way its interface cannot express.
    #[error("toy `{toy}`: {source}")]
    Toy {
        /// The toy's interface.
        toy: String,
        /// What failed.
        #[source]
        source: ToyError,
    },
    /// The child trapped (a panic, `unreachable`, an out-of-bounds access, ...).
    #[error("the child trapped: {0}")]
    Trap(String),
    /// Captured stdout or stderr went over the output cap.
    #[error("the child wrote more than the {cap}-byte output cap to {stream}")]
    OutputLimitExceeded {
        /// `stdout` or `stderr`.
        stream: &'static str,
        /// The cap.
        cap: u64,
    },
    /// A replay did something the receipt did not record.
    #[error(transparent)]
    Diverged(patina_receipts::Divergence),
    /// A replay was given other bytes than the receipt's child.
    #[error("refused: the receipt is of child {expected}, these bytes are {got}")]
    ReplayChild {
        /// The receipt's child.
        expected: ChildId,
        /// The child given.
        got: ChildId,
    },
    /// The run recorded more events or bytes than a transcript may hold.
    #[error(
        "transcript limit exceeded: a run may record at most {events} events and {bytes} bytes"
    )]
    TranscriptLimitExceeded {
        /// Most events.
        events: usize,
        /// Most bytes.
        bytes: u64,
    },
    /// A limit asked for is larger than this host allows.
    #[error("limit too large: {0}")]
    LimitTooLarge(String),
}

impl HostError {
    /// A stable, machine-readable name of the error's kind (`out-of-fuel`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Engine(_) => "engine",
            Self::NotWasm(_) => "not-wasm",
            Self::CoreModule => "core-module",
            Self::InvalidComponent(_) => "invalid-component",
            Self::Cache(_) => "cache",
            Self::Io { .. } => "io",
            Self::UnknownChild(_) => "unknown-child",
            Self::AmbiguousChild { .. } => "ambiguous-child",
            Self::BadName(_) => "bad-name",
            Self::UnknownFunction { .. } => "unknown-function",
            Self::AmbiguousFunction { .. } => "ambiguous-function",
            Self::BadArguments { .. } => "bad-arguments",
            Self::BadCall { .. } => "bad-call",
            Self::Unsupported { .. } => "unsupported",
            Self::NotACommand { .. } => "not-a-command",
            Self::Grant(_) => "bad-grant",
            Self::MissingGrants { .. } => "missing-grants",
            Self::Link(_) => "link",
            Self::OutOfFuel { .. } => "out-of-fuel",
            Self::DeadlineExceeded { .. } => "deadline-exceeded",
            Self::MemoryLimitExceeded { .. } => "memory-limit-exceeded",
            Self::Denied { .. } => "denied",
            Self::Toy { .. } => "toy",
            Self::Trap(_) => "trap",
            Self::OutputLimitExceeded { .. } => "output-limit-exceeded",
            Self::LimitTooLarge(_) => "limit-too-large",
            Self::Diverged(_) => "divergence",
            Self::TranscriptLimitExceeded { .. } => "transcript-limit-exceeded",
            Self::ReplayChild { .. } => "replay-child-mismatch",
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
