//! Benchmarks of Mothers on the network, on 127.0.0.1 (Mothers built and
//! torn down here, each with its own home):
//!
//! - `peer_round_trip/remote_live_run`: A asks B to run calc `add(2, 3)`
//!   live, over the one membrane session A keeps with B;
//! - `peer_round_trip/local_live_run`: the same run on B's own Mother;
//! - `peer_round_trip/bare_request_response`: a bare libp2p
//!   request-response round trip (a stream per request, same TCP + Noise +
//!   Yamux) carrying as many bytes as the remote run's request and answer;
//! - `peer_round_trip/remote_recorded_run` and `local_recorded_run`: the
//!   same, recorded (the peer signs a receipt; A verifies it as B's and
//!   keeps it);
//! - `peer_throughput/remote_1000_over_10_peers`: 1,000 concurrent recorded
//!   runs from one Mother over ten peers, every one checked;
//! - `peer_dht/find_provider_50_mothers`: fifty Mothers in a chain, a fresh
//!   key announced by one and found by the Mother farthest from it.

#[path = "../../patina-net/benches/support/request_response.rs"]
mod request_response;

use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use futures::future::join_all;
use patina_membrane::{CallerKey, EpochGuard, MembraneServer, Policy, ServeConfig};
use patina_mother::{
    CallSpec, ChildRef, InstallSpec, ModeSpec, Mother, MotherConfig, RunOutcome, RunSpec,
};
use patina_net::Digest;
use patina_peer::{PeerConfig, PeerNode, PeerTarget};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

struct Home {
    _dir: tempfile::TempDir,
    mother: Mother,
}

fn home(pooling: bool) -> Home {
    let dir = tempfile::tempdir().expect("a directory");
    let mut config = MotherConfig::new(dir.path().join("home"));
    config.engine.pooling = pooling;
    let mother = Mother::open(config).expect("a Mother");
    Home { _dir: dir, mother }
}

fn key(home: &Home) -> String {
    CallerKey(*home.mother.identity().id().bytes()).to_string()
}

/// `home` on the network, letting `runners` run there (as the built-in
/// `runner` does, and live too: the bench compares live runs).
async fn serve(home: &Home, runners: &[&Home], config: PeerConfig) -> PeerNode {
    let mut text = String::from(
        "[roles.bench-runner]\n\
         methods = [\"runtime.install\", \"runtime.run\", \"runtime.list\", \"runtime.describe\", \"receipts.get\"]\n\
         children = [\"*\"]\n\
         grants = [\"log\"]\n\
         live = true\n\n[callers]\n",
    );
    for runner in runners {
        text.push_str(&format!("\"{}\" = \"bench-runner\"\n", key(runner)));
    }
    let policy = Policy::parse(&text, "bench-policy.toml").expect("a policy");
    let server = MembraneServer::new(
        home.mother.clone(),
        policy,
        EpochGuard::new(1),
        ServeConfig::default(),
    );
    PeerNode::start(server, config).await.expect("a node")
}

async fn tcp_addr(node: &PeerNode) -> PeerTarget {
    let addr = node
        .listen_addrs()
        .await
        .expect("listening")
        .into_iter()
        .find(|a| a.to_string().contains("/tcp/"))
        .expect("a TCP address");
    PeerTarget::Addr(addr)
}

fn calc_spec(child: &str, mode: ModeSpec) -> RunSpec {
    let mut spec = RunSpec::new(
        ChildRef::Installed(child.into()),
        CallSpec::Wave("add(2, 3)".into()),
    );
    spec.mode = mode;
    spec
}

fn returned_five(outcome: &RunOutcome) -> bool {
    matches!(outcome, RunOutcome::Returned { wave, .. } if wave == "5")
}

async fn install_calc(home: &Home) -> String {
    let bytes = children_artifacts::by_name("calc")
        .expect("calc")
        .bytes
        .to_vec();
    let installed = home
        .mother
        .install(bytes, InstallSpec::default())
        .await
        .expect("installed");
    installed.child.to_string()
}

fn round_trip(c: &mut Criterion, rt: &Runtime) {
    let (a, b) = (home(true), home(true));
    let (caller, peer, target, calc) = rt.block_on(async {
        let calc = install_calc(&a).await;
        install_calc(&b).await;
        let caller = serve(&a, &[], PeerConfig::loopback()).await;
        let peer = serve(&b, &[&a], PeerConfig::loopback()).await;
        let target = tcp_addr(&peer).await;
        (caller, peer, target, calc)
    });
    // The payload of one remote run: its spec there, its answer back.
    let (request_len, answer_len) = rt.block_on(async {
        let spec = calc_spec(&calc, ModeSpec::Live);
        let ran = caller.run_on(&target, spec.clone()).await.expect("a run");
        let request = serde_json::to_vec(&spec).expect("json").len();
        let answer = serde_json::to_vec(&ran.run.summary).expect("json").len();
        (request, answer)
    });
    let mut group = c.benchmark_group("peer_round_trip");
    for (name, mode) in [("live", ModeSpec::Live), ("recorded", ModeSpec::Record)] {
        group.bench_function(format!("remote_{name}_run"), |bench| {
            bench.iter_custom(|iters| {
                let (caller, target) = (caller.clone(), target.clone());
                let spec = calc_spec(&calc, mode);
                rt.block_on(rt.spawn(async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let ran = caller.run_on(&target, spec.clone()).await.expect("ran");
                        assert!(returned_five(&ran.run.summary.outcome));
                    }
                    start.elapsed()
                }))
                .expect("the batch")
            })
        });
        group.bench_function(format!("local_{name}_run"), |bench| {
            bench.iter_custom(|iters| {
                let mother = b.mother.clone();
                let spec = calc_spec(&calc, mode);
                rt.block_on(rt.spawn(async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let ran = mother.run(spec.clone()).await.expect("ran");
                        assert!(returned_five(&ran.summary().outcome));
                    }
                    start.elapsed()
                }))
                .expect("the batch")
            })
        });
    }
    let (client, server_peer, server) =
        rt.block_on(request_response::pair((61, 62), Some(answer_len)));
    let mut held = Some(client);
    group.bench_function("bare_request_response", |bench| {
        bench.iter_custom(|iters| {
            let mut client = held.take().expect("the swarm");
            let (client, took) = rt
                .block_on(rt.spawn(async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let request = vec![7u8; request_len];
                        request_response::round_trip(
                            &mut client,
                            &server_peer,
                            request,
                            answer_len,
                        )
                        .await;
                    }
                    (client, start.elapsed())
                }))
                .expect("the batch");
            held = Some(client);
            took
        })
    });
    group.finish();
    server.abort();
    rt.block_on(async {
        caller.shutdown().await;
        peer.shutdown().await;
    });
}

fn throughput(c: &mut Criterion, rt: &Runtime) {
    const PEERS: usize = 10;
    const RUNS: usize = 1_000;
    let a = home(true);
    let others: Vec<Home> = (0..PEERS).map(|_| home(true)).collect();
    let (caller, targets, calc) = rt.block_on(async {
        let calc = install_calc(&a).await;
        let caller = serve(&a, &[], PeerConfig::loopback()).await;
        let mut nodes = Vec::new();
        let mut targets = Vec::new();
        for other in &others {
            install_calc(other).await;
            let node = serve(other, &[&a], PeerConfig::loopback()).await;
            targets.push(tcp_addr(&node).await);
            nodes.push(node);
        }
        (caller, (targets, nodes), calc)
    });
    let (targets, nodes) = targets;
    let mut group = c.benchmark_group("peer_throughput");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(30));
    group.bench_function("remote_1000_over_10_peers", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let runs = (0..RUNS).map(|n| {
                    let caller = caller.clone();
                    let target = targets[n % PEERS].clone();
                    let spec = calc_spec(&calc, ModeSpec::Record);
                    rt.spawn(async move { caller.run_on(&target, spec).await })
                });
                let done = rt.block_on(join_all(runs));
                total += start.elapsed();
                for (n, run) in done.into_iter().enumerate() {
                    let ran = run
                        .expect("the task")
                        .unwrap_or_else(|e| panic!("run {n} failed: {e}"));
                    assert!(returned_five(&ran.run.summary.outcome));
                    assert!(ran.run.receipt.is_some());
                }
            }
            total
        })
    });
    group.finish();
    rt.block_on(async {
        caller.shutdown().await;
        join_all(nodes.iter().map(PeerNode::shutdown)).await;
    });
}

fn dht_find(c: &mut Criterion, rt: &Runtime) {
    const MOTHERS: usize = 50;
    let homes: Vec<Home> = (0..MOTHERS).map(|_| home(false)).collect();
    let nodes = rt.block_on(async {
        let mut nodes: Vec<PeerNode> = Vec::new();
        for home in &homes {
            let mut config = PeerConfig::loopback();
            config.listen.retain(|a| a.to_string().contains("/tcp/"));
            if let Some(before) = nodes.last()
                && let PeerTarget::Addr(addr) = tcp_addr(before).await
            {
                config.bootstrap.push(addr);
            }
            nodes.push(serve(home, &[], config).await);
        }
        join_all(nodes.iter().map(|n| n.net().bootstrap())).await;
        nodes
    });
    // Fifty Mothers dialling each other keep two cores busy for seconds:
    // measure the network once it has settled.
    // (The sleep is made inside the runtime: a `Sleep` built outside one
    // panics with "no reactor running".)
    rt.block_on(async { tokio::time::sleep(Duration::from_secs(5)).await });
    let mut round = 0u64;
    let mut group = c.benchmark_group("peer_dht");
    group.sample_size(20);
    group.bench_function("find_provider_50_mothers", |bench| {
        bench.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    let key = Digest::of(&round.to_le_bytes());
                    let provider = &nodes[(round as usize * 7) % MOTHERS];
                    let seeker = &nodes[(round as usize * 7 + MOTHERS / 2) % MOTHERS];
                    provider.net().provide(key).await.expect("provide");
                    let start = Instant::now();
                    let found = seeker.net().find_providers(key, 1).await.expect("find");
                    total += start.elapsed();
                    assert_eq!(found, vec![provider.peer_id()]);
                }
                total
            })
        })
    });
    group.finish();
    rt.block_on(join_all(nodes.iter().map(PeerNode::shutdown)));
}

fn benches(c: &mut Criterion) {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let rt = runtime();
    round_trip(c, &rt);
    throughput(c, &rt);
    dht_find(c, &rt);
}

criterion_group! {
    name = peer;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(peer);
