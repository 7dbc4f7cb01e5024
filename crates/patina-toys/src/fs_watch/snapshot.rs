//! A snapshot of the files under a granted root, and the diff of two.
//!
//! The walk goes through the root's cap-std `Dir` and never follows a
//! symlink: a symlink is an entry described by its own metadata, and a
//! directory is entered only with `open_dir_nofollow`. It is bounded in
//! entries and depth. It must never open anything by an ambient path.

use std::collections::BTreeMap;

use cap_fs_ext::DirExt;
use cap_std::fs::{Dir, Metadata};

/// Most entries (files and directories) a walk visits.
pub(crate) const MAX_ENTRIES: usize = 100_000;
/// Deepest directory nesting a walk enters.
pub(crate) const MAX_DEPTH: usize = 256;

/// What a snapshot keeps of one non-directory entry. A change that keeps all
/// three (same size, same mtime) is not seen.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct FileState {
    /// `file`, `symlink` or `other`.
    pub kind: String,
    /// Size in bytes (of the link itself for a symlink).
    pub size: u64,
    /// Last modification, nanoseconds since the Unix epoch (negative before it).
    pub mtime_ns: Option<i128>,
}

impl FileState {
    fn of(meta: &Metadata) -> Self {
        let file_type = meta.file_type();
        let kind = if file_type.is_symlink() {
            "symlink"
        } else if file_type.is_file() {
            "file"
        } else {
            "other"
        };
        let mtime_ns = meta.modified().ok().map(|t| {
            let t = t.into_std();
            match t.duration_since(std::time::UNIX_EPOCH) {
                Ok(after) => after.as_nanos() as i128,
                Err(before) => -(before.duration().as_nanos() as i128),
            }
        });
        Self {
            kind: kind.to_owned(),
            size: meta.len(),
            mtime_ns,
        }
    }
}

/// Relative `/`-separated path → state, for every non-directory entry.
pub(crate) type Files = BTreeMap<String, FileState>;

/// Walks `root` and returns its files. Entries whose names are not UTF-8 are
/// skipped (a child could not name them); an entry that vanishes during the
/// walk is left out; any other failure is an error naming the path.
pub(crate) fn walk(root: &Dir) -> Result<Files, String> {
    let mut walk = Walk {
        files: Files::new(),
        seen: 0,
    };
    walk.dir(root, "", 0)?;
    Ok(walk.files)
}

struct Walk {
    files: Files,
    seen: usize,
}

impl Walk {
    fn dir(&mut self, dir: &Dir, prefix: &str, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "`{prefix}` is nested deeper than {MAX_DEPTH} directories"
            ));
        }
        let shown = if prefix.is_empty() { "." } else { prefix };
        let entries = dir
            .entries()
            .map_err(|e| format!("cannot list `{shown}`: {e}"))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list `{shown}`: {e}"))?;
            self.seen += 1;
            if self.seen > MAX_ENTRIES {
                return Err(format!(
                    "more than {MAX_ENTRIES} entries under the granted directory"
                ));
            }
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            // `DirEntry::metadata` does not follow a symlink.
            let meta = match entry.metadata() {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("cannot stat `{path}`: {e}")),
            };
            if meta.is_dir() {
                match dir.open_dir_nofollow(&name) {
                    Ok(sub) => self.dir(&sub, &path, depth + 1)?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(format!("cannot open `{path}`: {e}")),
                }
            } else {
                self.files.insert(path, FileState::of(&meta));
            }
        }
        Ok(())
    }
}

/// How a file changed (the WIT `change-kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// In the new snapshot only.
    Added,
    /// In both, with another size, mtime or kind.
    Modified,
    /// In the old snapshot only.
    Removed,
}

impl ChangeKind {
    /// The WIT case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Modified => "modified",
            Self::Removed => "removed",
        }
    }
}

/// The changes from `old` to `new`, sorted by path.
pub(crate) fn diff(old: &Files, new: &Files) -> Vec<(String, ChangeKind)> {
    let mut changes: Vec<(String, ChangeKind)> = new
        .iter()
        .filter_map(|(path, state)| match old.get(path) {
            None => Some((path.clone(), ChangeKind::Added)),
            Some(before) if before != state => Some((path.clone(), ChangeKind::Modified)),
            Some(_) => None,
        })
        .chain(
            old.keys()
                .filter(|path| !new.contains_key(*path))
                .map(|path| (path.clone(), ChangeKind::Removed)),
        )
        .collect();
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    changes
}
