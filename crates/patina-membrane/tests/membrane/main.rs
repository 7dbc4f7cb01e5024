//! The membrane end to end over in-process pipes: logins good and bad,
//! attenuation by role, the epoch, bad frames, and callers that misbehave.
//! Every failure is checked for its reason (the kind), not just for failing.

use std::rc::Rc;
use std::time::Duration;

use patina_membrane::{
    CallerKey, Connection, EpochGuard, LoginRequest, MembraneServer, Policy, ServeConfig, Session,
};
use patina_mother::{
    CallSpec, ChildRef, InstallSpec, ModeSpec, Mother, MotherConfig, RunOutcome, RunSpec,
};
use tokio::io::AsyncWriteExt;
use tokio::task::LocalSet;

mod bad_input;
mod doors;
mod epoch;
mod logins;
mod roles;
mod widening;

const ADMIN: [u8; 32] = [1; 32];
const RUNNER: [u8; 32] = [2; 32];
const OPS: [u8; 32] = [3; 32];
const READER: [u8; 32] = [4; 32];
const AUDITOR: [u8; 32] = [5; 32];
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
"{auditor}" = "auditor"

[roles.auditor]
methods = ["receipts.*"]
children = ["calc", "{calc_id}", "{never_installed}"]
receipts = "all"

[roles.ops]
methods = ["runtime.list", "runtime.run", "receipts.*"]
children = ["calc"]
grants = ["fs:{data}:ro", "log"]
limits = {{ fuel = 100000000, output = 65536 }}
receipts = "own"
rate = {{ runs_per_second = 0.001, burst = 3 }}
"#,
        admin = key(&ADMIN),
        runner = key(&RUNNER),
        ops = key(&OPS),
        reader = key(&READER),
        auditor = key(&AUDITOR),
        calc_id = patina_core::ChildId::of(children_artifacts::by_name("calc").unwrap().bytes),
        never_installed = patina_core::ChildId::of(b"never installed"),
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
