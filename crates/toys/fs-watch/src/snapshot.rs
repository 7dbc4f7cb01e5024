//! A snapshot of the files under a granted root, and the diff of two.
//!
//! The walk goes through the root's cap-std `Dir` and never follows a
//! symlink: a symlink is an entry described by its own metadata, and a
//! directory is entered only with `open_dir_nofollow`. It is bounded in
//! entries, depth, directories and path bytes, and holds at most one open
//! directory per level. It must never open anything by an ambient path.

use std::collections::BTreeMap;

use cap_fs_ext::DirExt;
use cap_std::fs::{Dir, Metadata};

use patina_toy_fs::shorten;

/// Most entries (files and directories) a walk visits.
pub(crate) const MAX_ENTRIES: usize = 100_000;
/// Deepest directory nesting a walk enters (the walk holds one open
/// directory per level).
pub(crate) const MAX_DEPTH: usize = 64;
/// Longest relative path a walk accepts, in bytes.
pub(crate) const MAX_PATH_BYTES: usize = 4096;
/// Most path bytes (all entries together) a walk accepts.
pub(crate) const MAX_TOTAL_PATH_BYTES: usize = 16 << 20;

/// The bounds of one walk; past any of them the walk fails.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub entries: usize,
    pub depth: usize,
    pub path_bytes: usize,
    pub total_path_bytes: usize,
    /// Most directories, the root included.
    pub dirs: usize,
}

impl Limits {
    /// The bounds of a snapshot.
    pub(crate) const SNAPSHOT: Self = Self {
        entries: MAX_ENTRIES,
        depth: MAX_DEPTH,
        path_bytes: MAX_PATH_BYTES,
        total_path_bytes: MAX_TOTAL_PATH_BYTES,
        dirs: usize::MAX,
    };
}

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

/// What a walk found.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    pub files: Files,
    /// Directories, the root included.
    pub dirs: usize,
}

/// Walks `root` within [`Limits::SNAPSHOT`].
pub(crate) fn walk(root: &Dir) -> Result<Tree, String> {
    walk_within(root, &Limits::SNAPSHOT, &mut || {})
}

/// Walks `root` and returns its files. Entries whose names are not UTF-8 are
/// skipped (a child could not name them); an entry that vanishes during the
/// walk is left out; any other failure, or going past `limits`, is an error.
///
/// Iterative, depth first: each directory's entries are read in full and its
/// listing handle closed before any subdirectory is entered, so the walk
/// holds at most one open directory per level, and a level is closed as
/// soon as its last subdirectory is done. `observe` is called while a
/// listing is open (the most the walk ever holds), for tests.
pub(crate) fn walk_within(
    root: &Dir,
    limits: &Limits,
    observe: &mut dyn FnMut(),
) -> Result<Tree, String> {
    let mut walk = Walk {
        tree: Tree {
            files: Files::new(),
            dirs: 1,
        },
        seen: 0,
        bytes: 0,
        limits,
    };
    let pending = walk.list(root, "", observe)?;
    let mut stack = vec![Level {
        dir: Handle::Root(root),
        prefix: String::new(),
        depth: 0,
        pending,
    }];
    while let Some(level) = stack.last_mut() {
        let Some(name) = level.pending.pop() else {
            stack.pop();
            continue;
        };
        let path = join(&level.prefix, &name);
        let depth = level.depth + 1;
        if depth > limits.depth {
            return Err(format!(
                "`{}` is nested deeper than {} directories",
                shorten(&path),
                limits.depth
            ));
        }
        let sub = match level.dir.get().open_dir_nofollow(&name) {
            Ok(sub) => sub,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot open `{}`: {e}", shorten(&path))),
        };
        walk.tree.dirs += 1;
        if walk.tree.dirs > limits.dirs {
            return Err(format!(
                "more than {} directories under the granted directory",
                limits.dirs
            ));
        }
        let pending = walk.list(&sub, &path, observe)?;
        if !pending.is_empty() {
            stack.push(Level {
                dir: Handle::Sub(sub),
                prefix: path,
                depth,
                pending,
            });
        }
    }
    Ok(walk.tree)
}

/// An open directory of the walk: the granted root (borrowed) or one below.
enum Handle<'a> {
    Root(&'a Dir),
    Sub(Dir),
}

impl Handle<'_> {
    fn get(&self) -> &Dir {
        match self {
            Self::Root(dir) => dir,
            Self::Sub(dir) => dir,
        }
    }
}

/// One level of the walk: its open directory and the subdirectories of it
/// still to enter.
struct Level<'a> {
    dir: Handle<'a>,
    prefix: String,
    depth: usize,
    pending: Vec<String>,
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

struct Walk<'l> {
    tree: Tree,
    seen: usize,
    bytes: usize,
    limits: &'l Limits,
}

impl Walk<'_> {
    /// Records the non-directory entries of `dir` and returns the names of
    /// its subdirectories. The listing (and every entry, which holds it) is
    /// closed when this returns.
    fn list(
        &mut self,
        dir: &Dir,
        prefix: &str,
        observe: &mut dyn FnMut(),
    ) -> Result<Vec<String>, String> {
        let shown = if prefix.is_empty() {
            ".".to_owned()
        } else {
            shorten(prefix)
        };
        let entries = dir
            .entries()
            .map_err(|e| format!("cannot list `{shown}`: {e}"))?;
        observe();
        let mut subdirs = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("cannot list `{shown}`: {e}")),
            };
            self.seen += 1;
            if self.seen > self.limits.entries {
                return Err(format!(
                    "more than {} entries under the granted directory",
                    self.limits.entries
                ));
            }
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let path = join(prefix, &name);
            if path.len() > self.limits.path_bytes {
                return Err(format!(
                    "`{}` is longer than {} bytes",
                    shorten(&path),
                    self.limits.path_bytes
                ));
            }
            self.bytes += path.len();
            if self.bytes > self.limits.total_path_bytes {
                return Err(format!(
                    "the paths under the granted directory add up to more than {} bytes",
                    self.limits.total_path_bytes
                ));
            }
            // `DirEntry::metadata` does not follow a symlink.
            let meta = match entry.metadata() {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("cannot stat `{}`: {e}", shorten(&path))),
            };
            if meta.is_dir() {
                subdirs.push(name);
            } else {
                self.tree.files.insert(path, FileState::of(&meta));
            }
        }
        // Entered in name order (popped from the end).
        subdirs.sort_unstable_by(|a, b| b.cmp(a));
        Ok(subdirs)
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
