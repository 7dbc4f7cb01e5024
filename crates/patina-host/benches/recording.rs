//! The cost of recording a run, of replaying it, and of sealing it into a receipt.
//!
//! What is measured (criterion group `recording`, all in one process, same
//! host, same compiled `hello-log` child, same current-thread tokio runtime
//! driven by `block_on` inside `b.iter`, so the numbers are directly
//! comparable). Every case runs `chatter(100)`, which calls the `log` toy 100
//! times (granted `log`), so the run is dominated by toy calls:
//!
//! - `live_chatter_100` (the baseline): `Host::run` with `RunMode::Live` —
//!   the tape records nothing.
//! - `record_chatter_100`: `Host::run` with `RunMode::Record` plus
//!   `RunReport::take_transcript()` — per toy call the tape formats arguments and
//!   results as WAVE text and appends an event; afterwards the transcript is
//!   built. Both are the cost of recording.
//! - `replay_chatter_100`: `Host::replay` of a transcript recorded once before
//!   measuring (checked to match once). Every toy call is answered from the
//!   transcript, and the replayed run's transcript is rebuilt, diffed against
//!   the recorded one and hashed. The `ReplaySource` is cloned outside the
//!   timed part (`iter_batched`).
//! - `record_sealed_chatter_100` (context): `record_chatter_100` plus
//!   `canonical::seal` of the transcript — canonical encoding, transcript
//!   hash, receipt id and signature — i.e. what a recorded run costs when it
//!   ends as a signed receipt.
//!
//! Run it with
//! `CARGO_TARGET_DIR=$HOME/.cache/patina-target cargo bench -p patina-host --bench recording`.
//!
//! To see where the time goes, count instructions (repeatable on a busy
//! machine, unlike wall-clock time) with callgrind, instances allocated on
//! demand (valgrind cannot reserve the pool's address space):
//! `PATINA_BENCH_ON_DEMAND=1 valgrind --tool=callgrind <bench binary> --bench
//! --profile-time 3 recording/record_chatter_100`, then divide the inclusive
//! cost of `Host::run_keeping` by its calls (`callgrind_annotate --inclusive=yes`).
//!
//! Reading the result: the recording overhead is
//! `median(record_chatter_100) / median(live_chatter_100)`; the aim is ≤ 1.15.
//! `(record - live) / 100` approximates the cost of recording one toy call.
//! `median(record_sealed_chatter_100) / median(live_chatter_100)` is the
//! overhead of a receipted run, and `sealed - record` the cost of sealing a
//! 100-event transcript. `median(replay_chatter_100) / median(record_chatter_100)`
//! compares a replay with the run it reproduces (≈ 1 or below means checking
//! a receipt by replay costs no more than producing it; replay also hashes
//! the replayed transcript, which recording alone does not).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use patina_host::{Call, Child, Host, HostConfig, ReplaySource, RunMode, RunRequest, Val};
use patina_receipts::{Identity, canonical};
use tokio::runtime::Runtime;

/// Toy calls per run.
const CALLS: u32 = 100;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn host_and_child() -> (Host, Child) {
    let mut config = HostConfig::with_toys(patina_toys::log_only(), None);
    // Valgrind cannot reserve the pool's address space; profiling under it
    // (see the module doc) allocates instances on demand instead.
    config.engine.pooling = std::env::var_os("PATINA_BENCH_ON_DEMAND").is_none();
    let host = Host::new(config).expect("a host");
    let hello_log = host
        .load(children_artifacts::HELLO_LOG_BYTES)
        .expect("load the hello-log child");
    (host, hello_log)
}

/// `chatter(CALLS)` in `mode`, granted `log`.
fn chatter_request(mode: RunMode) -> RunRequest {
    let mut request = RunRequest::new(Call::Wave(format!("chatter({CALLS})")));
    request
        .grants
        .push("log".parse().expect("`log` is a grant"));
    request.mode = mode;
    request
}

fn recording(c: &mut Criterion) {
    let rt = runtime();
    let (host, child) = host_and_child();

    let live = chatter_request(RunMode::Live);
    let record = chatter_request(RunMode::Record);

    // Check once (this also links and caches the InstancePre).
    let report = rt
        .block_on(host.run(&child, &live))
        .expect("live chatter starts");
    let results = report.outcome.as_ref().expect("live chatter returns");
    assert!(
        matches!(results.results.as_slice(), [Val::U32(CALLS)]),
        "chatter({CALLS}) returned {:?}",
        results.results
    );
    assert!(report.transcript().is_none(), "a live run recorded");

    let report = rt
        .block_on(host.run(&child, &record))
        .expect("recorded chatter starts");
    assert!(
        report.outcome.is_ok(),
        "recorded chatter failed: {:?}",
        report.outcome
    );
    let (transcript, blobs) = report
        .transcript()
        .expect("a recorded run has a transcript");
    assert!(
        transcript.events.len() >= CALLS as usize,
        "expected at least {CALLS} events, got {}",
        transcript.events.len()
    );
    let source = ReplaySource { transcript, blobs };

    let replayed = rt
        .block_on(host.replay(&child, source.clone()))
        .expect("replay starts");
    assert!(
        replayed.matched(),
        "replay diverged: {:?}",
        replayed.divergence
    );

    let identity = Identity::from_seed([1; 32]);

    let mut group = c.benchmark_group("recording");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    group.bench_function("live_chatter_100", |b| {
        b.iter(|| {
            let report = rt.block_on(host.run(&child, &live)).expect("host run");
            black_box(report)
        })
    });
    group.bench_function("record_chatter_100", |b| {
        b.iter(|| {
            let mut report = rt.block_on(host.run(&child, &record)).expect("host run");
            let transcript = report.take_transcript();
            black_box((report, transcript))
        })
    });
    group.bench_function("replay_chatter_100", |b| {
        b.iter_batched(
            || source.clone(),
            |source| {
                let replayed = rt
                    .block_on(host.replay(&child, source))
                    .expect("host replay");
                black_box(replayed)
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("record_sealed_chatter_100", |b| {
        b.iter(|| {
            let mut report = rt.block_on(host.run(&child, &record)).expect("host run");
            let (transcript, blobs) = report.take_transcript().expect("a transcript");
            let receipt = canonical::seal(transcript, &identity, 0, 1, None);
            black_box((report, receipt, blobs))
        })
    });
    group.finish();
}

criterion_group!(benches, recording);
criterion_main!(benches);
