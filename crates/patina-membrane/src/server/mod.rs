//! [`MembraneServer`]: serves one [`Mother`] over any byte stream, and the
//! capability servers behind it — the Terminal (login), the Membrane
//! (graft), Runtime, Receipts and Epoch.
//!
//! Authority is decided here and nowhere else. Every capability a caller
//! gets carries the caller's key, its role (the policy's attenuation) and
//! the epoch it was issued under; every call checks all three before the
//! Mother sees it, including calls on capabilities that came back inside a
//! result (`graft`), which carry the same caller. No method widens a
//! capability: there is none that takes a role.
//!
//! Cap'n Proto RPC is single-threaded (`!Send`): [`MembraneServer::serve`]
//! runs inside a `tokio::task::LocalSet`, and hands the Mother's work (runs,
//! installs, store reads) to the multi-thread runtime it was created on, so
//! many runs go on at once on every core and a run whose caller disconnects
//! still finishes and keeps its receipt.
//!
//! Here: configuration, the shared state and the accept loop; the login in
//! `login_cap`, the gate every call passes in `caller`, the capabilities in
//! `caps`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use capnp::capability::Rc as CapRc;
use capnp_rpc::{RpcSystem, rpc_twoparty_capnp, twoparty};
use patina_core::ChildId;
use patina_mother::{ChildRef, InstallSpec, Mother, MotherError, ReceiptRef, RunSpec};
use patina_receipts::{ExportedReceipt, Receipt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
use tracing::Instrument;

use crate::epoch::EpochGuard;
use crate::login::{Nonces, verify_login};
use crate::membrane_capnp::{LoginStatus, epoch, membrane, receipts, runtime, terminal};
use crate::policy::{CallerKey, Children, Policy, ReceiptScope, Role};
use crate::{MembraneError, describe_json};

mod caller;
mod caps;
mod login_cap;

use caller::*;
use caps::*;
use login_cap::*;

/// Bounds of one membrane.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// How long a connection may stay without logging in.
    pub login_timeout: Duration,
    /// Connections not yet logged in, at most (more are closed at once).
    pub max_pending_logins: usize,
    /// Challenges one connection may ask for.
    pub challenges_per_connection: u32,
    /// How long a nonce stays good.
    pub nonce_ttl: Duration,
    /// The largest frame (Cap'n Proto message) read, in bytes.
    pub max_frame_bytes: usize,
    /// Connections open at once, at most (more are closed at once).
    pub max_connections: usize,
    /// Runs and replays one login may have in flight at once.
    pub max_runs_per_login: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            login_timeout: Duration::from_secs(10),
            max_pending_logins: 64,
            challenges_per_connection: 4,
            nonce_ttl: Duration::from_secs(30),
            max_frame_bytes: 64 << 20,
            max_connections: 1024,
            max_runs_per_login: 64,
        }
    }
}

impl ServeConfig {
    /// The reader options every frame is read with.
    pub fn reader_options(&self) -> capnp::message::ReaderOptions {
        let mut options = capnp::message::ReaderOptions::new();
        options.traversal_limit_in_words(Some(self.max_frame_bytes / 8));
        options.nesting_limit(64);
        options
    }
}

/// The receipts each caller's runs left, kept in `$PATINA_HOME/membrane-owners`
/// (one `RECEIPT KEY` line per run) so `receipts = "own"` survives restarts.
struct Owners {
    map: HashMap<String, CallerKey>,
    file: Option<std::fs::File>,
}

impl Owners {
    fn open(path: Option<PathBuf>) -> Result<Self, MembraneError> {
        let mut map = HashMap::new();
        let Some(path) = path else {
            return Ok(Self { map, file: None });
        };
        if let Ok(text) = std::fs::read_to_string(&path) {
            for line in text.lines() {
                if let Some((receipt, key)) = line.split_once(' ')
                    && let Ok(key) = key.parse::<CallerKey>()
                {
                    map.insert(receipt.to_owned(), key);
                }
            }
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| MembraneError::io(format!("opening {}", path.display()), e))?;
        Ok(Self {
            map,
            file: Some(file),
        })
    }

    fn record(&mut self, receipt: String, key: CallerKey) {
        if let Some(file) = &mut self.file
            && let Err(error) = writeln!(file, "{receipt} {key}")
        {
            tracing::warn!(%error, "could not record the owner of a receipt");
        }
        self.map.insert(receipt, key);
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Shared {
    mother: Mother,
    policy: RwLock<Arc<Policy>>,
    policy_file: Option<PathBuf>,
    epoch: EpochGuard,
    nonces: Mutex<Nonces>,
    pending: AtomicUsize,
    open: AtomicUsize,
    connections: AtomicU64,
    in_flight: AtomicUsize,
    idle: tokio::sync::Notify,
    config: ServeConfig,
    runtime: tokio::runtime::Handle,
    owners: Mutex<Owners>,
    rates: Mutex<HashMap<CallerKey, Bucket>>,
    server_id: [u8; 32],
}

/// Serves one Mother to callers through the membrane. Cheap to clone.
#[derive(Clone)]
pub struct MembraneServer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MembraneServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MembraneServer")
            .field("mother", &self.shared.mother)
            .field("epoch", &self.shared.epoch.current())
            .finish_non_exhaustive()
    }
}

impl MembraneServer {
    /// A membrane over `mother` with `policy`, at `epoch`, nothing kept on
    /// disk but what the Mother keeps. Must be called inside the tokio
    /// runtime that is to do the Mother's work.
    pub fn new(mother: Mother, policy: Policy, epoch: EpochGuard, config: ServeConfig) -> Self {
        Self::build(mother, policy, None, epoch, config, None)
            .unwrap_or_else(|_| unreachable!("no files to open"))
    }

    /// The membrane of `mother`'s home: `policy.toml`, `epoch` and the
    /// receipt owners there. Must be called inside the tokio runtime that is
    /// to do the Mother's work.
    pub fn open(mother: Mother, config: ServeConfig) -> Result<Self, MembraneError> {
        let root = mother.root().to_owned();
        let policy_file = root.join("policy.toml");
        let policy = Policy::load(&policy_file)
            .map_err(|e| MembraneError::BadRequest(format!("policy: {e}")))?;
        let epoch = EpochGuard::load(&root.join("epoch"))?;
        Self::build(
            mother,
            policy,
            Some(policy_file),
            epoch,
            config,
            Some(root.join("membrane-owners")),
        )
    }

    fn build(
        mother: Mother,
        policy: Policy,
        policy_file: Option<PathBuf>,
        epoch: EpochGuard,
        config: ServeConfig,
        owners: Option<PathBuf>,
    ) -> Result<Self, MembraneError> {
        let server_id = *mother.identity().id().bytes();
        Ok(Self {
            shared: Arc::new(Shared {
                nonces: Mutex::new(Nonces::new(config.max_pending_logins * 4, config.nonce_ttl)),
                owners: Mutex::new(Owners::open(owners)?),
                mother,
                policy: RwLock::new(Arc::new(policy)),
                policy_file,
                epoch,
                pending: AtomicUsize::new(0),
                open: AtomicUsize::new(0),
                connections: AtomicU64::new(0),
                in_flight: AtomicUsize::new(0),
                idle: tokio::sync::Notify::new(),
                config,
                runtime: tokio::runtime::Handle::current(),
                rates: Mutex::new(HashMap::new()),
                server_id,
            }),
        })
    }

    /// The Mother served.
    pub fn mother(&self) -> &Mother {
        &self.shared.mother
    }

    /// The epoch.
    pub fn epoch(&self) -> &EpochGuard {
        &self.shared.epoch
    }

    /// Advances the epoch: every capability issued so far goes stale.
    pub fn bump_epoch(&self) -> Result<u64, MembraneError> {
        self.shared.epoch.bump()
    }

    /// Replaces the policy and advances the epoch (so no capability keeps
    /// the old policy's authority).
    pub fn set_policy(&self, policy: Policy) -> Result<u64, MembraneError> {
        if let Ok(mut slot) = self.shared.policy.write() {
            *slot = Arc::new(policy);
        }
        self.bump_epoch()
    }

    /// Reads `policy.toml` again (SIGHUP); a bad file keeps the old policy
    /// and the epoch.
    pub fn reload_policy(&self) -> Result<u64, MembraneError> {
        let Some(file) = &self.shared.policy_file else {
            return Err(MembraneError::BadRequest("no policy file to reload".into()));
        };
        let policy =
            Policy::load(file).map_err(|e| MembraneError::BadRequest(format!("policy: {e}")))?;
        self.set_policy(policy)
    }

    /// Runs in flight now.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Waits until no run is in flight, at most `bound`; returns how many
    /// were still running then.
    pub async fn drain(&self, bound: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let notified = self.shared.idle.notified();
            let left = self.in_flight();
            if left == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.in_flight();
            }
        }
    }

    /// Serves one connection until it closes, or until it fails to log in
    /// in time. Must run inside a `tokio::task::LocalSet`.
    pub fn serve<S>(&self, stream: S) -> impl Future<Output = Result<(), MembraneError>> + 'static
    where
        S: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let shared = self.shared.clone();
        let id = shared.connections.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!("connection", id);
        async move {
            let _open = OpenSlot::take(&shared)?;
            let slot = PendingSlot::take(&shared)?;
            let connection = Rc::new(Connection {
                logged_in: Cell::new(false),
                challenges: Cell::new(0),
                nonces: RefCell::new(Vec::new()),
                slot: RefCell::new(Some(slot)),
            });
            let terminal: terminal::Client = capnp_rpc::new_client(Terminal {
                shared: shared.clone(),
                connection: connection.clone(),
            });
            let (reader, writer) = tokio::io::split(stream);
            let network = twoparty::VatNetwork::new(
                reader.compat(),
                writer.compat_write(),
                rpc_twoparty_capnp::Side::Server,
                shared.config.reader_options(),
            );
            let rpc = RpcSystem::new(Box::new(network), Some(terminal.client));
            let timeout = shared.config.login_timeout;
            let login_deadline = {
                let connection = connection.clone();
                async move {
                    tokio::time::sleep(timeout).await;
                    if connection.logged_in.get() {
                        std::future::pending::<()>().await;
                    }
                }
            };
            tracing::debug!("connected");
            let result = tokio::select! {
                result = rpc => result.map_err(MembraneError::Rpc),
                () = login_deadline => Err(MembraneError::LoginTimeout(timeout)),
            };
            match &result {
                Ok(()) => tracing::debug!("closed"),
                Err(error) => tracing::info!(kind = error.kind(), %error, "connection ended"),
            }
            result
        }
        .instrument(span)
    }
}

/// One of the bounded slots of open connections.
struct OpenSlot(Arc<Shared>);

impl OpenSlot {
    fn take(shared: &Arc<Shared>) -> Result<Self, MembraneError> {
        let before = shared.open.fetch_add(1, Ordering::SeqCst);
        if before >= shared.config.max_connections {
            shared.open.fetch_sub(1, Ordering::SeqCst);
            return Err(MembraneError::Busy(format!(
                "{before} connections are open"
            )));
        }
        Ok(Self(shared.clone()))
    }
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One of the bounded slots of connections not yet logged in.
struct PendingSlot(Arc<Shared>);

impl PendingSlot {
    fn take(shared: &Arc<Shared>) -> Result<Self, MembraneError> {
        let before = shared.pending.fetch_add(1, Ordering::SeqCst);
        if before >= shared.config.max_pending_logins {
            shared.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(MembraneError::Busy(format!(
                "{before} connections are waiting to log in"
            )));
        }
        Ok(Self(shared.clone()))
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        self.0.pending.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Connection {
    logged_in: Cell<bool>,
    challenges: Cell<u32>,
    nonces: RefCell<Vec<[u8; 32]>>,
    slot: RefCell<Option<PendingSlot>>,
}
