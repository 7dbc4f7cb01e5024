//! Where `fs-watch` keeps its snapshots: content-addressed files under
//! `<state_dir>/<pair>/`, one directory per (child, root) pair.
//!
//! A cursor is the blake3 digest (64 lowercase hex digits) of a snapshot's
//! canonical serialisation, which names the child and the root, so a cursor
//! of another child or another root never names a snapshot of this pair. A
//! cursor is checked to be pure hex before it touches the disk: it must never
//! lead to a file outside the pair's directory.
//!
//! A pair keeps its [`KEEP`] most recently used snapshots (stored, returned
//! again or loaded; the order is the files' mtimes): storing a new one
//! deletes older ones, and their cursors become unknown.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::snapshot::Files;

/// Version of the snapshot serialisation.
const FORMAT: u32 = 1;

/// Snapshots kept per (child, root) pair: storing a new one deletes the
/// least recently used beyond this, whose cursors become unknown.
pub(crate) const KEEP: usize = 16;

/// One stored snapshot, as serialised (the field order is part of the format).
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    format: u32,
    /// The child's id, hex.
    child: String,
    /// The canonical granted root.
    root: String,
    files: Files,
}

/// Why a cursor was refused (an answer to the child).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CursorError {
    /// Not 64 lowercase hex digits.
    #[error("malformed cursor `{0}`: a cursor is 64 hex digits returned by `changes`")]
    Malformed(String),
    /// No snapshot of this child and root has this cursor.
    #[error("unknown cursor `{0}`: not a cursor of this child and directory")]
    Unknown(String),
    /// The stored snapshot is damaged.
    #[error("the snapshot of cursor `{0}` is damaged: {1}")]
    Damaged(String, String),
}

/// The snapshots of one (child, root) pair.
pub(crate) struct SnapshotStore {
    dir: PathBuf,
    child: String,
    root: String,
}

impl SnapshotStore {
    /// The store of `child` (hex id) watching `root` under `state_dir`.
    pub(crate) fn new(state_dir: &Path, child: String, root: String) -> Self {
        let mut pair = blake3::Hasher::new();
        pair.update(b"patina fs-watch pair v1\0");
        pair.update(child.as_bytes());
        pair.update(b"\0");
        pair.update(root.as_bytes());
        let dir = state_dir.join(pair.finalize().to_hex().as_str());
        Self { dir, child, root }
    }

    fn path_of(&self, cursor: &str) -> PathBuf {
        self.dir.join(format!("{cursor}.json"))
    }

    /// Stores `files` (if not stored yet) and returns its cursor.
    pub(crate) fn save(&self, files: Files) -> io::Result<String> {
        let stored = Stored {
            format: FORMAT,
            child: self.child.clone(),
            root: self.root.clone(),
            files,
        };
        let bytes = serde_json::to_vec(&stored).map_err(io::Error::other)?;
        let cursor = blake3::hash(&bytes).to_hex().to_string();
        let path = self.path_of(&cursor);
        if path.is_file() {
            self.mark_used(&path);
            return Ok(cursor);
        }
        patina_toy::create_private_dir(&self.dir)?;
        // A fresh file renamed into place: a reader never sees half of one.
        let temp = self
            .dir
            .join(format!(".{cursor}.{}.{}.tmp", std::process::id(), unique()));
        std::fs::write(&temp, &bytes)?;
        std::fs::rename(&temp, &path).inspect_err(|_| {
            let _ = std::fs::remove_file(&temp);
        })?;
        self.mark_used(&path);
        self.prune();
        Ok(cursor)
    }

    /// The files of the snapshot `cursor` names.
    pub(crate) fn load(&self, cursor: &str) -> Result<Files, CursorError> {
        let shown: String = cursor.chars().take(80).collect();
        if cursor.len() != 64
            || !cursor
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(CursorError::Malformed(shown.escape_debug().to_string()));
        }
        let bytes = match std::fs::read(self.path_of(cursor)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(CursorError::Unknown(shown));
            }
            Err(e) => return Err(CursorError::Damaged(shown, e.to_string())),
        };
        if blake3::hash(&bytes).to_hex().as_str() != cursor {
            return Err(CursorError::Damaged(shown, "its digest differs".into()));
        }
        let stored: Stored = serde_json::from_slice(&bytes)
            .map_err(|e| CursorError::Damaged(shown.clone(), e.to_string()))?;
        if stored.format != FORMAT || stored.child != self.child || stored.root != self.root {
            return Err(CursorError::Unknown(shown));
        }
        self.mark_used(&self.path_of(cursor));
        Ok(stored.files)
    }

    /// The stored snapshots of the pair: (last use, file name).
    fn snapshots(&self) -> io::Result<Vec<(SystemTime, String)>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let is_snapshot = name.strip_suffix(".json").is_some_and(|cursor| {
                cursor.len() == 64 && cursor.bytes().all(|b| b.is_ascii_hexdigit())
            });
            if !is_snapshot {
                continue;
            }
            match entry.metadata().and_then(|meta| meta.modified()) {
                Ok(used) => found.push((used, name)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    /// Makes the snapshot at `path` the most recently used: its mtime
    /// becomes now, or just after the newest other one when the clock (or
    /// the filesystem's timestamp) has not moved on. Best effort.
    fn mark_used(&self, path: &Path) {
        let newest = self
            .snapshots()
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, name)| Some(name.as_str()) != path.file_name().and_then(|n| n.to_str()))
            .map(|(used, _)| used)
            .max();
        let now = SystemTime::now();
        let used = match newest {
            Some(newest) if newest >= now => newest + Duration::from_micros(1),
            _ => now,
        };
        let marked = std::fs::File::open(path).and_then(|file| file.set_modified(used));
        if let Err(e) = marked {
            tracing::warn!(path = %path.display(), "cannot mark an fs-watch snapshot used: {e}");
        }
    }

    /// Deletes the least recently used snapshots beyond [`KEEP`]. Best
    /// effort: a failure leaves extra snapshots, never loses a kept one.
    fn prune(&self) {
        let mut snapshots = match self.snapshots() {
            Ok(snapshots) => snapshots,
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), "cannot prune fs-watch snapshots: {e}");
                return;
            }
        };
        // Newest first; equal times by name, so the order is total.
        snapshots.sort_by(|a, b| b.cmp(a));
        for (_, name) in snapshots.into_iter().skip(KEEP) {
            match std::fs::remove_file(self.dir.join(&name)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(name, "cannot prune an fs-watch snapshot: {e}"),
            }
        }
    }
}

/// A number no other temp file of this process uses.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
