//! The granted directory of the `fs` grant shared by the `fs` and `fs-watch`
//! toys, opened once as a cap-std [`Dir`] (its canonical text is
//! [`patina_toy::canonical_fs_grant`]).
//!
//! This is the only place these toys use ambient authority, and only to open
//! the granted directory itself; every later access goes through the `Dir`.
//! It must never open anything else by an ambient path.

use std::path::{Path, PathBuf};

use cap_std::fs::Dir;
use patina_core::{FsAccess, FsScope};

use patina_toy::{ToyContext, ToyError};

/// The granted directory of one run (public for `fs-watch`, which watches
/// the directory the same grant names).
pub struct Root {
    /// The directory handle every access goes through.
    pub dir: Dir,
    /// Its canonical path (for naming it, and for file events).
    pub path: PathBuf,
    /// What the grant allows.
    pub access: FsAccess,
}

impl Root {
    /// Opens the one directory the run's (canonical) `fs` grant names.
    pub fn open(ctx: &ToyContext) -> Result<Self, ToyError> {
        let grant = ctx.grant()?;
        let scope = FsScope::parse(grant).map_err(|e| ToyError::Grant {
            reason: e.to_string(),
        })?;
        let path = PathBuf::from(&scope.path);
        if !path.is_absolute() {
            return Err(ToyError::Grant {
                reason: format!("the `fs` grant `{grant}` is not canonical"),
            });
        }
        let dir = open_without_symlinks(&path).map_err(|e| ToyError::Grant {
            reason: format!("cannot open the granted `{}`: {e}", path.display()),
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
