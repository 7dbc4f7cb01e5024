//! Executing one run: a fresh store with the run's WASI context, toy
//! instances and tape, the call under fuel / deadline / memory limits, and the
//! typed error that says why a run stopped.
//!
//! A run that starts always yields a [`RunReport`] — with what the child wrote,
//! logged and called — even when it traps or hits a limit, so nothing the child
//! did is lost.

use std::time::{Duration, Instant, SystemTime};

use patina_core::Limits;
use patina_toy::{LogSink, ToyContext, ToyInstance};
use wasmtime::component::{Func, ResourceTable, Val};
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use crate::grants::ResolvedGrants;
use crate::linker::{DeniedCall, ToyCallFailed};
use crate::plan::LinkPlan;
use crate::report::{Returned, RunReport};
use crate::request::{RunMode, RunRequest, Target};
use crate::state::{MemoryLimiter, RunState};
use crate::tape::{Diverged, MAX_EVENTS, MAX_RECORDED_BYTES, Recorded, Tape};
use crate::wasi::{WasiSetup, wasi_context};
use crate::{Child, HostError};

/// Extra wall-clock time allowed past the deadline for host-side waits (a toy
/// awaiting I/O cannot be interrupted by epochs).
const HOST_GRACE: Duration = Duration::from_millis(500);

/// Runs `target` on a fresh store from `pre` and reports what happened.
pub(crate) async fn execute(
    pre: &wasmtime::component::InstancePre<RunState>,
    child: &Child,
    plan: &LinkPlan,
    grants: &ResolvedGrants,
    target: Target,
    request: &RunRequest,
) -> Result<RunReport, HostError> {
    let limits = &request.limits;
    let tape = Tape::new(&request.mode);
    let output_cap = usize::try_from(limits.output).unwrap_or(usize::MAX);
    let stdout = MemoryOutputPipe::new(output_cap);
    let stderr = MemoryOutputPipe::new(output_cap);
    let logs = LogSink::new();
    // The host caps the timeout (`EngineConfig::max_timeout`), so this never
    // overflows in practice; if it did, a day is as good as never.
    let deadline = Instant::now()
        .checked_add(limits.timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
    let wasi = wasi_context(WasiSetup {
        grants,
        argv: target.command.as_deref(),
        stdout: &stdout,
        stderr: &stderr,
        tape: &tape,
        child: child.id(),
    })?;
    // A replay answers every toy call from the transcript: no backend is
    // instantiated, let alone called.
    let live_toys = if tape.replaying() {
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
                logs: logs.clone(),
                invoked_by: request.invoked_by.clone(),
                limits: *limits,
                deadline,
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
        tape: tape.clone(),
    };
    let mut store = Store::new(pre.engine(), state);
    store.limiter(|state| &mut state.limiter);
    store
        .set_fuel(limits.fuel)
        .map_err(|e| HostError::Engine(format!("{e:#}")))?;
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

    let started_at = SystemTime::now();
    let started = Instant::now();
    let mut results = vec![Val::Bool(false); target.results];
    let call = async {
        let instance = pre.instantiate_async(&mut store).await?;
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
            .and_then(|index| instance.get_func(&mut store, index))
            .ok_or_else(missing)?;
        func.call_async(&mut store, &target.args, &mut results)
            .await
    };
    let called = tokio::time::timeout(limits.timeout.saturating_add(HOST_GRACE), call).await;
    let elapsed = started.elapsed();
    let warnings = finish_toys(&mut store, limits.timeout).await;

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
    let Recorded {
        events,
        blobs,
        divergence,
        full,
    } = tape.finish();
    let outcome = match divergence {
        // The tape keeps the first divergence: a clock or random read the
        // transcript did not hold lets the child run on, so a later toy call
        // may diverge too, but the run is reported where it first diverged.
        Some(divergence) => Err(HostError::Diverged(divergence)),
        // A run that asked to record more than the budget is stopped.
        _ if full => Err(HostError::TranscriptLimitExceeded {
            events: MAX_EVENTS,
            bytes: MAX_RECORDED_BYTES,
        }),
        _ => outcome,
    };
    let (log_lines, logs_dropped) = logs.snapshot();
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
    })
}

/// Lets every toy instance flush what the run produced, all of them within
/// one run's time limit (not one each). A failure is a warning of the report, never a change
/// of the outcome: the outcome is what the child did, and a replay (which has
/// no toy to finish) must reproduce it.
async fn finish_toys(store: &mut Store<RunState>, time: Duration) -> Vec<String> {
    let mut warnings = Vec::new();
    let deadline = tokio::time::Instant::now() + time;
    for (slot, toy) in store.data_mut().toys.iter_mut().enumerate() {
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

/// Turns a failed call into the typed error that says why.
fn classify(
    error: &wasmtime::Error,
    store: &Store<RunState>,
    limits: &Limits,
    outputs: [(&Vec<u8>, &'static str); 2],
) -> HostError {
    if let Some(Diverged(divergence)) = error.downcast_ref::<Diverged>() {
        return HostError::Diverged(divergence.clone());
    }
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
