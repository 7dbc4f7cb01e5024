//! [`Mother`]: one Mother — its home, host, installed children, identity and
//! receipt store — and [`MotherConfig`], how to open one.
//!
//! Opening builds the parts bottom-up with no cycle: the identity, the child
//! store and the receipt store; the [`Recorder`] over them; the toy registry
//! with an `invoke` toy whose slot is still empty; the [`Host`] (its
//! protected paths always include the home); the [`Runner`] over host,
//! children and recorder; and last the [`MotherInvoker`] over the runner,
//! which fills the slot. The Mother owns the invoker; the toy holds it
//! weakly, and nothing below holds the Mother. This module only wires; the
//! operations live in `install`, `run` and `receipts`, and it must never
//! give a run a grant that reaches into the home.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use patina_host::{EngineConfig, Host, HostConfig};
use patina_receipts::Identity;
use patina_receipts::store::{ReceiptStore, SqliteOptions, open_sqlite_with};
use patina_toys::{InvokeToy, Invoker, InvokerSlot, ToyRegistry};

use crate::{
    BlockingWork, ChildStore, CommitMode, MotherError, MotherHome, MotherInvoker, Recorder, Runner,
};

/// Where a Mother keeps its receipts.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum ReceiptBackend {
    /// SQLite in the home (`receipts.sqlite3`): safe for several processes;
    /// used as [`MotherConfig::sqlite`] says.
    #[default]
    Sqlite,
    /// sled in the home (`receipts.sled`): one process at a time.
    #[cfg(feature = "sled")]
    Sled,
    /// Any store the embedder opened.
    Store(Arc<dyn ReceiptStore>),
}

impl std::fmt::Debug for ReceiptBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "Sqlite",
            #[cfg(feature = "sled")]
            Self::Sled => "Sled",
            Self::Store(_) => "Store(..)",
        })
    }
}

/// How to open a [`Mother`].
#[derive(Clone, Debug)]
pub struct MotherConfig {
    /// The home directory (created owner-only if missing).
    pub home: PathBuf,
    /// Where receipts are kept (default: SQLite in the home).
    pub receipts: ReceiptBackend,
    /// The toys runs may be granted (default: every standard pack, its state
    /// in the home). The Mother adds its own `invoke` toy either way.
    pub toys: Option<ToyRegistry>,
    /// Directories no grant may reach into or contain, besides the home
    /// (which is always protected).
    pub protected: Vec<PathBuf>,
    /// Engine sizing and the largest limits a run may ask for.
    pub engine: EngineConfig,
    /// Map compiled artifacts instead of reading them (see
    /// [`HostConfig::map_artifacts`]): for a process that runs one command
    /// and exits, like `mother run`. Default: read.
    pub map_artifacts: bool,
    /// How this process uses the SQLite receipt store (with
    /// [`ReceiptBackend::Sqlite`]). Default: [`SqliteOptions::LONG_LIVED`].
    pub sqlite: SqliteOptions,
    /// How receipts are committed. Default: [`CommitMode::Pipelined`]
    /// (group commit, for many runs in flight).
    pub commit: CommitMode,
    /// Where blocking work (loading children, SQLite, sealing) is done.
    /// Default: [`BlockingWork::Pool`], tokio's blocking threads.
    pub blocking: BlockingWork,
}

impl MotherConfig {
    /// The defaults for a Mother at `home`.
    pub fn new(home: impl Into<PathBuf>) -> Self {
        Self {
            home: home.into(),
            receipts: ReceiptBackend::default(),
            toys: None,
            protected: Vec::new(),
            engine: EngineConfig::default(),
            map_artifacts: false,
            sqlite: SqliteOptions::default(),
            commit: CommitMode::default(),
            blocking: BlockingWork::default(),
        }
    }

    /// The settings for a process that opens the home for one command and
    /// exits (`mother run`): instances allocated on demand (no pool to
    /// reserve and tear down around one run), compiled artifacts mapped
    /// rather than read, a receipt log kept short with no checkpoint on
    /// the way out ([`SqliteOptions::SHORT_LIVED`]), receipts committed
    /// inline, with no sealer and writer threads to start and stop
    /// ([`CommitMode::Inline`]), and blocking work done on the thread that
    /// awaits it, with no blocking thread to start ([`BlockingWork::Caller`]:
    /// the process's runtime must be a current-thread one with nothing else
    /// to serve).
    pub fn short_lived(home: impl Into<PathBuf>) -> Self {
        let mut config = Self::new(home);
        config.engine.pooling = false;
        config.map_artifacts = true;
        config.sqlite = SqliteOptions::SHORT_LIVED;
        config.commit = CommitMode::Inline;
        config.blocking = BlockingWork::Caller;
        config
    }
}

/// A Mother. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Mother {
    inner: Arc<Inner>,
}

struct Inner {
    home: MotherHome,
    identity: Arc<Identity>,
    receipts: Arc<dyn ReceiptStore>,
    runner: Arc<Runner>,
    /// Kept alive here: the `invoke` toy holds it weakly.
    _invoker: Arc<MotherInvoker>,
}

impl Mother {
    /// Opens (creating what is missing) the Mother `config` describes.
    /// Blocking: call it before serving, or from a blocking thread.
    pub fn open(config: MotherConfig) -> Result<Self, MotherError> {
        let home = MotherHome::open(config.home)?;
        let children = ChildStore::open(home.children())?;
        let identity = Arc::new(Identity::load_or_create(&home.identity_key())?);
        let receipts: Arc<dyn ReceiptStore> = match config.receipts {
            ReceiptBackend::Sqlite => Arc::new(open_sqlite_with(home.receipts(), config.sqlite)?),
            #[cfg(feature = "sled")]
            ReceiptBackend::Sled => Arc::new(patina_receipts::store::open_sled(home.receipts())?),
            ReceiptBackend::Store(store) => store,
        };
        let recorder = Recorder::new(
            children.clone(),
            identity.clone(),
            receipts.clone(),
            config.commit,
        )?;

        let mut toys = match config.toys {
            Some(toys) => toys,
            None => patina_toys::standard(&home.toy_state()).map_err(MotherError::ToyState)?,
        };
        let slot = InvokerSlot::new();
        toys.register(Arc::new(InvokeToy::new(slot.clone())));
        let mut protected = config.protected;
        // No grant may reach into the Mother's home (its key, receipts,
        // stores), or contain it.
        protected.push(home.root().to_owned());
        let host = Host::new(HostConfig {
            engine: config.engine,
            cache_dir: Some(home.artifact_cache()),
            // Compiled artifacts carry a tag only this Mother can make: a file
            // dropped into its cache by anyone else is recompiled, never run.
            cache_key: Some(blake3::derive_key(
                "patina artifact cache v1",
                &identity.seed(),
            )),
            map_artifacts: config.map_artifacts,
            toys,
            protected,
        })?;

        let runner = Arc::new(Runner::new(host, children, recorder, config.blocking));
        let invoker = Arc::new(MotherInvoker::new(runner.clone()));
        let weak: std::sync::Weak<dyn Invoker> =
            Arc::downgrade(&(invoker.clone() as Arc<dyn Invoker>));
        slot.set(weak);
        Ok(Self {
            inner: Arc::new(Inner {
                home,
                identity,
                receipts,
                runner,
                _invoker: invoker,
            }),
        })
    }

    /// The home and the paths under it.
    pub fn home(&self) -> &MotherHome {
        &self.inner.home
    }

    /// The home directory.
    pub fn root(&self) -> &Path {
        self.inner.home.root()
    }

    /// The child host.
    pub fn host(&self) -> &Host {
        self.inner.runner.host()
    }

    /// The installed children (blocking methods: prefer the async ones on
    /// the Mother from async code).
    pub fn children(&self) -> &ChildStore {
        self.inner.runner.children()
    }

    /// The key receipts are signed with.
    pub fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    /// The receipt store (blocking methods).
    pub fn receipts(&self) -> &Arc<dyn ReceiptStore> {
        &self.inner.receipts
    }

    /// What every run goes through.
    pub fn runner(&self) -> &Arc<Runner> {
        &self.inner.runner
    }

    /// Runs blocking `work` on this Mother where [`MotherConfig::blocking`]
    /// says (a blocking thread, by default).
    pub(crate) async fn blocking<T, F>(&self, work: F) -> Result<T, MotherError>
    where
        T: Send + 'static,
        F: FnOnce(&Mother) -> Result<T, MotherError> + Send + 'static,
    {
        let mother = self.clone();
        self.runner()
            .blocking_work()
            .run(move || work(&mother))
            .await
    }
}

impl std::fmt::Debug for Mother {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mother")
            .field("home", &self.root())
            .field("id", &self.inner.identity.id())
            .finish_non_exhaustive()
    }
}
