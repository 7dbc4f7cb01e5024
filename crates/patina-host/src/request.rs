//! What a caller asks of a run: the [`Call`], grants, limits and [`RunMode`],
//! and the resolution of the call against the child's exports — done before
//! anything runs, so a bad call never starts a child.

use std::sync::Arc;
use std::time::Instant;

use patina_core::{ChildId, Grant, Limits};
use patina_receipts::{Blob, Transcript};
use wasmtime::component::Val;

use crate::{Child, HttpCall, RunRefused, values};

/// What to call.
#[derive(Clone, Debug)]
pub enum Call {
    /// A WAVE call expression such as `add(2, 3)` or `ops.greet("ann")`.
    Wave(String),
    /// A function name and its arguments as a JSON array.
    Json {
        /// The function (same names as for WAVE calls).
        function: String,
        /// One JSON value per parameter.
        args: serde_json::Value,
    },
    /// Run a `wasi:cli/command` child with these arguments (after argv\[0\]).
    Command {
        /// The arguments.
        args: Vec<String>,
    },
    /// Hand one HTTP request to a bridge child (one that exports
    /// `wasi:http/incoming-handler`); its response is the report's
    /// [`http_reply`](crate::RunReport::http_reply).
    Http(HttpCall),
}

/// A recorded run to replay: its transcript and the blobs it refers to.
#[derive(Clone, Debug)]
pub struct ReplaySource {
    /// The recorded transcript.
    pub transcript: Transcript,
    /// Blobs of large recorded payloads.
    pub blobs: Vec<Blob>,
}

/// How a run treats its toy calls, clocks and random reads.
#[derive(Clone, Debug, Default)]
pub enum RunMode {
    /// Call the backends; record nothing.
    Live,
    /// Call the backends and record every call (the default).
    #[default]
    Record,
    /// Answer every call from a recorded transcript; backends are never called.
    Replay(Arc<ReplaySource>),
}

/// One run asked of the host.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// What to call.
    pub call: Call,
    /// The grants of this run (checked and canonicalised by the host).
    pub grants: Vec<Grant>,
    /// Link ungranted imports to stubs that fail with `denied: <import>`
    /// instead of refusing the run.
    pub deny_missing: bool,
    /// Fuel, deadline, memory and output bounds.
    pub limits: Limits,
    /// argv\[0\] for a command child (default: the child id).
    pub program_name: Option<String>,
    /// Live, record (default) or replay.
    pub mode: RunMode,
    /// The children whose `invoke` calls led to this run, outermost first;
    /// empty for a run a user or embedder started. The `invoke` toy refuses
    /// to call any of them again (no cycles, no self-invocation).
    pub invoked_by: Vec<ChildId>,
    /// The path grants (`fs`, `git`, `kv`) are already resolved, as checked
    /// by whoever made this request (a membrane, against a role's ceiling):
    /// the host refuses one that no longer resolves to itself instead of
    /// following what changed. `false` (the default): the host resolves
    /// them, as given.
    pub grants_fixed: bool,
    /// An instant the run must not outlive whatever `limits.timeout` says
    /// (a callee's run ends before its caller's). It is not recorded — the
    /// same call keeps the same transcript whoever made it — and a run it
    /// cuts short ends with `deadline-exceeded`.
    pub deadline: Option<Instant>,
}

impl RunRequest {
    /// A recording request for `call` with default limits and no grants.
    pub fn new(call: Call) -> Self {
        Self {
            call,
            grants: Vec::new(),
            deny_missing: false,
            limits: Limits::default(),
            program_name: None,
            mode: RunMode::Record,
            invoked_by: Vec::new(),
            grants_fixed: false,
            deadline: None,
        }
    }
}

/// A call resolved against the child's exports, with typed arguments.
pub(crate) struct Target {
    pub func_name: String,
    pub interface: Option<String>,
    pub function: String,
    pub args: Vec<Val>,
    pub results: usize,
    pub command: Option<Vec<String>>,
    /// The request handed to a bridge child.
    pub http: Option<HttpCall>,
}

/// Resolves the function and checks the arguments, before anything runs.
pub(crate) fn resolve_target(child: &Child, request: &RunRequest) -> Result<Target, RunRefused> {
    let functions = child.functions();
    let mut http = None;
    let (function, args, command) = match &request.call {
        Call::Wave(text) => {
            let (name, args) = values::split_call(text)?;
            let function = functions.find(name)?;
            (function, values::parse_wave_args(function, args)?, None)
        }
        Call::Json { function, args } => {
            let function = functions.find(function)?;
            (function, values::parse_json_args(function, args)?, None)
        }
        Call::Command { args } => {
            let function = functions
                .command_entry()
                .ok_or_else(|| RunRefused::NotACommand {
                    child: child.id(),
                    exports: functions.names(),
                })?;
            let program = request
                .program_name
                .clone()
                .unwrap_or_else(|| child.id().to_string());
            let argv = std::iter::once(program)
                .chain(args.iter().cloned())
                .collect();
            (function, Vec::new(), Some(argv))
        }
        Call::Http(call) => {
            call.to_request()
                .map_err(|reason| RunRefused::BadHttpCall { reason })?;
            let function =
                functions
                    .http_handler()
                    .ok_or_else(|| RunRefused::NotAnHttpHandler {
                        child: child.id(),
                        exports: functions.names(),
                    })?;
            http = Some(call.clone());
            (function, Vec::new(), None)
        }
    };
    Ok(Target {
        func_name: function.name.clone(),
        interface: function.interface.clone(),
        function: function.function.clone(),
        args,
        results: function.ty.results().len(),
        command,
        http,
    })
}

/// The request that replays `source` (same call, grants and limits).
pub(crate) fn replay_request(source: Arc<ReplaySource>) -> RunRequest {
    let call = &source.transcript.call;
    let (call_kind, program_name) = match &call.argv {
        Some(argv) => {
            let mut argv = argv.iter().cloned();
            let program = argv.next();
            (
                Call::Command {
                    args: argv.collect(),
                },
                program,
            )
        }
        None => {
            let blob = |digest: &[u8; 32]| {
                source
                    .blobs
                    .iter()
                    .find(|b| b.digest.0 == *digest && b.is_intact())
                    .map(|b| b.bytes.clone())
            };
            match HttpCall::recorded(&call.function, &call.args, &blob) {
                Some(http) => (Call::Http(http), None),
                None => (Call::Wave(call.wave_call()), None),
            }
        }
    };
    RunRequest {
        call: call_kind,
        grants: source.transcript.grants.clone(),
        deny_missing: call.deny_missing,
        limits: call.limits,
        program_name,
        mode: RunMode::Replay(source),
        invoked_by: Vec::new(),
        grants_fixed: false,
        deadline: None,
    }
}
