//! [`MotherHome`]: the one place that knows where everything a Mother keeps
//! lives under its home directory (`$PATINA_HOME` for `mother`).
//!
//! Layout: `identity.key` (the signing key, 0600), `cache/` (compiled
//! artifacts), `children/`, `names/` and `grants/` (installed children, see
//! [`crate::ChildStore`]), `receipts.sqlite3` or `receipts.sled` (the receipt
//! store), and the toys' state (`kv.sqlite`, `metrics.sqlite`, `blobs/`,
//! `fs-watch/`, see [`ToyStateDir`]). Every other module asks this one for a
//! path. It must never create anything readable by others: the home holds
//! the Mother's secret key.

use std::path::{Path, PathBuf};

use patina_toys::ToyStateDir;

use crate::MotherError;

/// A Mother's home directory and the paths under it.
#[derive(Clone, Debug)]
pub struct MotherHome {
    root: PathBuf,
}

impl MotherHome {
    /// The home at `root`, created (with its parents) owner-only when it does
    /// not exist yet. An existing directory is used as it is.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, MotherError> {
        let root = root.into();
        if !root.exists() {
            patina_toys::create_private_dir(&root).map_err(|source| MotherError::CreateHome {
                path: root.clone(),
                source,
            })?;
        }
        Ok(Self { root })
    }

    /// The home directory itself (always protected: no grant may reach it).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The Mother's signing key.
    pub fn identity_key(&self) -> PathBuf {
        self.root.join("identity.key")
    }

    /// The compiled-artifact cache.
    pub fn artifact_cache(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// The directory the installed children (bytes, names and install
    /// grants) live under.
    pub fn children(&self) -> &Path {
        &self.root
    }

    /// The directory the receipt store keeps its files in.
    pub fn receipts(&self) -> &Path {
        &self.root
    }

    /// Where the toys that keep state keep it.
    pub fn toy_state(&self) -> ToyStateDir {
        ToyStateDir::new(&self.root)
    }

    /// The `measure` toy's metrics (what `mother metrics` reads).
    pub fn metrics(&self) -> PathBuf {
        self.toy_state().metrics()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_home_is_private_and_an_existing_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("a/b/home");
        let home = MotherHome::open(&root).unwrap();
        assert!(root.is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&root).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert_eq!(home.identity_key(), root.join("identity.key"));
        assert_eq!(home.artifact_cache(), root.join("cache"));
        assert_eq!(home.metrics(), root.join("metrics.sqlite"));
        MotherHome::open(&root).unwrap();
    }

    #[test]
    fn a_home_that_cannot_be_made_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let error = MotherHome::open(file.join("home")).unwrap_err();
        assert_eq!(error.kind(), "io");
    }
}
