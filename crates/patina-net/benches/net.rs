//! Benchmarks of `patina-net` on 127.0.0.1 (nodes built and torn down here):
//!
//! - `round_trip/stream_64B`: 64 bytes there and back on one long-lived
//!   named stream (what a capnp-rpc session per peer rides);
//! - `round_trip/request_response_64B`: the same payload as a bare libp2p
//!   request-response round trip (a new stream per request), same transport
//!   (TCP + Noise + Yamux);
//! - `connection_setup/{tcp,quic}`: dial to established;
//! - `dht/find_provider_50_nodes`: fifty nodes in a chain; a fresh key
//!   provided by one node each round, found by the node farthest from it.

#[path = "support/request_response.rs"]
mod request_response;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures::future::join_all;
use libp2p::kad::{KBucketKey, RecordKey};
use libp2p::{Multiaddr, PeerId, StreamProtocol};
use patina_net::{Digest, NetConfig, NetHandle, PeerEvent};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::runtime::Runtime;

const ECHO: StreamProtocol = StreamProtocol::new("/patina-bench/echo/1");
const PAYLOAD: usize = 64;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn config(transport: &str) -> NetConfig {
    let mut config = NetConfig::loopback();
    config.listen.retain(|a| a.to_string().contains(transport));
    config
}

async fn addr_of(node: &NetHandle) -> Multiaddr {
    let addr = node.listen_addrs().await.expect("listening")[0].clone();
    format!("{addr}/p2p/{}", node.local_peer_id())
        .parse()
        .expect("an address")
}

fn serve_echo(node: &NetHandle) {
    let mut incoming = node.accept(ECHO).expect("accepting");
    tokio::spawn(async move {
        while let Some(mut stream) = incoming.next().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
}

fn stream_round_trip(c: &mut Criterion, rt: &Runtime) {
    let (a, b, stream) = rt.block_on(async {
        let a = NetHandle::start(&[1; 32], config("/tcp/"))
            .await
            .expect("a");
        let b = NetHandle::start(&[2; 32], config("/tcp/"))
            .await
            .expect("b");
        serve_echo(&b);
        let peer = a.dial(addr_of(&b).await).await.expect("dial");
        let stream = a.open_stream(peer, ECHO).await.expect("stream");
        (a, b, stream)
    });
    // Each batch runs in a task on the runtime, as a membrane session would,
    // not on the benchmark's thread.
    let mut held = Some(stream);
    c.bench_function("round_trip/stream_64B", |bench| {
        bench.iter_custom(|iters| {
            let mut stream = held.take().expect("the stream");
            let (stream, took) = rt
                .block_on(rt.spawn(async move {
                    let (payload, mut back) = ([7u8; PAYLOAD], [0u8; PAYLOAD]);
                    let start = Instant::now();
                    for _ in 0..iters {
                        stream.write_all(&payload).await.expect("write");
                        stream.read_exact(&mut back).await.expect("read");
                    }
                    (stream, start.elapsed())
                }))
                .expect("the batch");
            held = Some(stream);
            took
        })
    });
    rt.block_on(async {
        drop(held);
        a.shutdown().await;
        b.shutdown().await;
    });
}

fn request_response_round_trip(c: &mut Criterion, rt: &Runtime) {
    let (a, peer, server) = rt.block_on(request_response::pair((3, 4), None));
    let mut held = Some(a);
    c.bench_function("round_trip/request_response_64B", |bench| {
        bench.iter_custom(|iters| {
            let mut a = held.take().expect("the swarm");
            let (a, took) = rt
                .block_on(rt.spawn(async move {
                    let start = Instant::now();
                    for _ in 0..iters {
                        request_response::round_trip(&mut a, &peer, vec![7u8; PAYLOAD], PAYLOAD)
                            .await;
                    }
                    (a, start.elapsed())
                }))
                .expect("the batch");
            held = Some(a);
            took
        })
    });
    server.abort();
}

fn connection_setup(c: &mut Criterion, rt: &Runtime) {
    let mut group = c.benchmark_group("connection_setup");
    group.sample_size(20);
    for (name, transport) in [("tcp", "/tcp/"), ("quic", "/quic-v1")] {
        let (a, b, addr) = rt.block_on(async {
            let a = NetHandle::start(&[5; 32], config(transport))
                .await
                .expect("a");
            let b = NetHandle::start(&[6; 32], config(transport))
                .await
                .expect("b");
            let addr = addr_of(&b).await;
            (a, b, addr)
        });
        let mut failed_dials = 0u64;
        group.bench_function(name, |bench| {
            bench.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    let mut done = 0;
                    while done < iters {
                        let mut events = a.subscribe();
                        let start = Instant::now();
                        let peer = match a.dial(addr.clone()).await {
                            Ok(peer) => peer,
                            Err(error) => {
                                // A redial right after a close can meet the
                                // old connection's remains (see docs/net.md).
                                failed_dials += 1;
                                eprintln!("dial failed ({failed_dials} so far): {error}");
                                tokio::time::sleep(Duration::from_millis(10)).await;
                                continue;
                            }
                        };
                        total += start.elapsed();
                        done += 1;
                        a.disconnect(peer).await.expect("disconnect");
                        while !matches!(events.recv().await, Ok(PeerEvent::Disconnected { .. })) {}
                    }
                    total
                })
            })
        });
        rt.block_on(async {
            a.shutdown().await;
            b.shutdown().await;
        });
    }
    group.finish();
}

fn dht_find(c: &mut Criterion, rt: &Runtime) {
    const NODES: u8 = 50;
    let nodes = rt.block_on(async {
        let mut nodes: Vec<NetHandle> = Vec::new();
        for i in 0..NODES {
            let mut config = config("/tcp/");
            if let Some(before) = nodes.last() {
                config.bootstrap = vec![addr_of(before).await];
            }
            nodes.push(
                NetHandle::start(&[100 + i; 32], config)
                    .await
                    .expect("node"),
            );
        }
        join_all(nodes.iter().map(|n| n.bootstrap())).await;
        nodes
    });
    // Fifty nodes dialling each other keep two cores busy for seconds after
    // the refresh; measure the network once it has settled.
    rt.block_on(async { tokio::time::sleep(Duration::from_secs(5)).await });
    let ids: Vec<PeerId> = nodes.iter().map(|n| n.local_peer_id()).collect();
    let mut round = 0u64;
    let mut group = c.benchmark_group("dht");
    group.sample_size(20);
    group.bench_function("find_provider_50_nodes", |bench| {
        bench.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    let key = Digest::of(&round.to_le_bytes());
                    let target = KBucketKey::new(RecordKey::new(&key.0));
                    // The node farthest from the key holds no record of it:
                    // its lookup has to walk the DHT.
                    let far = (0..ids.len())
                        .max_by_key(|&i| target.distance(&KBucketKey::from(ids[i])))
                        .expect("nodes");
                    let provider =
                        &nodes[(far + 1 + (round as usize % (ids.len() - 1))) % ids.len()];
                    provider.provide(key).await.expect("provide");
                    let start = Instant::now();
                    let found = nodes[far].find_providers(key, 1).await.expect("find");
                    total += start.elapsed();
                    assert_eq!(found, vec![provider.local_peer_id()]);
                }
                total
            })
        })
    });
    group.finish();
    rt.block_on(join_all(nodes.iter().map(|n| n.shutdown())));
}

fn benches(c: &mut Criterion) {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let rt = runtime();
    stream_round_trip(c, &rt);
    request_response_round_trip(c, &rt);
    connection_setup(c, &rt);
    dht_find(c, &rt);
}

criterion_group! {
    name = net;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(net);
