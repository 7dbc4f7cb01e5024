//! Hiding untracked nested repositories that point out of the granted
//! directory: a directory whose `.git` is a `gitdir:` file (or a symlink)
//! naming a git directory outside `DIR` — or one that does not exist — is
//! left out of `untracked`, with everything under it. Otherwise whether
//! gix lists `probe/` (the target exists) or `probe/.git` (it does not)
//! would tell the child whether an outside path holds a repository.
//!
//! It must never open anything but a small regular file, and never answer
//! differently depending on what exists outside the granted directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::layout::{MAX_LAYOUT_FILE, read_regular};

/// Remembers, per work-tree directory, whether its `.git` leads outside.
pub struct ForeignRepos {
    workdir: PathBuf,
    known: HashMap<String, bool>,
}

impl ForeignRepos {
    /// For the canonical work tree `workdir`.
    pub fn new(workdir: &Path) -> Self {
        Self {
            workdir: workdir.to_path_buf(),
            known: HashMap::new(),
        }
    }

    /// Whether the untracked `rela_path` (`/`-separated, maybe ending in `/`)
    /// is, or lies under, a directory whose `.git` leads outside.
    pub fn hides(&mut self, rela_path: &str) -> bool {
        let trimmed = rela_path.trim_end_matches('/');
        let ends = trimmed
            .match_indices('/')
            .map(|(i, _)| i)
            .chain([trimmed.len()]);
        for end in ends {
            let folder = &trimmed[..end];
            if folder.is_empty() {
                continue;
            }
            let foreign = match self.known.get(folder) {
                Some(known) => *known,
                None => {
                    let foreign = leads_outside(&self.workdir, &self.workdir.join(folder));
                    self.known.insert(folder.to_owned(), foreign);
                    foreign
                }
            };
            if foreign {
                return true;
            }
        }
        false
    }
}

/// Whether `folder/.git` is a file or symlink whose git directory does not
/// resolve inside `workdir`.
fn leads_outside(workdir: &Path, folder: &Path) -> bool {
    let dot_git = folder.join(".git");
    let Ok(meta) = std::fs::symlink_metadata(&dot_git) else {
        return false;
    };
    if meta.is_dir() {
        return false;
    }
    let target = if meta.is_file() {
        match read_regular(&dot_git, MAX_LAYOUT_FILE) {
            Ok(Some(text)) => match text.strip_prefix("gitdir:").map(str::trim) {
                Some(target) if !target.is_empty() => folder.join(target),
                // Not a gitfile: an ordinary untracked file named `.git`.
                _ => return false,
            },
            _ => return true,
        }
    } else {
        dot_git
    };
    match std::fs::canonicalize(target) {
        Ok(resolved) => !resolved.starts_with(workdir),
        Err(_) => true,
    }
}
