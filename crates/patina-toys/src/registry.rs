//! [`ToyRegistry`]: the toys a host offers, looked up by grant kind or by the
//! interface a child imports.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use patina_core::ToyName;

use crate::{
    BlobToy, FsToy, FsWatchToy, GitToy, HttpToy, KvToy, LogToy, MeasureToy, MetricsStore, Toy,
    ToyError,
};

/// Where the toys that keep state keep it, under one directory (a Mother's
/// home). Every path is derived here, so a Mother and its tools agree.
#[derive(Clone, Debug)]
pub struct ToyStateDir {
    root: PathBuf,
}

impl ToyStateDir {
    /// The layout under `root`.
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
        }
    }

    /// The `blob` store's directory.
    pub fn blobs(&self) -> PathBuf {
        self.root.join("blobs")
    }

    /// The `kv` store's SQLite file.
    pub fn kv(&self) -> PathBuf {
        self.root.join("kv.sqlite")
    }

    /// The `measure` store's SQLite file (what `mother metrics` reads).
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.sqlite")
    }

    /// Where `fs-watch` keeps its snapshots.
    pub fn snapshots(&self) -> PathBuf {
        self.root.join("fs-watch")
    }
}

/// The set of toys a host can link. Cheap to clone.
#[derive(Clone, Default)]
pub struct ToyRegistry {
    toys: Vec<Arc<dyn Toy>>,
}

impl ToyRegistry {
    /// An empty registry: no toy can be granted.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The toys that ship with Patina.
    pub fn builtin() -> Self {
        let mut registry = Self::empty();
        registry.register(Arc::new(LogToy::new()));
        registry
    }

    /// Every toy that ships with Patina but `invoke` (which needs a host to
    /// run callees: see [`crate::InvokeToy`]): log, measure, fs, fs-watch,
    /// git, blob, kv and http, their state kept under `state`.
    pub fn standard(state: &ToyStateDir) -> Result<Self, ToyError> {
        let mut registry = Self::builtin();
        let metrics = Arc::new(MetricsStore::open(&state.metrics())?);
        registry.register(Arc::new(MeasureToy::new(metrics)));
        registry.register(Arc::new(FsToy::new()));
        registry.register(Arc::new(FsWatchToy::new(state.snapshots())));
        registry.register(Arc::new(GitToy::new()));
        registry.register(Arc::new(BlobToy::new(state.blobs())));
        registry.register(Arc::new(KvToy::open(state.kv())?));
        registry.register(Arc::new(HttpToy::new()));
        Ok(registry)
    }

    /// Adds a toy. A toy registered later for the same interface replaces
    /// the earlier one, so an embedder can swap a backend. Several toys may
    /// share a grant kind (`fs` enables both `fs` and `fs-watch`).
    pub fn register(&mut self, toy: Arc<dyn Toy>) {
        self.toys
            .retain(|t| t.interface().unversioned() != toy.interface().unversioned());
        self.toys.push(toy);
    }

    /// The toys a grant of `kind` enables.
    pub fn by_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Arc<dyn Toy>> + 'a {
        self.toys.iter().filter(move |t| t.grant_kind() == kind)
    }

    /// Whether some toy is granted with `kind`.
    pub fn has_kind(&self, kind: &str) -> bool {
        self.by_kind(kind).next().is_some()
    }

    /// The toy that serves an import of `interface`, if any.
    pub fn serving(&self, interface: &ToyName) -> Option<&Arc<dyn Toy>> {
        self.toys.iter().find(|t| t.interface().serves(interface))
    }

    /// Every registered toy.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Toy>> {
        self.toys.iter()
    }

    /// The grant kinds of all toys, sorted, comma-separated (for error texts).
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self
            .toys
            .iter()
            .map(|t| t.grant_kind().to_owned())
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }
}

impl std::fmt::Debug for ToyRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.toys.iter().map(|t| t.interface().to_string()))
            .finish()
    }
}

/// Creates `dir` and its missing parents, owner-only on unix: every toy's
/// state directory is made this way.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_log_by_kind_and_interface() {
        let registry = ToyRegistry::builtin();
        assert!(registry.has_kind("log"));
        let import: ToyName = "patina:toys/log@0.1.0".parse().unwrap();
        assert!(registry.serving(&import).is_some());
        let newer: ToyName = "patina:toys/log@0.2.0".parse().unwrap();
        assert!(registry.serving(&newer).is_none());
        assert!(!registry.has_kind("teleport"));
        assert_eq!(registry.kinds(), vec!["log".to_owned()]);
    }

    #[test]
    fn standard_offers_every_pack_and_fs_enables_two_toys() {
        let dir = tempfile::tempdir().unwrap();
        let registry = ToyRegistry::standard(&ToyStateDir::new(dir.path())).unwrap();
        assert_eq!(
            registry.kinds(),
            ["blob", "fs", "git", "http", "kv", "log", "measure"]
        );
        let fs: Vec<String> = registry
            .by_kind("fs")
            .map(|t| t.interface().to_string())
            .collect();
        assert_eq!(fs, ["patina:toys/fs@0.1.0", "patina:toys/fs-watch@0.1.0"]);
    }

    #[test]
    fn registering_the_same_kind_replaces() {
        let mut registry = ToyRegistry::builtin();
        registry.register(Arc::new(LogToy::new()));
        assert_eq!(registry.iter().count(), 1);
    }
}
