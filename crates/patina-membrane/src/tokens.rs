//! [`TokenStore`]: bearer tokens for the doors that speak HTTP (the REST
//! bridge, MCP over streamable HTTP). A token is tied to a policy role when
//! it is made (`mother token create --role R`), its secret is printed once,
//! and only a keyed blake3 hash of the secret is kept, in
//! `$PATINA_HOME/tokens.toml` (mode 0600). Tokens can be revoked and can
//! expire; a serving Mother sees changes to the file on the next request.
//!
//! The text of a token is `patina_<id>_<secret>`: the id (16 hex digits) is
//! public — receipts name the caller `token:<id>` — and the secret (64 hex
//! digits) is what is checked. This module only says whether a bearer holds
//! a live token and which role it names; what the role may do is decided by
//! the policy, in the membrane. It must never keep or log a secret, and
//! never tell an unknown id from a wrong secret.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The prefix of every token's text.
pub const TOKEN_PREFIX: &str = "patina_";
/// The key-derivation context of the stored hash.
const HASH_CONTEXT: &str = "patina bearer token v1";

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// A bearer that is not a live token (unknown, wrong secret, revoked,
    /// expired, malformed).
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// No token with this id (for revoke).
    #[error("no token `{0}`")]
    Unknown(String),
    /// The token file does not parse.
    #[error("{path}: {message}")]
    Bad {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing the file.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

impl TokenError {
    /// The stable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Unknown(_) => "unknown-token",
            Self::Bad { .. } => "bad-tokens",
            Self::Io { .. } => "io",
        }
    }
}

/// What is known of a token (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenInfo {
    /// Its public id.
    pub id: String,
    /// The policy role it acts under.
    pub role: String,
    /// A label for people (`ci`, `grafana`, ...).
    pub name: String,
    /// When it was made, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// When it stops working, if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    /// Whether it was revoked.
    #[serde(default)]
    pub revoked: bool,
}

/// A token as the file keeps it: what is known of it, and the hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    id: String,
    role: String,
    name: String,
    created_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at_ms: Option<u64>,
    #[serde(default)]
    revoked: bool,
    /// The keyed blake3 hash of the secret, hex.
    hash: String,
}

impl Record {
    fn info(&self) -> TokenInfo {
        TokenInfo {
            id: self.id.clone(),
            role: self.role.clone(),
            name: self.name.clone(),
            created_at_ms: self.created_at_ms,
            expires_at_ms: self.expires_at_ms,
            revoked: self.revoked,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    tokens: Vec<Record>,
}

/// What the loaded state was read from: a change means read again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn stamp_of(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode: meta.ino(),
    })
}

#[derive(Debug, Default)]
struct Loaded {
    tokens: Vec<Record>,
    stamp: Option<Stamp>,
}

/// The bearer tokens of one Mother.
#[derive(Debug)]
pub struct TokenStore {
    path: Option<PathBuf>,
    loaded: Mutex<Loaded>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn hash_of(secret: &[u8; 32]) -> blake3::Hash {
    blake3::Hasher::new_derive_key(HASH_CONTEXT)
        .update(secret)
        .finalize()
}

/// `patina_<id>_<secret>` → (id, secret), or why not.
fn parse_bearer(text: &str) -> Result<(&str, [u8; 32]), TokenError> {
    let malformed =
        || TokenError::Unauthenticated("not a Patina token (patina_<id>_<secret>)".into());
    let rest = text
        .trim()
        .strip_prefix(TOKEN_PREFIX)
        .ok_or_else(malformed)?;
    let (id, secret) = rest.split_once('_').ok_or_else(malformed)?;
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed());
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(secret, &mut bytes).map_err(|_| malformed())?;
    Ok((id, bytes))
}

impl TokenStore {
    /// The tokens kept in `path` (which need not exist yet).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, TokenError> {
        let store = Self {
            path: Some(path.into()),
            loaded: Mutex::new(Loaded::default()),
        };
        store.with_loaded(|_| Ok(()))?;
        Ok(store)
    }

    /// Tokens kept in memory only (tests, embedders that make their own).
    pub fn in_memory() -> Self {
        Self {
            path: None,
            loaded: Mutex::new(Loaded::default()),
        }
    }

    fn read_file(path: &Path) -> Result<Vec<Record>, TokenError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(TokenError::Io {
                    context: format!("reading {}", path.display()),
                    source,
                });
            }
        };
        let file: File = toml::from_str(&text).map_err(|e| TokenError::Bad {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(file.tokens)
    }

    /// Runs `work` on the tokens as the file has them now.
    fn with_loaded<T>(
        &self,
        work: impl FnOnce(&mut Vec<Record>) -> Result<T, TokenError>,
    ) -> Result<T, TokenError> {
        let mut loaded = self
            .loaded
            .lock()
            .map_err(|_| TokenError::Unauthenticated("token table poisoned".into()))?;
        if let Some(path) = &self.path {
            let stamp = stamp_of(path);
            if stamp.is_none() || stamp != loaded.stamp {
                loaded.tokens = Self::read_file(path)?;
                loaded.stamp = stamp;
            }
        }
        work(&mut loaded.tokens)
    }

    /// Reads, changes and writes the file under a lock, so that two
    /// processes changing tokens at once lose neither change.
    fn change<T>(
        &self,
        edit: impl FnOnce(&mut Vec<Record>) -> Result<T, TokenError>,
    ) -> Result<T, TokenError> {
        let Some(path) = &self.path else {
            return self.with_loaded(edit);
        };
        let _lock = FileLock::take(&path.with_extension("lock"))?;
        let mut tokens = Self::read_file(path)?;
        let answer = edit(&mut tokens)?;
        let text = format!(
            "# Bearer tokens of this Mother (`mother token create|list|revoke`).\n\
             # Only a hash of each secret is kept: the secret was printed once.\n\n{}",
            toml::to_string(&File { tokens }).map_err(|e| TokenError::Bad {
                path: path.display().to_string(),
                message: e.to_string(),
            })?
        );
        write_private(path, text.as_bytes())?;
        // The next read sees the new file.
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.stamp = None;
        }
        Ok(answer)
    }

    /// Makes a token for `role` labelled `name`, good for `ttl` if given.
    /// Returns what is kept and the token's text, which is never kept: the
    /// caller must hand it to its user now.
    pub fn create(
        &self,
        role: &str,
        name: &str,
        ttl: Option<std::time::Duration>,
    ) -> Result<(TokenInfo, String), TokenError> {
        let mut id = [0u8; 8];
        let mut secret = [0u8; 32];
        getrandom::fill(&mut id)
            .and_then(|()| getrandom::fill(&mut secret))
            .map_err(|e| TokenError::Io {
                context: "drawing a token".into(),
                source: std::io::Error::other(e.to_string()),
            })?;
        let created_at_ms = now_ms();
        let info = TokenInfo {
            id: hex::encode(id),
            role: role.to_owned(),
            name: name.to_owned(),
            created_at_ms,
            expires_at_ms: ttl.map(|ttl| {
                created_at_ms.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
            }),
            revoked: false,
        };
        let record = Record {
            id: info.id.clone(),
            role: info.role.clone(),
            name: info.name.clone(),
            created_at_ms: info.created_at_ms,
            expires_at_ms: info.expires_at_ms,
            revoked: false,
            hash: hash_of(&secret).to_hex().to_string(),
        };
        self.change(|tokens| {
            tokens.push(record);
            Ok(())
        })?;
        let text = format!("{TOKEN_PREFIX}{}_{}", info.id, hex::encode(secret));
        Ok((info, text))
    }

    /// Revokes the token `id`: from now on it authenticates nobody.
    pub fn revoke(&self, id: &str) -> Result<TokenInfo, TokenError> {
        self.change(|tokens| {
            let record = tokens
                .iter_mut()
                .find(|r| r.id == id)
                .ok_or_else(|| TokenError::Unknown(id.to_owned()))?;
            record.revoked = true;
            Ok(record.info())
        })
    }

    /// Every token, oldest first.
    pub fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        self.with_loaded(|tokens| Ok(tokens.iter().map(Record::info).collect()))
    }

    /// The live token `bearer` is, or [`TokenError::Unauthenticated`].
    pub fn authenticate(&self, bearer: &str) -> Result<TokenInfo, TokenError> {
        let (id, secret) = parse_bearer(bearer)?;
        let presented = hash_of(&secret);
        self.with_loaded(|tokens| {
            let record = tokens
                .iter()
                .find(|r| r.id == id)
                .filter(|r| {
                    // blake3::Hash compares in constant time.
                    blake3::Hash::from_hex(&r.hash).is_ok_and(|kept| kept == presented)
                })
                .ok_or_else(|| TokenError::Unauthenticated("unknown token".into()))?;
            if record.revoked {
                return Err(TokenError::Unauthenticated(format!(
                    "token {id} was revoked"
                )));
            }
            if record.expires_at_ms.is_some_and(|at| now_ms() >= at) {
                return Err(TokenError::Unauthenticated(format!("token {id} expired")));
            }
            Ok(record.info())
        })
    }
}

/// Writes `bytes` to `path` atomically, readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TokenError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |context: String| move |source| TokenError::Io { context, source };
    let temp = path.with_extension("toml.new");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .map_err(io(format!("writing {}", temp.display())))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io(format!("writing {}", temp.display())))?;
    std::fs::rename(&temp, path).map_err(io(format!("replacing {}", path.display())))
}

/// An exclusive advisory lock on a file, released when dropped.
struct FileLock(std::fs::File);

impl FileLock {
    fn take(path: &Path) -> Result<Self, TokenError> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|source| TokenError::Io {
                context: format!("locking {}", path.display()),
                source,
            })?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(TokenError::Io {
                context: format!("locking {}", path.display()),
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(Self(file))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: unlocking the descriptor this value owns.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(store: &TokenStore, bearer: &str) -> String {
        match store.authenticate(bearer) {
            Err(TokenError::Unauthenticated(reason)) => reason,
            other => panic!("expected unauthenticated, got {other:?}"),
        }
    }

    #[test]
    fn a_token_authenticates_until_revoked_and_only_its_hash_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        let store = TokenStore::open(&path).unwrap();
        let (info, text) = store.create("runner", "ci", None).unwrap();
        assert!(text.starts_with(&format!("patina_{}_", info.id)), "{text}");
        assert_eq!(store.authenticate(&text).unwrap(), info);
        let kept = std::fs::read_to_string(&path).unwrap();
        let secret = text.rsplit('_').next().unwrap();
        assert!(!kept.contains(secret), "the secret is never written");
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Another handle (another process) revokes it; this one sees it.
        let other = TokenStore::open(&path).unwrap();
        assert!(other.revoke(&info.id).unwrap().revoked);
        assert_eq!(
            refused(&store, &text),
            format!("token {} was revoked", info.id)
        );
        assert!(matches!(
            other.revoke("0000000000000000"),
            Err(TokenError::Unknown(_))
        ));
    }

    #[test]
    fn wrong_secrets_unknown_ids_and_garbage_are_refused_alike() {
        let store = TokenStore::in_memory();
        let (info, text) = store.create("reader", "x", None).unwrap();
        let mut wrong = text.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '0' { '1' } else { '0' });
        assert_eq!(refused(&store, &wrong), "unknown token");
        let unknown = text.replace(&info.id, "0123456789abcdef");
        assert_eq!(refused(&store, &unknown), "unknown token");
        for garbage in [
            "",
            "Bearer x",
            "patina_",
            "patina_zz_00",
            &text[..text.len() - 2],
        ] {
            assert!(
                refused(&store, garbage).contains("not a Patina token"),
                "{garbage}"
            );
        }
    }

    #[test]
    fn an_expired_token_is_refused() {
        let store = TokenStore::in_memory();
        let (_, text) = store
            .create("reader", "short", Some(std::time::Duration::ZERO))
            .unwrap();
        assert!(refused(&store, &text).ends_with("expired"));
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        std::fs::write(&path, "[[tokens]]\nid = 1\n").unwrap();
        let error = TokenStore::open(&path).unwrap_err();
        assert_eq!(error.kind(), "bad-tokens");
        assert!(error.to_string().contains("tokens.toml"), "{error}");
    }
}
