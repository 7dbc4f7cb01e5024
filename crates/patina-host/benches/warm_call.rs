//! Warm-call overhead of the full Patina host path against raw wasmtime.
//!
//! What is measured (criterion group `warm_call`, all in one process, same
//! engine, same compiled component, same current-thread tokio runtime driven
//! by `block_on` inside `b.iter`, so the numbers are directly comparable):
//!
//! - `host_run_noop`: `Host::run` of the `limits` child's `noop()` — WAVE
//!   parse, export lookup, grant resolution, import planning, linker-cache
//!   lookup, WASI context + output pipes + log sink, fresh store with memory
//!   limiter / fuel / epoch deadline, instantiate, call under a tokio timeout,
//!   report. The child is already compiled and linked (warm): the first run
//!   happens before measuring.
//! - `raw_instance_pre_noop` (the baseline): what any wasmtime embedder must do
//!   per call — a fresh `Store` with an empty `WasiCtx`, fuel, epoch deadline,
//!   `InstancePre::instantiate_async`, `get_func` by a precomputed
//!   `ComponentExportIndex`, `call_async`.
//! - `raw_reused_instance_noop` (context only): one instance kept alive, only
//!   `call_async` per iteration — the floor of a component call.
//! - `host_run_wave_args`: `Host::run` of `calc`'s `add(2, 3)`, i.e. the cost
//!   of WAVE argument parsing and typed results on top of `host_run_noop`.
//!
//! Run it with
//! `CARGO_TARGET_DIR=$HOME/.cache/patina-target cargo bench -p patina-host --bench warm_call`.
//!
//! Reading the result: the host's overhead ratio is
//! `median(host_run_noop) / median(raw_instance_pre_noop)`; the target is ≤ 2×.
//! `host_run_noop - raw_instance_pre_noop` is the absolute per-run cost of the
//! host's bookkeeping; `raw_reused_instance_noop` shows how much of either is
//! instantiation rather than the call itself.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use patina_host::{Call, Child, Host, HostConfig, RunRequest, Val};
use tokio::runtime::Runtime;
use wasmtime::Store;
use wasmtime::component::{ComponentExportIndex, InstancePre, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The least store data that lets the `limits` child instantiate (Rust std
/// makes it import the WASI base interfaces).
struct RawState {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl RawState {
    fn new() -> Self {
        Self {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for RawState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A store set up the way the engine requires (fuel and epochs are always on).
fn raw_store(host: &Host) -> Store<RawState> {
    let mut store = Store::new(host.engine(), RawState::new());
    store.set_fuel(u64::MAX).expect("the engine meters fuel");
    store.set_epoch_deadline(u64::MAX / 2);
    store
}

/// One fresh-store run of `noop` from `pre`, as a plain wasmtime embedder would do it.
async fn raw_call(host: &Host, pre: &InstancePre<RawState>, noop: ComponentExportIndex) {
    let mut store = raw_store(host);
    let instance = pre
        .instantiate_async(&mut store)
        .await
        .expect("raw instantiate");
    let func = instance
        .get_func(&mut store, noop)
        .expect("noop is a function");
    func.call_async(&mut store, &[], &mut [])
        .await
        .expect("raw noop call");
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn host_and_children() -> (Host, Child, Child) {
    let host = Host::new(HostConfig::with_toys(patina_toys::log_only(), None)).expect("a host");
    let limits = host
        .load(children_artifacts::LIMITS_BYTES)
        .expect("load the limits child");
    let calc = host
        .load(children_artifacts::CALC_BYTES)
        .expect("load the calc child");
    (host, limits, calc)
}

fn warm_call(c: &mut Criterion) {
    let rt = runtime();
    let (host, limits, calc) = host_and_children();

    // Full host path: check once (this also links and caches the InstancePre).
    let noop_request = RunRequest::new(Call::Wave("noop()".into()));
    let report = rt
        .block_on(host.run(&limits, &noop_request))
        .expect("host run of noop starts");
    assert!(report.outcome.is_ok(), "noop failed: {:?}", report.outcome);

    let add_request = RunRequest::new(Call::Wave("add(2, 3)".into()));
    let report = rt
        .block_on(host.run(&calc, &add_request))
        .expect("host run of add starts");
    let results = report.outcome.expect("add(2, 3) returns").results;
    assert!(
        matches!(results.as_slice(), [Val::S32(5)]),
        "add(2, 3) returned {results:?}"
    );

    // Raw baseline: same engine, same compiled component.
    let mut linker: Linker<RawState> = Linker::new(host.engine());
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("link WASI p2");
    let pre = linker
        .instantiate_pre(limits.component())
        .expect("pre-instantiate the limits child");
    let noop = limits
        .component()
        .get_export_index(None, "noop")
        .expect("limits exports `noop`");
    rt.block_on(raw_call(&host, &pre, noop));

    // Context: one instance, many calls.
    let mut reused = raw_store(&host);
    let reused_func = rt.block_on(async {
        let instance = pre
            .instantiate_async(&mut reused)
            .await
            .expect("raw instantiate");
        instance
            .get_func(&mut reused, noop)
            .expect("noop is a function")
    });
    let reused_ok: wasmtime::Result<()> = rt.block_on(async {
        for _ in 0..2 {
            reused_func.call_async(&mut reused, &[], &mut []).await?;
        }
        Ok(())
    });
    if let Err(error) = &reused_ok {
        eprintln!(
            "raw_reused_instance_noop skipped: a second call on one instance failed: {error:#}"
        );
    }

    let mut group = c.benchmark_group("warm_call");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    group.bench_function("host_run_noop", |b| {
        b.iter(|| {
            let report = rt
                .block_on(host.run(&limits, &noop_request))
                .expect("host run");
            black_box(report)
        })
    });
    group.bench_function("raw_instance_pre_noop", |b| {
        b.iter(|| rt.block_on(raw_call(&host, &pre, black_box(noop))))
    });
    if reused_ok.is_ok() {
        group.bench_function("raw_reused_instance_noop", |b| {
            b.iter(|| {
                rt.block_on(reused_func.call_async(&mut reused, &[], &mut []))
                    .expect("reused noop call");
            })
        });
    }
    group.bench_function("host_run_wave_args", |b| {
        b.iter(|| {
            let report = rt
                .block_on(host.run(&calc, &add_request))
                .expect("host run");
            black_box(report)
        })
    });
    group.finish();
}

criterion_group!(benches, warm_call);
criterion_main!(benches);
