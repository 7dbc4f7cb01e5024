//! Opening the granted repository safely: the `.git` layout is checked to stay
//! inside the granted directory, the repository is opened isolated from the
//! user's and system configuration, and its own configuration is cut down to
//! the keys that describe data (so no filter, hook, fsmonitor, credential or
//! diff driver can name a program).
//!
//! It must never follow a `.git` file, `commondir`, alternate object store or
//! `core.worktree` out of the granted directory, never write to the
//! repository, and never run anything.

use std::path::{Path, PathBuf};

/// Why a directory cannot be served as a granted repository.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// The directory does not hold a `.git` entry.
    #[error("`{0}` is not the work tree of a git repository (no `.git` in it)")]
    NotARepository(String),
    /// A path of the repository's layout leads out of the granted directory.
    #[error("the {what} of `{dir}` is outside the granted directory ({target})")]
    Escape {
        /// The granted directory.
        dir: String,
        /// What pointed out (`git directory`, `work tree`, ...).
        what: &'static str,
        /// Where it pointed.
        target: String,
    },
    /// A bare repository has no work tree to show.
    #[error("`{0}` is a bare repository; grant the work tree of a non-bare one")]
    Bare(String),
    /// The layout or the repository could not be read.
    #[error("cannot open the repository at `{dir}`: {reason}")]
    Open {
        /// The granted directory.
        dir: String,
        /// What failed.
        reason: String,
    },
}

fn open_error(dir: &Path, reason: impl std::fmt::Display) -> RepoError {
    RepoError::Open {
        dir: dir.display().to_string(),
        reason: reason.to_string(),
    }
}

/// `error` and its sources, `: `-separated.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = inner.source();
    }
    text
}

/// Longest layout file (`.git`, `commondir`, `alternates`) read, in bytes.
const MAX_LAYOUT_FILE: u64 = 64 << 10;

/// The text of the small regular file at `path`, `None` if there is none
/// (a FIFO or a directory there counts as none, so reading never blocks).
fn read_small(dir: &Path, path: &Path) -> Result<Option<String>, RepoError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() <= MAX_LAYOUT_FILE => {
            std::fs::read_to_string(path)
                .map(Some)
                .map_err(|e| open_error(dir, format!("cannot read {}: {e}", path.display())))
        }
        Ok(meta) if meta.is_file() => {
            Err(open_error(dir, format!("{} is too large", path.display())))
        }
        _ => Ok(None),
    }
}

/// Resolves `path` (relative to `base`) and requires it to lie in `dir`.
fn inside(dir: &Path, base: &Path, path: &Path, what: &'static str) -> Result<PathBuf, RepoError> {
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

/// Checks the on-disk layout of the repository whose work tree is `dir`
/// (canonical): `.git` (a directory, a symlink or a `gitdir:` file) must
/// resolve inside `dir`, and so must its `commondir` and every alternate
/// object directory. Returns the canonical git directory.
pub(crate) fn check_layout(dir: &Path) -> Result<PathBuf, RepoError> {
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
    // gix reads these whole when opening or answering: anything but a
    // regular file (a FIFO would block the reader forever) is refused.
    for (base, name) in [
        (&git_dir, "HEAD"),
        (&git_dir, "index"),
        (&git_dir, "commondir"),
        (&git_dir, "config.worktree"),
        (&common, "config"),
        (&common, "packed-refs"),
        (&common, "info/exclude"),
        (&common, "objects/info/alternates"),
    ] {
        let path = base.join(name);
        if let Ok(meta) = std::fs::metadata(&path)
            && !meta.is_file()
        {
            return Err(open_error(
                dir,
                format!("{} is not a regular file", path.display()),
            ));
        }
    }
    let objects = common.join("objects");
    if let Some(text) = read_small(dir, &objects.join("info").join("alternates"))? {
        for line in text.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                inside(dir, &objects, Path::new(line), "alternate object store")?;
            }
        }
    }
    Ok(git_dir)
}

/// Opens the repository whose work tree is the canonical `dir`, after
/// [`check_layout`], isolated and with its configuration cut down, and checks
/// that the repository gix opened is the one that was checked.
pub(crate) fn open(dir: &Path) -> Result<gix::Repository, RepoError> {
    let git_dir = check_layout(dir)?;
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
        ("diff", false) => Some(Some(&["algorithm"])),
        ("branch", true) => Some(Some(&["remote", "merge"])),
        ("remote", true) => Some(Some(&["url", "pushurl", "fetch", "push"])),
        _ => None,
    }
}

/// Removes every configuration section and key that [`kept_keys`] does not keep.
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
    config.commit().map_err(|e| chain(&e))?;
    Ok(())
}
