//! The Mother's own key-value store: one SQLite file (WAL) holding every
//! child's keys in one table keyed by (child id, namespace, key).
//!
//! Every function takes the child id from the run's context, never from the
//! child, so no child can name another's keys. Limits are checked here before
//! SQLite sees a value. All functions block: call them from
//! `spawn_blocking`, and never hold the connection's lock across an `.await`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::sqlite_busy::{open_wal, retry_busy};
use rusqlite::{Connection, OptionalExtension, params};

/// Longest namespace and key, in bytes.
pub const MAX_NAME: usize = 1 << 10;
/// Largest value, in bytes. A `get` answer costs ~40 bytes of host memory
/// per byte (`list<u8>` is a list of `Val::U8`), so this stays small.
pub const MAX_VALUE: usize = 4 << 20;
/// Most keys one `keys` call answers with.
pub const MAX_KEYS: usize = 100_000;

/// A failure of a store call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The call broke a limit: an answer the child gets as `err(...)`.
    #[error("{0}")]
    Refused(String),
    /// The store cannot do it now: the disk or the file is full
    /// (`SQLITE_FULL`, which a child can cause with a loop of `set`s), or
    /// another connection held the store past the busy timeout
    /// (`SQLITE_BUSY`/`SQLITE_LOCKED`). An answer the child gets as
    /// `err(...)`; the run goes on.
    #[error("kv store unavailable: {0}")]
    Unavailable(rusqlite::Error),
    /// SQLite failed in a way no call of a child explains (a corrupt or
    /// unreadable store, an I/O error, a read-only file): backend breakage,
    /// which ends the run so the failure is seen rather than answered.
    #[error("kv store: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked, DiskFull, TooBig};
        match e.sqlite_error_code() {
            Some(DiskFull | DatabaseBusy | DatabaseLocked | TooBig) => Self::Unavailable(e),
            _ => Self::Sqlite(e),
        }
    }
}

/// The store: one connection, shared by every run of the Mother.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    child     TEXT NOT NULL,
    namespace TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     BLOB NOT NULL,
    PRIMARY KEY (child, namespace, key)
);";

impl Store {
    /// Opens (creating it if needed) the store file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let timeout = Duration::from_secs(10);
        let (conn, mode) = open_wal(path, timeout)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(target: "patina::kv", %mode, "kv store is not in WAL mode");
        }
        retry_busy(timeout, || conn.execute_batch(SCHEMA))?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value of `key` in the child's `namespace`, if any.
    pub fn get(
        &self,
        child: &str,
        namespace: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        check_names(namespace, key)?;
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT value FROM kv WHERE child = ?1 AND namespace = ?2 AND key = ?3",
            )?
            .query_row(params![child, namespace, key], |row| row.get(0))
            .optional()?)
    }

    /// Sets `key` in the child's `namespace` to `value`.
    pub fn set(
        &self,
        child: &str,
        namespace: &str,
        key: &str,
        value: &[u8],
    ) -> Result<(), StoreError> {
        check_names(namespace, key)?;
        if value.len() > MAX_VALUE {
            return Err(StoreError::Refused(format!(
                "a value holds at most {MAX_VALUE} bytes, got {}",
                value.len()
            )));
        }
        self.conn()
            .prepare_cached(
                "INSERT INTO kv (child, namespace, key, value) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (child, namespace, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![child, namespace, key, value])?;
        Ok(())
    }

    /// Removes `key` from the child's `namespace`; whether it was there.
    pub fn delete(&self, child: &str, namespace: &str, key: &str) -> Result<bool, StoreError> {
        check_names(namespace, key)?;
        let removed = self
            .conn()
            .prepare_cached("DELETE FROM kv WHERE child = ?1 AND namespace = ?2 AND key = ?3")?
            .execute(params![child, namespace, key])?;
        Ok(removed > 0)
    }

    /// The keys of the child's `namespace` that start with `prefix`, sorted
    /// bytewise; refused when there are more than [`MAX_KEYS`].
    pub fn keys(
        &self,
        child: &str,
        namespace: &str,
        prefix: &str,
    ) -> Result<Vec<String>, StoreError> {
        check_names(namespace, prefix)?;
        let conn = self.conn();
        // Keys compare bytewise (BINARY collation), so the keys with `prefix`
        // are a contiguous run starting at `prefix`.
        let mut stmt = conn.prepare_cached(
            "SELECT key FROM kv WHERE child = ?1 AND namespace = ?2 AND key >= ?3 ORDER BY key",
        )?;
        let mut rows = stmt.query(params![child, namespace, prefix])?;
        let mut keys = Vec::new();
        while let Some(row) = rows.next()? {
            let key: String = row.get(0)?;
            if !key.starts_with(prefix) {
                break;
            }
            if keys.len() == MAX_KEYS {
                return Err(StoreError::Refused(format!(
                    "more than {MAX_KEYS} keys start with {prefix:?}; list them with longer prefixes"
                )));
            }
            keys.push(key);
        }
        Ok(keys)
    }

    /// Removes every key of the child's `namespace`; how many there were.
    pub fn clear(&self, child: &str, namespace: &str) -> Result<u64, StoreError> {
        check_name("namespace", namespace)?;
        let removed = self
            .conn()
            .prepare_cached("DELETE FROM kv WHERE child = ?1 AND namespace = ?2")?
            .execute(params![child, namespace])?;
        Ok(removed as u64)
    }
}

fn check_names(namespace: &str, key: &str) -> Result<(), StoreError> {
    check_name("namespace", namespace)?;
    check_name("key", key)
}

fn check_name(what: &str, name: &str) -> Result<(), StoreError> {
    if name.len() > MAX_NAME {
        return Err(StoreError::Refused(format!(
            "a {what} is at most {MAX_NAME} bytes, got {}",
            name.len()
        )));
    }
    Ok(())
}
