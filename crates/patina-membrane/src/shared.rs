//! [`Shared`]: the state one membrane keeps for all its callers — the Mother,
//! the policy and tokens, the epoch, the bounds, the login nonces, the run
//! rates, the runs in flight. Private to the crate: callers reach it only
//! through an [`crate::Access`] or a connection.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use patina_mother::Mother;

use crate::ServeConfig;
use crate::epoch::EpochGuard;
use crate::login::Nonces;
use crate::network::Network;
use crate::policy::{CallerKey, Policy, Role};
use crate::principal::Principal;
use crate::tokens::TokenStore;

/// A token bucket of one principal's run rate.
pub(crate) struct Bucket {
    pub(crate) tokens: f64,
    pub(crate) at: Instant,
}

pub(crate) struct Shared {
    pub(crate) mother: Mother,
    pub(crate) policy: RwLock<Arc<Policy>>,
    pub(crate) policy_file: Option<PathBuf>,
    pub(crate) tokens: TokenStore,
    pub(crate) epoch: EpochGuard,
    pub(crate) nonces: Mutex<Nonces>,
    pub(crate) pending: AtomicUsize,
    pub(crate) open: AtomicUsize,
    pub(crate) connections: AtomicU64,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) idle: tokio::sync::Notify,
    pub(crate) config: ServeConfig,
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) rates: Mutex<HashMap<Principal, Bucket>>,
    /// Runs in flight per token (bounded by the tokens there are).
    pub(crate) token_runs: Mutex<HashMap<String, Arc<std::sync::atomic::AtomicUsize>>>,
    /// Connections open per caller key (those with none are not kept).
    pub(crate) callers: Mutex<HashMap<CallerKey, usize>>,
    pub(crate) server_id: [u8; 32],
    /// The network layer, when the Mother serves peers.
    pub(crate) network: RwLock<Option<Arc<dyn Network>>>,
}

impl Shared {
    /// The policy now.
    pub(crate) fn policy(&self) -> Arc<Policy> {
        self.policy
            .read()
            .map_or_else(|_| Arc::new(Policy::default()), |policy| policy.clone())
    }
}

impl Shared {
    /// The counter of runs in flight of the token `id`.
    pub(crate) fn token_runs(&self, id: &str) -> Arc<std::sync::atomic::AtomicUsize> {
        match self.token_runs.lock() {
            Ok(mut runs) => runs.entry(id.to_owned()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    /// The network layer, if one is attached.
    pub(crate) fn network(&self) -> Option<Arc<dyn Network>> {
        self.network
            .read()
            .map_or(None, |network| network.as_ref().map(Arc::clone))
    }

    /// The role of a caller holding `key`: the policy's, or `admin` for the
    /// Mother's own key (which only the home's owner can read).
    pub(crate) fn role_of_key(&self, key: &CallerKey) -> Option<Arc<Role>> {
        self.policy()
            .role_of(key)
            .or_else(|| (key.0 == self.server_id).then(|| Arc::new(Role::admin())))
    }
}
