//! [`ArtifactCache`]: compiled children on disk, keyed by child id and engine
//! compatibility, so a second process (or a second run) skips compilation.
//!
//! Layout: `<dir>/patina-host-<version>-<engine hash>/<child-hex>.cwasm`, written atomically (a temp file,
//! then a rename). The engine key changes with the wasmtime version and every
//! setting that affects code generation, so a stale artifact is never loaded.
//! Deserialising runs native code produced by *this host's* compiler: the cache
//! directory must be as trusted as the binary itself, and an artifact that fails
//! to load is discarded and recompiled, never trusted half-way.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use patina_core::ChildId;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::HostError;
use crate::installed::write_atomically;

/// Compiled artifacts of one engine configuration under a directory.
#[derive(Clone, Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
}

impl ArtifactCache {
    /// The cache for `engine` under `root` (created on first write).
    pub fn new(root: &Path, engine: &Engine) -> Self {
        Self {
            dir: root.join(engine_key(engine)),
        }
    }

    /// The directory this cache writes to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &ChildId) -> PathBuf {
        self.dir.join(format!("{}.cwasm", id.hex()))
    }

    /// Loads the compiled child `id`, if a usable artifact exists.
    pub fn load(&self, engine: &Engine, id: &ChildId) -> Option<Component> {
        let path = self.path(id);
        // Read into memory rather than mmap the file: a file truncated under a
        // running host must not be able to crash it.
        let bytes = std::fs::read(&path).ok()?;
        // SAFETY: the file was written by `store` below from `Component::serialize`
        // of this engine configuration (the directory name is the engine key), and
        // the cache directory is part of the host's own trusted state. A file that
        // is not such an artifact fails wasmtime's header and version checks.
        match unsafe { Component::deserialize(engine, &bytes) } {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(path = %path.display(), error = %format!("{error:#}"), "discarding unusable compiled artifact");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores the compiled `component` of child `id`.
    pub fn store(&self, id: &ChildId, component: &Component) -> Result<(), HostError> {
        let bytes = component
            .serialize()
            .map_err(|e| HostError::Cache(format!("{e:#}")))?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| HostError::io(format!("creating {}", self.dir.display()), e))?;
        write_atomically(&self.dir, &format!("{}.cwasm", id.hex()), &bytes)
    }
}

/// A short name for everything that makes compiled code of `engine` usable.
fn engine_key(engine: &Engine) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!(
        "wasmtime-{}-{:016x}",
        env!("CARGO_PKG_VERSION"),
        hasher.finish()
    )
}
