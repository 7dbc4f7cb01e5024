//! One run of a child: the request (call, grants, limits), the store set up
//! with an empty WASI context and the granted authority only, the call under
//! fuel / deadline / memory limits, and the [`RunReport`].
//!
//! A request that cannot start (bad call, bad grant, missing grant) is an
//! `Err` before any child code runs. A run that starts always yields a report —
//! with what the child wrote and logged — even when it traps or hits a limit,
//! so nothing the child did is lost.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use patina_core::{ChildId, Grant, Limits, NetScope};
use patina_toys::{LogLine, LogSink, ToyContext, ToyInstance};
use wasmtime::component::{Func, ResourceTable, Val};
use wasmtime::{Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{I32Exit, WasiCtx};

use crate::engine::deadline_ticks;
use crate::grants::ResolvedGrants;
use crate::linker::{DeniedCall, ToyCallFailed};
use crate::plan::LinkPlan;
use crate::state::{MemoryLimiter, RunState};
use crate::{Child, HostError, values};

/// Extra wall-clock time allowed past the deadline for host-side waits (a toy
/// awaiting I/O cannot be interrupted by epochs).
const HOST_GRACE: Duration = Duration::from_millis(500);

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
}

impl RunRequest {
    /// A request for `call` with default limits and no grants.
    pub fn new(call: Call) -> Self {
        Self {
            call,
            grants: Vec::new(),
            deny_missing: false,
            limits: Limits::default(),
            program_name: None,
        }
    }
}

/// What a call returned.
#[derive(Clone, Debug)]
pub struct Returned {
    /// The function's results.
    pub results: Vec<Val>,
    /// For a command: its exit status (0 for `ok`, 1 for `err`, or the status it exited with).
    pub exit_code: Option<i32>,
}

/// Everything one run produced.
#[derive(Debug)]
pub struct RunReport {
    /// The child that ran.
    pub child: ChildId,
    /// The full name of the function called.
    pub function: String,
    /// The arguments it was called with.
    pub args: Vec<Val>,
    /// The canonical grants of the run.
    pub grants: Vec<Grant>,
    /// The results, or why the run ended without any.
    pub outcome: Result<Returned, HostError>,
    /// Captured stdout.
    pub stdout: Vec<u8>,
    /// Captured stderr.
    pub stderr: Vec<u8>,
    /// Lines logged through the `log` toy.
    pub logs: Vec<LogLine>,
    /// Lines dropped past the log cap.
    pub logs_dropped: u64,
    /// Fuel the run consumed.
    pub fuel_consumed: u64,
    /// Wall-clock time of instantiation and call.
    pub elapsed: Duration,
}

impl RunReport {
    /// The results as WAVE text (empty when the function returns nothing).
    pub fn wave(&self) -> Option<String> {
        self.outcome
            .as_ref()
            .ok()
            .map(|r| values::results_wave(&r.results))
    }

    /// The results as JSON (`null` when the function returns nothing).
    pub fn json(&self) -> Option<serde_json::Value> {
        self.outcome
            .as_ref()
            .ok()
            .map(|r| values::results_json(&r.results))
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
}

/// Resolves the function and checks the arguments, before anything runs.
pub(crate) fn resolve_target(child: &Child, request: &RunRequest) -> Result<Target, HostError> {
    let functions = child.functions();
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
                .ok_or_else(|| HostError::NotACommand {
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
    };
    Ok(Target {
        func_name: function.name.clone(),
        interface: function.interface.clone(),
        function: function.function.clone(),
        args,
        results: function.ty.results().len(),
        command,
    })
}

/// The empty WASI context of a run, with only the granted authority added.
fn wasi_context(
    grants: &ResolvedGrants,
    argv: Option<&[String]>,
    stdout: &MemoryOutputPipe,
    stderr: &MemoryOutputPipe,
) -> Result<WasiCtx, HostError> {
    let mut builder = WasiCtx::builder();
    builder
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_ip_name_lookup(false);
    if let Some(argv) = argv {
        builder.args(argv);
    }
    for preopen in &grants.preopens {
        let perms = match preopen.access {
            patina_core::FsAccess::ReadOnly => wasmtime_wasi::FsPerms::ReadOnly,
            patina_core::FsAccess::ReadWrite => wasmtime_wasi::FsPerms::ReadWrite,
        };
        let guest = preopen.dir.to_string_lossy().into_owned();
        builder
            .preopened_dir(&preopen.dir, guest, perms)
            .map_err(|e| {
                HostError::Link(format!("cannot preopen {}: {e}", preopen.dir.display()))
            })?;
    }
    // TCP and UDP stay off entirely unless some address was granted.
    let any_net = !grants.net.is_empty();
    builder.allow_tcp(any_net).allow_udp(any_net);
    let allowed: Arc<[NetScope]> = grants.net.clone().into();
    builder.socket_addr_check(move |addr: SocketAddr, usage| {
        let ok = socket_allowed(&allowed, addr, usage);
        Box::pin(async move { ok })
    });
    Ok(builder.build())
}

/// Whether the `net` grants allow `usage` of `addr`. An outbound connection
/// implicitly binds an ephemeral port on the unspecified address; that bind is
/// allowed whenever some address was granted (it reaches nothing by itself).
/// Every other use needs the address itself granted.
fn socket_allowed(allowed: &[NetScope], addr: SocketAddr, usage: SocketAddrUse) -> bool {
    let implicit_bind = matches!(usage, SocketAddrUse::TcpBind | SocketAddrUse::UdpBind)
        && addr.ip().is_unspecified()
        && addr.port() == 0;
    if implicit_bind {
        return !allowed.is_empty();
    }
    allowed.iter().any(|scope| scope.allows(addr))
}

/// Runs `target` on a fresh store from `pre` and reports what happened.
pub(crate) async fn execute(
    pre: &wasmtime::component::InstancePre<RunState>,
    child: &Child,
    plan: &LinkPlan,
    grants: &ResolvedGrants,
    target: Target,
    limits: &Limits,
) -> Result<RunReport, HostError> {
    let output_cap = usize::try_from(limits.output).unwrap_or(usize::MAX);
    let stdout = MemoryOutputPipe::new(output_cap);
    let stderr = MemoryOutputPipe::new(output_cap);
    let logs = LogSink::new();
    let wasi = wasi_context(grants, target.command.as_deref(), &stdout, &stderr)?;
    let toys = plan
        .toys
        .iter()
        .map(|link| {
            let ctx = ToyContext {
                child: child.id(),
                grant: link.grant.clone(),
                logs: logs.clone(),
            };
            link.toy.instantiate(&ctx).map_err(|source| HostError::Toy {
                toy: link.toy.interface().to_string(),
                source,
            })
        })
        .collect::<Result<Vec<Box<dyn ToyInstance>>, HostError>>()?;

    let state = RunState {
        wasi,
        table: ResourceTable::new(),
        limiter: MemoryLimiter::new(limits.memory),
        toys,
    };
    let mut store = Store::new(pre.engine(), state);
    store.limiter(|state| &mut state.limiter);
    store
        .set_fuel(limits.fuel)
        .map_err(|e| HostError::Engine(format!("{e:#}")))?;
    store.set_epoch_deadline(deadline_ticks(limits.timeout));
    store.epoch_deadline_trap();

    let started = Instant::now();
    let mut results = vec![Val::Bool(false); target.results];
    let call = async {
        let instance = pre.instantiate_async(&mut store).await?;
        // Look the export up in the component this instance was made from (a
        // cached `InstancePre` may come from an earlier load of the same bytes).
        let component = pre.component();
        let parent = match &target.interface {
            Some(interface) => component.get_export_index(None, interface),
            None => None,
        };
        let func: Func = component
            .get_export_index(parent.as_ref(), &target.function)
            .and_then(|index| instance.get_func(&mut store, index))
            .ok_or_else(|| {
                wasmtime::Error::msg(format!("export `{}` not found", target.func_name))
            })?;
        func.call_async(&mut store, &target.args, &mut results)
            .await
    };
    let called = tokio::time::timeout(limits.timeout + HOST_GRACE, call).await;
    let elapsed = started.elapsed();

    let fuel_consumed = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
    let (stdout, stderr) = (stdout.contents().to_vec(), stderr.contents().to_vec());
    let outcome = match called {
        Err(_elapsed) => Err(HostError::DeadlineExceeded {
            timeout_ms: millis(limits.timeout),
        }),
        Ok(Ok(())) => Ok(returned(results, target.command.is_some())),
        Ok(Err(error)) => match error.downcast_ref::<I32Exit>() {
            Some(exit) if target.command.is_some() => Ok(Returned {
                results: Vec::new(),
                exit_code: Some(exit.0),
            }),
            _ => Err(classify(
                &error,
                &store,
                limits,
                [(&stdout, "stdout"), (&stderr, "stderr")],
            )),
        },
    };
    let (log_lines, logs_dropped) = logs.snapshot();
    Ok(RunReport {
        child: child.id(),
        function: target.func_name,
        args: target.args,
        grants: grants.canonical.clone(),
        outcome,
        stdout,
        stderr,
        logs: log_lines,
        logs_dropped,
        fuel_consumed,
        elapsed,
    })
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn returned(results: Vec<Val>, command: bool) -> Returned {
    let exit_code = command.then(|| match results.first() {
        Some(Val::Result(Err(_))) => 1,
        _ => 0,
    });
    Returned { results, exit_code }
}

/// Turns a failed call into the typed error that says why.
fn classify(
    error: &wasmtime::Error,
    store: &Store<RunState>,
    limits: &Limits,
    outputs: [(&Vec<u8>, &'static str); 2],
) -> HostError {
    if let Some(reached) = &store.data().limiter.reached {
        return HostError::MemoryLimitExceeded {
            requested: reached.requested,
            cap: reached.cap,
        };
    }
    if let Some(denied) = error.downcast_ref::<DeniedCall>() {
        return HostError::Denied {
            import: denied.import.clone(),
        };
    }
    if let Some(failed) = error.downcast_ref::<ToyCallFailed>() {
        return HostError::Toy {
            toy: failed.toy.clone(),
            source: failed.source.clone(),
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => {
            return HostError::OutOfFuel {
                budget: limits.fuel,
            };
        }
        Some(Trap::Interrupt) => {
            return HostError::DeadlineExceeded {
                timeout_ms: millis(limits.timeout),
            };
        }
        _ => {}
    }
    // A full output pipe makes the child's next write fail (Rust's `print!`
    // then panics): name the cap rather than the panic it caused.
    for (bytes, stream) in outputs {
        if bytes.len() as u64 >= limits.output {
            return HostError::OutputLimitExceeded {
                stream,
                cap: limits.output,
            };
        }
    }
    let message = match error.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => crate::child::one_line(error),
    };
    HostError::Trap(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_need_their_address_granted() {
        let scope: NetScope = NetScope::parse(&"net:127.0.0.1:8080".parse().unwrap()).unwrap();
        let granted = [scope];
        let target: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
        assert!(socket_allowed(&granted, target, SocketAddrUse::TcpConnect));
        assert!(socket_allowed(&granted, any, SocketAddrUse::TcpBind));
        assert!(!socket_allowed(
            &granted,
            "127.0.0.1:8081".parse().unwrap(),
            SocketAddrUse::TcpConnect
        ));
        assert!(!socket_allowed(
            &granted,
            "0.0.0.0:8080".parse().unwrap(),
            SocketAddrUse::TcpBind
        ));
        assert!(!socket_allowed(&[], any, SocketAddrUse::TcpBind));
        assert!(!socket_allowed(&[], target, SocketAddrUse::TcpConnect));
    }
}
