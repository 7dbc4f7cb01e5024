//! `$PATINA_HOME`: where a Mother keeps installed children and the compiled
//! cache, and how a CHILD argument (path, name or id) becomes bytes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use patina_host::{Child, ChildStore, Host, HostConfig};

/// The Mother's state directory and the host built on it.
pub struct Home {
    root: PathBuf,
    pub store: ChildStore,
    pub host: Host,
}

impl Home {
    /// Opens `root`, or the platform data directory's `patina` folder.
    pub fn open(root: Option<PathBuf>) -> Result<Self> {
        let root = match root {
            Some(root) => root,
            None => dirs::data_dir()
                .context("no platform data directory; set PATINA_HOME")?
                .join("patina"),
        };
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        let store = ChildStore::open(&root)?;
        let host = Host::new(HostConfig::with_builtin_toys(Some(root.join("cache"))))?;
        Ok(Self { root, store, host })
    }

    /// The state directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Loads the child `reference` names: an existing file, else an installed
    /// name or id (prefix).
    pub fn load(&self, reference: &str) -> Result<Child> {
        let path = Path::new(reference);
        let bytes = if path.is_file() {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        } else {
            let id = self.store.resolve(reference)?;
            self.store.read(&id)?
        };
        Ok(self.host.load(&bytes)?)
    }
}
