//! [`SqliteStore`]: the default receipt store, one SQLite file
//! (`receipts.sqlite3`) in WAL mode with `synchronous=FULL`, safe to share
//! between threads (one connection behind a mutex per handle) and between
//! processes (SQLite's file locks; appends run in `BEGIN IMMEDIATE`, so
//! reading the head and inserting the next receipt is one atomic step). An
//! append seals and verifies its receipt before that transaction, and inside
//! it only checks that the head did not move; a batch takes the receipts its
//! caller sealed (and verified) ahead the same way, and seals inside only
//! those that do not follow the head it finds.
//!
//! Bodies are the canonical encoding of the whole receipt; the other columns
//! are indexes derived from it. This module must never return before a write
//! is committed, never panic on a row it cannot decode, and never trust a
//! column over the body it was derived from.

mod open;

use std::io::{Read as _, Write as _};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

pub use self::open::{SqliteOptions, open_sqlite, open_sqlite_with};
use super::{
    BatchItem, ListFilter, Lookup, MAX_CANDIDATES, OPTIMISTIC_TRIES, ReceiptStore, check_blobs,
    check_follows, check_intact, check_link, decode_stored, intact_blob, parse_lookup, pick,
    seal_next,
};
use crate::{Blob, Digest, MotherId, Receipt, ReceiptError, ReceiptId};

/// The SQLite receipt store. Open with [`open_sqlite`].
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// The pages in the write-ahead log and the most it may hold before a
    /// commit truncates it (short-lived stores only,
    /// [`SqliteOptions::truncate_log`]).
    log: Option<open::LogLimit>,
}

fn store_error(context: &str, error: impl std::fmt::Display) -> ReceiptError {
    super::store_error(context, error)
}

fn db(context: &'static str) -> impl Fn(rusqlite::Error) -> ReceiptError {
    move |e| store_error(context, e)
}

impl SqliteStore {
    /// The connection; a thread that panicked holding it left no open
    /// transaction behind (dropping one rolls it back), so poisoning is
    /// recovered from.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decodes `(seq, body)` rows of `sql` run with `args`.
    fn receipts(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<Receipt>, ReceiptError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql).map_err(db("reading receipts"))?;
        let rows = stmt
            .query_map(args, |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map_err(db("reading receipts"))?;
        rows.map(|row| {
            let (seq, body) = row.map_err(db("reading receipts"))?;
            decode_stored(format_args!("#{seq}"), &body)
        })
        .collect()
    }
}

fn head_in(conn: &Connection, mother: &MotherId) -> Result<Option<ReceiptId>, ReceiptError> {
    let id: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM receipts WHERE mother = ?1 AND local = 1 ORDER BY seq DESC LIMIT 1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([mother.to_string()], |row| row.get(0))
                .optional()
        })
        .map_err(db("reading the chain head"))?;
    id.map(|id| stored_id(&id)).transpose()
}

/// An id column, which must be 64 hex digits.
fn stored_id(text: &str) -> Result<ReceiptId, ReceiptError> {
    text.parse()
        .map_err(|_| ReceiptError::Malformed(format!("stored receipt id `{text}` is not an id")))
}

/// Appends one item of a batch on `conn` after `head`: the receipt sealed
/// and verified ahead (outside the write lock) when it follows `head`,
/// sealed again otherwise.
fn append_item(
    conn: &Connection,
    mother: &MotherId,
    head: Option<ReceiptId>,
    item: &mut BatchItem<'_>,
) -> Result<Receipt, ReceiptError> {
    check_intact(item.blobs)?;
    let (receipt, body) = match item.sealed.take().and_then(|s| s.follows(mother, head)) {
        Some(sealed) => sealed,
        None => {
            let receipt = seal_next(mother, head, &mut *item.seal)?;
            let body = crate::canonical::encode(&receipt);
            (receipt, body)
        }
    };
    if has_receipt(conn, &receipt.id)? {
        return Err(ReceiptError::Chain {
            at: receipt.id.to_string(),
            reason: "a receipt with this id is already stored".into(),
        });
    }
    insert_encoded(conn, &receipt, &body, item.blobs, true)?;
    Ok(receipt)
}

fn has_receipt(tx: &Connection, id: &ReceiptId) -> Result<bool, ReceiptError> {
    tx.prepare_cached("SELECT 1 FROM receipts WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([id.hex()], |_| Ok(())).optional())
        .map(|found| found.is_some())
        .map_err(db("looking up a receipt"))
}

/// Blobs this long or longer are written in place, a chunk at a time:
/// bound whole, SQLite would copy one twice more in memory (the bound value
/// and the record made of it) before writing it.
const CHUNKED_BLOB: usize = 1 << 20;

/// How much of a large blob is written at once.
const BLOB_CHUNK: usize = 256 << 10;

/// Stores `blob` unless the store holds its digest already. A large one is
/// inserted as zeros of its length and filled through SQLite's incremental
/// blob I/O, in the same transaction.
fn put_blob(tx: &Connection, blob: &Blob) -> Result<(), ReceiptError> {
    if blob.bytes.len() < CHUNKED_BLOB {
        tx.prepare_cached("INSERT OR IGNORE INTO blobs (digest, bytes) VALUES (?1, ?2)")
            .and_then(|mut stmt| stmt.execute(params![blob.digest.hex(), blob.bytes]))
            .map_err(db("storing a blob"))?;
        return Ok(());
    }
    let len = i64::try_from(blob.bytes.len())
        .map_err(|_| ReceiptError::Store("a blob too large for the store".into()))?;
    let inserted = tx
        .prepare_cached("INSERT OR IGNORE INTO blobs (digest, bytes) VALUES (?1, zeroblob(?2))")
        .and_then(|mut stmt| stmt.execute(params![blob.digest.hex(), len]))
        .map_err(db("storing a blob"))?;
    if inserted == 0 {
        return Ok(());
    }
    let mut place = tx
        .blob_open(
            rusqlite::MAIN_DB,
            "blobs",
            "bytes",
            tx.last_insert_rowid(),
            false,
        )
        .map_err(db("storing a blob"))?;
    for chunk in blob.bytes.chunks(BLOB_CHUNK) {
        place
            .write_all(chunk)
            .map_err(|e| ReceiptError::Store(format!("storing a blob: {e}")))?;
    }
    Ok(())
}

/// Checks `receipt`'s blobs and writes them and it (`local` or imported).
fn insert(
    tx: &Connection,
    receipt: &Receipt,
    blobs: &[Blob],
    local: bool,
) -> Result<(), ReceiptError> {
    insert_encoded(
        tx,
        receipt,
        &crate::canonical::encode(receipt),
        blobs,
        local,
    )
}

/// [`insert`] with the receipt's canonical encoding already made.
fn insert_encoded(
    tx: &Connection,
    receipt: &Receipt,
    body: &[u8],
    blobs: &[Blob],
    local: bool,
) -> Result<(), ReceiptError> {
    check_blobs(receipt, blobs, &mut |digest| {
        tx.prepare_cached("SELECT 1 FROM blobs WHERE digest = ?1")
            .and_then(|mut stmt| stmt.query_row([digest.hex()], |_| Ok(())).optional())
            .map(|found| found.is_some())
            .map_err(db("looking up a blob"))
    })?;
    for blob in blobs {
        put_blob(tx, blob)?;
    }
    tx.prepare_cached(
        "INSERT INTO receipts (id, mother, child, local, previous, body, caller) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut stmt| stmt.execute(
        params![
            receipt.id.hex(),
            receipt.mother.to_string(),
            receipt.transcript.child.to_string(),
            local,
            receipt.previous.map(|id| id.hex()),
            body,
            receipt.caller.as_ref().map(|c| c.id.as_str()),
        ],
    ))
    .map_err(db("storing a receipt"))?;
    Ok(())
}

impl ReceiptStore for SqliteStore {
    fn append(
        &self,
        mother: &MotherId,
        seal: &mut dyn FnMut(Option<ReceiptId>) -> Receipt,
        blobs: &[Blob],
    ) -> Result<Receipt, ReceiptError> {
        check_intact(blobs)?;
        let mut expected = head_in(&self.conn(), mother)?;
        for attempt in 1..=OPTIMISTIC_TRIES {
            // Sealed and verified with no lock held, except after too many
            // races with other writers.
            let early = if attempt < OPTIMISTIC_TRIES {
                Some(seal_next(mother, expected, seal)?)
            } else {
                None
            };
            let mut conn = self.conn();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db("starting an append"))?;
            let head = head_in(&tx, mother)?;
            let receipt = match early {
                Some(receipt) if head == expected => receipt,
                Some(_) => {
                    expected = head;
                    continue;
                }
                None => seal_next(mother, head, seal)?,
            };
            if has_receipt(&tx, &receipt.id)? {
                return Err(ReceiptError::Chain {
                    at: receipt.id.to_string(),
                    reason: "a receipt with this id is already stored".into(),
                });
            }
            insert(&tx, &receipt, blobs, true)?;
            // WAL + synchronous=FULL: the commit returns once the WAL is fsync'd.
            tx.commit().map_err(db("committing an append"))?;
            self.keep_log_short(&conn);
            return Ok(receipt);
        }
        // The last attempt seals inside the lock and returns.
        Err(store_error("appending", "the chain's head kept moving"))
    }

    fn append_batch(
        &self,
        mother: &MotherId,
        batch: &mut [BatchItem<'_>],
    ) -> Vec<Result<Receipt, ReceiptError>> {
        let count = batch.len();
        let failed = |context: &'static str, error: &dyn std::fmt::Display| {
            (0..count)
                .map(|_| Err(store_error(context, error)))
                .collect::<Vec<_>>()
        };
        let mut conn = self.conn();
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(error) => return failed("starting an append", &error),
        };
        let mut head = match head_in(&tx, mother) {
            Ok(head) => head,
            Err(error) => return failed("reading the chain's head", &error),
        };
        let mut results = Vec::with_capacity(batch.len());
        for item in batch.iter_mut() {
            // Each item in its own savepoint: a refused one leaves no row.
            let result = tx
                .savepoint()
                .map_err(db("starting an append"))
                .and_then(|savepoint| {
                    let receipt = append_item(&savepoint, mother, head, item)?;
                    savepoint.commit().map_err(db("committing an append"))?;
                    Ok(receipt)
                });
            match &result {
                Ok(receipt) => head = Some(receipt.id),
                // On some errors (a full disk, an I/O error, no memory)
                // SQLite rolls the whole transaction back, the items
                // appended before included; going on would append the rest
                // in autocommit mode, on a head that is gone.
                Err(error) if tx.is_autocommit() => {
                    let why = match error {
                        ReceiptError::Store(why) => why.clone(),
                        other => other.to_string(),
                    };
                    return failed("appending a batch (rolled back)", &why);
                }
                Err(_) => {}
            }
            results.push(result);
        }
        // WAL + synchronous=FULL: one fsync for the whole batch.
        if let Err(error) = tx.commit() {
            return failed("committing an append", &error);
        }
        self.keep_log_short(&conn);
        results
    }

    fn import(&self, receipt: &Receipt, blobs: &[Blob]) -> Result<bool, ReceiptError> {
        crate::verify(receipt)?;
        check_intact(blobs)?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db("starting an import"))?;
        if has_receipt(&tx, &receipt.id)? {
            return Ok(false);
        }
        insert(&tx, receipt, blobs, false)?;
        tx.commit().map_err(db("committing an import"))?;
        self.keep_log_short(&conn);
        Ok(true)
    }

    fn get(&self, id: &ReceiptId) -> Result<Option<Receipt>, ReceiptError> {
        let found = self.receipts("SELECT seq, body FROM receipts WHERE id = ?1", [id.hex()])?;
        Ok(found.into_iter().next())
    }

    fn resolve(&self, prefix: &str) -> Result<ReceiptId, ReceiptError> {
        let digits = match parse_lookup(prefix)? {
            Lookup::Full(id) => id.hex(),
            Lookup::Prefix(digits) => digits,
        };
        // Every id starting with `digits` sorts in [digits, digits + "g").
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id FROM receipts WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3",
            )
            .map_err(db("resolving an id"))?;
        let rows = stmt
            .query_map(
                params![digits, format!("{digits}g"), MAX_CANDIDATES as i64],
                |row| row.get::<_, String>(0),
            )
            .map_err(db("resolving an id"))?;
        let mut matches = Vec::new();
        for row in rows {
            matches.push(stored_id(&row.map_err(db("resolving an id"))?)?);
        }
        pick(prefix, matches)
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<Receipt>, ReceiptError> {
        use rusqlite::types::Value;
        let limit = filter
            .limit
            .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let (mut clauses, mut values) = (Vec::new(), Vec::<Value>::new());
        if let Some(child) = filter.child {
            clauses.push("child = ?".to_owned());
            values.push(child.to_string().into());
        }
        if let Some(children) = &filter.children {
            if children.is_empty() {
                return Ok(Vec::new());
            }
            let marks = vec!["?"; children.len()].join(", ");
            clauses.push(format!("child IN ({marks})"));
            values.extend(children.iter().map(|c| Value::from(c.to_string())));
        }
        if let Some(caller) = &filter.caller {
            clauses.push("caller = ?".to_owned());
            values.push(caller.clone().into());
        }
        let mut sql = String::from("SELECT seq, body FROM receipts");
        if !clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&clauses.join(" AND "));
        }
        sql.push_str(" ORDER BY seq DESC LIMIT ?");
        values.push(limit.into());
        self.receipts(&sql, rusqlite::params_from_iter(values))
    }

    fn head(&self, mother: &MotherId) -> Result<Option<ReceiptId>, ReceiptError> {
        head_in(&self.conn(), mother)
    }

    /// Read through incremental blob I/O into one buffer of its length: a
    /// `SELECT bytes` has SQLite assemble the whole value in memory first,
    /// and the caller copy it again.
    fn blob(&self, digest: &Digest) -> Result<Option<Vec<u8>>, ReceiptError> {
        let conn = self.conn();
        let read = conn.unchecked_transaction().map_err(db("reading a blob"))?;
        let found: Option<(i64, i64)> = read
            .query_row(
                "SELECT rowid, length(bytes) FROM blobs WHERE digest = ?1",
                [digest.hex()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(db("reading a blob"))?;
        let Some((row, len)) = found else {
            return Ok(None);
        };
        let len = usize::try_from(len)
            .map_err(|_| ReceiptError::Store(format!("blob {digest}: a negative length")))?;
        let mut bytes = vec![0; len];
        read.blob_open(rusqlite::MAIN_DB, "blobs", "bytes", row, true)
            .map_err(db("reading a blob"))?
            .read_exact(&mut bytes)
            .map_err(|e| ReceiptError::Store(format!("reading blob {digest}: {e}")))?;
        intact_blob(digest, bytes).map(Some)
    }

    fn verify_chain(&self, mother: &MotherId) -> Result<u64, ReceiptError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, id, body FROM receipts WHERE mother = ?1 AND local = 1 ORDER BY seq",
            )
            .map_err(db("reading the chain"))?;
        let mut rows = stmt
            .query([mother.to_string()])
            .map_err(db("reading the chain"))?;
        let (mut count, mut previous) = (0u64, None);
        while let Some(row) = rows.next().map_err(db("reading the chain"))? {
            let seq: i64 = row.get(0).map_err(db("reading the chain"))?;
            let id = stored_id(&row.get::<_, String>(1).map_err(db("reading the chain"))?)?;
            let receipt = decode_stored(
                format_args!("#{seq}"),
                &row.get::<_, Vec<u8>>(2).map_err(db("reading the chain"))?,
            )?;
            check_link(mother, &id, &receipt)?;
            check_follows(previous, &receipt)?;
            previous = Some(id);
            count += 1;
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests;
