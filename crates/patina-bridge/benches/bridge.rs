//! Requests per second through the REST bridge against the same runs on
//! the embedded Mother, measured in the same run: 64 concurrent clients
//! each calling calc `add(2, 3)` (recorded, with its receipt) over its own
//! keep-alive HTTP/1.1 connection on 127.0.0.1, vs. 64 concurrent tasks
//! calling `Mother::run`. The figure is the time per run (runs/s = 1 /
//! time); the aim is REST at ≥ 40% of embedded throughput (ratio ≤ 2.5).
//! Clients, bridge and Mother share one runtime on the same cores.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use patina_bridge::{Bridge, BridgeConfig};
use patina_membrane::{MembraneServer, ServeConfig};
use patina_mother::{CallSpec, ChildRef, InstallSpec, Mother, MotherConfig, RunSpec};

const CLIENTS: u64 = 64;

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: std::net::SocketAddr) -> Sender {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

async fn call(sender: &mut Sender, addr: std::net::SocketAddr, token: &str) {
    let request = Request::post(format!("http://{addr}/v1/children/calc/call/add"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"[2, 3]")))
        .expect("request");
    sender.ready().await.expect("ready");
    let response = sender.send_request(request).await.expect("send");
    assert_eq!(response.status(), 200);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert!(body.starts_with(b"{\"result\":5"), "{body:?}");
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mother = Mother::open(MotherConfig::new(dir.path().join("home"))).expect("mother");
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
    let server = rt
        .block_on(async { MembraneServer::open(mother.clone(), ServeConfig::default()) })
        .expect("membrane");
    let token = server
        .tokens()
        .create("admin", "bench", None)
        .expect("token")
        .1;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(patina_bridge::serve(
        listener,
        Bridge::new(server, BridgeConfig::default()),
        std::future::pending::<()>(),
    ));
    let senders: Vec<Sender> = rt.block_on(async {
        let mut senders = Vec::new();
        for _ in 0..CLIENTS {
            senders.push(connect(addr).await);
        }
        senders
    });
    let senders = std::sync::Arc::new(tokio::sync::Mutex::new(senders));

    let mut group = c.benchmark_group("bridge");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("rest_clients_64_recorded", |bench| {
        bench.iter_custom(|iters| {
            let per = iters.div_ceil(CLIENTS);
            let started = Instant::now();
            rt.block_on(async {
                let taken: Vec<Sender> = std::mem::take(&mut *senders.lock().await);
                let tasks: Vec<_> = taken
                    .into_iter()
                    .map(|mut sender| {
                        let token = token.clone();
                        tokio::spawn(async move {
                            for _ in 0..per {
                                call(&mut sender, addr, &token).await;
                            }
                            sender
                        })
                    })
                    .collect();
                let mut back = Vec::new();
                for task in tasks {
                    back.push(task.await.expect("client"));
                }
                *senders.lock().await = back;
            });
            started
                .elapsed()
                .mul_f64(iters as f64 / (per * CLIENTS) as f64)
        });
    });
    group.bench_function("embedded_clients_64_recorded", |bench| {
        bench.iter_custom(|iters| {
            let per = iters.div_ceil(CLIENTS);
            let started = Instant::now();
            rt.block_on(async {
                let tasks: Vec<_> = (0..CLIENTS)
                    .map(|_| {
                        let mother = mother.clone();
                        tokio::spawn(async move {
                            for _ in 0..per {
                                let spec = RunSpec::new(
                                    ChildRef::Installed("calc".into()),
                                    CallSpec::Json {
                                        function: "add".into(),
                                        args: serde_json::json!([2, 3]),
                                    },
                                );
                                let run = mother.run(spec).await.expect("run");
                                assert!(run.receipt.is_some());
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("task");
                }
            });
            started
                .elapsed()
                .mul_f64(iters as f64 / (per * CLIENTS) as f64)
        });
    });
    group.finish();
}

criterion_group!(bridge, benches);
criterion_main!(bridge);
