//! The membrane's cost, each pair measured in the same run:
//! - `hop`: one attenuated call (`epoch.current`: login's capability, epoch
//!   and method checks, Cap'n Proto over an in-process pipe) vs. the direct
//!   call it ends in; and, as context, the same call on an in-process door's
//!   [`patina_membrane::Access`] (the same checks, no RPC);
//! - `run`: a trivial recorded run (calc `add`) through `mother serve`'s Unix
//!   socket vs. the same run on the embedded Mother;
//! - `throughput`: the same run from 64 concurrent clients on the socket,
//!   recorded vs. live (time per run; runs/s = 1 / time).

use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use patina_membrane::{CallerKey, Connection, EpochGuard, MembraneServer, Policy, ServeConfig};
use patina_mother::{CallSpec, ChildRef, InstallSpec, ModeSpec, Mother, MotherConfig, RunSpec};
use tokio::task::LocalSet;

/// As `mother serve` runs: the Mother's work (runs, the store) on a
/// multi-thread runtime, the Cap'n Proto connections (single-threaded) on a
/// current-thread runtime whose own driver polls their sockets.
fn runtimes() -> (tokio::runtime::Runtime, tokio::runtime::Runtime) {
    let work = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let serving = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("serving runtime");
    (work, serving)
}

/// This process's CPU time so far (user + system, every thread).
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_SELF is always valid.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn spec() -> RunSpec {
    RunSpec::new(
        ChildRef::Installed("calc".into()),
        CallSpec::Wave("add(2, 3)".into()),
    )
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (work, rt) = runtimes();
    let local = LocalSet::new();
    let mother = Mother::open(MotherConfig::new(dir.path().join("home"))).expect("mother");
    let seed = mother.identity().seed();
    let calc = children_artifacts::by_name("calc")
        .expect("calc")
        .bytes
        .to_vec();
    work.block_on(mother.install(
        calc,
        InstallSpec {
            name: Some("calc".into()),
            grants: Vec::new(),
        },
    ))
    .expect("install");

    let server = {
        let _work = work.enter();
        MembraneServer::new(
            mother.clone(),
            Policy::default(),
            EpochGuard::new(1),
            ServeConfig::default(),
        )
    };

    // One hop over an in-process pipe vs. the direct call.
    let (a, b) = tokio::io::duplex(1 << 16);
    local.spawn_local(server.serve(a));
    let session = local
        .block_on(&rt, async { Connection::open(b).login(&seed).await })
        .expect("login");
    let mut group = c.benchmark_group("hop");
    group.bench_function("membrane_hop_epoch_current", |bench| {
        bench.iter(|| local.block_on(&rt, session.epoch()).expect("epoch"));
    });
    let own_key = CallerKey(*mother.identity().id().bytes());
    let access = server.access_for_key(own_key, "bench").expect("access");
    group.bench_function("access_epoch_current", |bench| {
        bench.iter(|| access.current_epoch().expect("epoch"));
    });
    let epoch = server.epoch().clone();
    group.bench_function("direct_epoch_current", |bench| {
        bench.iter(|| {
            epoch.check(1).expect("current");
            epoch.current()
        });
    });
    group.finish();

    // A recorded run through a Unix socket vs. embedded.
    let socket = dir.path().join("bench.sock");
    let listener = local
        .block_on(&rt, async { patina_membrane::bind(&socket) })
        .expect("bind");
    let serving = server.clone();
    local.spawn_local(async move {
        patina_membrane::serve_unix(
            &serving,
            listener,
            std::future::pending::<()>(),
            Duration::ZERO,
        )
        .await;
    });
    let remote = local
        .block_on(&rt, async {
            Connection::unix(&socket).await?.login(&seed).await
        })
        .expect("login over the socket");
    let mut group = c.benchmark_group("run");
    group.sample_size(50);
    group.bench_function("socket_recorded_run", |bench| {
        bench.iter(|| local.block_on(&rt, remote.run(&spec())).expect("run"));
    });
    group.bench_function("embedded_recorded_run", |bench| {
        bench.iter(|| work.block_on(mother.run(spec())).expect("run"));
    });
    group.finish();

    // 64 concurrent clients, recorded vs. live.
    const CLIENTS: u64 = 64;
    let sessions: Vec<Rc<patina_membrane::Session>> = (0..CLIENTS)
        .map(|_| {
            let session = local
                .block_on(&rt, async {
                    Connection::unix(&socket).await?.login(&seed).await
                })
                .expect("login");
            Rc::new(session)
        })
        .collect();
    let mut group = c.benchmark_group("throughput");
    group.sample_size(10);
    for (name, mode) in [
        ("clients_64_recorded", ModeSpec::Record),
        ("clients_64_live", ModeSpec::Live),
    ] {
        // The process's CPU time per run too (on a shared machine the wall
        // time also counts other processes' load; this does not).
        let mut cpu_per_run = Vec::new();
        group.bench_function(name, |bench| {
            bench.iter_custom(|iters| {
                let per = iters.div_ceil(CLIENTS);
                let cpu = cpu_time();
                let started = Instant::now();
                local.block_on(&rt, async {
                    let tasks: Vec<_> = sessions
                        .iter()
                        .map(|session| {
                            let session = session.clone();
                            let mut spec = spec();
                            spec.mode = mode;
                            tokio::task::spawn_local(async move {
                                for _ in 0..per {
                                    session.run(&spec).await.expect("run");
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.expect("client");
                    }
                });
                let elapsed = started.elapsed();
                cpu_per_run.push((cpu_time() - cpu).as_secs_f64() / (per * CLIENTS) as f64);
                elapsed.mul_f64(iters as f64 / (per * CLIENTS) as f64)
            });
        });
        cpu_per_run.sort_by(f64::total_cmp);
        if let Some(median) = cpu_per_run.get(cpu_per_run.len() / 2) {
            eprintln!(
                "throughput/{name}: process CPU per run (median of {} batches): {:.1} µs",
                cpu_per_run.len(),
                median * 1e6
            );
        }
    }
    group.finish();
}

criterion_group!(membrane, benches);
criterion_main!(membrane);
