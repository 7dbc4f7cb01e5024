//! [`ToyRegistry`]: the toys a host offers, looked up by grant kind or by the
//! interface a child imports.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use patina_core::ToyName;

use crate::Toy;
use crate::outgoing::OutgoingHttp;

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

/// The set of toys a host can link, and the backend of the host's own
/// `wasi:http/outgoing-handler` ([`OutgoingHttp`]). Cheap to clone.
#[derive(Clone, Default)]
pub struct ToyRegistry {
    toys: Vec<Arc<dyn Toy>>,
    outgoing_http: Option<Arc<dyn OutgoingHttp>>,
}

impl ToyRegistry {
    /// An empty registry: no toy can be granted.
    pub fn empty() -> Self {
        Self::default()
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

    /// Sets the backend that sends a child's `wasi:http` requests (under the
    /// run's grants of its [`OutgoingHttp::grant_kind`]). Without one, every
    /// such request is refused. The `http` toy is one
    /// (`patina_toys::standard` sets it).
    pub fn set_outgoing_http(&mut self, backend: Arc<dyn OutgoingHttp>) {
        self.outgoing_http = Some(backend);
    }

    /// The backend of `wasi:http` requests, if any.
    pub fn outgoing_http(&self) -> Option<&Arc<dyn OutgoingHttp>> {
        self.outgoing_http.as_ref()
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
/// state directory is made this way (and a Mother's home).
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
    use crate::{ToyContext, ToyError, ToyInstance};

    /// A toy that serves nothing, to fill registries with.
    struct Named {
        interface: ToyName,
        kind: &'static str,
    }

    impl Toy for Named {
        fn interface(&self) -> &ToyName {
            &self.interface
        }
        fn grant_kind(&self) -> &str {
            self.kind
        }
        fn summary(&self) -> &str {
            "nothing"
        }
        fn functions(&self) -> &[&str] {
            &[]
        }
        fn instantiate(&self, _ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError> {
            Err(ToyError::Backend("serves nothing".into()))
        }
    }

    fn toy(interface: &str, kind: &'static str) -> Arc<dyn Toy> {
        Arc::new(Named {
            interface: interface.parse().unwrap(),
            kind,
        })
    }

    #[test]
    fn looks_up_by_kind_and_interface() {
        let mut registry = ToyRegistry::empty();
        assert!(registry.kinds().is_empty());
        registry.register(toy("patina:toys/log@0.1.0", "log"));
        assert!(registry.has_kind("log"));
        let import: ToyName = "patina:toys/log@0.1.0".parse().unwrap();
        assert!(registry.serving(&import).is_some());
        let newer: ToyName = "patina:toys/log@0.2.0".parse().unwrap();
        assert!(registry.serving(&newer).is_none());
        assert!(!registry.has_kind("teleport"));
        assert_eq!(registry.kinds(), vec!["log".to_owned()]);
    }

    #[test]
    fn one_kind_may_enable_several_toys() {
        let mut registry = ToyRegistry::empty();
        registry.register(toy("patina:toys/fs@0.1.0", "fs"));
        registry.register(toy("patina:toys/fs-watch@0.1.0", "fs"));
        let fs: Vec<String> = registry
            .by_kind("fs")
            .map(|t| t.interface().to_string())
            .collect();
        assert_eq!(fs, ["patina:toys/fs@0.1.0", "patina:toys/fs-watch@0.1.0"]);
        assert_eq!(registry.kinds(), ["fs"]);
    }

    #[test]
    fn registering_the_same_interface_replaces() {
        let mut registry = ToyRegistry::empty();
        registry.register(toy("patina:toys/log@0.1.0", "log"));
        registry.register(toy("patina:toys/log@0.1.1", "log"));
        assert_eq!(registry.iter().count(), 1);
        let kept: Vec<String> = registry.iter().map(|t| t.interface().to_string()).collect();
        assert_eq!(kept, ["patina:toys/log@0.1.1"]);
    }

    #[cfg(unix)]
    #[test]
    fn private_dirs_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let made = dir.path().join("a/b");
        create_private_dir(&made).unwrap();
        let mode = std::fs::metadata(&made).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
