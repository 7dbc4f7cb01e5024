//! The on-disk layout check of a granted repository, made before gix opens
//! it: `.git`, `commondir` and the git directories must lie inside the
//! granted directory; the git directory and common directory are walked once
//! and must hold only regular files and directories (no symlink, FIFO,
//! socket or device: git never makes one there); alternate object stores are
//! refused outright; and — only for a call that reads the work tree
//! ([`Reach::WorkTree`], i.e. `status`) — the work tree's `.gitignore`,
//! `.gitattributes` and `.gitmodules` files must be regular files. `head`,
//! `log` and `diff-stat` read objects, refs and the index only (a tree diff
//! takes attributes from the index, not the work tree), so they never walk
//! the work tree.
//!
//! It must never follow a symlink inside the git directory, never open
//! anything but a regular file (a FIFO would block the reader forever), and
//! never read outside the granted directory.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::error::{RepoError, open_error};

/// Most entries walked in the git directory (and common directory); a
/// repository with more is refused.
pub const MAX_GIT_DIR_ENTRIES: usize = 200_000;

/// Most entries of the work tree checked for hostile `.gitignore`,
/// `.gitattributes` and `.gitmodules` files; past it the rest is not checked
/// and only the call watchdog guards against a blocking file.
pub const MAX_WORK_TREE_ENTRIES: usize = 200_000;

/// Longest layout file (`.git`, `commondir`) read, in bytes.
pub(crate) const MAX_LAYOUT_FILE: u64 = 64 << 10;

/// The work-tree files gix reads whole that must be regular files.
const WORK_TREE_FILES: &[&str] = &[".gitignore", ".gitattributes", ".gitmodules"];

fn refused(dir: &Path, reason: impl std::fmt::Display) -> RepoError {
    RepoError::Refused {
        dir: dir.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Why [`read_regular`] read nothing.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Not a regular file (a symlink, FIFO, directory, ...).
    NotRegular,
    /// Longer than the limit.
    TooLarge,
    /// Reading failed.
    Io(std::io::Error),
}

/// The text of the regular file at `path` (at most `max` bytes), `None` if
/// there is none. It is opened without following a symlink and without
/// blocking, so a FIFO is refused rather than waited on.
pub(crate) fn read_regular(path: &Path, max: u64) -> Result<Option<String>, ReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(_) => return Err(ReadError::NotRegular),
    };
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    if meta.len() > max {
        return Err(ReadError::TooLarge);
    }
    let mut text = String::new();
    file.take(max)
        .read_to_string(&mut text)
        .map_err(ReadError::Io)?;
    Ok(Some(text))
}

/// [`read_regular`] of a layout file, failures as [`RepoError`]s.
fn read_small(dir: &Path, path: &Path) -> Result<Option<String>, RepoError> {
    read_regular(path, MAX_LAYOUT_FILE).map_err(|e| match e {
        ReadError::NotRegular => refused(dir, format!("{} is not a regular file", path.display())),
        ReadError::TooLarge => open_error(dir, format!("{} is too large", path.display())),
        ReadError::Io(e) => open_error(dir, format!("cannot read {}: {e}", path.display())),
    })
}

/// Resolves `path` (relative to `base`) and requires it to lie in `dir`.
pub(crate) fn inside(
    dir: &Path,
    base: &Path,
    path: &Path,
    what: &'static str,
) -> Result<PathBuf, RepoError> {
    let joined = base.join(path);
    let resolved = std::fs::canonicalize(&joined)
        .map_err(|e| open_error(dir, format!("cannot resolve {}: {e}", joined.display())))?;
    if resolved.starts_with(dir) {
        Ok(resolved)
    } else {
        Err(RepoError::Escape {
            dir: dir.display().to_string(),
            what,
            target: resolved.display().to_string(),
        })
    }
}

/// What a call reads, and so what must be checked before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The git directory only: objects, refs, the index, configuration.
    GitDir,
    /// The work tree too (`status`): its pattern files and nested `.git`s.
    WorkTree,
}

/// Checks the on-disk layout of the repository whose work tree is `dir`
/// (canonical): `.git` (a directory, a symlink or a `gitdir:` file) must
/// resolve inside `dir`, and so must its `commondir`; both directories hold
/// only regular files and directories; there is no `objects/info/alternates`;
/// and, when `reach` is [`Reach::WorkTree`], the work tree's pattern files
/// are regular files. Returns the canonical git directory.
pub(crate) fn check_layout(dir: &Path, reach: Reach) -> Result<PathBuf, RepoError> {
    let dot_git = dir.join(".git");
    let meta = std::fs::symlink_metadata(&dot_git)
        .map_err(|_| RepoError::NotARepository(dir.display().to_string()))?;
    let git_dir = if meta.is_file() {
        let text = read_small(dir, &dot_git)?.unwrap_or_default();
        let target = text
            .strip_prefix("gitdir:")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| open_error(dir, "the `.git` file does not start with `gitdir:`"))?;
        inside(dir, dir, Path::new(target), "git directory")?
    } else {
        inside(dir, dir, Path::new(".git"), "git directory")?
    };
    if !git_dir.is_dir() {
        return Err(RepoError::NotARepository(dir.display().to_string()));
    }
    let common = match read_small(dir, &git_dir.join("commondir"))? {
        Some(text) => inside(
            dir,
            &git_dir,
            Path::new(text.trim()),
            "common git directory",
        )?,
        None => git_dir.clone(),
    };
    let mut budget = MAX_GIT_DIR_ENTRIES;
    walk_git_dir(dir, &common, &mut budget)?;
    if !git_dir.starts_with(&common) {
        walk_git_dir(dir, &git_dir, &mut budget)?;
    }
    for base in [&common, &git_dir] {
        let alternates = base.join("objects").join("info").join("alternates");
        if std::fs::symlink_metadata(&alternates).is_ok() {
            return Err(refused(
                dir,
                format!(
                    "{} exists: repositories borrowing objects from alternate object stores are not served",
                    alternates.display()
                ),
            ));
        }
    }
    if reach == Reach::WorkTree {
        check_work_tree(dir)?;
    }
    Ok(git_dir)
}

/// Walks the git directory `root` without following anything, refusing any
/// entry that is neither a regular file nor a directory.
fn walk_git_dir(dir: &Path, root: &Path, budget: &mut usize) -> Result<(), RepoError> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|e| open_error(dir, format!("cannot list {}: {e}", folder.display())))?;
        for entry in entries {
            let entry = entry
                .map_err(|e| open_error(dir, format!("cannot list {}: {e}", folder.display())))?;
            if *budget == 0 {
                return Err(refused(
                    dir,
                    format!(
                        "the git directory has more than {MAX_GIT_DIR_ENTRIES} entries (too many to check)"
                    ),
                ));
            }
            *budget -= 1;
            let kind = entry
                .file_type()
                .map_err(|e| open_error(dir, format!("cannot inspect an entry: {e}")))?;
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_symlink() {
                return Err(refused(
                    dir,
                    format!(
                        "{} is a symbolic link (git makes none inside `.git`)",
                        path.display()
                    ),
                ));
            } else if !kind.is_file() {
                return Err(refused(
                    dir,
                    format!("{} is not a regular file or a directory", path.display()),
                ));
            }
        }
    }
    Ok(())
}

/// Walks the work tree `dir` (not into `.git` entries, not following
/// symlinks, at most [`MAX_WORK_TREE_ENTRIES`] entries) and refuses a
/// `.gitignore`, `.gitattributes` or `.gitmodules` that is not a regular
/// file, and a nested `.git` that is neither a regular file nor a directory.
fn check_work_tree(dir: &Path) -> Result<(), RepoError> {
    let mut budget = MAX_WORK_TREE_ENTRIES;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        // A directory that vanished or cannot be listed is gix's to report.
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            if budget == 0 {
                tracing::debug!(target: "patina::toys::git", "work tree too large to pre-check");
                return Ok(());
            }
            budget -= 1;
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let path = entry.path();
            if name == ".git" {
                // The top one was checked; a nested repository's `.git` is
                // probed by gix (so it must not block) but not entered.
                if folder != dir && !kind.is_dir() && !kind.is_file() {
                    return Err(refused(
                        dir,
                        format!("{} is not a regular file or a directory", path.display()),
                    ));
                }
                continue;
            }
            if WORK_TREE_FILES.iter().any(|n| name == *n) && !kind.is_file() {
                return Err(refused(
                    dir,
                    format!(
                        "{} is not a regular file (gix would read or block on it)",
                        path.display()
                    ),
                ));
            }
            if kind.is_dir() {
                stack.push(path);
            }
        }
    }
    Ok(())
}
