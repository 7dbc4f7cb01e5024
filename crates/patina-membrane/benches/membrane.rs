//! The membrane's cost, each pair measured in the same run:
//! - `hop`: one attenuated call (`epoch.current`: login's capability, epoch
//!   and method checks, Cap'n Proto over an in-process pipe) vs. the direct
//!   call it ends in;
//! - `run`: a trivial recorded run (calc `add`) through `mother serve`'s Unix
//!   socket vs. the same run on the embedded Mother;
//! - `throughput`: the same run from 64 concurrent clients on the socket,
//!   recorded vs. live (time per run; runs/s = 1 / time).

use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use patina_membrane::{Connection, EpochGuard, MembraneServer, Policy, ServeConfig};
use patina_mother::{CallSpec, ChildRef, InstallSpec, ModeSpec, Mother, MotherConfig, RunSpec};
use tokio::task::LocalSet;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn spec() -> RunSpec {
    RunSpec::new(
        ChildRef::Installed("calc".into()),
        CallSpec::Wave("add(2, 3)".into()),
    )
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = runtime();
    let local = LocalSet::new();
    let mother = Mother::open(MotherConfig::new(dir.path().join("home"))).expect("mother");
    let seed = mother.identity().seed();
    let calc = children_artifacts::by_name("calc")
        .expect("calc")
        .bytes
        .to_vec();
    rt.block_on(mother.install(
        calc,
        InstallSpec {
            name: Some("calc".into()),
            grants: Vec::new(),
        },
    ))
    .expect("install");

    let server = local.block_on(&rt, async {
        MembraneServer::new(
            mother.clone(),
            Policy::default(),
            EpochGuard::new(1),
            ServeConfig::default(),
        )
    });

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
        bench.iter(|| rt.block_on(mother.run(spec())).expect("run"));
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
        group.bench_function(name, |bench| {
            bench.iter_custom(|iters| {
                let per = iters.div_ceil(CLIENTS);
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
                started
                    .elapsed()
                    .mul_f64(iters as f64 / (per * CLIENTS) as f64)
            });
        });
    }
    group.finish();
}

criterion_group!(membrane, benches);
criterion_main!(membrane);
