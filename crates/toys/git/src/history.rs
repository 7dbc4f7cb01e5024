//! `head()`, `log(max)` and `diff-stat(from, to)`: reading commits and
//! comparing trees of the granted repository.
//!
//! It must never write objects or refs, never run a diff or textconv driver
//! (the configuration is cut down before these run), and never walk more
//! than [`MAX_LOG`] commits for one `log` call, resolve a revision the
//! [`revspec`](super::revspec) grammar refuses, or diff more than
//! [`MAX_DIFF_FILES`] files or [`MAX_DIFF_BYTES`] bytes for one `diff-stat`.

use gix::bstr::ByteSlice;

use super::error::chain;
use super::guard::{MAX_FIELD, cap};
use super::revspec;

/// Most commits one `log` call returns, whatever `max` asks.
pub const MAX_LOG: u32 = 10_000;

/// Most changed files one `diff-stat` answers; past it the call answers `err`.
pub const MAX_DIFF_FILES: usize = 10_000;

/// Most blob bytes (both sides, summed) one `diff-stat` loads to count
/// lines; past it the call answers `err`.
pub const MAX_DIFF_BYTES: u64 = 64 << 20;

/// One commit (the WIT `commit`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full hex id.
    pub id: String,
    /// The summary of the message (its first paragraph on one line, like `%s`).
    pub summary: String,
    /// `Name <email>` of the author.
    pub author: String,
    /// Author time, seconds since the Unix epoch.
    pub time: i64,
}

/// Line counts of one changed file (the WIT `file-stat`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileStat {
    /// Relative path, `/`-separated.
    pub path: String,
    /// Lines added.
    pub insertions: u32,
    /// Lines removed.
    pub deletions: u32,
}

/// What `git diff --stat --no-renames` tells (the WIT `diff-summary`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffSummary {
    /// Changed files, sorted by path.
    pub files: Vec<FileStat>,
    /// Sum of the insertions.
    pub insertions: u32,
    /// Sum of the deletions.
    pub deletions: u32,
}

fn err(what: &str, e: &dyn std::error::Error) -> String {
    format!("{what}: {}", chain(e))
}

fn commit_info(commit: &gix::Commit<'_>) -> Result<CommitInfo, String> {
    let id = commit.id;
    let message = commit
        .message()
        .map_err(|e| err(&format!("cannot read commit {id}"), &e))?;
    let author = commit
        .author()
        .map_err(|e| err(&format!("cannot read the author of {id}"), &e))?
        .trim();
    Ok(CommitInfo {
        id: id.to_hex().to_string(),
        summary: cap(message.summary().to_str_lossy().into_owned(), MAX_FIELD),
        author: cap(
            format!(
                "{} <{}>",
                author.name.to_str_lossy(),
                author.email.to_str_lossy()
            ),
            MAX_FIELD,
        ),
        time: author.seconds(),
    })
}

/// The commit HEAD points at, `None` when the branch is unborn.
pub fn head(repo: &gix::Repository) -> Result<Option<CommitInfo>, String> {
    let head = repo.head().map_err(|e| err("cannot read HEAD", &e))?;
    if head.is_unborn() {
        return Ok(None);
    }
    let commit = repo
        .head_commit()
        .map_err(|e| err("HEAD does not point at a commit", &e))?;
    commit_info(&commit).map(Some)
}

/// Up to `max` (at most [`MAX_LOG`]) commits reachable from HEAD, newest
/// first by commit time.
pub fn log(repo: &gix::Repository, max: u32) -> Result<Vec<CommitInfo>, String> {
    let head = repo.head().map_err(|e| err("cannot read HEAD", &e))?;
    if head.is_unborn() {
        return Err("HEAD is unborn: the branch has no commits yet".into());
    }
    let tip = repo
        .head_commit()
        .map_err(|e| err("HEAD does not point at a commit", &e))?
        .id;
    let max = max.min(MAX_LOG) as usize;
    let walk = repo
        .rev_walk([tip])
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            gix::traverse::commit::simple::CommitTimeOrder::NewestFirst,
        ))
        .all()
        .map_err(|e| err("cannot walk the history", &e))?;
    let mut commits = Vec::new();
    for info in walk.take(max) {
        let info = info.map_err(|e| err("cannot walk the history", &e))?;
        let commit = info.object().map_err(|e| err("cannot read a commit", &e))?;
        commits.push(commit_info(&commit)?);
    }
    Ok(commits)
}

fn tree_of<'repo>(repo: &'repo gix::Repository, spec: &str) -> Result<gix::Tree<'repo>, String> {
    revspec::check(spec)?;
    let id = repo
        .rev_parse_single(spec)
        .map_err(|e| err(&format!("bad revision `{spec}`"), &e))?;
    id.object()
        .and_then(|object| object.peel_to_tree())
        .map_err(|e| err(&format!("revision `{spec}` does not name a tree"), &e))
}

/// Line changes from revision `from` to revision `to`, per file. Renames
/// count as a deletion and an addition; binary files and blobs larger than
/// `core.bigFileThreshold` count 0/0; a changed submodule counts one line
/// removed and one added, like git.
pub fn diff_stat(repo: &gix::Repository, from: &str, to: &str) -> Result<DiffSummary, String> {
    diff_stat_capped(repo, from, to, MAX_DIFF_FILES, MAX_DIFF_BYTES)
}

/// [`diff_stat`] with the caps given: past `max_files` changed files or
/// `max_bytes` loaded blob bytes it answers an error.
pub(crate) fn diff_stat_capped(
    repo: &gix::Repository,
    from: &str,
    to: &str,
    max_files: usize,
    max_bytes: u64,
) -> Result<DiffSummary, String> {
    let old = tree_of(repo, from)?;
    let new = tree_of(repo, to)?;
    let mut cache = repo
        .diff_resource_cache_for_tree_diff()
        .map_err(|e| err("cannot prepare the diff", &e))?;
    let mut files = Vec::new();
    let mut failure = None;
    let mut loaded = 0u64;
    let mut changes = old
        .changes()
        .map_err(|e| err("cannot prepare the diff", &e))?;
    changes.options(|o| {
        o.track_path().track_rewrites(None);
    });
    let walked = changes.for_each_to_obtain_tree(&new, |change| {
        use gix::object::tree::diff::Change;
        let (mode, previous) = match change {
            Change::Addition { entry_mode, .. } => (entry_mode, None),
            Change::Deletion { entry_mode, .. } => (entry_mode, None),
            Change::Modification {
                entry_mode,
                previous_entry_mode,
                ..
            } => (entry_mode, Some(previous_entry_mode)),
            Change::Rewrite { entry_mode, .. } => (entry_mode, None),
        };
        if mode.is_tree() && previous.is_none_or(|p| p.is_tree()) {
            return Ok(std::ops::ControlFlow::Continue(()));
        }
        if files.len() >= max_files {
            failure = Some(format!("too many changed files: more than {max_files}"));
            return Ok(std::ops::ControlFlow::Break(()));
        }
        let path = cap(change.location().to_str_lossy().into_owned(), MAX_FIELD);
        let (insertions, deletions) = if mode.is_commit() || previous.is_some_and(|p| p.is_commit())
        {
            submodule_lines(&change)
        } else {
            match count_lines(&change, &mut cache, &mut loaded, max_bytes) {
                Ok(counts) => counts,
                Err(message) => {
                    failure = Some(format!("cannot diff `{path}`: {message}"));
                    return Ok(std::ops::ControlFlow::Break(()));
                }
            }
        };
        cache.clear_resource_cache_keep_allocation();
        files.push(FileStat {
            path,
            insertions,
            deletions,
        });
        Ok(std::ops::ControlFlow::Continue(()))
    });
    // A failure in the callback cancels the walk: report it, not the cancel.
    if let Some(failure) = failure {
        return Err(failure);
    }
    walked.map_err(|e| err("cannot diff the trees", &e))?;
    files.sort();
    let insertions = files
        .iter()
        .fold(0u32, |n, f| n.saturating_add(f.insertions));
    let deletions = files
        .iter()
        .fold(0u32, |n, f| n.saturating_add(f.deletions));
    Ok(DiffSummary {
        files,
        insertions,
        deletions,
    })
}

/// Lines added and removed by the blob `change`, after adding the bytes it
/// loads to `loaded` and refusing past `max_bytes`.
fn count_lines(
    change: &gix::object::tree::diff::Change<'_, '_, '_>,
    cache: &mut gix::diff::blob::Platform,
    loaded: &mut u64,
    max_bytes: u64,
) -> Result<(u32, u32), String> {
    use gix::diff::blob::platform::resource::Data;
    let mut platform = change.diff(cache).map_err(|e| chain(&e))?;
    if let Some((old, new)) = platform.resource_cache.resources() {
        for data in [old.data, new.data] {
            if let Data::Buffer { buf, .. } = data {
                *loaded = loaded.saturating_add(buf.len() as u64);
            }
        }
    }
    if *loaded > max_bytes {
        return Err(format!(
            "too much to diff: more than {max_bytes} bytes of file contents"
        ));
    }
    match platform.line_counts().map_err(|e| chain(&e))? {
        Some(counts) => Ok((counts.insertions, counts.removals)),
        None => Ok((0, 0)),
    }
}

/// What `git diff --stat` counts for a submodule entry: its commit line.
fn submodule_lines(change: &gix::object::tree::diff::Change<'_, '_, '_>) -> (u32, u32) {
    use gix::object::tree::diff::Change;
    match change {
        Change::Addition { entry_mode, .. } if entry_mode.is_commit() => (1, 0),
        Change::Deletion { entry_mode, .. } if entry_mode.is_commit() => (0, 1),
        Change::Modification {
            entry_mode,
            previous_entry_mode,
            ..
        } => (
            u32::from(entry_mode.is_commit()),
            u32::from(previous_entry_mode.is_commit()),
        ),
        _ => (0, 0),
    }
}
