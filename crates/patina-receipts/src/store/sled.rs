//! [`SledStore`]: the receipt store on sled (feature `sled`), a directory
//! `receipts.sled` holding four trees — `receipts` (id → canonical body),
//! `order` (big-endian insertion sequence → id), `heads` (Mother key → id of
//! its latest local receipt) and `blobs` (digest → bytes).
//!
//! Safe to share between threads (sled transactions are serialisable), but
//! **one process only**: sled locks its directory, so a second process (or a
//! second `open_sled` of the same directory) is refused — share one handle.
//! Every write is a single sled transaction over the trees followed by a
//! `flush` (fsync) before returning; an append seals and verifies its
//! receipt before its transaction, which only checks that the head did not
//! move. This module must never report a write
//! before that flush, and never panic on what it reads back.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree as TxTree,
    UnabortableTransactionError,
};

use super::{
    ListFilter, Lookup, MAX_CANDIDATES, OPTIMISTIC_TRIES, ReceiptStore, check_blobs, check_intact,
    check_link, create_dir, decode_stored, intact_blob, parse_lookup, pick, seal_next, store_error,
};
use crate::{Blob, Digest, MotherId, Receipt, ReceiptError, ReceiptId};

/// The layout this build writes, kept in the default tree.
const SCHEMA_VERSION: &[u8] = b"1";

/// The sled receipt store. Open with [`open_sled`].
pub struct SledStore {
    db: sled::Db,
    receipts: sled::Tree,
    order: sled::Tree,
    heads: sled::Tree,
    blobs: sled::Tree,
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

/// How long an open waits for the store's file lock: a handle this process
/// just dropped lets go of it a moment later, when sled's flusher thread
/// ends, not at once.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether `error` is sled failing to take the store's file lock.
fn is_lock_busy(error: &sled::Error) -> bool {
    match error {
        sled::Error::Io(io) => {
            io.kind() == std::io::ErrorKind::WouldBlock
                || io.to_string().contains("could not acquire lock")
        }
        _ => false,
    }
}

/// Opens the sled database at `path`, waiting up to [`LOCK_WAIT`] while its
/// file lock is held (in 20 ms steps); another holder after that is an error.
fn open_locked(path: &Path) -> Result<sled::Db, sled::Error> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match sled::Config::new().path(path).open() {
            Err(error) if is_lock_busy(&error) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Opens the sled store at `dir/receipts.sled`, creating it. Fails if another
/// handle (in this process or another) still has it open after
/// [`LOCK_WAIT`].
pub fn open_sled(dir: &Path) -> Result<SledStore, ReceiptError> {
    create_dir(dir)?;
    let path = dir.join("receipts.sled");
    let err = |e: sled::Error| store_error(&format!("opening {}", path.display()), e);
    let db = open_locked(&path).map_err(|e| {
        if is_lock_busy(&e) {
            store_error(
                &format!("opening {}", path.display()),
                "another handle has it open (a sled store serves one process: share one handle)",
            )
        } else {
            err(e)
        }
    })?;
    let version = db.get("schema_version").map_err(err)?;
    match version.as_deref() {
        None => {
            db.insert("schema_version", SCHEMA_VERSION).map_err(err)?;
            db.flush().map_err(err)?;
        }
        Some(SCHEMA_VERSION) => {}
        Some(other) => {
            let other = String::from_utf8_lossy(other);
            return Err(store_error(
                &path.display().to_string(),
                format!("schema version {other} is not supported (this build reads 1)"),
            ));
        }
    }
    let tree = |name: &str| db.open_tree(name).map_err(err);
    Ok(SledStore {
        receipts: tree("receipts")?,
        order: tree("order")?,
        heads: tree("heads")?,
        blobs: tree("blobs")?,
        db,
    })
}

fn sled_error(context: &'static str) -> impl Fn(sled::Error) -> ReceiptError {
    move |e| store_error(context, e)
}

/// A finished transaction's error as a [`ReceiptError`].
fn transaction_error(error: TransactionError<ReceiptError>) -> ReceiptError {
    match error {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => store_error("sled transaction", e),
    }
}

fn abort(error: ReceiptError) -> ConflictableTransactionError<ReceiptError> {
    ConflictableTransactionError::Abort(error)
}

/// A stored id (32 bytes).
fn stored_id(bytes: &[u8]) -> Result<ReceiptId, ReceiptError> {
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
        ReceiptError::Malformed(format!(
            "stored receipt id {} is not 32 bytes",
            hex::encode(bytes)
        ))
    })?;
    Ok(ReceiptId(Digest(bytes)))
}

/// An error inside a transaction aborts it.
struct Abort(ConflictableTransactionError<ReceiptError>);

impl From<ReceiptError> for Abort {
    fn from(error: ReceiptError) -> Self {
        Self(ConflictableTransactionError::Abort(error))
    }
}

impl From<UnabortableTransactionError> for Abort {
    fn from(error: UnabortableTransactionError) -> Self {
        Self(error.into())
    }
}

/// Checks `receipt`'s blobs and writes them and it. Inside a transaction only
/// the transactional trees may be touched: any other sled call would wait
/// for the transaction's own lock forever.
fn insert(
    (receipts, order, blobs_tree): (&TxTree, &TxTree, &TxTree),
    receipt: &Receipt,
    blobs: &[Blob],
) -> Result<(), ConflictableTransactionError<ReceiptError>> {
    let has_blob = |digest: &Digest| blobs_tree.get(digest.0).map(|found| found.is_some());
    check_blobs(receipt, blobs, &mut |digest| {
        Ok::<_, Abort>(has_blob(digest)?)
    })
    .map_err(|Abort(e)| e)?;
    for blob in blobs {
        if !has_blob(&blob.digest)? {
            blobs_tree.insert(&blob.digest.0[..], blob.bytes.as_slice())?;
        }
    }
    let seq = order.generate_id()?;
    receipts.insert(&receipt.id.0.0[..], crate::canonical::encode(receipt))?;
    order.insert(&seq.to_be_bytes()[..], &receipt.id.0.0[..])?;
    Ok(())
}

impl SledStore {
    fn flush(&self) -> Result<(), ReceiptError> {
        self.db.flush().map(drop).map_err(sled_error("flushing"))
    }
}

impl ReceiptStore for SledStore {
    fn append(
        &self,
        mother: &MotherId,
        seal: &mut dyn FnMut(Option<ReceiptId>) -> Receipt,
        blobs: &[Blob],
    ) -> Result<Receipt, ReceiptError> {
        check_intact(blobs)?;
        let head_now = || {
            self.heads
                .get(mother.bytes())
                .map_err(sled_error("reading the chain head"))?
                .map(|id| stored_id(&id))
                .transpose()
        };
        let mut expected = head_now()?;
        // On the last attempt the closure seals inside the transaction (and
        // sled may run it again on a conflict: each run seals anew).
        let seal = RefCell::new(seal);
        let trees = (&self.receipts, &self.order, &self.heads, &self.blobs);
        for attempt in 1..=OPTIMISTIC_TRIES {
            let early = if attempt < OPTIMISTIC_TRIES {
                let mut seal = seal.borrow_mut();
                Some(seal_next(mother, expected, &mut **seal)?)
            } else {
                None
            };
            let stored = trees
                .transaction(|(receipts, order, heads, blobs_tree)| {
                    let head = heads
                        .get(mother.bytes())?
                        .map(|id| stored_id(&id))
                        .transpose()
                        .map_err(abort)?;
                    let receipt = match &early {
                        Some(receipt) if head == expected => receipt.clone(),
                        // Another writer moved the head: nothing written.
                        Some(_) => return Ok(Err(head)),
                        None => {
                            let mut seal = seal.borrow_mut();
                            seal_next(mother, head, &mut **seal).map_err(abort)?
                        }
                    };
                    if receipts.get(receipt.id.0.0)?.is_some() {
                        return Err(abort(ReceiptError::Chain {
                            at: receipt.id.to_string(),
                            reason: "a receipt with this id is already stored".into(),
                        }));
                    }
                    insert((receipts, order, blobs_tree), &receipt, blobs)?;
                    heads.insert(&mother.bytes()[..], &receipt.id.0.0[..])?;
                    Ok(Ok(receipt))
                })
                .map_err(transaction_error)?;
            match stored {
                Ok(receipt) => {
                    self.flush()?;
                    return Ok(receipt);
                }
                Err(head) => expected = head,
            }
        }
        // The last attempt seals inside the transaction and returns.
        Err(store_error("appending", "the chain's head kept moving"))
    }

    fn import(&self, receipt: &Receipt, blobs: &[Blob]) -> Result<bool, ReceiptError> {
        crate::verify(receipt)?;
        check_intact(blobs)?;
        let trees = (&self.receipts, &self.order, &self.blobs);
        let added = trees
            .transaction(|(receipts, order, blobs_tree)| {
                if receipts.get(receipt.id.0.0)?.is_some() {
                    return Ok(false);
                }
                insert((receipts, order, blobs_tree), receipt, blobs)?;
                Ok(true)
            })
            .map_err(transaction_error)?;
        if added {
            self.flush()?;
        }
        Ok(added)
    }

    fn get(&self, id: &ReceiptId) -> Result<Option<Receipt>, ReceiptError> {
        let body = self
            .receipts
            .get(id.0.0)
            .map_err(sled_error("reading a receipt"))?;
        body.map(|body| decode_stored(id, &body)).transpose()
    }

    fn resolve(&self, prefix: &str) -> Result<ReceiptId, ReceiptError> {
        let digits = match parse_lookup(prefix)? {
            Lookup::Full(id) => id.hex(),
            Lookup::Prefix(digits) => digits,
        };
        // Whole bytes of the prefix narrow the scan; an odd last digit filters.
        let bytes = hex::decode(&digits[..digits.len() / 2 * 2])
            .map_err(|_| ReceiptError::BadId(prefix.into()))?;
        let mut matches = Vec::new();
        for entry in self.receipts.scan_prefix(bytes) {
            let (key, _) = entry.map_err(sled_error("resolving an id"))?;
            let id = stored_id(&key)?;
            if id.matches_prefix(&digits) {
                matches.push(id);
                if matches.len() == MAX_CANDIDATES {
                    break;
                }
            }
        }
        pick(prefix, matches)
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<Receipt>, ReceiptError> {
        let limit = filter.limit.unwrap_or(usize::MAX);
        let mut found = Vec::new();
        for entry in self.order.iter().rev() {
            if found.len() >= limit {
                break;
            }
            let (seq, id) = entry.map_err(sled_error("listing receipts"))?;
            let seq = <[u8; 8]>::try_from(seq.as_ref()).map_or(0, u64::from_be_bytes);
            let body = self
                .receipts
                .get(&id)
                .map_err(sled_error("listing receipts"))?
                .ok_or_else(|| {
                    ReceiptError::Store(format!(
                        "receipt #{seq} ({}) is listed but missing",
                        hex::encode(&id)
                    ))
                })?;
            let receipt = decode_stored(format_args!("#{seq}"), &body)?;
            if filter.admits(&receipt) {
                found.push(receipt);
            }
        }
        Ok(found)
    }

    fn head(&self, mother: &MotherId) -> Result<Option<ReceiptId>, ReceiptError> {
        let id = self
            .heads
            .get(mother.bytes())
            .map_err(sled_error("reading the chain head"))?;
        id.map(|id| stored_id(&id)).transpose()
    }

    fn blob(&self, digest: &Digest) -> Result<Option<Vec<u8>>, ReceiptError> {
        let bytes = self
            .blobs
            .get(digest.0)
            .map_err(sled_error("reading a blob"))?;
        bytes
            .map(|bytes| intact_blob(digest, bytes.to_vec()))
            .transpose()
    }

    /// Walks back from the head: each receipt is verified before its
    /// `previous` link is followed, until a receipt that follows nothing.
    fn verify_chain(&self, mother: &MotherId) -> Result<u64, ReceiptError> {
        let mut next = self.head(mother)?;
        let mut seen = HashSet::new();
        while let Some(id) = next {
            let chain = |reason: &str| ReceiptError::Chain {
                at: id.to_string(),
                reason: reason.into(),
            };
            if !seen.insert(id) {
                return Err(chain("the chain loops back to it"));
            }
            let receipt = self
                .get(&id)?
                .ok_or_else(|| chain("it is missing from the store"))?;
            check_link(mother, &id, &receipt)?;
            next = receipt.previous;
        }
        Ok(seen.len() as u64)
    }
}

#[cfg(test)]
mod tests;
