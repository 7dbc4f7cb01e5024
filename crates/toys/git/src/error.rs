//! Why a granted repository cannot be served ([`RepoError`]) and the helpers
//! that build those errors, shared by the layout check (`layout`) and the
//! opener (`repo`) so that neither imports the other's error type.

use std::path::Path;

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
    /// The layout holds something the toy does not serve (a symlink, FIFO or
    /// alternate object store in `.git`, a hostile work-tree pattern file).
    #[error("refusing the repository at `{dir}`: {reason}")]
    Refused {
        /// The granted directory.
        dir: String,
        /// What was found.
        reason: String,
    },
    /// The layout or the repository could not be read.
    #[error("cannot open the repository at `{dir}`: {reason}")]
    Open {
        /// The granted directory.
        dir: String,
        /// What failed.
        reason: String,
    },
}

pub(crate) fn open_error(dir: &Path, reason: impl std::fmt::Display) -> RepoError {
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
