//! The membrane end to end over in-process pipes: logins good and bad,
//! attenuation by role, the epoch, bad frames, and callers that misbehave.
//! Every failure is checked for its reason (the kind), not just for failing.

use std::rc::Rc;
use std::time::Duration;

use patina_membrane::{
    CallerKey, Connection, EpochGuard, LoginRequest, MembraneServer, Policy, ServeConfig, Session,
};
use patina_mother::{CallSpec, ChildRef, InstallSpec, Mother, MotherConfig, RunOutcome, RunSpec};
use tokio::io::AsyncWriteExt;
use tokio::task::LocalSet;

const ADMIN: [u8; 32] = [1; 32];
const RUNNER: [u8; 32] = [2; 32];
const OPS: [u8; 32] = [3; 32];
const READER: [u8; 32] = [4; 32];
const STRANGER: [u8; 32] = [9; 32];

fn key(seed: &[u8; 32]) -> String {
    CallerKey(patina_membrane::login::public_key(seed)).to_string()
}

struct World {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    mother: Mother,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    let mother = Mother::open(MotherConfig::new(dir.path().join("home"))).unwrap();
    World {
        _dir: dir,
        data,
        mother,
    }
}

fn policy(world: &World) -> Policy {
    let data = world.data.display();
    let text = format!(
        r#"
[callers]
"{admin}" = "admin"
"{runner}" = "runner"
"{ops}" = "ops"
"{reader}" = "reader"

[roles.ops]
methods = ["runtime.list", "runtime.run", "receipts.*"]
children = ["calc"]
grants = ["fs:{data}:ro", "log"]
limits = {{ fuel = 100000000 }}
receipts = "own"
rate = {{ runs_per_second = 0.001, burst = 3 }}
"#,
        admin = key(&ADMIN),
        runner = key(&RUNNER),
        ops = key(&OPS),
        reader = key(&READER),
    );
    Policy::parse(&text, "test-policy.toml").unwrap()
}

async fn install(mother: &Mother, name: &str) {
    let bytes = children_artifacts::by_name(name).unwrap().bytes.to_vec();
    mother
        .install(
            bytes,
            InstallSpec {
                name: Some(name.into()),
                grants: Vec::new(),
            },
        )
        .await
        .unwrap();
}

/// Runs `test` on a LocalSet inside a multi-thread runtime, as `mother serve` does.
fn within<F, Fut>(test: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let local = LocalSet::new();
    runtime.block_on(local.run_until(async {
        tokio::time::timeout(Duration::from_secs(120), test())
            .await
            .expect("the test finished in time");
    }));
}

fn pipe(
    server: &MembraneServer,
) -> (
    Connection,
    tokio::task::JoinHandle<Result<(), patina_membrane::MembraneError>>,
) {
    let (a, b) = tokio::io::duplex(1 << 20);
    let serving = tokio::task::spawn_local(server.serve(a));
    (Connection::open(b), serving)
}

async fn login(server: &MembraneServer, seed: &[u8; 32]) -> Session {
    pipe(server).0.login(seed).await.unwrap()
}

fn wave(call: &str, child: &str) -> RunSpec {
    RunSpec::new(
        ChildRef::Installed(child.into()),
        CallSpec::Wave(call.into()),
    )
}

async fn setup(config: ServeConfig) -> (World, MembraneServer) {
    let world = world();
    for name in ["calc", "hello-log", "limits"] {
        install(&world.mother, name).await;
    }
    let policy = policy(&world);
    let server = MembraneServer::new(world.mother.clone(), policy, EpochGuard::new(1), config);
    (world, server)
}

#[test]
fn two_clients_with_different_roles_get_different_membranes() {
    within(|| async {
        let (world, server) = setup(ServeConfig::default()).await;
        let runner = login(&server, &RUNNER).await;
        let ops = login(&server, &OPS).await;
        assert_eq!(runner.role(), "runner");
        assert_eq!(ops.role(), "ops");

        // The runner runs any child, with `log` and nothing above it.
        let ran = runner.run(&wave("add(2, 3)", "calc")).await.unwrap();
        assert!(matches!(&ran.summary.outcome, RunOutcome::Returned { wave, .. } if wave == "5"));
        let receipt = ran.receipt.expect("a recorded run has its receipt");
        patina_receipts::verify(&receipt).unwrap();
        assert_eq!(receipt.mother, world.mother.identity().id());
        let mut greet = wave("greet(\"ann\")", "hello-log");
        greet.grants.push("log".into());
        let ran = runner.run(&greet).await.unwrap();
        assert_eq!(ran.summary.logs.len(), 1, "{:?}", ran.summary);
        greet.grants.push("kv".into());
        let error = runner.run(&greet).await.unwrap_err();
        assert_eq!(error.kind, "grant-above-ceiling", "{error:?}");
        assert!(
            error.message.contains("`kv`") && error.message.contains("runner"),
            "{error}"
        );

        // The runner's limits are the defaults: one unit more is refused.
        let mut greedy = wave("add(1, 1)", "calc");
        greedy.limits.fuel = Some(patina_core::Limits::default().fuel + 1);
        let error = runner.run(&greedy).await.unwrap_err();
        assert_eq!(error.kind, "limit-above-ceiling", "{error:?}");
        assert!(error.message.contains("fuel"), "{error}");

        // Runner: receipts of its own runs only; no replay; installs by digest only.
        let own = runner.receipts(None, 0).await.unwrap();
        assert_eq!(own.len(), 2);
        let error = runner.replay(&receipt.id.to_string()).await.unwrap_err();
        assert_eq!(error.kind, "denied", "{error:?}");
        assert!(error.message.contains("receipts.replay"), "{error}");
        let bytes = children_artifacts::by_name("calc").unwrap().bytes;
        let error = runner.install(bytes, Some("mine"), &[]).await.unwrap_err();
        assert_eq!(error.kind, "install-named-denied", "{error:?}");
        let installed = runner.install(bytes, None, &[]).await.unwrap();
        assert_eq!(installed.name, None);

        // Ops: calc only, fs under the data directory read-only at most.
        let ran = ops.run(&wave("add(20, 22)", "calc")).await.unwrap();
        assert!(matches!(&ran.summary.outcome, RunOutcome::Returned { wave, .. } if wave == "42"));
        let error = ops
            .run(&wave("greet(\"x\")", "hello-log"))
            .await
            .unwrap_err();
        assert_eq!(error.kind, "child-denied", "{error:?}");
        assert!(error.message.contains("hello-log"), "{error}");
        let mut above = wave("add(1, 2)", "calc");
        above.grants.push(format!("fs:{}:rw", world.data.display()));
        let error = ops.run(&above).await.unwrap_err();
        assert_eq!(error.kind, "grant-above-ceiling", "{error:?}");
        assert!(error.message.contains(":rw"), "names the grant: {error}");
        assert!(error.message.contains(":ro"), "names the ceiling: {error}");
        let mut outside = wave("add(1, 2)", "calc");
        outside
            .grants
            .push(format!("fs:{}/../:ro", world.data.display()));
        let error = ops.run(&outside).await.unwrap_err();
        assert_eq!(error.kind, "grant-above-ceiling", "{error:?}");
        let error = ops.describe("calc").await.unwrap_err();
        assert_eq!(error.kind, "denied", "{error:?}");
        let listed = ops.list().await.unwrap();
        assert_eq!(listed.len(), 1, "ops sees only calc: {listed:?}");
        assert_eq!(listed[0].names, ["calc"]);
        // The ops role sees none of the runner's receipts.
        let error = ops.receipt(&receipt.id.to_string()).await.unwrap_err();
        assert_eq!(error.kind, "receipt-denied", "{error:?}");
        assert_eq!(ops.receipts(None, 0).await.unwrap().len(), 1);
        // ops may start 3 runs (burst) and then waits ~1000 s for the next.
        let mut ran = 1;
        let error = loop {
            match ops.run(&wave("add(1, 1)", "calc")).await {
                Ok(_) => ran += 1,
                Err(error) => break error,
            }
            assert!(ran <= 3, "the burst is 3");
        };
        assert_eq!(ran, 3);
        assert_eq!(error.kind, "rate-limited", "{error:?}");

        // A reader reads and never runs.
        let reader = login(&server, &READER).await;
        let error = reader.run(&wave("add(1, 1)", "calc")).await.unwrap_err();
        assert_eq!(error.kind, "denied", "{error:?}");
        let all = world.mother.receipts_of(None, None).await.unwrap().len();
        assert_eq!(all, 5);
        assert_eq!(reader.receipts(None, 0).await.unwrap().len(), all);
        let description = reader.describe("calc").await.unwrap();
        assert_eq!(description["command"], false);
        assert!(description["wit"].as_str().unwrap().contains("add"));
        let (verified, link) = reader.verify(&receipt.id.to_string()).await.unwrap();
        assert_eq!(verified.id, receipt.id);
        assert!(!link.is_empty());

        // The admin may replay.
        let admin = login(&server, &ADMIN).await;
        let replay = admin.replay(&receipt.id.short().to_string()).await.unwrap();
        assert!(replay.summary.matched, "{:?}", replay.summary);
        let explained = admin.explain().await.unwrap();
        assert_eq!(explained["role"], "admin");
    });
}

#[test]
fn logins_are_checked_every_way() {
    within(|| async {
        let (world, server) = setup(ServeConfig::default()).await;
        let server_id = world.mother.identity().id().bytes().to_vec();

        // A key the policy does not know.
        let error = pipe(&server).0.login(&STRANGER).await.err().unwrap();
        assert_eq!(error.kind, "unknown-key", "{error:?}");

        // A signature by another key than the one claimed (wrong key).
        let connection = pipe(&server).0;
        let challenge = connection.challenge().await.unwrap();
        assert_eq!(challenge.server_id, server_id);
        assert_eq!(challenge.domain, patina_membrane::login::DOMAIN);
        let mut forged = LoginRequest::sign(&STRANGER, &challenge).unwrap();
        forged.key = patina_membrane::login::public_key(&ADMIN).to_vec();
        let error = connection.login_with(&forged).await.err().unwrap();
        assert_eq!(error.kind, "bad-signature", "{error:?}");

        // A replayed login: the same signed request twice, then on another connection.
        let (connection, _) = pipe(&server);
        let challenge = connection.challenge().await.unwrap();
        let request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        let (again, _) = pipe(&server);
        let error = again.login_with(&request).await.err().unwrap();
        assert_eq!(
            error.kind, "unknown-nonce",
            "another connection's nonce: {error:?}"
        );
        let session = connection.login_with(&request).await.unwrap();
        assert_eq!(session.role(), "runner");
        let (replay, _) = pipe(&server);
        let error = replay.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "unknown-nonce", "a used nonce: {error:?}");

        // Signed for another server, or for another epoch.
        let connection = pipe(&server).0;
        let mut challenge = connection.challenge().await.unwrap();
        challenge.server_id = vec![7; 32];
        let request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        let error = connection.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "wrong-server", "{error:?}");
        let connection = pipe(&server).0;
        let mut challenge = connection.challenge().await.unwrap();
        challenge.epoch += 1;
        let request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        let error = connection.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "stale-epoch", "{error:?}");

        // Signed under another domain.
        let connection = pipe(&server).0;
        let challenge = connection.challenge().await.unwrap();
        let mut request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        let mut message = b"another protocol".to_vec();
        message.extend_from_slice(&challenge.nonce);
        message.extend_from_slice(&challenge.epoch.to_be_bytes());
        message.extend_from_slice(&challenge.server_id);
        use ed25519_dalek::Signer;
        request.signature = ed25519_dalek::SigningKey::from_bytes(&RUNNER)
            .sign(&message)
            .to_bytes()
            .to_vec();
        let error = connection.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "bad-signature", "{error:?}");

        // Fields of the wrong size, and a nonce that was never issued.
        let connection = pipe(&server).0;
        let challenge = connection.challenge().await.unwrap();
        let mut request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        request.key.truncate(5);
        let error = connection.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "bad-request", "{error:?}");
        let connection = pipe(&server).0;
        let mut challenge = connection.challenge().await.unwrap();
        challenge.nonce = vec![0; 32];
        let request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        let error = connection.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "unknown-nonce", "{error:?}");

        // Too many challenges on one connection.
        let connection = pipe(&server).0;
        for _ in 0..ServeConfig::default().challenges_per_connection {
            connection.challenge().await.unwrap();
        }
        let error = connection.challenge().await.unwrap_err();
        assert_eq!(error.kind, "busy", "{error:?}");

        // The Mother's own key is admin without being in the policy.
        let seed = world.mother.identity().seed();
        assert_eq!(login(&server, &seed).await.role(), "admin");
    });
}

#[test]
fn an_epoch_bump_makes_every_older_capability_stale() {
    within(|| async {
        let (_world, server) = setup(ServeConfig::default()).await;
        let session = login(&server, &RUNNER).await;
        assert_eq!(session.epoch().await.unwrap(), 1);
        session.list().await.unwrap();

        // A watcher sees the bump; a run in flight finishes with its receipt.
        let watcher = login(&server, &READER).await;
        let watching = tokio::task::spawn_local(async move { watcher.watch_epoch(1).await });
        let runner = Rc::new(login(&server, &RUNNER).await);
        let mut slow = wave("spin()", "limits");
        slow.limits.timeout_ms = Some(700);
        let in_flight = {
            let runner = runner.clone();
            tokio::task::spawn_local(async move { runner.run(&slow).await })
        };
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(server.bump_epoch().unwrap(), 2);

        assert_eq!(watching.await.unwrap().unwrap(), 2);
        let ran = in_flight.await.unwrap().unwrap();
        match &ran.summary.outcome {
            RunOutcome::Failed { error } => assert_eq!(error.kind, "deadline-exceeded"),
            other => panic!("{other:?}"),
        }
        assert!(ran.receipt.is_some(), "the run in flight kept its receipt");

        for error in [
            session.list().await.unwrap_err(),
            session.epoch().await.unwrap_err(),
            session.run(&wave("add(1, 1)", "calc")).await.unwrap_err(),
            session.regraft().await.unwrap_err(),
            runner.receipts(None, 0).await.unwrap_err(),
        ] {
            assert_eq!(error.kind, "stale-epoch", "{error:?}");
            assert!(error.message.contains("epoch 1"), "{error}");
        }
        // Logging in again gives capabilities of the new epoch.
        let again = login(&server, &RUNNER).await;
        assert_eq!(again.epoch().await.unwrap(), 2);
        assert_eq!(again.receipts(None, 0).await.unwrap().len(), 1);

        // A new policy is a new epoch: the old role's capabilities go stale.
        server.set_policy(Policy::default()).unwrap();
        assert_eq!(again.list().await.unwrap_err().kind, "stale-epoch");
        let error = pipe(&server).0.login(&RUNNER).await.err().unwrap();
        assert_eq!(error.kind, "unknown-key", "{error:?}");
    });
}

#[test]
fn garbage_and_oversized_frames_end_only_their_connection() {
    within(|| async {
        let config = ServeConfig {
            max_frame_bytes: 64 << 10,
            ..ServeConfig::default()
        };
        let (_world, server) = setup(config).await;

        // Garbage: a segment table that makes no sense.
        let (mut raw, far) = tokio::io::duplex(1 << 16);
        let serving = tokio::task::spawn_local(server.serve(far));
        raw.write_all(&[0xff; 64]).await.unwrap();
        let error = serving.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), "rpc", "{error:?}");

        // Oversized: one segment of 1 GiB announced.
        let (mut raw, far) = tokio::io::duplex(1 << 16);
        let serving = tokio::task::spawn_local(server.serve(far));
        let mut header = 0u32.to_le_bytes().to_vec();
        header.extend_from_slice(&(128u32 << 20).to_le_bytes());
        raw.write_all(&header).await.unwrap();
        let error = serving.await.unwrap().unwrap_err();
        assert!(error.to_string().contains("too large"), "{error}");

        // A real message above the bound: bytes to install bigger than a frame.
        let session = login(&server, &ADMIN).await;
        let error = session
            .install(&vec![0u8; 100 << 10], None, &[])
            .await
            .unwrap_err();
        assert!(
            error.kind == "disconnected" || error.kind == "rpc",
            "the connection is closed: {error:?}"
        );

        // The server still serves everyone else.
        let session = login(&server, &RUNNER).await;
        session.run(&wave("add(1, 1)", "calc")).await.unwrap();
    });
}

#[test]
fn a_client_that_never_logs_in_is_dropped_and_pending_logins_are_bounded() {
    within(|| async {
        let config = ServeConfig {
            login_timeout: Duration::from_millis(300),
            max_pending_logins: 2,
            ..ServeConfig::default()
        };
        let (_world, server) = setup(config).await;
        let (idle_a, serving_a) = pipe(&server);
        let (_idle_b, _serving_b) = pipe(&server);
        tokio::task::yield_now().await;
        let (_third, serving_c) = pipe(&server);
        let error = serving_c.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), "busy", "{error:?}");

        let started = std::time::Instant::now();
        let error = serving_a.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), "login-timeout", "{error:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let error = idle_a.challenge().await.unwrap_err();
        assert!(
            error.kind == "disconnected" || error.kind == "rpc",
            "{error:?}"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        // Both slots are free again.
        let session = login(&server, &RUNNER).await;
        session.list().await.unwrap();
    });
}

#[test]
fn a_client_that_disconnects_mid_run_leaves_its_receipt_and_the_server_lives() {
    within(|| async {
        let (world, server) = setup(ServeConfig::default()).await;
        let before = world.mother.receipts_of(None, None).await.unwrap().len();
        let session = login(&server, &RUNNER).await;
        let mut slow = wave("spin()", "limits");
        slow.limits.timeout_ms = Some(600);
        let running = tokio::task::spawn_local(async move {
            let _ = session.run(&slow).await;
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        running.abort();
        let _ = running.await;
        assert!(server.in_flight() >= 1, "the run goes on");
        assert_eq!(server.drain(Duration::from_secs(10)).await, 0);
        let after = world.mother.receipts_of(None, None).await.unwrap();
        assert_eq!(after.len(), before + 1, "the run kept its receipt");
        patina_receipts::verify(&after[0]).unwrap();

        let session = login(&server, &RUNNER).await;
        let own = session.receipts(None, 0).await.unwrap();
        assert_eq!(own.len(), 1, "and it is the caller's own");
    });
}

/// A small deterministic generator (xorshift), so the test is stable.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn the_frame_decoder_never_panics_on_random_bytes() {
    // A valid frame to mutate: an RPC Call message.
    let mut message = capnp::message::Builder::new_default();
    {
        let root: capnp_rpc::rpc_capnp::message::Builder<'_> = message.init_root();
        let mut call = root.init_call();
        call.set_question_id(1);
        call.set_interface_id(0x1234);
        call.set_method_id(1);
        call.init_params()
            .init_content()
            .set_as("some text")
            .unwrap();
    }
    let valid = capnp::serialize::write_message_to_words(&message);
    assert!(patina_membrane::decode_frame(&valid).is_ok());

    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let mut decoded = 0;
    for round in 0..20_000 {
        let bytes: Vec<u8> = if round % 2 == 0 {
            let len = (random.next() % 600) as usize;
            (0..len).map(|_| random.next() as u8).collect()
        } else {
            let mut bytes = valid.clone();
            for _ in 0..1 + random.next() % 8 {
                let at = (random.next() as usize) % bytes.len();
                bytes[at] = random.next() as u8;
            }
            bytes.truncate(bytes.len() - (random.next() % 3) as usize * 8);
            bytes
        };
        if patina_membrane::decode_frame(&bytes).is_ok() {
            decoded += 1;
        }
    }
    assert!(decoded > 0, "some mutations still decode");
}

#[test]
fn runs_per_login_and_open_connections_are_bounded() {
    within(|| async {
        let config = ServeConfig {
            max_runs_per_login: 1,
            max_connections: 2,
            ..ServeConfig::default()
        };
        let (_world, server) = setup(config).await;
        let session = Rc::new(login(&server, &RUNNER).await);
        let mut slow = wave("spin()", "limits");
        slow.limits.timeout_ms = Some(500);
        let first = {
            let session = session.clone();
            tokio::task::spawn_local(async move { session.run(&slow).await })
        };
        tokio::time::sleep(Duration::from_millis(150)).await;
        let error = session.run(&wave("add(1, 1)", "calc")).await.unwrap_err();
        assert_eq!(error.kind, "busy", "{error:?}");
        assert!(error.message.contains("in flight"), "{error}");
        first.await.unwrap().unwrap();
        session.run(&wave("add(1, 1)", "calc")).await.unwrap();

        let _second = login(&server, &READER).await;
        let (_third, serving) = pipe(&server);
        let error = serving.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), "busy", "{error:?}");
        assert!(
            error.to_string().contains("connections are open"),
            "{error}"
        );
    });
}
