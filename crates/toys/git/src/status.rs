//! `status()`: branch, HEAD, staged / unstaged / untracked paths and the
//! distance to the upstream, like `git status --porcelain=v2 --branch
//! --untracked-files=all` would tell.
//!
//! It must never write the index back (gix offers refreshed stat data; it is
//! dropped), never check submodules (that would open other repositories),
//! never fetch, never answer more than [`MAX_LIST`] paths per list, and
//! never walk more than [`MAX_AHEAD_BEHIND`] commits to count ahead/behind.

use gix::bstr::ByteSlice;
use gix::status::index_worktree::Item as WorktreeItem;
use gix::status::plumbing::index_as_worktree::{Change, EntryStatus};

use super::error::chain;
use super::guard::{MAX_FIELD, cap};
use super::nested::ForeignRepos;

/// Most paths in each of `staged`, `unstaged` and `untracked`; a status with
/// more answers `err("too many changes: ...")`.
pub const MAX_LIST: usize = 10_000;

/// Most commits walked each way to count `ahead` / `behind`; past it the
/// count is `none`.
pub const MAX_AHEAD_BEHIND: u32 = 10_000;

/// Most rename candidates compared for staged renames (git's default is
/// 1000; each candidate pair may load two blobs).
pub const RENAME_LIMIT: usize = 100;

/// How a path differs (the WIT `change-kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// `added`
    Added,
    /// `modified`
    Modified,
    /// `deleted`
    Deleted,
    /// `renamed`
    Renamed,
    /// `type-changed`
    TypeChanged,
}

impl ChangeKind {
    /// The WIT case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Modified => "modified",
            Self::Deleted => "deleted",
            Self::Renamed => "renamed",
            Self::TypeChanged => "type-changed",
        }
    }
}

/// One changed path (the WIT `file-change`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileChange {
    /// Relative to the work tree, `/`-separated (the new path of a rename).
    pub path: String,
    /// How it changed.
    pub kind: ChangeKind,
}

/// What `git status` tells (the WIT `repo-status`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoStatus {
    /// The current branch, `None` when HEAD is detached.
    pub branch: Option<String>,
    /// The commit HEAD points at, `None` on an unborn branch.
    pub head: Option<String>,
    /// HEAD tree vs index, sorted by path.
    pub staged: Vec<FileChange>,
    /// Index vs work tree, sorted by path.
    pub unstaged: Vec<FileChange>,
    /// Untracked, not ignored files, sorted.
    pub untracked: Vec<String>,
    /// The upstream's short name (`origin/main`), when configured.
    pub upstream: Option<String>,
    /// Commits on the branch the upstream lacks.
    pub ahead: Option<u32>,
    /// Commits on the upstream the branch lacks.
    pub behind: Option<u32>,
}

fn text(path: &gix::bstr::BStr) -> String {
    cap(path.to_str_lossy().into_owned(), MAX_FIELD)
}

fn err(what: &str, e: &dyn std::error::Error) -> String {
    format!("{what}: {}", chain(e))
}

/// Computes the status of `repo` (opened by [`super::repo::open`]).
pub fn status(repo: &gix::Repository) -> Result<RepoStatus, String> {
    status_capped(repo, MAX_LIST)
}

/// [`status`], answering an error when a list exceeds `max_list` paths.
pub(crate) fn status_capped(repo: &gix::Repository, max_list: usize) -> Result<RepoStatus, String> {
    let head = repo.head().map_err(|e| err("cannot read HEAD", &e))?;
    let branch = head.referent_name().map(|name| text(name.shorten()));
    let head_id = head.id().map(|id| id.detach());
    let mut out = RepoStatus {
        branch,
        head: head_id.map(|id| id.to_hex().to_string()),
        ..RepoStatus::default()
    };

    let iter = repo
        .status(gix::progress::Discard)
        .map_err(|e| err("cannot prepare the status", &e))?
        .untracked_files(gix::status::UntrackedFiles::Files)
        .index_worktree_submodules(None)
        .index_worktree_rewrites(None)
        .tree_index_track_renames(gix::status::tree_index::TrackRenames::Given(
            gix::diff::Rewrites {
                limit: RENAME_LIMIT,
                ..gix::diff::Rewrites::default()
            },
        ))
        .into_iter(Vec::new())
        .map_err(|e| err("cannot compute the status", &e))?;
    let mut foreign = ForeignRepos::new(repo.workdir().unwrap_or(repo.git_dir()));
    for item in iter {
        let item = item.map_err(|e| err("cannot compute the status", &e))?;
        match item {
            gix::status::Item::TreeIndex(change) => out.staged.push(staged(&change)),
            gix::status::Item::IndexWorktree(item) => worktree(item, &mut out, &mut foreign),
        }
        for (name, list) in [
            ("staged", out.staged.len()),
            ("unstaged", out.unstaged.len()),
            ("untracked", out.untracked.len()),
        ] {
            if list > max_list {
                return Err(format!(
                    "too many changes: more than {max_list} {name} paths"
                ));
            }
        }
    }
    out.staged.sort();
    out.unstaged.sort();
    out.untracked.sort();
    out.unstaged.dedup();

    if let Some(name) = head.referent_name() {
        upstream(repo, name, head_id, &mut out)?;
    }
    Ok(out)
}

fn staged(change: &gix::diff::index::Change) -> FileChange {
    use gix::diff::index::ChangeRef;
    let kind = match change {
        ChangeRef::Addition { .. } => ChangeKind::Added,
        ChangeRef::Deletion { .. } => ChangeKind::Deleted,
        ChangeRef::Modification {
            previous_entry_mode,
            entry_mode,
            ..
        } => {
            if kind_of(*previous_entry_mode) == kind_of(*entry_mode) {
                ChangeKind::Modified
            } else {
                ChangeKind::TypeChanged
            }
        }
        ChangeRef::Rewrite { copy: true, .. } => ChangeKind::Added,
        ChangeRef::Rewrite { .. } => ChangeKind::Renamed,
    };
    FileChange {
        path: text(change.location()),
        kind,
    }
}

/// The kind of an index entry, ignoring the executable bit (which git shows
/// as a modification, not a type change).
fn kind_of(mode: gix::index::entry::Mode) -> u8 {
    use gix::index::entry::Mode;
    if mode == Mode::SYMLINK {
        1
    } else if mode == Mode::COMMIT {
        2
    } else if mode == Mode::DIR {
        3
    } else {
        0
    }
}

fn worktree(item: WorktreeItem, out: &mut RepoStatus, foreign: &mut ForeignRepos) {
    match item {
        WorktreeItem::Modification {
            rela_path, status, ..
        } => {
            let kind = match status {
                EntryStatus::Change(Change::Removed) => ChangeKind::Deleted,
                EntryStatus::Change(Change::Type { .. }) => ChangeKind::TypeChanged,
                EntryStatus::Change(Change::Modification { .. })
                | EntryStatus::Change(Change::SubmoduleModification(_))
                | EntryStatus::Conflict { .. } => ChangeKind::Modified,
                // `git add -N`: git shows the file as added in the work tree.
                EntryStatus::IntentToAdd => ChangeKind::Added,
                EntryStatus::NeedsUpdate(_) => return,
            };
            out.unstaged.push(FileChange {
                path: text(rela_path.as_ref()),
                kind,
            });
        }
        WorktreeItem::DirectoryContents { entry, .. } => {
            if entry.status == gix::dir::entry::Status::Untracked {
                let mut path = text(entry.rela_path.as_ref());
                if matches!(
                    entry.disk_kind,
                    Some(gix::dir::entry::Kind::Directory | gix::dir::entry::Kind::Repository)
                ) {
                    path.push('/');
                }
                if !foreign.hides(&path) {
                    out.untracked.push(path);
                }
            }
        }
        // Worktree rename tracking is off, so no rewrites are reported.
        WorktreeItem::Rewrite { .. } => {}
    }
}

/// Fills `upstream`, `ahead` and `behind` for the branch `name`.
fn upstream(
    repo: &gix::Repository,
    name: &gix::refs::FullNameRef,
    head: Option<gix::ObjectId>,
    out: &mut RepoStatus,
) -> Result<(), String> {
    let Some(tracking) = repo.branch_remote_tracking_ref_name(name, gix::remote::Direction::Fetch)
    else {
        return Ok(());
    };
    // A misconfigured upstream is not known; the rest of the status stands.
    let Ok(tracking) = tracking else {
        return Ok(());
    };
    out.upstream = Some(text(tracking.as_ref().shorten()));
    let upstream_id = match repo.try_find_reference(tracking.as_ref()) {
        Ok(Some(mut reference)) => match reference.peel_to_id() {
            Ok(id) => id.detach(),
            Err(_) => return Ok(()),
        },
        Ok(None) => return Ok(()),
        Err(e) => return Err(err("cannot read the upstream", &e)),
    };
    let Some(head) = head else {
        return Ok(());
    };
    out.ahead = count_only_in(repo, head, upstream_id, MAX_AHEAD_BEHIND);
    out.behind = count_only_in(repo, upstream_id, head, MAX_AHEAD_BEHIND);
    Ok(())
}

/// The number of commits reachable from `tip` but not from `hidden`; `None`
/// past `max` or when the walk fails (the rest of the status stands).
pub(crate) fn count_only_in(
    repo: &gix::Repository,
    tip: gix::ObjectId,
    hidden: gix::ObjectId,
    max: u32,
) -> Option<u32> {
    let walk = repo.rev_walk([tip]).with_hidden([hidden]).all().ok()?;
    let mut count = 0u32;
    for info in walk {
        info.ok()?;
        if count >= max {
            return None;
        }
        count += 1;
    }
    Some(count)
}
