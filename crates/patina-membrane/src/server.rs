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

struct Terminal {
    shared: Arc<Shared>,
    connection: Rc<Connection>,
}

fn array<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    <[u8; N]>::try_from(bytes).ok()
}

struct LoginRefused(LoginStatus, String);

impl Terminal {
    fn check(
        &self,
        request: crate::membrane_capnp::login_request::Reader<'_>,
    ) -> Result<(CallerKey, Arc<Role>, u64), LoginRefused> {
        let bad = |what: &str| LoginRefused(LoginStatus::BadRequest, what.to_owned());
        let key: [u8; 32] = request
            .get_key()
            .ok()
            .and_then(array)
            .ok_or_else(|| bad("key must be 32 bytes"))?;
        let nonce: [u8; 32] = request
            .get_nonce()
            .ok()
            .and_then(array)
            .ok_or_else(|| bad("nonce must be 32 bytes"))?;
        let server: [u8; 32] = request
            .get_server_id()
            .ok()
            .and_then(array)
            .ok_or_else(|| bad("serverId must be 32 bytes"))?;
        let signature: [u8; 64] = request
            .get_signature()
            .ok()
            .and_then(array)
            .ok_or_else(|| bad("signature must be 64 bytes"))?;
        let epoch = request.get_epoch();
        // The nonce must be one this connection was given, and is used up now.
        let mine = {
            let mut nonces = self.connection.nonces.borrow_mut();
            let found = nonces.iter().position(|n| *n == nonce);
            found.map(|index| nonces.swap_remove(index)).is_some()
        };
        if !mine {
            return Err(LoginRefused(
                LoginStatus::UnknownNonce,
                "nonce not issued on this connection, or already used".into(),
            ));
        }
        let taken = self
            .shared
            .nonces
            .lock()
            .map_err(|_| LoginRefused(LoginStatus::NotGranted, "nonce table poisoned".into()))?
            .take(&nonce);
        taken.map_err(|status| {
            LoginRefused(
                status,
                match status {
                    LoginStatus::ExpiredNonce => "nonce expired".into(),
                    _ => "nonce already used".into(),
                },
            )
        })?;
        if server != self.shared.server_id {
            return Err(LoginRefused(
                LoginStatus::WrongServer,
                format!("signed for Mother {}", hex::encode(server)),
            ));
        }
        let current = self.shared.epoch.current();
        if epoch != current {
            return Err(LoginRefused(
                LoginStatus::StaleEpoch,
                format!("signed for epoch {epoch}, the Mother is at epoch {current}"),
            ));
        }
        if !verify_login(&key, &signature, &nonce, epoch, &server) {
            return Err(LoginRefused(
                LoginStatus::BadSignature,
                "the signature is not by this key over this login".into(),
            ));
        }
        let key = CallerKey(key);
        let role = self
            .shared
            .policy
            .read()
            .ok()
            .and_then(|policy| policy.role_of(&key))
            // The Mother's own key (the home's owner holds it) is `admin`.
            .or_else(|| (key.0 == self.shared.server_id).then(|| Arc::new(Role::admin())))
            .ok_or_else(|| {
                LoginRefused(
                    LoginStatus::UnknownKey,
                    format!("no caller {key} in the policy"),
                )
            })?;
        Ok((key, role, epoch))
    }
}

impl terminal::Server for Terminal {
    async fn challenge(
        self: CapRc<Self>,
        _: terminal::ChallengeParams,
        mut results: terminal::ChallengeResults,
    ) -> Result<(), capnp::Error> {
        let count = self.connection.challenges.get();
        if count >= self.shared.config.challenges_per_connection {
            return Err(MembraneError::Busy("too many challenges on one connection".into()).into());
        }
        self.connection.challenges.set(count + 1);
        let nonce = self
            .shared
            .nonces
            .lock()
            .ok()
            .and_then(|mut nonces| nonces.issue())
            .ok_or_else(|| MembraneError::Busy("too many logins pending".into()))?;
        self.connection.nonces.borrow_mut().push(nonce);
        let mut challenge = results.get().init_challenge();
        challenge.set_nonce(&nonce);
        challenge.set_epoch(self.shared.epoch.current());
        challenge.set_server_id(&self.shared.server_id);
        challenge.set_domain(crate::login::DOMAIN);
        challenge.set_expires_in_ms(
            u32::try_from(self.shared.config.nonce_ttl.as_millis()).unwrap_or(u32::MAX),
        );
        Ok(())
    }

    async fn login(
        self: CapRc<Self>,
        params: terminal::LoginParams,
        mut results: terminal::LoginResults,
    ) -> Result<(), capnp::Error> {
        let request = params.get()?.get_request()?;
        let mut result = results.get().init_result();
        match self.check(request) {
            Ok((key, role, epoch)) => {
                tracing::info!(caller = %key, role = %role.name, epoch, "logged in");
                self.connection.logged_in.set(true);
                self.connection.slot.borrow_mut().take();
                result.set_status(LoginStatus::Granted);
                result.set_role(role.name.as_str());
                result.set_membrane(capnp_rpc::new_client(MembraneCap {
                    caller: Rc::new(Caller {
                        key,
                        role,
                        epoch,
                        shared: self.shared.clone(),
                        runs: Rc::new(Cell::new(0)),
                    }),
                }));
            }
            Err(LoginRefused(status, reason)) => {
                tracing::info!(?status, %reason, "login refused");
                result.set_status(status);
                result.set_reason(reason.as_str());
            }
        }
        Ok(())
    }
}

/// Who is calling, with what authority, issued under which epoch.
struct Caller {
    key: CallerKey,
    role: Arc<Role>,
    epoch: u64,
    shared: Arc<Shared>,
    /// Runs and replays of this login in flight.
    runs: Rc<Cell<usize>>,
}

impl Caller {
    /// The check of every call: the epoch, then the method.
    fn gate(&self, method: &str) -> Result<(), MembraneError> {
        self.shared.epoch.check(self.epoch)?;
        if self.role.allows(method) {
            Ok(())
        } else {
            Err(MembraneError::Denied {
                role: self.role.name.clone(),
                method: method.to_owned(),
            })
        }
    }

    fn span(&self, method: &'static str) -> tracing::Span {
        tracing::info_span!("call", method, caller = %self.key, role = %self.role.name)
    }

    /// Runs the Mother's `work` on the multi-thread runtime.
    async fn on_mother<T, F>(&self, work: F) -> Result<T, MembraneError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, MotherError>> + Send + 'static,
    {
        self.shared
            .runtime
            .spawn(work.in_current_span())
            .await
            .map_err(|e| MembraneError::Mother(MotherError::Task(e.to_string())))?
            .map_err(MembraneError::Mother)
    }

    /// Blocking `work` on the Mother, off both runtimes' async threads.
    async fn blocking<T, F>(&self, work: F) -> Result<T, MembraneError>
    where
        T: Send + 'static,
        F: FnOnce(&Mother) -> Result<T, MembraneError> + Send + 'static,
    {
        let mother = self.shared.mother.clone();
        self.shared
            .runtime
            .spawn_blocking(move || work(&mother))
            .await
            .map_err(|e| MembraneError::Mother(MotherError::Task(e.to_string())))?
    }

    /// Whether the role may use the child `reference` names.
    async fn check_child(&self, reference: &str) -> Result<ChildId, MembraneError> {
        let allowed = match &self.role.children {
            Children::Any => None,
            Children::Only(list) => Some(list.clone()),
        };
        let reference = reference.to_owned();
        let role = self.role.name.clone();
        self.blocking(move |mother| {
            let id = mother.children().resolve(&reference)?;
            if let Some(list) = allowed {
                let ok = list.iter().any(|entry| {
                    mother
                        .children()
                        .resolve(entry)
                        .is_ok_and(|allowed| allowed == id)
                });
                if !ok {
                    return Err(MembraneError::ChildDenied {
                        role,
                        child: reference,
                    });
                }
            }
            Ok(id)
        })
        .await
    }

    fn may_see_child(&self, id: &ChildId, names: &[String]) -> bool {
        match &self.role.children {
            Children::Any => true,
            Children::Only(list) => list
                .iter()
                .any(|entry| *entry == id.to_string() || names.contains(entry)),
        }
    }

    fn check_receipt(&self, receipt: &Receipt) -> Result<(), MembraneError> {
        if self.role.receipts == ReceiptScope::All {
            return Ok(());
        }
        let owner = self
            .shared
            .owners
            .lock()
            .ok()
            .and_then(|owners| owners.map.get(&receipt.id.to_string()).copied());
        if owner == Some(self.key) {
            Ok(())
        } else {
            Err(MembraneError::ReceiptDenied {
                role: self.role.name.clone(),
                receipt: receipt.id.short().to_string(),
            })
        }
    }

    /// A slot for one more run of this login, or `busy`.
    fn run_slot(&self) -> Result<RunSlot, MembraneError> {
        let now = self.runs.get();
        if now >= self.shared.config.max_runs_per_login {
            return Err(MembraneError::Busy(format!(
                "{now} runs of this login are in flight"
            )));
        }
        self.runs.set(now + 1);
        Ok(RunSlot(self.runs.clone()))
    }

    fn check_rate(&self) -> Result<(), MembraneError> {
        let Some(rate) = self.role.rate else {
            return Ok(());
        };
        let mut rates = self
            .shared
            .rates
            .lock()
            .map_err(|_| MembraneError::Busy("rate table poisoned".into()))?;
        let now = Instant::now();
        let bucket = rates.entry(self.key).or_insert(Bucket {
            tokens: f64::from(rate.burst),
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate.per_second;
        bucket.tokens = (bucket.tokens + refill).min(f64::from(rate.burst));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(MembraneError::RateLimited {
                role: self.role.name.clone(),
                per_second: rate.per_second,
                burst: rate.burst,
            })
        }
    }

    /// Applies the role's ceilings to `spec`: every grant at or below the
    /// grant ceiling, every limit at or below its ceiling (a limit left out
    /// becomes the lower of the default and the ceiling).
    fn attenuate(&self, spec: &mut RunSpec) -> Result<(), MembraneError> {
        let grants = patina_mother::parse_grants(&spec.grants)?;
        for grant in &grants {
            self.role.check_grant(grant)?;
        }
        let defaults = patina_core::Limits::default();
        let ceiling = self.role.limits;
        let checks: [(&'static str, &mut Option<u64>, Option<u64>, u64); 3] = [
            ("fuel", &mut spec.limits.fuel, ceiling.fuel, defaults.fuel),
            (
                "timeout_ms",
                &mut spec.limits.timeout_ms,
                ceiling.timeout_ms,
                u64::try_from(defaults.timeout.as_millis()).unwrap_or(u64::MAX),
            ),
            (
                "memory",
                &mut spec.limits.memory,
                ceiling.memory,
                defaults.memory,
            ),
        ];
        for (limit, asked, ceiling, default) in checks {
            let Some(ceiling) = ceiling else { continue };
            match *asked {
                Some(value) if value > ceiling => {
                    return Err(MembraneError::LimitAboveCeiling {
                        limit,
                        asked: value,
                        ceiling,
                        role: self.role.name.clone(),
                    });
                }
                Some(_) => {}
                None if default > ceiling => *asked = Some(ceiling),
                None => {}
            }
        }
        Ok(())
    }
}

/// One run of a login in flight (released when its call ends).
struct RunSlot(Rc<Cell<usize>>);

impl Drop for RunSlot {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// Counts a run in flight for graceful shutdown.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

struct MembraneCap {
    caller: Rc<Caller>,
}

impl membrane::Server for MembraneCap {
    async fn graft(
        self: CapRc<Self>,
        _: membrane::GraftParams,
        mut results: membrane::GraftResults,
    ) -> Result<(), capnp::Error> {
        self.caller.shared.epoch.check(self.caller.epoch)?;
        let role = &self.caller.role;
        let has = |interface: &str| {
            role.methods
                .iter()
                .any(|m| m.split_once('.').is_some_and(|(i, _)| i == interface))
        };
        let names: Vec<&str> = ["runtime", "receipts", "epoch"]
            .into_iter()
            .filter(|name| has(name))
            .collect();
        let mut exports = results
            .get()
            .init_exports(u32::try_from(names.len()).unwrap_or(0));
        for (index, name) in names.iter().enumerate() {
            let mut export = exports.reborrow().get(u32::try_from(index).unwrap_or(0));
            export.set_name(*name);
            let caller = self.caller.clone();
            match *name {
                "runtime" => export.set_runtime(capnp_rpc::new_client(RuntimeCap { caller })),
                "receipts" => export.set_receipts(capnp_rpc::new_client(ReceiptsCap { caller })),
                _ => export.set_epoch(capnp_rpc::new_client(EpochCap { caller })),
            }
        }
        Ok(())
    }

    async fn explain(
        self: CapRc<Self>,
        _: membrane::ExplainParams,
        mut results: membrane::ExplainResults,
    ) -> Result<(), capnp::Error> {
        self.caller.shared.epoch.check(self.caller.epoch)?;
        let mut value = self.caller.role.explain();
        value["caller"] = serde_json::json!(self.caller.key.to_string());
        value["epoch"] = serde_json::json!(self.caller.epoch);
        results.get().set_json(value.to_string().as_str());
        Ok(())
    }
}

fn text(reader: capnp::Result<capnp::text::Reader<'_>>) -> Result<String, capnp::Error> {
    Ok(reader?.to_string()?)
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String, capnp::Error> {
    serde_json::to_string(value)
        .map_err(|e| MembraneError::BadRequest(format!("encoding the answer: {e}")).into())
}

struct RuntimeCap {
    caller: Rc<Caller>,
}

impl runtime::Server for RuntimeCap {
    async fn install(
        self: CapRc<Self>,
        params: runtime::InstallParams,
        mut results: runtime::InstallResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("runtime.install")?;
            let params = params.get()?;
            let bytes = params.get_bytes()?.to_vec();
            let name = text(params.get_name())?;
            let name = (!name.is_empty()).then_some(name);
            let mut grants = Vec::new();
            for grant in params.get_grants()? {
                grants.push(grant?.to_string()?);
            }
            if (name.is_some() || !grants.is_empty()) && !caller.role.install_names {
                return Err(MembraneError::InstallNamed {
                    role: caller.role.name.clone(),
                }
                .into());
            }
            for grant in patina_mother::parse_grants(&grants).map_err(MembraneError::Mother)? {
                caller.role.check_grant(&grant)?;
            }
            let mother = caller.shared.mother.clone();
            let installed = caller
                .on_mother(async move { mother.install(bytes, InstallSpec { name, grants }).await })
                .await?;
            results
                .get()
                .set_installed_json(json_text(&installed)?.as_str());
            Ok(())
        }
        .instrument(self.caller.span("runtime.install"))
        .await
    }

    async fn list(
        self: CapRc<Self>,
        _: runtime::ListParams,
        mut results: runtime::ListResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("runtime.list")?;
            let mother = caller.shared.mother.clone();
            let mut children = caller.on_mother(async move { mother.list().await }).await?;
            children.retain(|child| caller.may_see_child(&child.id, &child.names));
            results
                .get()
                .set_children_json(json_text(&children)?.as_str());
            Ok(())
        }
        .instrument(self.caller.span("runtime.list"))
        .await
    }

    async fn describe(
        self: CapRc<Self>,
        params: runtime::DescribeParams,
        mut results: runtime::DescribeResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("runtime.describe")?;
            let child = text(params.get()?.get_child())?;
            let id = caller.check_child(&child).await?;
            let mother = caller.shared.mother.clone();
            let inspection = caller
                .on_mother(
                    async move { mother.inspect(&ChildRef::Installed(id.to_string())).await },
                )
                .await?;
            results
                .get()
                .set_description_json(describe_json(&inspection).to_string().as_str());
            Ok(())
        }
        .instrument(self.caller.span("runtime.describe"))
        .await
    }

    async fn run(
        self: CapRc<Self>,
        params: runtime::RunParams,
        mut results: runtime::RunResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("runtime.run")?;
            let spec_text = text(params.get()?.get_spec_json())?;
            let mut spec: RunSpec = serde_json::from_str(&spec_text)
                .map_err(|e| MembraneError::BadRequest(format!("specJson: {e}")))?;
            let ChildRef::Installed(reference) = &spec.child else {
                return Err(MembraneError::BadRequest(
                    "a run through the membrane names an installed child (install the bytes first)"
                        .into(),
                )
                .into());
            };
            caller.check_child(reference).await?;
            caller.attenuate(&mut spec)?;
            let _slot = caller.run_slot()?;
            caller.check_rate()?;
            let mother = caller.shared.mother.clone();
            let shared = caller.shared.clone();
            let key = caller.key;
            let in_flight = InFlight::new(&caller.shared);
            // The run and the note of its owner are one task on the Mother's
            // runtime: a caller that disconnects never cancels either.
            let output = caller
                .on_mother(async move {
                    let _in_flight = in_flight;
                    let output = mother.run(spec).await?;
                    if let Some(receipt) = &output.receipt
                        && let Ok(mut owners) = shared.owners.lock()
                    {
                        owners.record(receipt.id.to_string(), key);
                    }
                    Ok(output)
                })
                .await?;
            let summary = output.summary();
            let mut answer = results.get();
            answer.set_summary_json(json_text(&summary)?.as_str());
            answer.set_stdout(&output.report.stdout);
            answer.set_stderr(&output.report.stderr);
            answer.set_logs_dropped(output.report.logs_dropped);
            if let Some(receipt) = output.receipt {
                answer.set_receipt(&ExportedReceipt::new(receipt, &[]).encode());
            }
            tracing::info!(receipt = ?summary.receipt.map(|r| r.short().to_string()), "ran");
            Ok(())
        }
        .instrument(self.caller.span("runtime.run"))
        .await
    }
}

struct ReceiptsCap {
    caller: Rc<Caller>,
}

impl ReceiptsCap {
    async fn fetch_export(
        &self,
        method: &'static str,
        id: String,
    ) -> Result<Vec<u8>, MembraneError> {
        self.caller.gate(method)?;
        let mother = self.caller.shared.mother.clone();
        let (receipt, blobs) = self
            .caller
            .on_mother(async move { mother.receipt(&ReceiptRef::Stored(id)).await })
            .await?;
        self.caller.check_receipt(&receipt)?;
        Ok(ExportedReceipt::new(receipt, &blobs).encode())
    }
}

impl receipts::Server for ReceiptsCap {
    async fn get(
        self: CapRc<Self>,
        params: receipts::GetParams,
        mut results: receipts::GetResults,
    ) -> Result<(), capnp::Error> {
        let id = text(params.get()?.get_id())?;
        let export = self
            .fetch_export("receipts.get", id)
            .instrument(self.caller.span("receipts.get"))
            .await?;
        results.get().set_export(&export);
        Ok(())
    }

    async fn export(
        self: CapRc<Self>,
        params: receipts::ExportParams,
        mut results: receipts::ExportResults,
    ) -> Result<(), capnp::Error> {
        let id = text(params.get()?.get_id())?;
        let export = self
            .fetch_export("receipts.export", id)
            .instrument(self.caller.span("receipts.export"))
            .await?;
        results.get().set_export(&export);
        Ok(())
    }

    async fn list(
        self: CapRc<Self>,
        params: receipts::ListParams,
        mut results: receipts::ListResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("receipts.list")?;
            let params = params.get()?;
            let child = text(params.get_child())?;
            let child = (!child.is_empty()).then_some(child);
            if let Some(child) = &child {
                caller.check_child(child).await?;
            }
            let limit = params.get_limit();
            let limit = (limit > 0).then_some(limit as usize);
            let own = caller.role.receipts == ReceiptScope::Own;
            let mother = caller.shared.mother.clone();
            // Filtering happens after the store's limit, so an `own` caller
            // asks for more and keeps the first `limit` that are its own.
            let fetch = if own || matches!(caller.role.children, Children::Only(_)) {
                None
            } else {
                limit
            };
            let mut list = caller
                .on_mother(async move { mother.receipts_of(child, fetch).await })
                .await?;
            let allowed_children: Option<Vec<ChildId>> = match &caller.role.children {
                Children::Any => None,
                Children::Only(entries) => {
                    let entries = entries.clone();
                    Some(
                        caller
                            .blocking(move |mother| {
                                Ok(entries
                                    .iter()
                                    .filter_map(|e| mother.children().resolve(e).ok())
                                    .collect())
                            })
                            .await?,
                    )
                }
            };
            list.retain(|receipt| {
                caller.check_receipt(receipt).is_ok()
                    && allowed_children
                        .as_ref()
                        .is_none_or(|ids| ids.contains(&receipt.transcript.child))
            });
            if let Some(limit) = limit {
                list.truncate(limit);
            }
            let mut out = results
                .get()
                .init_receipts(u32::try_from(list.len()).unwrap_or(0));
            for (index, receipt) in list.into_iter().enumerate() {
                out.set(
                    u32::try_from(index).unwrap_or(0),
                    &ExportedReceipt::new(receipt, &[]).encode(),
                );
            }
            Ok(())
        }
        .instrument(self.caller.span("receipts.list"))
        .await
    }

    async fn verify(
        self: CapRc<Self>,
        params: receipts::VerifyParams,
        mut results: receipts::VerifyResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("receipts.verify")?;
            let id = text(params.get()?.get_id())?;
            let mother = caller.shared.mother.clone();
            let verified = caller
                .on_mother(async move { mother.verify_receipt(&ReceiptRef::Stored(id)).await })
                .await?;
            caller.check_receipt(&verified.receipt)?;
            let mut answer = results.get();
            answer.set_link(verified.link.to_string().as_str());
            answer.set_receipt(&ExportedReceipt::new(verified.receipt, &[]).encode());
            Ok(())
        }
        .instrument(self.caller.span("receipts.verify"))
        .await
    }

    async fn replay(
        self: CapRc<Self>,
        params: receipts::ReplayParams,
        mut results: receipts::ReplayResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("receipts.replay")?;
            let id = text(params.get()?.get_id())?;
            let mother = caller.shared.mother.clone();
            let probe = mother.clone();
            let probe_id = id.clone();
            let (receipt, _) = caller
                .on_mother(async move { probe.receipt(&ReceiptRef::Stored(probe_id)).await })
                .await?;
            caller.check_receipt(&receipt)?;
            let _slot = caller.run_slot()?;
            let in_flight = InFlight::new(&caller.shared);
            let output = caller
                .on_mother(async move {
                    let _in_flight = in_flight;
                    mother.replay(&ReceiptRef::Stored(id)).await
                })
                .await?;
            let mut answer = results.get();
            answer.set_summary_json(json_text(&output.summary())?.as_str());
            answer.set_stdout(&output.replay.report.stdout);
            answer.set_stderr(&output.replay.report.stderr);
            let unrecorded = &output.receipt.transcript.unrecorded;
            let mut list = answer.init_unrecorded(u32::try_from(unrecorded.len()).unwrap_or(0));
            for (index, item) in unrecorded.iter().enumerate() {
                list.set(u32::try_from(index).unwrap_or(0), item.as_str());
            }
            Ok(())
        }
        .instrument(self.caller.span("receipts.replay"))
        .await
    }
}

struct EpochCap {
    caller: Rc<Caller>,
}

impl epoch::Server for EpochCap {
    async fn current(
        self: CapRc<Self>,
        _: epoch::CurrentParams,
        mut results: epoch::CurrentResults,
    ) -> Result<(), capnp::Error> {
        self.caller.gate("epoch.current")?;
        results.get().set_epoch(self.caller.shared.epoch.current());
        Ok(())
    }

    async fn watch(
        self: CapRc<Self>,
        params: epoch::WatchParams,
        mut results: epoch::WatchResults,
    ) -> Result<(), capnp::Error> {
        self.caller.gate("epoch.watch")?;
        let after = params.get()?.get_after();
        let mut receiver = self.caller.shared.epoch.subscribe();
        let epoch = match receiver.wait_for(|epoch| *epoch > after).await {
            Ok(epoch) => *epoch,
            Err(_) => return Err(MembraneError::Busy("the membrane is closing".into()).into()),
        };
        results.get().set_epoch(epoch);
        Ok(())
    }
}
