//! Grant helpers several toys (and the host) share.
//!
//! The `fs` grant (`fs:DIR:ro|rw`) is read by the `fs` and `fs-watch` toys and
//! by the host, which preopens `DIR` for `wasi:filesystem`: all three must
//! agree on its canonical text, so the canonicalisation lives here, below them
//! all. It only reads the file system's view of the named path; it never
//! opens anything.

use patina_core::{FsScope, Grant, GrantError};

/// The canonical form of an `fs` grant: `fs:/canonical/dir:ro|rw`.
///
/// The one implementation: the host resolves `fs:` grants with it (for the
/// preopen and the `fs` toys alike), and the toys' `canonicalize` calls it
/// for a raw grant (`fs:./data`) handed to them directly.
pub fn canonical_fs_grant(grant: &Grant) -> Result<Grant, GrantError> {
    let scope = FsScope::parse(grant)?;
    let dir = std::fs::canonicalize(&scope.path)
        .map_err(|e| grant.scope_error(format!("cannot open `{}`: {e}", scope.path)))?;
    if !dir.is_dir() {
        return Err(grant.scope_error(format!("`{}` is not a directory", scope.path)));
    }
    let text = dir
        .to_str()
        .ok_or_else(|| grant.scope_error("the directory's path is not UTF-8"))?;
    grant.with_scope(Some(format!("{text}:{}", scope.access)))
}
