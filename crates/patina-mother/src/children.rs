//! [`ChildStore`]: installed children on disk, by id and by name.
//!
//! Layout under the store's root: `children/<hex>.wasm` (the bytes, named by
//! their blake3 digest), `names/<name>` (a file holding the `b3:` id) and
//! `grants/<name>` (JSON: the id of the bytes and the grants the child
//! installed as `name` runs with when another child invokes it; no file, or
//! a file for other bytes, means none). Every
//! write is a temp file + rename, so two `mother install` at once cannot leave
//! a torn file, and bytes are re-hashed on read, so a corrupted file is refused
//! rather than run under the wrong identity. Installed children are Mother
//! state, not host state: the host only ever sees bytes. The store must never
//! compile or run anything (callers validate bytes with
//! [`patina_host::Host::load`] first) and never follow a name outside its
//! directories.

use std::path::{Path, PathBuf};

use patina_core::{ChildId, Grant};

use crate::MotherError;

/// What `grants/<name>` holds.
#[derive(serde::Serialize, serde::Deserialize)]
struct InstallGrants {
    child: ChildId,
    grants: Vec<String>,
}

/// A child in the store.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstalledChild {
    /// Its id.
    pub id: ChildId,
    /// The names that point at it, sorted.
    pub names: Vec<String>,
    /// Size of the component in bytes.
    pub size: u64,
}

/// Installed children under one directory.
#[derive(Clone, Debug)]
pub struct ChildStore {
    root: PathBuf,
}

use patina_core::is_valid_child_name as valid_name;

/// The host's atomic write (a synced temp file, then a rename), with its
/// error as a Mother's.
fn write_atomically(dir: &Path, file: &str, bytes: &[u8]) -> Result<(), MotherError> {
    patina_host::write_atomically(dir, file, bytes)
        .map_err(|patina_host::IoError { context, source }| MotherError::Io { context, source })
}

impl ChildStore {
    /// Opens (creating if needed) the store under `root`.
    pub fn open(root: &Path) -> Result<Self, MotherError> {
        for sub in ["children", "names", "grants"] {
            let dir = root.join(sub);
            std::fs::create_dir_all(&dir)
                .map_err(|e| MotherError::io(format!("creating {}", dir.display()), e))?;
        }
        Ok(Self {
            root: root.to_owned(),
        })
    }

    fn children_dir(&self) -> PathBuf {
        self.root.join("children")
    }

    fn names_dir(&self) -> PathBuf {
        self.root.join("names")
    }

    fn grants_dir(&self) -> PathBuf {
        self.root.join("grants")
    }

    /// Whether the bytes of `id` are stored (not checked: see [`Self::read`]).
    pub fn contains(&self, id: &ChildId) -> bool {
        self.wasm_path(id).is_file()
    }

    /// Where the bytes of `id` are kept (see [`Self::read`] to read them).
    pub fn wasm_path(&self, id: &ChildId) -> PathBuf {
        self.children_dir().join(format!("{}.wasm", id.hex()))
    }

    /// Stores `bytes` (already validated by the caller) and, if given, points
    /// `name` at them (replacing what the name pointed at before).
    pub fn install(&self, bytes: &[u8], name: Option<&str>) -> Result<ChildId, MotherError> {
        if let Some(name) = name.filter(|name| !valid_name(name)) {
            return Err(MotherError::BadName(name.to_owned()));
        }
        let id = ChildId::of(bytes);
        if !self.wasm_path(&id).is_file() {
            write_atomically(&self.children_dir(), &format!("{}.wasm", id.hex()), bytes)?;
        }
        if let Some(name) = name {
            write_atomically(&self.names_dir(), name, format!("{id}\n").as_bytes())?;
        }
        Ok(id)
    }

    /// Sets the grants the child installed as `name` (with the bytes `id`)
    /// runs with when another child invokes it (the caller's grants never
    /// pass to it). The caller checks them first (see
    /// [`Host::resolve_grants`](patina_host::Host::resolve_grants), which also refuses
    /// the host's protected directories). The grants belong to those bytes: once the
    /// name points at other bytes they no longer apply.
    pub fn set_grants(
        &self,
        name: &str,
        id: &ChildId,
        grants: &[Grant],
    ) -> Result<(), MotherError> {
        if !valid_name(name) {
            return Err(MotherError::BadName(name.to_owned()));
        }
        let record = InstallGrants {
            child: *id,
            grants: grants.iter().map(ToString::to_string).collect(),
        };
        let json = serde_json::to_vec_pretty(&record)
            .map_err(|e| MotherError::io("encoding grants", std::io::Error::other(e)))?;
        write_atomically(&self.grants_dir(), name, &json)
    }

    /// The grants of the child installed as `name`, if they were given for
    /// the bytes `id` (empty otherwise: deny by default, so a reinstall
    /// racing a read never lends one child's grants to another's bytes).
    pub fn grants(&self, name: &str, id: &ChildId) -> Result<Vec<Grant>, MotherError> {
        if !valid_name(name) {
            return Err(MotherError::BadName(name.to_owned()));
        }
        let path = self.grants_dir().join(name);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(MotherError::io(format!("reading {}", path.display()), e)),
        };
        let record: InstallGrants = serde_json::from_slice(&bytes).map_err(|e| {
            MotherError::io(
                format!("reading {}", path.display()),
                std::io::Error::other(e),
            )
        })?;
        if record.child != *id {
            return Ok(Vec::new());
        }
        record
            .grants
            .iter()
            .map(|text| text.parse::<Grant>().map_err(MotherError::Grant))
            .collect()
    }

    /// The child installed under exactly `name` (no id prefixes), if any.
    pub fn named(&self, name: &str) -> Result<Option<ChildId>, MotherError> {
        if !valid_name(name) {
            return Ok(None);
        }
        // A valid name is a safe file name: read its one file, not them all.
        let path = self.names_dir().join(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(MotherError::io(format!("reading {}", path.display()), e)),
        };
        match text.trim().parse::<ChildId>() {
            Ok(id) => Ok(Some(id)),
            Err(error) => {
                tracing::warn!(name, %error, "ignoring a damaged name file");
                Ok(None)
            }
        }
    }

    fn names(&self) -> Result<Vec<(String, ChildId)>, MotherError> {
        let dir = self.names_dir();
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| MotherError::io(format!("reading {}", dir.display()), e))?;
        let mut names = Vec::new();
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !valid_name(&name) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            match text.trim().parse::<ChildId>() {
                Ok(id) => names.push((name, id)),
                Err(error) => tracing::warn!(name, %error, "ignoring a damaged name file"),
            }
        }
        names.sort();
        Ok(names)
    }

    /// Every installed child with its names, sorted by first name then id.
    pub fn list(&self) -> Result<Vec<InstalledChild>, MotherError> {
        let names = self.names()?;
        let dir = self.children_dir();
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| MotherError::io(format!("reading {}", dir.display()), e))?;
        let mut children = Vec::new();
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(hex) = file_name.to_str().and_then(|n| n.strip_suffix(".wasm")) else {
                continue;
            };
            let Ok(id) = format!("b3:{hex}").parse::<ChildId>() else {
                continue;
            };
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            let child_names = names
                .iter()
                .filter(|(_, n)| *n == id)
                .map(|(name, _)| name.clone())
                .collect();
            children.push(InstalledChild {
                id,
                names: child_names,
                size,
            });
        }
        children.sort_by(|a, b| (a.names.first(), a.id).cmp(&(b.names.first(), b.id)));
        Ok(children)
    }

    /// The id `reference` names: an installed name, a full id, or a unique id
    /// prefix (with or without `b3:`).
    pub fn resolve(&self, reference: &str) -> Result<ChildId, MotherError> {
        if let Some(id) = self.named(reference)? {
            return Ok(id);
        }
        // A full id needs no listing: its bytes are stored or they are not.
        if let Ok(id) = reference.parse::<ChildId>() {
            return match self.contains(&id) {
                true => Ok(id),
                false => Err(MotherError::UnknownChild(reference.to_owned())),
            };
        }
        let ids: Vec<ChildId> = self.list()?.into_iter().map(|c| c.id).collect();
        pick_child(reference, &ids)
    }

    /// The bytes of installed child `id`, checked against the id.
    pub fn read(&self, id: &ChildId) -> Result<Vec<u8>, MotherError> {
        let path = self.wasm_path(id);
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => MotherError::UnknownChild(id.to_string()),
            _ => MotherError::io(format!("reading {}", path.display()), e),
        })?;
        if ChildId::of(&bytes) != *id {
            return Err(MotherError::DamagedChild(format!(
                "{} is damaged: its bytes no longer hash to {id}",
                path.display()
            )));
        }
        Ok(bytes)
    }
}

/// The one id among `ids` that `prefix` (with or without `b3:`) is a
/// prefix of, or why there is not one.
pub fn pick_child(prefix: &str, ids: &[ChildId]) -> Result<ChildId, MotherError> {
    let matches: Vec<&ChildId> = ids.iter().filter(|id| id.matches_prefix(prefix)).collect();
    match matches.as_slice() {
        [id] => Ok(**id),
        [] => Err(MotherError::UnknownChild(prefix.to_owned())),
        many => Err(MotherError::AmbiguousChild {
            prefix: prefix.to_owned(),
            candidates: many.iter().map(ToString::to_string).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_belong_to_the_bytes_installed_under_a_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = ChildStore::open(dir.path()).unwrap();
        let (one, two) = (ChildId::of(b"one"), ChildId::of(b"two"));
        store.install(b"one", Some("svc")).unwrap();
        assert!(store.grants("svc", &one).unwrap().is_empty());
        let grants: Vec<Grant> = vec!["log".parse().unwrap(), "kv".parse().unwrap()];
        store.set_grants("svc", &one, &grants).unwrap();
        assert_eq!(store.grants("svc", &one).unwrap(), grants);
        assert_eq!(store.named("svc").unwrap(), Some(one));
        assert_eq!(store.named("other").unwrap(), None);
        // Other bytes under the name (a reinstall, or one racing a read)
        // never get the grants given for the first ones.
        store.install(b"two", Some("svc")).unwrap();
        assert!(store.grants("svc", &two).unwrap().is_empty());
        assert!(
            matches!(store.grants("../x", &one), Err(MotherError::BadName(name)) if name == "../x")
        );
        assert!(matches!(
            store.set_grants("../x", &one, &grants),
            Err(MotherError::BadName(name)) if name == "../x"
        ));
    }

    #[test]
    fn install_list_resolve_and_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = ChildStore::open(dir.path()).unwrap();
        let a = store.install(b"component a", Some("alpha")).unwrap();
        let b = store.install(b"component b", None).unwrap();
        assert_eq!(store.install(b"component a", Some("also-a")).unwrap(), a);
        let listed = store.list().unwrap();
        assert_eq!(listed.len(), 2);
        let entry = listed.iter().find(|c| c.id == a).unwrap();
        assert_eq!(entry.names, vec!["alpha".to_owned(), "also-a".to_owned()]);
        assert_eq!(store.resolve("alpha").unwrap(), a);
        assert_eq!(store.resolve(&b.to_string()).unwrap(), b);
        assert_eq!(store.resolve(&b.hex()[..10]).unwrap(), b);
        assert!(matches!(
            store.resolve("nothing"),
            Err(MotherError::UnknownChild(_))
        ));
        assert_eq!(store.read(&a).unwrap(), b"component a");
    }

    #[test]
    fn bad_names_and_damaged_bytes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = ChildStore::open(dir.path()).unwrap();
        for bad in ["", ".hidden", "a/b", "b3:abc", "sp ace", &"x".repeat(129)] {
            assert!(
                matches!(store.install(b"x", Some(bad)), Err(MotherError::BadName(_))),
                "{bad:?}"
            );
        }
        let id = store.install(b"original", None).unwrap();
        std::fs::write(
            dir.path()
                .join("children")
                .join(format!("{}.wasm", id.hex())),
            b"tampered",
        )
        .unwrap();
        assert!(matches!(
            store.read(&id),
            Err(MotherError::DamagedChild(message)) if message.contains("is damaged")
        ));
    }
}
