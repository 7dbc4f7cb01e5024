//! `patina-peer` end to end: real Mothers — each with its own home, host,
//! receipt store, policy and membrane — on 127.0.0.1 only, every wait
//! bounded, every test stopping by itself. One module per area.

mod capabilities;
mod deadlines;
mod fetch;
mod network;
mod policy;
mod runs;

use std::time::Duration;

use patina_membrane::{CallerKey, EpochGuard, MembraneServer, Policy, ServeConfig};
use patina_mother::{CallSpec, ChildRef, InstallSpec, Mother, MotherConfig, RunSpec};
use patina_net::PeerId;
use patina_peer::{PeerConfig, PeerNode, PeerTarget};

/// The bound on any one test.
pub const BOUND: Duration = Duration::from_secs(180);

/// Runs `test` on a multi-thread runtime (as `mother serve` does), within [`BOUND`].
pub fn within<F, Fut>(test: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        tokio::time::timeout(BOUND, test())
            .await
            .expect("the test finished within its bound");
    });
}

/// A Mother in a temporary home (instances on demand: many share a process).
pub struct Home {
    _dir: tempfile::TempDir,
    pub mother: Mother,
}

impl Home {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut config = MotherConfig::new(dir.path().join("home"));
        config.engine.pooling = false;
        let mother = Mother::open(config).expect("the Mother opens");
        Self { _dir: dir, mother }
    }

    /// This Mother's key as a policy names it.
    pub fn key(&self) -> String {
        CallerKey(*self.mother.identity().id().bytes()).to_string()
    }

    /// Its peer id.
    pub fn peer_id(&self) -> PeerId {
        patina_net::peer_id_from_seed(&self.mother.identity().seed())
    }

    /// Installs the example child `name` (by its name) and answers its id.
    pub async fn install(&self, name: &str) -> String {
        let bytes = child_bytes(name);
        let spec = InstallSpec {
            name: Some(name.into()),
            grants: Vec::new(),
        };
        let installed = self.mother.install(bytes, spec).await.expect("installed");
        installed.child.to_string()
    }

    /// Puts it on the network under `policy` (TOML) with `config`.
    pub async fn serve(&self, policy: &str, config: PeerConfig) -> Peer {
        let policy = Policy::parse(policy, "test-policy.toml").expect("a valid policy");
        let server = MembraneServer::new(
            self.mother.clone(),
            policy,
            EpochGuard::new(1),
            ServeConfig::default(),
        );
        let node = PeerNode::start(server, config)
            .await
            .expect("the node starts");
        Peer { node }
    }
}

/// A Mother on the network.
pub struct Peer {
    pub node: PeerNode,
}

impl Peer {
    /// Its TCP listen address, ending in `/p2p/<peer id>`.
    pub async fn addr(&self) -> PeerTarget {
        let addrs = self.node.listen_addrs().await.expect("listening");
        let addr = addrs
            .into_iter()
            .find(|a| a.to_string().contains("/tcp/"))
            .expect("a TCP address");
        assert!(addr.to_string().starts_with("/ip4/127.0.0.1/"), "{addr}");
        PeerTarget::Addr(addr)
    }
}

/// The bytes of the example child `name`.
pub fn child_bytes(name: &str) -> Vec<u8> {
    children_artifacts::by_name(name)
        .expect("an example child")
        .bytes
        .to_vec()
}

/// The `b3:` id of the example child `name`.
pub fn child_id(name: &str) -> String {
    patina_core::ChildId::of(&child_bytes(name)).to_string()
}

/// A recorded run of `call` on the child `child` (a name or `b3:` id).
pub fn wave(child: &str, call: &str) -> RunSpec {
    RunSpec::new(
        ChildRef::Installed(child.into()),
        CallSpec::Wave(call.into()),
    )
}

/// A policy naming each `(key, role)`, with `extra` TOML after it.
pub fn policy(callers: &[(&str, &str)], extra: &str) -> String {
    let mut text = String::from("[callers]\n");
    for (key, role) in callers {
        text.push_str(&format!("\"{key}\" = \"{role}\"\n"));
    }
    text.push_str(extra);
    text
}
