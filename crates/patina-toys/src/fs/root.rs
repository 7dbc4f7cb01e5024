//! The `fs` grant shared by the `fs` and `fs-watch` toys: its canonical text
//! and the granted directory, opened once as a cap-std [`Dir`].
//!
//! This is the only place these toys use ambient authority, and only to open
//! the granted directory itself; every later access goes through the `Dir`.
//! It must never open anything else by an ambient path.

use std::path::{Path, PathBuf};

use cap_std::fs::Dir;
use patina_core::{FsAccess, FsScope, Grant, GrantError};

use crate::{ToyContext, ToyError};

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

/// The granted directory of one run.
pub(crate) struct Root {
    /// The directory handle every access goes through.
    pub dir: Dir,
    /// Its canonical path (for naming it, and for file events).
    pub path: PathBuf,
    /// What the grant allows.
    pub access: FsAccess,
}

impl Root {
    /// Opens the one directory the run's (canonical) `fs` grant names.
    pub(crate) fn open(ctx: &ToyContext) -> Result<Self, ToyError> {
        let grant = ctx.grant()?;
        let scope = FsScope::parse(grant).map_err(|e| ToyError::Backend(e.to_string()))?;
        let path = PathBuf::from(&scope.path);
        if !path.is_absolute() {
            return Err(ToyError::Backend(format!(
                "the `fs` grant `{grant}` is not canonical"
            )));
        }
        let dir = open_without_symlinks(&path).map_err(|e| {
            ToyError::Backend(format!("cannot open the granted `{}`: {e}", path.display()))
        })?;
        Ok(Self {
            dir,
            path,
            access: scope.access,
        })
    }
}

/// Opens the canonical directory `path` one component at a time from `/`,
/// never following a symlink. The grant was canonicalised before the run; if
/// any component has been swapped for a symlink since, the open fails rather
/// than landing somewhere the grant never named.
pub(crate) fn open_without_symlinks(path: &Path) -> std::io::Result<Dir> {
    use cap_fs_ext::DirExt;
    use std::path::Component;

    let mut dir = Dir::open_ambient_dir("/", cap_std::ambient_authority())?;
    for component in path.components() {
        match component {
            Component::RootDir => {}
            Component::Normal(name) => dir = dir.open_dir_nofollow(name)?,
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the path is not canonical",
                ));
            }
        }
    }
    Ok(dir)
}
