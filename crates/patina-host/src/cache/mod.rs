//! [`ArtifactCache`]: compiled children on disk, keyed by child id and engine
//! compatibility, so a second process (or a second run) skips compilation.
//!
//! Layout: `<dir>/patina-host-<version>-<engine hash>/<child-hex>.cwasm`, written atomically (a temp file,
//! then a rename). The engine key changes with the wasmtime version and every
//! setting that affects code generation, so a stale artifact is never loaded.
//! Deserialising runs native code. With a cache key (a Mother derives one from
//! its identity), every artifact carries a keyed blake3 tag and one whose tag
//! does not check out — written by someone else, or altered — is discarded and
//! recompiled, never loaded. Without a key the cache directory must be as
//! trusted as the binary itself.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use patina_core::ChildId;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::LoadError;
use crate::atomic::write_atomically;
use crate::error::IoError;

/// Length of the keyed tag appended to each artifact.
const TAG_LEN: usize = 32;

/// Compiled artifacts of one engine configuration under a directory.
#[derive(Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
    key: Option<[u8; 32]>,
}

impl std::fmt::Debug for ArtifactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactCache")
            .field("dir", &self.dir)
            .field("keyed", &self.key.is_some())
            .finish()
    }
}

impl ArtifactCache {
    /// The cache for `engine` under `root` (created on first write). With a
    /// `key`, artifacts are tagged and only artifacts tagged with that key load.
    pub fn new(root: &Path, engine: &Engine, key: Option<[u8; 32]>) -> Self {
        Self {
            dir: root.join(engine_key(engine)),
            key,
        }
    }

    /// The artifact bytes of a stored file, if its tag checks out.
    fn untag(&self, mut bytes: Vec<u8>) -> Option<Vec<u8>> {
        let Some(key) = &self.key else {
            return Some(bytes);
        };
        let split = bytes.len().checked_sub(TAG_LEN)?;
        let tag: [u8; TAG_LEN] = bytes[split..].try_into().ok()?;
        bytes.truncate(split);
        // `blake3::Hash` compares in constant time.
        (blake3::keyed_hash(key, &bytes) == blake3::Hash::from_bytes(tag)).then_some(bytes)
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
        let stored = std::fs::read(&path).ok()?;
        let Some(bytes) = self.untag(stored) else {
            tracing::warn!(path = %path.display(), "discarding a compiled artifact whose tag does not check out");
            let _ = std::fs::remove_file(&path);
            return None;
        };
        // SAFETY: the bytes were written by `store` below from
        // `Component::serialize` of this engine configuration (the directory name
        // is the engine key) and, with a key, carry this host's keyed tag;
        // without one the cache directory is part of the host's trusted state.
        // Anything else fails wasmtime's header and version checks.
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
    pub fn store(&self, id: &ChildId, component: &Component) -> Result<(), LoadError> {
        let mut bytes = component
            .serialize()
            .map_err(|e| LoadError::Cache(format!("{e:#}")))?;
        if let Some(key) = &self.key {
            let tag = blake3::keyed_hash(key, &bytes);
            bytes.extend_from_slice(tag.as_bytes());
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| IoError::new(format!("creating {}", self.dir.display()), e))?;
        Ok(write_atomically(
            &self.dir,
            &format!("{}.cwasm", id.hex()),
            &bytes,
        )?)
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
