//! [`ArtifactCache`]: compiled children on disk, keyed by child id and engine
//! compatibility, so a second process (or a second run) skips compilation.
//!
//! Layout: `<dir>/patina-host-<version>-<engine hash>/<child-hex>.cwasm` (the
//! serialized component, as wasmtime wrote it) and, with a key,
//! `<child-hex>.tag` beside it (see [`tag`]); both written atomically (a temp
//! file, then a rename). The engine key changes with the wasmtime version and
//! every setting that affects code generation, so a stale artifact is never
//! loaded.
//!
//! Deserialising runs native code. With a cache key (a Mother derives one from
//! its identity) an artifact loads only if its keyed content tag checks out:
//! one written by someone else, altered, or renamed to another child's id is
//! discarded and recompiled, never loaded. The tag is checked by reading the
//! whole file once per *file identity* (device, inode, size, modification and
//! change times, recorded in the tag file under the key); a load that finds
//! the same identity takes the file without hashing it: it maps it
//! (`deserialize_file`, mmap) when the cache was made [`mapping`], or reads
//! it into memory (re-checking the identity after the read). Mapping is for a
//! short-lived process: a file truncated under a process that maps it kills
//! it (`SIGBUS`); reading is safe from that. Only a file owned by this user
//! and writable by no one else is taken by identity or re-tagged; any other
//! is read into memory and hashed on every load, so nobody but this user can
//! change code under a running host. Without a key the cache directory must
//! be as trusted as the binary itself. This module must never load an
//! artifact whose tag does not check out under the key, and never map a file
//! another user could write.
//!
//! [`mapping`]: ArtifactCache::mapping

mod tag;

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use patina_core::ChildId;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::LoadError;
use crate::atomic::write_atomically;
use crate::error::IoError;
use tag::{FileIdentity, TAG_FILE_LEN, TagFile, content_tag};

/// Compiled artifacts of one engine configuration under a directory.
#[derive(Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
    key: Option<[u8; 32]>,
    map: bool,
}

impl std::fmt::Debug for ArtifactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactCache")
            .field("dir", &self.dir)
            .field("keyed", &self.key.is_some())
            .field("map", &self.map)
            .finish()
    }
}

/// How a keyed artifact was found trustworthy.
enum Checked {
    /// Its identity is the one its tag was checked on: map it.
    Known,
    /// Read and checked now: these are its bytes.
    Read(Vec<u8>),
}

impl ArtifactCache {
    /// The cache for `engine` under `root` (created on first write). With a
    /// `key`, artifacts are tagged and only artifacts tagged with that key load.
    pub fn new(root: &Path, engine: &Engine, key: Option<[u8; 32]>) -> Self {
        Self {
            dir: root.join(engine_key(engine)),
            key,
            map: false,
        }
    }

    /// This cache, mapping the artifacts it trusts (`map`) instead of reading
    /// them; see the module docs for when that is safe.
    pub fn mapping(mut self, map: bool) -> Self {
        self.map = map;
        self
    }

    /// The directory this cache writes to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the compiled child `id` is kept.
    pub fn artifact_path(&self, id: &ChildId) -> PathBuf {
        self.dir.join(format!("{}.cwasm", id.hex()))
    }

    fn tag_name(id: &ChildId) -> String {
        format!("{}.tag", id.hex())
    }

    /// Loads the compiled child `id`, if a usable artifact exists.
    pub fn load(&self, engine: &Engine, id: &ChildId) -> Option<Component> {
        let path = self.artifact_path(id);
        let file = File::open(&path).ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() {
            return None;
        }
        let checked = match &self.key {
            None if self.map => Checked::Known,
            None => Checked::Read(read_all(&file, &meta)?),
            Some(key) => match self.check(key, id, &file, &meta) {
                Some(checked) => checked,
                None => {
                    tracing::warn!(path = %path.display(), "discarding a compiled artifact whose tag does not check out");
                    self.discard(id);
                    return None;
                }
            },
        };
        // SAFETY: the bytes were written by `store` below from
        // `Component::serialize` of this engine configuration (the directory
        // name is the engine key) and, with a key, carry this host's keyed
        // tag: checked just now (`Read`), or earlier on this very file, which
        // only this user can write and which has not changed since (`Known`);
        // without one the cache directory is part of the host's trusted
        // state. Anything else fails wasmtime's header and version checks.
        // This host only ever replaces an artifact by renaming a new file
        // over it, so a mapped file is never truncated under it.
        let loaded = match &checked {
            Checked::Known => unsafe {
                Component::deserialize_file(engine, same_file(&path, &file))
            },
            Checked::Read(bytes) => unsafe { Component::deserialize(engine, bytes) },
        };
        match loaded {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(path = %path.display(), error = %format!("{error:#}"), "discarding unusable compiled artifact");
                self.discard(id);
                None
            }
        }
    }

    /// Whether the open artifact `file` of `id` carries a good tag: known
    /// by its identity, or read whole and checked (and then, when only this
    /// user can write it, re-tagged for its identity).
    fn check(
        &self,
        key: &[u8; 32],
        id: &ChildId,
        file: &File,
        meta: &std::fs::Metadata,
    ) -> Option<Checked> {
        let tag = self.read_tag(key, id)?;
        let identity = FileIdentity::of(meta);
        let private = private_to_this_user(meta);
        let known = private && tag.identity == Some(identity);
        if known && self.map {
            return Some(Checked::Known);
        }
        let bytes = read_all(file, meta)?;
        let unchanged = file.metadata().ok().map(|m| FileIdentity::of(&m)) == Some(identity);
        if known && unchanged {
            // The file its tag was checked on, unchanged while it was read.
            return Some(Checked::Read(bytes));
        }
        if content_tag(key, id, &bytes) != tag.content {
            return None;
        }
        // Re-tagged only if the file did not change while it was read.
        if private && unchanged {
            let retagged = TagFile {
                content: tag.content,
                identity: Some(identity),
            };
            if let Err(error) =
                write_atomically(&self.dir, &Self::tag_name(id), &retagged.encode(key, id))
            {
                tracing::warn!(%error, "could not record the artifact's identity; it will be read again next time");
            }
        }
        Some(Checked::Read(bytes))
    }

    fn read_tag(&self, key: &[u8; 32], id: &ChildId) -> Option<TagFile> {
        let file = File::open(self.dir.join(Self::tag_name(id))).ok()?;
        let mut bytes = Vec::with_capacity(TAG_FILE_LEN);
        file.take(TAG_FILE_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        TagFile::decode(key, id, &bytes)
    }

    fn discard(&self, id: &ChildId) {
        let _ = std::fs::remove_file(self.artifact_path(id));
        let _ = std::fs::remove_file(self.dir.join(Self::tag_name(id)));
    }

    /// Stores the compiled `component` of child `id`. With a key, the tag
    /// file is written first (so the artifact never sits under its name
    /// without the tag that vouches for it), then the artifact, which is
    /// read back once and its identity recorded.
    pub fn store(&self, id: &ChildId, component: &Component) -> Result<(), LoadError> {
        let bytes = component
            .serialize()
            .map_err(|e| LoadError::Cache(format!("{e:#}")))?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| IoError::new(format!("creating {}", self.dir.display()), e))?;
        let name = format!("{}.cwasm", id.hex());
        let Some(key) = &self.key else {
            return Ok(write_atomically(&self.dir, &name, &bytes)?);
        };
        let tag = TagFile {
            content: content_tag(key, id, &bytes),
            identity: None,
        };
        write_atomically(&self.dir, &Self::tag_name(id), &tag.encode(key, id))?;
        write_atomically(&self.dir, &name, &bytes)?;
        drop(bytes);
        let path = self.artifact_path(id);
        let file = File::open(&path)
            .map_err(|e| IoError::new(format!("reading {}", path.display()), e))?;
        let meta = file
            .metadata()
            .map_err(|e| IoError::new(format!("reading {}", path.display()), e))?;
        match self.check(key, id, &file, &meta) {
            Some(_) => Ok(()),
            None => Err(LoadError::Cache(format!(
                "{} changed while it was written",
                path.display()
            ))),
        }
    }
}

/// The whole of the open `file` (`meta` its metadata).
fn read_all(file: &File, meta: &std::fs::Metadata) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    let mut reader = file;
    reader.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// A path that opens the very file `file` is (on Linux, through
/// `/proc/self/fd`), so what is mapped is what was checked; elsewhere `path`.
fn same_file(path: &Path, file: &File) -> PathBuf {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd as _;
        let fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        if fd.exists() {
            return fd;
        }
    }
    let _ = file;
    path.to_path_buf()
}

/// Whether the file `meta` describes is owned by this process's user and
/// writable by no other.
#[cfg(unix)]
fn private_to_this_user(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    meta.uid() == euid && meta.mode() & 0o022 == 0
}

/// Without Unix ownership, no file counts as private: every load reads.
#[cfg(not(unix))]
fn private_to_this_user(_meta: &std::fs::Metadata) -> bool {
    false
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

#[cfg(test)]
mod tests;
