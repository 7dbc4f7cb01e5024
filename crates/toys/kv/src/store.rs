//! The Mother's own key-value store: one SQLite file (WAL) holding every
//! child's keys in one table keyed by (child id, namespace, key).
//!
//! Every function takes the child id from the run's context, never from the
//! child, so no child can name another's keys. Limits are checked here before
//! SQLite sees a value, and each child's total size (namespace, key and value
//! bytes of all its keys) is kept by triggers in `kv_usage`, in the same
//! transaction as the write, so a quota holds across processes. All functions block: call them from
//! `spawn_blocking`, and never hold the connection's lock across an `.await`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use patina_toy::sqlite::{open_wal, retry_busy};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// Longest namespace and key, in bytes.
pub const MAX_NAME: usize = 1 << 10;
/// Largest value, in bytes. A `get` answer costs ~40 bytes of host memory
/// per byte (`list<u8>` is a list of `Val::U8`), so this stays small.
pub const MAX_VALUE: usize = 16 << 20;
/// Most keys one `keys` call answers with.
pub const MAX_KEYS: usize = 100_000;
/// The default quota: the most bytes (namespaces, keys and values) one child
/// may keep in the store.
pub const DEFAULT_QUOTA: u64 = 256 << 20;

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

/// Bytes one row costs its child: the same sum as [`row_size`].
macro_rules! row_bytes {
    ($row:literal) => {
        concat!(
            "(octet_length(",
            $row,
            ".namespace) + octet_length(",
            $row,
            ".key) + octet_length(",
            $row,
            ".value))"
        )
    };
}

/// Each child's total, kept by triggers on every insert, update and delete.
const USAGE_SCHEMA: &str = concat!(
    "CREATE TABLE IF NOT EXISTS kv_usage (
        child TEXT PRIMARY KEY,
        bytes INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TRIGGER IF NOT EXISTS kv_usage_insert AFTER INSERT ON kv BEGIN
        INSERT OR IGNORE INTO kv_usage (child, bytes) VALUES (new.child, 0);
        UPDATE kv_usage SET bytes = bytes + ",
    row_bytes!("new"),
    " WHERE child = new.child;
    END;
    CREATE TRIGGER IF NOT EXISTS kv_usage_update AFTER UPDATE ON kv BEGIN
        UPDATE kv_usage SET bytes = bytes - ",
    row_bytes!("old"),
    " + ",
    row_bytes!("new"),
    " WHERE child = new.child;
    END;
    CREATE TRIGGER IF NOT EXISTS kv_usage_delete AFTER DELETE ON kv BEGIN
        UPDATE kv_usage SET bytes = bytes - ",
    row_bytes!("old"),
    " WHERE child = old.child;
    END;"
);

/// Fills `kv_usage` from the rows of a store made before it existed.
const USAGE_BACKFILL: &str = concat!(
    "INSERT INTO kv_usage (child, bytes) SELECT child, SUM(",
    row_bytes!("kv"),
    ") FROM kv GROUP BY child"
);

/// What one row costs its child, in bytes.
fn row_size(namespace: &str, key: &str, value: &[u8]) -> u64 {
    (namespace.len() + key.len() + value.len()) as u64
}

impl Store {
    /// Opens (creating it if needed) the store file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let timeout = Duration::from_secs(10);
        let (conn, mode) = open_wal(path, timeout)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(target: "patina::kv", %mode, "kv store is not in WAL mode");
        }
        let mut conn = conn;
        retry_busy(timeout, || {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(SCHEMA)?;
            let counted: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'kv_usage')",
                [],
                |row| row.get(0),
            )?;
            tx.execute_batch(USAGE_SCHEMA)?;
            if !counted {
                tx.execute(USAGE_BACKFILL, [])?;
            }
            tx.commit()
        })?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// How many bytes (namespaces, keys and values) `child` keeps in the store.
    pub fn usage(&self, child: &str) -> Result<u64, StoreError> {
        let bytes: Option<i64> = self
            .conn()
            .prepare_cached("SELECT bytes FROM kv_usage WHERE child = ?1")?
            .query_row(params![child], |row| row.get(0))
            .optional()?;
        Ok(bytes.map_or(0, |b| u64::try_from(b).unwrap_or(0)))
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

    /// Sets `key` in the child's `namespace` to `value`, unless that would
    /// take the child's keys past `quota` bytes (a write that does not grow
    /// them is always allowed, so a child over a lowered quota can shrink).
    pub fn set(
        &self,
        child: &str,
        namespace: &str,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> Result<(), StoreError> {
        check_names(namespace, key)?;
        if value.len() > MAX_VALUE {
            return Err(StoreError::Refused(format!(
                "a value holds at most {MAX_VALUE} bytes, got {}",
                value.len()
            )));
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let used: i64 = tx
            .prepare_cached("SELECT bytes FROM kv_usage WHERE child = ?1")?
            .query_row(params![child], |row| row.get(0))
            .optional()?
            .unwrap_or(0);
        let old: i64 = tx
            .prepare_cached(concat!(
                "SELECT ",
                row_bytes!("kv"),
                " FROM kv WHERE child = ?1 AND namespace = ?2 AND key = ?3"
            ))?
            .query_row(params![child, namespace, key], |row| row.get(0))
            .optional()?
            .unwrap_or(0);
        let (used, old) = (used.max(0) as u64, old.max(0) as u64);
        let new = row_size(namespace, key, value);
        let after = used.saturating_sub(old).saturating_add(new);
        if new > old && after > quota {
            return Err(StoreError::Refused(format!(
                "over the kv quota: this child's keys would hold {after} bytes, \
                 the quota is {quota} (it holds {used} now)"
            )));
        }
        tx.prepare_cached(
            "INSERT INTO kv (child, namespace, key, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (child, namespace, key) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![child, namespace, key, value])?;
        tx.commit()?;
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
