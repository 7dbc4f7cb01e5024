//! The `blob` toy (`patina:toys/blob@0.1.0`): content-addressed bytes in the
//! Mother's blob store, `dir/<2 hex>/<64 hex>`, id `b3:<64 lowercase hex>`.
//!
//! Writes go through a fresh temporary file that is fsynced and renamed into
//! place, so a crash never leaves a torn blob; reads re-hash the bytes and
//! refuse a blob whose content no longer matches its id (`has` verifies too,
//! so it never says true for a blob `get` would refuse). Ids are content
//! hashes, not secrets: the store is shared by every child, and `has` of a
//! guessed hash tells whether anyone stored those bytes. An id is validated
//! strictly before anything touches the disk: no text from a child ever
//! becomes part of a path unchecked, and the store never follows an id out of
//! its directory.
//!
//! The store holds at most a quota of bytes ([`DEFAULT_QUOTA`], 1 GiB, unless
//! [`BlobToy::with_quota`] says otherwise): a `put` that would pass it is an
//! `err` answer. The store is shared, so the quota is the Mother's, not one
//! child's. Its use is counted by one walk of the store at the first `put`,
//! then kept in memory; two Mothers sharing one home each count their own
//! writes after their walk, so together they may pass it until they restart.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use patina_core::ToyName;
use wasmtime::component::Val;

use patina_toy::create_private_dir;
use patina_toy::typed::{LinkTypedError, TypedLinker};
use patina_toy::{Args, Toy, ToyContext, ToyError, ToyInstance, vals};

/// Largest blob, in bytes. A `get` answer costs ~40 bytes of host memory per
/// byte (`list<u8>` is a list of `Val::U8`), so this stays small.
pub const MAX_BLOB: usize = 16 << 20;

/// The default quota: the most bytes the whole store holds.
pub const DEFAULT_QUOTA: u64 = 1 << 30;

/// The prefix of a blob id.
const PREFIX: &str = "b3:";

/// The `blob` toy: one store shared by every child of a Mother.
#[derive(Debug)]
pub struct BlobToy {
    interface: ToyName,
    store: Arc<BlobStore>,
}

impl BlobToy {
    /// The toy for `patina:toys/blob@0.1.0`, storing blobs under `dir`
    /// (created, owner-only, on the first `put`).
    pub fn new(dir: PathBuf) -> Self {
        let interface = patina_toy::patina_interface("blob");
        Self {
            interface,
            store: Arc::new(BlobStore::new(dir, DEFAULT_QUOTA)),
        }
    }

    /// The same toy with a quota of `bytes` for the whole store instead of
    /// [`DEFAULT_QUOTA`].
    pub fn with_quota(self, bytes: u64) -> Self {
        Self {
            interface: self.interface,
            store: Arc::new(BlobStore::new(self.store.dir.clone(), bytes)),
        }
    }
}

impl Toy for BlobToy {
    fn interface(&self) -> &ToyName {
        &self.interface
    }

    fn grant_kind(&self) -> &str {
        "blob"
    }

    fn summary(&self) -> &str {
        "content-addressed bytes in the Mother's blob store (put, get, has)"
    }

    fn functions(&self) -> &[&str] {
        &["put", "get", "has"]
    }

    fn instantiate(&self, _ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError> {
        Ok(Box::new(BlobInstance {
            store: Arc::clone(&self.store),
        }))
    }

    fn link_typed(&self, linker: &mut TypedLinker<'_, '_>) -> Result<(), LinkTypedError> {
        link_typed(linker)
    }
}

struct BlobInstance {
    store: Arc<BlobStore>,
}

impl BlobInstance {
    /// `put`: stores `data`, answering its id.
    async fn put(&self, data: Vec<u8>) -> Result<Result<String, String>, ToyError> {
        if data.len() > MAX_BLOB {
            return Ok(Err(format!(
                "a blob holds at most {MAX_BLOB} bytes, got {}",
                data.len()
            )));
        }
        let store = Arc::clone(&self.store);
        patina_toy::blocking("the blob store", move || store.put(&data)).await
    }

    /// `get`: the bytes of blob `id`, if the store holds it.
    async fn get(&self, id: &str) -> Result<Result<Option<Vec<u8>>, String>, ToyError> {
        let digest = match parse_id(id) {
            Ok(digest) => digest,
            Err(e) => return Ok(Err(e)),
        };
        let store = Arc::clone(&self.store);
        patina_toy::blocking("the blob store", move || store.get(&digest)).await
    }

    /// `has`: whether the store holds blob `id`.
    async fn has(&self, id: &str) -> Result<Result<bool, String>, ToyError> {
        let digest = match parse_id(id) {
            Ok(digest) => digest,
            Err(e) => return Ok(Err(e)),
        };
        let store = Arc::clone(&self.store);
        patina_toy::blocking("the blob store", move || store.has(&digest)).await
    }
}

/// Links `put` and `get`, which move bytes, with typed lifting.
fn link_typed(linker: &mut TypedLinker<'_, '_>) -> Result<(), LinkTypedError> {
    linker.func("put", |blob: &mut BlobInstance, (data,): (Vec<u8>,)| {
        Box::pin(async move { Ok((blob.put(data).await?,)) })
    })?;
    linker.func("get", |blob: &mut BlobInstance, (id,): (String,)| {
        Box::pin(async move { Ok((blob.get(&id).await?,)) })
    })
}

/// The dynamic path (hosts that call toys with component values): the same
/// functions, converted.
#[async_trait::async_trait]
impl ToyInstance for BlobInstance {
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError> {
        let answer = match function {
            "put" => {
                let data = Args::new(function, args, 1)?.bytes(0)?;
                match self.put(data).await? {
                    Ok(id) => vals::ok(Some(vals::string(id))),
                    Err(e) => vals::err_string(e),
                }
            }
            "get" => match self.get(Args::new(function, args, 1)?.string(0)?).await? {
                Ok(data) => vals::ok(Some(vals::option(data.as_deref().map(vals::bytes)))),
                Err(e) => vals::err_string(e),
            },
            "has" => match self.has(Args::new(function, args, 1)?.string(0)?).await? {
                Ok(has) => vals::ok(Some(Val::Bool(has))),
                Err(e) => vals::err_string(e),
            },
            _ => {
                return Err(ToyError::NoSuchFunction {
                    toy: "patina:toys/blob".into(),
                    function: function.into(),
                });
            }
        };
        Ok(vec![answer])
    }
}

/// The 64 lowercase hex digits of a valid id `b3:<64 lowercase hex>`, or why
/// the text is not one. Nothing else may name a file of the store.
pub fn parse_id(id: &str) -> Result<String, String> {
    let valid = id.strip_prefix(PREFIX).filter(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    match valid {
        Some(hex) => Ok(hex.to_owned()),
        None => {
            let shown: String = id.chars().take(80).collect();
            Err(format!(
                "invalid blob id {shown:?}: an id is `b3:` followed by 64 lowercase hex digits"
            ))
        }
    }
}

/// The files of the store. Paths are built only from validated digests.
#[derive(Debug)]
struct BlobStore {
    dir: PathBuf,
    temp_counter: AtomicU64,
    quota: u64,
    /// Bytes the store holds, with the writes in flight reserved; `None`
    /// until the first `put` walks the store.
    used: Mutex<Option<u64>>,
}

impl BlobStore {
    fn new(dir: PathBuf, quota: u64) -> Self {
        Self {
            dir,
            temp_counter: AtomicU64::new(0),
            quota,
            used: Mutex::new(None),
        }
    }

    /// Reserves `bytes` of the quota for a write, or says why not.
    fn reserve(&self, bytes: u64) -> Result<(), String> {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        let now = match *used {
            Some(now) => now,
            None => {
                stored_bytes(&self.dir).map_err(|e| io_message("measure the blob store", &e))?
            }
        };
        let after = now.saturating_add(bytes);
        if after > self.quota {
            *used = Some(now);
            return Err(format!(
                "the blob store is full: it holds {now} bytes, its quota is {}, \
                 and this blob needs {bytes}",
                self.quota
            ));
        }
        *used = Some(after);
        Ok(())
    }

    /// Gives back `bytes` reserved (a failed write) or freed (a damaged
    /// copy that was replaced).
    fn release(&self, bytes: u64) {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(now) = used.as_mut() {
            *now = now.saturating_sub(bytes);
        }
    }

    /// `dir/<first 2>/<all 64>` of a validated digest.
    fn path(&self, digest: &str) -> PathBuf {
        self.dir.join(&digest[..2]).join(digest)
    }

    fn put(&self, data: &[u8]) -> Result<String, String> {
        let digest = blake3::hash(data).to_hex().to_string();
        let path = self.path(&digest);
        // Idempotent: an intact copy is kept as is; a damaged one is replaced.
        // The copy is hashed as it is read, never held beside `data`.
        let damaged = match stored_state(&path, &digest) {
            Ok(Some(Stored { intact: true, .. })) => return Ok(format!("{PREFIX}{digest}")),
            Ok(Some(Stored { len, .. })) => len,
            _ => 0,
        };
        // Replacing a damaged copy only needs what the blob adds to it.
        let size = data.len() as u64;
        let grows = size.saturating_sub(damaged);
        self.reserve(grows)?;
        let stored = self.write(&digest, &path, data);
        self.release(match stored {
            Ok(_) => damaged.saturating_sub(size),
            Err(_) => grows,
        });
        stored
    }

    /// Writes `data` as the blob `digest` at `path` (quota already reserved).
    fn write(&self, digest: &str, path: &Path, data: &[u8]) -> Result<String, String> {
        let shard = path
            .parent()
            .ok_or_else(|| "blob path has no parent".to_owned())?;
        create_private_dir(&self.dir).map_err(|e| io_message("create the blob store", &e))?;
        create_private_dir(shard).map_err(|e| io_message("create the blob store", &e))?;
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let temp = shard.join(format!(".tmp-{}-{n}-{digest}", std::process::id()));
        let written = write_durably(&temp, path, data);
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written.map_err(|e| io_message("write the blob", &e))?;
        tracing::debug!(target: "patina::blob", id = %digest, bytes = data.len(), "stored blob");
        Ok(format!("{PREFIX}{digest}"))
    }

    fn get(&self, digest: &str) -> Result<Option<Vec<u8>>, String> {
        let Some(data) =
            read_bounded(&self.path(digest)).map_err(|e| io_message("read the blob", &e))?
        else {
            return Ok(None);
        };
        if blake3::hash(&data).to_hex().as_str() != digest {
            return Err(corrupt(digest));
        }
        Ok(Some(data))
    }

    /// Whether the store holds blob `digest` intact: it is re-hashed like
    /// [`Self::get`] (as it is read, not held), so a corrupt blob is the same
    /// `err` and never `true`.
    fn has(&self, digest: &str) -> Result<bool, String> {
        match stored_state(&self.path(digest), digest)
            .map_err(|e| io_message("read the blob", &e))?
        {
            None => Ok(false),
            Some(Stored { intact: true, .. }) => Ok(true),
            Some(Stored { intact: false, .. }) => Err(corrupt(digest)),
        }
    }
}

/// The answer for a stored blob whose bytes no longer hash to its id.
fn corrupt(digest: &str) -> String {
    tracing::warn!(target: "patina::blob", id = %digest, "corrupt blob refused");
    format!("blob b3:{digest} is corrupt: its bytes no longer match its id")
}

/// What the store holds at a blob's path.
struct Stored {
    /// Its length in bytes.
    len: u64,
    /// Whether its bytes hash to the digest.
    intact: bool,
}

/// The blob `digest` as stored at `path` (`None` if absent), hashed while it
/// is read in small chunks: checking a copy never holds it in memory. More
/// than [`MAX_BLOB`] bytes is an error, as for [`read_bounded`].
fn stored_state(path: &Path, digest: &str) -> io::Result<Option<Stored>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let mut hasher = blake3::Hasher::new();
    let len = io::copy(&mut file.take(MAX_BLOB as u64 + 1), &mut hasher)?;
    if len > MAX_BLOB as u64 {
        return Err(io::Error::other("stored blob is larger than the limit"));
    }
    Ok(Some(Stored {
        len,
        intact: hasher.finalize().to_hex().as_str() == digest,
    }))
}

/// The bytes of every file in the store's shard directories (temporary
/// files of interrupted writes included: they take the disk too).
fn stored_bytes(dir: &Path) -> io::Result<u64> {
    let shards = match fs::read_dir(dir) {
        Ok(shards) => shards,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut total: u64 = 0;
    for shard in shards {
        let shard = shard?;
        if !shard.file_type()?.is_dir() {
            continue;
        }
        for blob in fs::read_dir(shard.path())? {
            let meta = blob?.metadata()?;
            if meta.is_file() {
                total = total.saturating_add(meta.len());
            }
        }
    }
    Ok(total)
}

fn io_message(what: &str, e: &io::Error) -> String {
    format!("could not {what}: {e}")
}

/// The bytes of `path` (`None` if absent), refusing more than [`MAX_BLOB`].
fn read_bounded(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    // Room for the whole file at once: growing by doubling would leave the
    // smaller buffers behind in the allocator's heap, up to as much again.
    let room = usize::try_from(meta.len())
        .unwrap_or(usize::MAX)
        .min(MAX_BLOB + 1);
    let mut data = Vec::with_capacity(room);
    file.take(MAX_BLOB as u64 + 1).read_to_end(&mut data)?;
    if data.len() > MAX_BLOB {
        return Err(io::Error::other("stored blob is larger than the limit"));
    }
    Ok(Some(data))
}

/// Writes `data` to the new file `temp`, fsyncs it, renames it to `path` and
/// fsyncs the directory, so `path` is either absent or complete.
fn write_durably(temp: &Path, path: &Path, data: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(temp)?;
    file.write_all(data)?;
    file.sync_all()?;
    drop(file);
    fs::rename(temp, path)?;
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

/// `functions()` serves exactly the functions of `wit/blob.wit`, each reading
/// the WIT's number of parameters.
#[cfg(test)]
#[tokio::test]
async fn functions_match_the_wit() {
    let dir = tempfile::tempdir().unwrap();
    let toy = BlobToy::new(dir.path().join("blobs"));
    let grants = vec!["blob".parse().unwrap()];
    let wit = include_str!("../wit/blob.wit");
    patina_toy::wit::check_toy(&toy, "blob.wit", wit, grants)
        .await
        .unwrap();
}
