//! [`Host`]: the embeddable child host — one engine, its artifact cache, the
//! toy registry and a cache of linked children — and its two verbs, `load`
//! and `run`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use patina_core::{ChildId, Grant, GrantError};
use patina_toy::ToyRegistry;
use tracing::Instrument;
use wasmtime::Engine;
use wasmtime::component::InstancePre;

use crate::engine::{EngineConfig, EpochTicker, build_engine};
use crate::grants::{ResolvedGrants, check_fixed, recorded_grants, resolve_grants_protecting};
use crate::plan::plan_imports;
use crate::report::RunReport;
use crate::request::{RunMode, RunRequest, resolve_target};
use crate::run::execute;
use crate::state::RunState;
use crate::{ArtifactCache, Child, HostError, LimitTooLarge, LoadError, RunRefused, child};

/// Linked children kept ready; past this many the cache starts afresh.
const MAX_LINKED: usize = 256;
/// Loaded children kept by id; past this many the map starts afresh.
const MAX_LOADED: usize = 256;

/// How to build a [`Host`].
#[derive(Clone, Debug, Default)]
pub struct HostConfig {
    /// Engine sizing and the largest memory a run may ask for.
    pub engine: EngineConfig,
    /// Where compiled children are cached (`None`: compile in memory only).
    pub cache_dir: Option<PathBuf>,
    /// Key of the keyed tag every cached artifact carries; only artifacts
    /// tagged with it are loaded. `None` trusts the cache directory as is.
    /// A Mother derives it from its identity.
    pub cache_key: Option<[u8; 32]>,
    /// Map cached artifacts (`Component::deserialize_file`, mmap) instead of
    /// reading them into memory (default: read). Mapping is what makes a
    /// one-shot process cheap, but a file truncated under a process that maps
    /// it kills that process (`SIGBUS`): map only in a short-lived process,
    /// or where nothing but this host writes the cache.
    pub map_artifacts: bool,
    /// The toys runs may be granted (default: none). The host holds no toy of
    /// its own: its caller brings them (`patina_toys::log_only()`,
    /// `patina_toys::standard(..)`, or its own).
    pub toys: ToyRegistry,
    /// Directories no grant may reach into or contain: the embedder's own
    /// state (a Mother protects its home: key, receipts, stores).
    pub protected: Vec<PathBuf>,
}

impl HostConfig {
    /// The toys `toys` and the given cache directory.
    pub fn with_toys(toys: ToyRegistry, cache_dir: Option<PathBuf>) -> Self {
        Self {
            engine: EngineConfig::default(),
            cache_dir,
            cache_key: None,
            map_artifacts: false,
            toys,
            protected: Vec::new(),
        }
    }
}

/// The child host. Cheap to clone; clones share the engine and caches.
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

struct HostInner {
    engine: Engine,
    config: HostConfig,
    /// `config.protected`, canonical.
    protected: Vec<PathBuf>,
    cache: Option<ArtifactCache>,
    linked: Mutex<HashMap<String, InstancePre<RunState>>>,
    loaded: Mutex<HashMap<ChildId, Child>>,
    _ticker: EpochTicker,
}

impl Host {
    /// A host with the given configuration.
    pub fn new(config: HostConfig) -> Result<Self, HostError> {
        let engine = build_engine(&config.engine)?;
        let cache = config.cache_dir.as_deref().map(|dir| {
            ArtifactCache::new(dir, &engine, config.cache_key).mapping(config.map_artifacts)
        });
        let ticker = EpochTicker::start(&engine)?;
        // Canonical, so that a grant (canonical too) is compared path to path.
        let protected = config
            .protected
            .iter()
            .map(|dir| std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone()))
            .collect();
        Ok(Self {
            inner: Arc::new(HostInner {
                protected,
                engine,
                config,
                cache,
                linked: Mutex::default(),
                loaded: Mutex::default(),
                _ticker: ticker,
            }),
        })
    }

    /// The wasmtime engine every child of this host runs on.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The toys runs may be granted.
    pub fn toys(&self) -> &ToyRegistry {
        &self.inner.config.toys
    }

    /// The compiled-artifact cache, if any.
    pub fn cache(&self) -> Option<&ArtifactCache> {
        self.inner.cache.as_ref()
    }

    /// Validates, identifies and compiles component `bytes` (or takes the
    /// compiled artifact from the cache).
    /// Loading the same bytes again returns the child already loaded.
    pub fn load(&self, bytes: &[u8]) -> Result<Child, LoadError> {
        let id = ChildId::of(bytes);
        if let Some(child) = self.loaded(&id) {
            return Ok(child);
        }
        let child = child::load(&self.inner.engine, self.inner.cache.as_ref(), bytes, id)?;
        Ok(self.remember(child))
    }

    /// The child `id` if it is loaded already.
    fn loaded(&self, id: &ChildId) -> Option<Child> {
        let loaded = self
            .inner
            .loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loaded.get(id).cloned()
    }

    /// Keeps `child` among the loaded ones (at most [`MAX_LOADED`]).
    fn remember(&self, child: Child) -> Child {
        let mut loaded = self
            .inner
            .loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if loaded.len() >= MAX_LOADED {
            loaded.clear();
        }
        loaded.insert(child.id(), child.clone());
        child
    }

    /// The child `id` whose bytes are in the file `source` (an installed
    /// child: its id is already known), from its compiled artifact alone —
    /// the bytes are neither read nor hashed, so this costs a look at the
    /// artifact, not a read of the child. `None` when there is no usable
    /// artifact (or no cache): load the bytes with [`Host::load`] instead.
    /// The artifact is trusted only as the cache's keyed tag allows
    /// ([`ArtifactCache`]); the bytes, if asked for later
    /// ([`Child::bytes`]), are checked against `id`.
    pub fn load_compiled(&self, id: ChildId, source: &std::path::Path) -> Option<Child> {
        if let Some(child) = self.loaded(&id) {
            return Some(child);
        }
        let cache = self.inner.cache.as_ref()?;
        let child = child::load_compiled(&self.inner.engine, cache, id, source.to_owned())?;
        Some(self.remember(child))
    }

    /// Runs `child` as `request` asks. `Err` means the run was refused before
    /// any child code ran; a run that started returns a report, whose
    /// `outcome` says whether it returned or why it stopped.
    pub async fn run(&self, child: &Child, request: &RunRequest) -> Result<RunReport, RunRefused> {
        self.run_keeping(child, request, true).await
    }

    /// [`Self::run`]; a replay copies the recorded events it matched into
    /// the report only when `keep_replayed` (else it counts them).
    pub(crate) async fn run_keeping(
        &self,
        child: &Child,
        request: &RunRequest,
        keep_replayed: bool,
    ) -> Result<RunReport, RunRefused> {
        let span = tracing::info_span!("run", child = %child.id(), call = tracing::field::Empty);
        async {
            self.check_limits(&request.limits)?;
            if let RunMode::Replay(source) = &request.mode
                && source.transcript.child != child.id()
            {
                return Err(RunRefused::ReplayChild { expected: source.transcript.child, got: child.id() });
            }
            let target = resolve_target(child, request)?;
            tracing::Span::current().record("call", target.func_name.as_str());
            let grants = if matches!(request.mode, RunMode::Replay(_)) {
                // A replay never gets the recorded run's directories or
                // sockets back, and needs none of them to exist: the receipt
                // is evidence, not authority.
                recorded_grants(&request.grants, self.toys())?
            } else if request.grants_fixed {
                self.resolve_fixed_grants(&request.grants)?
            } else {
                self.resolve_grants(&request.grants)?
            };
            let plan = plan_imports(&self.inner.engine, child, &grants, self.toys(), request.deny_missing)?;
            let pre = self.instance_pre(child, &plan)?;
            let spill_dir = self.inner.config.cache_dir.as_deref();
            let report = execute(
                &pre,
                child,
                &plan,
                &grants,
                (target, request),
                keep_replayed,
                spill_dir,
            )
            .await?;
            match &report.outcome {
                Ok(_) => tracing::info!(fuel = report.fuel_consumed, elapsed = ?report.elapsed, "run returned"),
                Err(error) => tracing::info!(kind = error.kind(), %error, "run failed"),
            }
            Ok(report)
        }
        .instrument(span)
        .await
    }

    /// Refuses limits outside what this host allows.
    fn check_limits(&self, limits: &patina_core::Limits) -> Result<(), RunRefused> {
        let engine = &self.inner.config.engine;
        if limits.memory > engine.max_memory {
            return Err(RunRefused::LimitTooLarge(LimitTooLarge::Memory {
                asked: limits.memory,
                max: engine.max_memory,
            }));
        }
        if limits.timeout > engine.max_timeout || limits.timeout.is_zero() {
            return Err(RunRefused::LimitTooLarge(LimitTooLarge::Timeout {
                asked_ms: limits.timeout.as_millis(),
                max_ms: engine.max_timeout.as_millis(),
            }));
        }
        if limits.output > engine.max_output {
            return Err(RunRefused::LimitTooLarge(LimitTooLarge::Output {
                asked: limits.output,
                max: engine.max_output,
            }));
        }
        Ok(())
    }

    /// Checks and canonicalises `grants` as a run would (refusing any that
    /// reach the host's protected directories).
    pub fn resolve_grants(&self, grants: &[Grant]) -> Result<ResolvedGrants, GrantError> {
        resolve_grants_protecting(grants, self.toys(), &self.inner.protected)
    }

    /// [`Self::resolve_grants`] for grants already in the form a caller's
    /// ceiling checked ([`RunRequest::grants_fixed`]): one whose path no
    /// longer resolves to itself is refused rather than resolved anew.
    pub fn resolve_fixed_grants(&self, grants: &[Grant]) -> Result<ResolvedGrants, GrantError> {
        let resolved = self.resolve_grants(grants)?;
        check_fixed(grants, &resolved)?;
        Ok(resolved)
    }

    /// The linked, pre-instantiated child for `plan`, from the cache or built now.
    fn instance_pre(
        &self,
        child: &Child,
        plan: &crate::plan::LinkPlan,
    ) -> Result<InstancePre<RunState>, RunRefused> {
        let key = plan.cache_key(child);
        let mut linked = self
            .inner
            .linked
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(pre) = linked.get(&key) {
            return Ok(pre.clone());
        }
        let pre = crate::linker::instance_pre(&self.inner.engine, child, plan)?;
        if linked.len() >= MAX_LINKED {
            linked.clear();
        }
        linked.insert(key, pre.clone());
        Ok(pre)
    }
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("toys", self.toys())
            .field("cache", &self.inner.cache)
            .finish_non_exhaustive()
    }
}
