//! Executing one run: a fresh store with the run's WASI context, toy
//! instances and tape, the call under fuel / deadline / memory limits, and the
//! typed error that says why a run stopped.
//!
//! A run that starts always yields a [`RunReport`] — with what the child wrote,
//! logged and called — even when it traps or hits a limit, so nothing the child
//! did is lost.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use patina_core::Limits;
use patina_receipts::Divergence;
use patina_toy::{LogSink, ToyContext, ToyInstance};
use wasmtime::component::{Func, InstancePre, Val};
use wasmtime::{Engine, Store, Trap, UpdateDeadline};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use crate::grants::ResolvedGrants;
use crate::http::incoming::NoReply;
use crate::http::outgoing::OutgoingHooks;
use crate::linker::{DeniedCall, ToyCallFailed};
use crate::plan::LinkPlan;
use crate::report::{Returned, RunReport};
use crate::request::{RunMode, RunRequest, Target};
use crate::state::{MemoryCapReached, MemoryLimiter, RunState};
use crate::tape::{Diverged, MAX_EVENTS, MAX_RECORDED_BYTES, Recorded, Tape};
use crate::wasi::{WasiSetup, wasi_context};
use crate::{Child, HttpReply, OutputStream, RunFailure, RunRefused};

/// Extra wall-clock time allowed past the deadline for host-side waits (a toy
/// awaiting I/O cannot be interrupted by epochs).
const HOST_GRACE: Duration = Duration::from_millis(500);

/// What a run's store captures, read back when the run ends.
struct Capture {
    tape: Tape,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
    logs: LogSink,
    /// Where the memory limiter notes a growth past the cap.
    memory: Arc<OnceLock<MemoryCapReached>>,
}

impl Capture {
    /// Empty pipes of `output` bytes each, no log lines, a tape for `mode`
    /// (see [`Tape::new`] for `keep_replayed` and `spill_dir`).
    fn new(mode: &RunMode, output: u64, keep_replayed: bool, spill_dir: Option<&Path>) -> Self {
        let output_cap = usize::try_from(output).unwrap_or(usize::MAX);
        Self {
            tape: Tape::new(mode, keep_replayed, spill_dir),
            stdout: MemoryOutputPipe::new(output_cap),
            stderr: MemoryOutputPipe::new(output_cap),
            logs: LogSink::new(),
            memory: Arc::default(),
        }
    }
}

/// How the call of the export came back.
enum Called {
    /// It returned these results.
    Returned(Vec<Val>),
    /// It failed (a trap, an exit, a limit, a toy failure, ...).
    Failed(wasmtime::Error),
    /// It outlived its deadline plus the host's grace.
    TimedOut,
}

/// Runs `target` on a fresh store from `pre` and reports what happened. A
/// replay copies the recorded events it matched into the report when
/// `keep_replayed`, else only counts them ([`RunReport::replayed`]). A
/// recording writes its large payloads aside in `spill_dir`, when given,
/// until the run ends.
pub(crate) async fn execute(
    pre: &InstancePre<RunState>,
    child: &Child,
    plan: &LinkPlan,
    grants: &ResolvedGrants,
    (target, request): (Target, &RunRequest),
    keep_replayed: bool,
    spill_dir: Option<&Path>,
) -> Result<RunReport, RunRefused> {
    let limits = &request.limits;
    let deadline = deadline_after(limits.timeout);
    let deadline = request.deadline.map_or(deadline, |cap| deadline.min(cap));
    let capture = Capture::new(&request.mode, limits.output, keep_replayed, spill_dir);
    let state = run_state(child, plan, grants, &target, request, &capture, deadline)?;
    let mut store = new_store(pre.engine(), state, limits, deadline)?;

    let started_at = SystemTime::now();
    let started = Instant::now();
    let time = deadline.saturating_duration_since(Instant::now());
    let (called, http_reply) = call_export(pre, &mut store, &target, time).await;
    let elapsed = started.elapsed();
    let warnings = finish_toys(&mut store, limits.timeout).await;

    let fuel_consumed = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
    let (stdout, stderr) = (
        capture.stdout.contents().to_vec(),
        capture.stderr.contents().to_vec(),
    );
    let outcome = outcome_of(called, &target, &capture, limits, [&stdout, &stderr]);
    // The child's memory goes before the payloads written aside come back.
    drop(store);
    let Recorded {
        events,
        replayed,
        blobs,
        divergence,
        full,
    } = capture.tape.finish().map_err(RunRefused::Engine)?;
    let outcome = with_tape_verdict(outcome, divergence, full);
    let (log_lines, logs_dropped) = capture.logs.snapshot();
    Ok(RunReport {
        child: child.id(),
        function: target.func_name,
        args: target.args,
        argv: target.command,
        grants: grants.canonical.clone(),
        unrecorded: grants.unrecorded(
            child.imports_package("wasi:filesystem"),
            child.imports_package("wasi:sockets"),
        ),
        limits: *limits,
        deny_missing: request.deny_missing,
        outcome,
        stdout,
        stderr,
        logs: log_lines,
        logs_dropped,
        warnings,
        fuel_consumed,
        started_at,
        ended_at: SystemTime::now(),
        elapsed,
        recorded: !matches!(request.mode, RunMode::Live),
        events,
        blobs,
        http_call: target.http,
        http_reply,
        replayed,
    })
}

/// The instant `timeout` from now. The host caps the timeout
/// (`EngineConfig::max_timeout`), so this never overflows in practice; if it
/// did, a day is as good as never.
fn deadline_after(timeout: Duration) -> Instant {
    Instant::now()
        .checked_add(timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400))
}

/// The store data of one run: its WASI context (granted authority only) and
/// an instance of every granted toy.
fn run_state(
    child: &Child,
    plan: &LinkPlan,
    grants: &ResolvedGrants,
    target: &Target,
    request: &RunRequest,
    capture: &Capture,
    deadline: Instant,
) -> Result<RunState, RunRefused> {
    let wasi = wasi_context(WasiSetup {
        grants,
        argv: target.command.as_deref(),
        stdout: &capture.stdout,
        stderr: &capture.stderr,
        tape: &capture.tape,
        child: child.id(),
    })?;
    // A replay answers every toy call from the transcript: no backend is
    // instantiated, let alone called.
    let live_toys = if capture.tape.replaying() {
        &[][..]
    } else {
        &plan.toys[..]
    };
    let toys = live_toys
        .iter()
        .map(|link| {
            let ctx = ToyContext {
                child: child.id(),
                grants: link.grants.clone(),
                logs: capture.logs.clone(),
                invoked_by: request.invoked_by.clone(),
                limits: request.limits,
                deadline,
            };
            link.toy
                .instantiate(&ctx)
                .map_err(|source| RunRefused::Toy {
                    toy: link.toy.interface().to_string(),
                    source,
                })
        })
        .collect::<Result<Vec<Box<dyn ToyInstance>>, RunRefused>>()?;
    let limiter = MemoryLimiter::new(request.limits.memory, capture.memory.clone());
    let http = OutgoingHooks::new(
        capture.tape.clone(),
        plan.outgoing_http.clone(),
        &grants.canonical,
    );
    Ok(RunState::new(
        wasi,
        Box::new(http),
        Box::new(limiter),
        toys,
        Arc::new(capture.tape.clone()),
    ))
}

/// A store for `state` under the run's memory cap, fuel budget and deadline.
fn new_store(
    engine: &Engine,
    state: RunState,
    limits: &Limits,
    deadline: Instant,
) -> Result<Store<RunState>, RunRefused> {
    let mut store = Store::new(engine, state);
    store.limiter(|state| state.limiter());
    store.set_hostcall_fuel(crate::TOY_CALL_BUDGET);
    store
        .set_fuel(limits.fuel)
        .map_err(|e| RunRefused::Engine(format!("{e:#}")))?;
    // Every epoch tick the child yields to the async runtime (so a spinning
    // child never holds a worker thread), and once the wall-clock deadline has
    // passed it is interrupted.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        Ok(if Instant::now() >= deadline {
            UpdateDeadline::Interrupt
        } else {
            UpdateDeadline::Yield(1)
        })
    });
    Ok(store)
}

/// Instantiates the child in `store` and calls the target export, within
/// `timeout` plus the host's grace for waits epochs cannot interrupt. A
/// bridge child's response comes back beside what the call returned.
async fn call_export(
    pre: &InstancePre<RunState>,
    store: &mut Store<RunState>,
    target: &Target,
    timeout: Duration,
) -> (Called, Option<HttpReply>) {
    let call = async {
        let instance = pre.instantiate_async(&mut *store).await?;
        // Look the export up in the component this instance was made from (a
        // cached `InstancePre` may come from an earlier load of the same bytes).
        let component = pre.component();
        let missing = || wasmtime::Error::msg(format!("export `{}` not found", target.func_name));
        let parent = match &target.interface {
            Some(interface) => Some(
                component
                    .get_export_index(None, interface)
                    .ok_or_else(missing)?,
            ),
            None => None,
        };
        let func: Func = component
            .get_export_index(parent.as_ref(), &target.function)
            .and_then(|index| instance.get_func(&mut *store, index))
            .ok_or_else(missing)?;
        if let Some(http) = &target.http {
            let reply = crate::http::incoming::serve(&mut *store, func, http).await?;
            return Ok((Vec::new(), Some(reply)));
        }
        let mut results = vec![Val::Bool(false); target.results];
        func.call_async(&mut *store, &target.args, &mut results)
            .await
            .map(|()| (results, None))
    };
    match tokio::time::timeout(timeout.saturating_add(HOST_GRACE), call).await {
        Ok(Ok((results, reply))) => (Called::Returned(results), reply),
        Ok(Err(error)) => (Called::Failed(error), None),
        Err(_elapsed) => (Called::TimedOut, None),
    }
}

/// What the call's coming back means: results (or a command's exit status),
/// or the typed failure that says why there are none.
fn outcome_of(
    called: Called,
    target: &Target,
    capture: &Capture,
    limits: &Limits,
    [stdout, stderr]: [&[u8]; 2],
) -> Result<Returned, RunFailure> {
    match called {
        Called::TimedOut => Err(RunFailure::DeadlineExceeded {
            timeout_ms: millis(limits.timeout),
        }),
        Called::Returned(results) => Ok(returned(results, target.command.is_some())),
        Called::Failed(error) => match error.downcast_ref::<I32Exit>() {
            Some(exit) if target.command.is_some() => Ok(Returned {
                results: Vec::new(),
                exit_code: Some(exit.0),
            }),
            _ => Err(classify(
                &error,
                capture,
                limits,
                [
                    (stdout, OutputStream::Stdout),
                    (stderr, OutputStream::Stderr),
                ],
            )),
        },
    }
}

/// The outcome once the tape has had its say: a replay that diverged, or a
/// run that recorded past the transcript budget, ends so whatever the child
/// did after.
fn with_tape_verdict(
    outcome: Result<Returned, RunFailure>,
    divergence: Option<Divergence>,
    full: bool,
) -> Result<Returned, RunFailure> {
    match divergence {
        // The tape keeps the first divergence: a clock or random read the
        // transcript did not hold lets the child run on, so a later toy call
        // may diverge too, but the run is reported where it first diverged.
        Some(divergence) => Err(RunFailure::Diverged(divergence)),
        // A run that asked to record more than the budget is stopped.
        _ if full => Err(RunFailure::TranscriptLimitExceeded {
            events: MAX_EVENTS,
            bytes: MAX_RECORDED_BYTES,
        }),
        _ => outcome,
    }
}

/// Lets every toy instance flush what the run produced, all of them within
/// one run's time limit (not one each). A failure is a warning of the report, never a change
/// of the outcome: the outcome is what the child did, and a replay (which has
/// no toy to finish) must reproduce it.
async fn finish_toys(store: &mut Store<RunState>, time: Duration) -> Vec<String> {
    let mut warnings = Vec::new();
    let deadline = tokio::time::Instant::now() + time;
    for (slot, toy) in store.data_mut().toys_mut().iter_mut().enumerate() {
        let warning = match tokio::time::timeout_at(deadline, toy.finish()).await {
            Ok(Ok(())) => continue,
            Ok(Err(error)) => format!("toy #{slot} could not finish the run: {error}"),
            Err(_) => format!(
                "toy #{slot} did not finish the run within {} ms",
                millis(time)
            ),
        };
        tracing::warn!("{warning}");
        warnings.push(warning);
    }
    warnings
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

/// Whether wasmtime refused to lift a call's arguments because they were
/// over the store's hostcall fuel. Its error type is private, so this reads
/// its message (wasmtime 48); the test at the lift limit notices a change.
fn lift_refused(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .to_string()
            .contains("fuel allocated for hostcalls has been exhausted")
    })
}

/// Turns a failed call into the typed failure that says why.
fn classify(
    error: &wasmtime::Error,
    capture: &Capture,
    limits: &Limits,
    outputs: [(&[u8], OutputStream); 2],
) -> RunFailure {
    if let Some(Diverged(divergence)) = error.downcast_ref::<Diverged>() {
        return RunFailure::Diverged(divergence.clone());
    }
    if let Some(reached) = capture.memory.get() {
        return RunFailure::MemoryLimitExceeded {
            requested: reached.requested,
            cap: reached.cap,
        };
    }
    if let Some(NoReply(reason)) = error.downcast_ref::<NoReply>() {
        return RunFailure::HttpReply {
            reason: reason.clone(),
        };
    }
    if let Some(denied) = error.downcast_ref::<DeniedCall>() {
        return RunFailure::Denied {
            import: denied.import.clone(),
        };
    }
    if let Some(failed) = error.downcast_ref::<ToyCallFailed>() {
        return RunFailure::Toy {
            toy: failed.toy.clone(),
            message: failed.source.to_string(),
        };
    }
    if lift_refused(error) {
        return RunFailure::CallTooLarge {
            budget: crate::TOY_CALL_BUDGET as u64,
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => {
            return RunFailure::OutOfFuel {
                budget: limits.fuel,
            };
        }
        Some(Trap::Interrupt) => {
            return RunFailure::DeadlineExceeded {
                timeout_ms: millis(limits.timeout),
            };
        }
        _ => {}
    }
    // A full output pipe makes the child's next write fail (Rust's `print!`
    // then panics): name the cap rather than the panic it caused.
    for (bytes, stream) in outputs {
        if bytes.len() as u64 >= limits.output {
            return RunFailure::OutputLimitExceeded {
                stream,
                cap: limits.output,
            };
        }
    }
    let message = match error.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => crate::child::one_line(error),
    };
    RunFailure::Trap { message }
}
