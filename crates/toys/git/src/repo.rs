//! Opening the granted repository safely: the `.git` layout is checked to stay
//! inside the granted directory, the repository is opened isolated from the
//! user's and system configuration, and its own configuration is cut down to
//! the keys that describe data (so no filter, hook, fsmonitor, credential or
//! diff driver can name a program).
//!
//! It must never follow a `.git` file, `commondir`, alternate object store or
//! `core.worktree` out of the granted directory, never write to the
//! repository, and never run anything.

use std::path::Path;

use super::error::{RepoError, chain, open_error};
use super::layout::{Reach, check_layout, inside};

/// Opens the repository whose work tree is the canonical `dir` for a call
/// that reads `reach`: the layout checked first ([`check_layout`]; the work
/// tree only for [`Reach::WorkTree`]), then opened isolated and with its
/// configuration cut down, and the repository gix opened checked to be the
/// one that was checked.
pub(crate) fn open_for(dir: &Path, reach: Reach) -> Result<gix::Repository, RepoError> {
    let git_dir = check_layout(dir, reach)?;
    open_checked(dir, &git_dir)
}

/// [`open_for`] any call (the work tree checked too).
#[cfg(test)]
pub(crate) fn open(dir: &Path) -> Result<gix::Repository, RepoError> {
    open_for(dir, Reach::WorkTree)
}

/// Opens the repository whose work tree is `dir` and whose canonical git
/// directory [`check_layout`] just found to be `git_dir`.
fn open_checked(dir: &Path, git_dir: &Path) -> Result<gix::Repository, RepoError> {
    let options = gix::open::Options::isolated().open_path_as_is(false);
    let mut repo = gix::open_opts(dir, options).map_err(|e| open_error(dir, chain(&e)))?;
    let opened_git_dir = std::fs::canonicalize(repo.git_dir())
        .map_err(|e| open_error(dir, format!("cannot resolve the git directory: {e}")))?;
    if opened_git_dir != git_dir {
        return Err(RepoError::Escape {
            dir: dir.display().to_string(),
            what: "git directory",
            target: opened_git_dir.display().to_string(),
        });
    }
    inside(dir, dir, repo.common_dir(), "common git directory")?;
    let Some(workdir) = repo.workdir() else {
        return Err(RepoError::Bare(dir.display().to_string()));
    };
    let workdir = std::fs::canonicalize(workdir).map_err(|_| RepoError::Escape {
        dir: dir.display().to_string(),
        what: "work tree (`core.worktree`)",
        target: workdir.display().to_string(),
    })?;
    if workdir != dir {
        return Err(RepoError::Escape {
            dir: dir.display().to_string(),
            what: "work tree (`core.worktree`)",
            target: workdir.display().to_string(),
        });
    }
    sanitize_config(&mut repo).map_err(|e| open_error(dir, e))?;
    Ok(repo)
}

/// The configuration keys kept, by section (lowercase); `None` keeps every
/// key of the section. Everything else (filters, hooks, fsmonitor,
/// credentials, diff and merge drivers, excludes and attributes files outside
/// the repository, url rewrites, includes) is dropped.
fn kept_keys(section: &str, has_subsection: bool) -> Option<Option<&'static [&'static str]>> {
    const CORE: &[&str] = &[
        "repositoryformatversion",
        "bare",
        "worktree",
        "filemode",
        "symlinks",
        "ignorecase",
        "precomposeunicode",
        "logallrefupdates",
        "autocrlf",
        "eol",
        "safecrlf",
        "checkstat",
        "trustctime",
        "abbrev",
        "protecthfs",
        "protectntfs",
    ];
    match (section, has_subsection) {
        ("core", false) => Some(Some(CORE)),
        ("extensions", false) | ("index", false) => Some(None),
        ("branch", true) => Some(Some(&["remote", "merge"])),
        ("remote", true) => Some(Some(&["url", "pushurl", "fetch", "push"])),
        _ => None,
    }
}

/// `core.bigFileThreshold` forced on every repository, in bytes.
pub const BIG_FILE_THRESHOLD: u64 = 8 << 20;

/// Removes every configuration section and key that [`kept_keys`] does not
/// keep (so `diff.algorithm` too: diffs use Myers), and sets
/// `core.bigFileThreshold` to [`BIG_FILE_THRESHOLD`].
fn sanitize_config(repo: &mut gix::Repository) -> Result<(), String> {
    let mut config = repo.config_snapshot_mut();
    let mut drop_sections = Vec::new();
    let mut drop_keys = Vec::new();
    for (section, id) in config.sections_and_ids() {
        let header = section.header();
        let name = header.name().to_string().to_ascii_lowercase();
        match kept_keys(&name, header.subsection_name().is_some()) {
            None => drop_sections.push(id),
            Some(None) => {}
            Some(Some(keep)) => {
                let names: Vec<String> = section
                    .value_names()
                    .filter(|key| !keep.contains(&key.to_ascii_lowercase().as_str()))
                    .collect();
                if !names.is_empty() {
                    drop_keys.push((id, names));
                }
            }
        }
    }
    for id in drop_sections {
        config.remove_section_by_id(id);
    }
    for (id, names) in drop_keys {
        if let Some(mut section) = config.section_mut_by_id(id) {
            for name in names {
                while section.remove(&name).is_some() {}
            }
        }
    }
    // Blobs past this size count as binary (0/0) in diff stats instead of
    // being loaded and diffed.
    config
        .set_value(
            &gix::config::tree::Core::BIG_FILE_THRESHOLD,
            BIG_FILE_THRESHOLD.to_string().as_str(),
        )
        .map_err(|e| chain(&e))?;
    config.commit().map_err(|e| chain(&e))?;
    Ok(())
}
