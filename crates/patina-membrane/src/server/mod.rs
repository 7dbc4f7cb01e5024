//! [`MembraneServer`]: serves one [`Mother`] to its callers — over any byte
//! stream as Cap'n Proto RPC (a Unix socket, an in-process pipe, a libp2p
//! stream), and in process as an [`Access`] for the doors that are part of
//! the Mother's own process (the HTTP bridge, MCP).
//!
//! Every door ends in an [`Access`], where authority is decided: a login on
//! the Terminal (challenge–response) gives one to the key that signed; an
//! authenticated transport ([`MembraneServer::serve_as`], a libp2p peer)
//! gives one to the key the transport proved; a bearer token
//! ([`MembraneServer::access_for_token`]) to the token's role; the home's
//! owner may start a local caller under a role of their choosing
//! ([`MembraneServer::access_as`]). No method widens an access.
//!
//! Cap'n Proto RPC is single-threaded (`!Send`): a connection is served
//! inside a `tokio::task::LocalSet`, and the Mother's work (runs, installs,
//! store reads) goes to the multi-thread runtime the server was created on,
//! so many runs go on at once on every core and a run whose caller
//! disconnects still finishes and keeps its receipt.
//!
//! Here: configuration, the server and its accept paths; the login in
//! `login_cap`, the capabilities (thin adapters over [`Access`]) in `caps`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use capnp::capability::Rc as CapRc;
use capnp_rpc::{RpcSystem, rpc_twoparty_capnp, twoparty};
use patina_mother::{Mother, RunSpec};
use patina_receipts::ExportedReceipt;
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::Instrument;

use crate::access::Access;
use crate::epoch::EpochGuard;
use crate::login::{Nonces, verify_login};
use crate::membrane_capnp::{
    LoginStatus, epoch, membrane, network as network_cap, receipts, runtime, terminal,
};
use crate::network::Network;
use crate::policy::{CallerKey, Policy};
use crate::principal::Principal;
use crate::shared::Shared;
use crate::tokens::TokenStore;
use crate::{MembraneError, describe_json};

mod before_login;
mod caps;
mod config;
mod login_cap;
mod slots;

use caps::*;
pub use config::ServeConfig;
use login_cap::*;
use slots::{CallerSlot, CountSlot};

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
        Self::build(mother, policy, None, TokenStore::in_memory(), epoch, config)
    }

    /// The membrane of `mother`'s home: `policy.toml`, `tokens.toml` and
    /// `epoch` there. Must be called inside the tokio runtime that is to do
    /// the Mother's work.
    pub fn open(mother: Mother, config: ServeConfig) -> Result<Self, MembraneError> {
        let root = mother.root().to_owned();
        let policy_file = root.join("policy.toml");
        let policy = Policy::load(&policy_file)
            .map_err(|e| MembraneError::BadRequest(format!("policy: {e}")))?;
        let tokens = TokenStore::open(root.join("tokens.toml"))?;
        let epoch = EpochGuard::load(&root.join("epoch"))?;
        Ok(Self::build(
            mother,
            policy,
            Some(policy_file),
            tokens,
            epoch,
            config,
        ))
    }

    fn build(
        mother: Mother,
        policy: Policy,
        policy_file: Option<std::path::PathBuf>,
        tokens: TokenStore,
        epoch: EpochGuard,
        config: ServeConfig,
    ) -> Self {
        let server_id = *mother.identity().id().bytes();
        Self {
            shared: Arc::new(Shared {
                nonces: Mutex::new(Nonces::new(config.max_pending_logins * 4, config.nonce_ttl)),
                mother,
                policy: RwLock::new(Arc::new(policy)),
                policy_file,
                tokens,
                epoch,
                pending: AtomicUsize::new(0),
                open: AtomicUsize::new(0),
                connections: AtomicU64::new(0),
                in_flight: AtomicUsize::new(0),
                idle: tokio::sync::Notify::new(),
                config,
                runtime: tokio::runtime::Handle::current(),
                rates: Mutex::new(std::collections::HashMap::new()),
                token_runs: Mutex::new(std::collections::HashMap::new()),
                callers: Mutex::new(std::collections::HashMap::new()),
                server_id,
                network: RwLock::new(None),
            }),
        }
    }

    /// The Mother served.
    pub fn mother(&self) -> &Mother {
        &self.shared.mother
    }

    /// The epoch.
    pub fn epoch(&self) -> &EpochGuard {
        &self.shared.epoch
    }

    /// The policy now.
    pub fn policy(&self) -> Arc<Policy> {
        self.shared.policy()
    }

    /// The bearer tokens (`mother token`).
    pub fn tokens(&self) -> &TokenStore {
        &self.shared.tokens
    }

    /// The access of the holder of `key`, as the policy has it (the
    /// Mother's own key is `admin`), for a door that proved the key itself
    /// (a peer's authenticated connection). `unauthenticated` for a key the
    /// policy does not name.
    pub fn access_for_key(&self, key: CallerKey, door: &str) -> Result<Access, MembraneError> {
        let epoch = self.shared.epoch.current();
        let role = self.shared.role_of_key(&key).ok_or_else(|| {
            MembraneError::Unauthenticated(format!("no caller ed25519:{key} in the policy"))
        })?;
        Ok(Access::new(
            self.shared.clone(),
            epoch,
            Principal::Key(key),
            role,
            door,
        ))
    }

    /// The access of the bearer of `token` (`mother token create`), under
    /// the role the token names. `unauthenticated` for anything but a live
    /// token of a role the policy has.
    pub fn access_for_token(&self, token: &str, door: &str) -> Result<Access, MembraneError> {
        let epoch = self.shared.epoch.current();
        let info = self
            .shared
            .tokens
            .authenticate(token)
            .map_err(|e| match e {
                crate::TokenError::Unauthenticated(reason) => {
                    MembraneError::Unauthenticated(reason)
                }
                other => MembraneError::Tokens(other),
            })?;
        let role = self.shared.policy().role(&info.role).ok_or_else(|| {
            MembraneError::Unauthenticated(format!(
                "token {} names role `{}`, which the policy no longer has",
                info.id, info.role
            ))
        })?;
        // Every request of an HTTP door is an access of its own: the
        // token's runs in flight are counted across them.
        let runs = self.shared.token_runs(&info.id);
        Ok(Access::with_runs(
            self.shared.clone(),
            epoch,
            Principal::Token(info.id),
            role,
            door,
            runs,
        ))
    }

    /// An access under the role `role` for `principal`, chosen by whoever
    /// runs this process — the home's owner (e.g. `mother mcp --role agent`
    /// gives an agent on stdio the `agent` role). Never offered to a remote
    /// caller. `bad-request` for a role the policy does not have.
    pub fn access_as(
        &self,
        principal: Principal,
        role: &str,
        door: &str,
    ) -> Result<Access, MembraneError> {
        let epoch = self.shared.epoch.current();
        let role =
            self.shared.policy().role(role).ok_or_else(|| {
                MembraneError::BadRequest(format!("no role `{role}` in the policy"))
            })?;
        Ok(Access::new(
            self.shared.clone(),
            epoch,
            principal,
            role,
            door,
        ))
    }

    /// Attaches the network layer (`patina-peer`): from now on a run of a
    /// `b3:` id this Mother lacks may fetch it (when the caller's role
    /// allows), and the `network.*` methods work. Replaces any attached before.
    pub fn attach_network(&self, network: Arc<dyn Network>) {
        if let Ok(mut slot) = self.shared.network.write() {
            *slot = Some(network);
        }
    }

    /// Detaches the network layer (the node stopped): network methods
    /// answer `not-on-network` again, and nothing more is fetched.
    pub fn detach_network(&self) {
        if let Ok(mut slot) = self.shared.network.write() {
            *slot = None;
        }
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
    /// in time. Its bootstrap is the Terminal. Must run inside a
    /// `tokio::task::LocalSet`.
    pub fn serve<S>(&self, stream: S) -> impl Future<Output = Result<(), MembraneError>> + 'static
    where
        S: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let shared = self.shared.clone();
        let id = shared.connections.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!("connection", id, door = "socket");
        async move {
            let _open = CountSlot::open(&shared)?;
            let slot = CountSlot::pending(&shared)?;
            let connection = Rc::new(Connection {
                logged_in: Cell::new(false),
                challenges: Cell::new(0),
                nonces: RefCell::new(Vec::new()),
                slot: RefCell::new(Some(slot)),
                callers: RefCell::new(Vec::new()),
            });
            let terminal: terminal::Client = capnp_rpc::new_client(Terminal {
                shared: shared.clone(),
                connection: connection.clone(),
            });
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
                result = rpc_on(
                    &shared,
                    before_login::BeforeLogin::new(
                        stream,
                        connection.clone(),
                        shared.config.max_bytes_before_login,
                    ),
                    terminal.client,
                ) => result,
                () = login_deadline => Err(MembraneError::LoginTimeout(timeout)),
            };
            log_end(&result);
            result
        }
        .instrument(span)
    }

    /// Serves one connection whose transport already proved the caller's
    /// `key` (a libp2p peer: Noise authenticated its peer id): no login,
    /// its bootstrap is the Membrane the policy gives that key, through
    /// `door`. A key the policy does not name gets nothing: its bootstrap
    /// answers every call with `unauthenticated` (so the caller learns why)
    /// until it hangs up or the login timeout passes, and the connection
    /// ends with that error. Must run inside a `tokio::task::LocalSet`.
    pub fn serve_as<S>(
        &self,
        stream: S,
        key: CallerKey,
        door: &str,
    ) -> impl Future<Output = Result<(), MembraneError>> + 'static
    where
        S: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let shared = self.shared.clone();
        let id = shared.connections.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!("connection", id, door, caller = %Principal::Key(key));
        let access = self.access_for_key(key, door);
        async move {
            let _open = CountSlot::open(&shared)?;
            let access = access.and_then(|access| Ok((access, CallerSlot::take(&shared, key)?)));
            let (access, _caller) = match access {
                Ok(access) => access,
                Err(refused) => {
                    tracing::info!(kind = refused.kind(), %refused, "refused");
                    let refusal: membrane::Client = capnp_rpc::new_client(RefusalCap {
                        refused: (&refused).into(),
                    });
                    let timeout = shared.config.login_timeout;
                    let _ = tokio::time::timeout(timeout, rpc_on(&shared, stream, refusal.client))
                        .await;
                    return Err(refused);
                }
            };
            tracing::debug!(role = %access.role().name, "connected");
            let membrane: membrane::Client = capnp_rpc::new_client(MembraneCap {
                access: Arc::new(access),
            });
            let result = rpc_on(&shared, stream, membrane.client).await;
            log_end(&result);
            result
        }
        .instrument(span)
    }
}

/// Runs the RPC system of one connection with `bootstrap` until it closes.
async fn rpc_on<S>(
    shared: &Arc<Shared>,
    stream: S,
    bootstrap: capnp::capability::Client,
) -> Result<(), MembraneError>
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let (reader, writer) = crate::buffered(stream);
    let network = twoparty::VatNetwork::new(
        reader,
        writer,
        rpc_twoparty_capnp::Side::Server,
        shared.config.reader_options(),
    );
    RpcSystem::new(Box::new(network), Some(bootstrap))
        .await
        .map_err(MembraneError::Rpc)
}

fn log_end(result: &Result<(), MembraneError>) {
    match result {
        Ok(()) => tracing::debug!("closed"),
        Err(error) => tracing::info!(kind = error.kind(), %error, "connection ended"),
    }
}

struct Connection {
    logged_in: Cell<bool>,
    challenges: Cell<u32>,
    nonces: RefCell<Vec<[u8; 32]>>,
    slot: RefCell<Option<CountSlot>>,
    /// The caller slot of each key this connection logged in as.
    callers: RefCell<Vec<CallerSlot>>,
}
