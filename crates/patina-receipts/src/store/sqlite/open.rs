//! Opening a [`SqliteStore`]: the schema and its migration, the pragmas,
//! and how the write-ahead log is kept short for the kind of process that
//! opened it ([`SqliteOptions`]). It must never leave a store open whose
//! schema it does not read, nor lose a committed page to keep the log short.

use std::ffi::c_int;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};

use super::{SqliteStore, store_error};
use crate::ReceiptError;
use crate::store::create_dir;

/// The schema this build writes.
const SCHEMA_VERSION: &str = "2";
/// How long a writer waits for another process's write transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    mother TEXT NOT NULL,
    child TEXT NOT NULL,
    local INTEGER NOT NULL,
    previous TEXT,
    body BLOB NOT NULL,
    caller TEXT
);
CREATE INDEX IF NOT EXISTS receipts_chain ON receipts (mother, local, seq);
CREATE INDEX IF NOT EXISTS receipts_child ON receipts (child, seq);
-- A Mother's local chain never forks, whatever a buggy writer tries.
CREATE UNIQUE INDEX IF NOT EXISTS receipts_link
    ON receipts (mother, ifnull(previous, '')) WHERE local = 1;
CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, bytes BLOB NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '2');
";

/// Schema 1 → 2: the caller of each run (receipts of version 2 name it).
const MIGRATE_1_TO_2: &str = "
ALTER TABLE receipts ADD COLUMN caller TEXT;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
";

/// Indexes on the columns schema 2 added.
const INDEXES_2: &str = "
CREATE INDEX IF NOT EXISTS receipts_caller ON receipts (caller, seq);
";

/// How the process that opens a [`SqliteStore`] uses it: what it pays for
/// keeping the write-ahead log short.
///
/// Every commit is durable when it returns (`synchronous=FULL`: the log is
/// synced); these only choose when logged pages are copied into the database
/// file (a *checkpoint*: a sync of the log, writes, a sync of the database).
/// The first connection a process opens while no other is open re-reads the
/// whole log to rebuild SQLite's shared index of it (about 6 ms per MiB
/// measured here), so a process that opens the store for one command wants a
/// short log and no checkpoint on its way out; a long-lived one wants few
/// checkpoints.
///
/// SQLite's own checkpoint does not shorten the log file: the next writer
/// starts it again from the top, but only if *its process* saw the
/// checkpoint. A process that opens the store afresh cannot know what was
/// copied, so it re-reads, and later copies again, every page of the log.
/// With one process per command, the log grew by every command's pages and
/// each command read all of it (5 MB after 160 `mother run`s). So a
/// short-lived store truncates the log instead ([`Self::truncate_log`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Log pages (4 KiB each) after which a commit checkpoints them
    /// (SQLite's `wal_autocheckpoint`, default 1000; with
    /// [`Self::truncate_log`], the pages past which a commit truncates it).
    pub checkpoint_pages: u32,
    /// Whether closing the last connection checkpoints the log (SQLite's
    /// default: two syncs and the copy, paid by whoever closes last).
    pub checkpoint_on_close: bool,
    /// Whether a commit that leaves the log over `checkpoint_pages` copies it
    /// into the database and truncates it to nothing
    /// (`wal_checkpoint(TRUNCATE)`, in place of SQLite's automatic
    /// checkpoint). It never waits: when another connection is reading an
    /// older snapshot, the log is left for a later commit.
    pub truncate_log: bool,
}

impl SqliteOptions {
    /// SQLite's defaults: for a process that keeps the store open (a server).
    pub const LONG_LIVED: Self = Self {
        checkpoint_pages: 1000,
        checkpoint_on_close: true,
        truncate_log: false,
    };
    /// For a process that opens the store for one command and exits
    /// (`mother run`): a log of at most 64 pages (~260 KiB) to re-read on
    /// the next open, truncated by the command that passes that, and
    /// nothing but the commit's own sync on the way out otherwise.
    pub const SHORT_LIVED: Self = Self {
        checkpoint_pages: 64,
        checkpoint_on_close: false,
        truncate_log: true,
    };
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self::LONG_LIVED
    }
}

/// Opens the default store at `dir/receipts.sqlite3`, creating it.
pub fn open_sqlite(dir: &Path) -> Result<SqliteStore, ReceiptError> {
    open_sqlite_with(dir, SqliteOptions::default())
}

/// [`open_sqlite`] for a process that uses the store as `options` says.
pub fn open_sqlite_with(dir: &Path, options: SqliteOptions) -> Result<SqliteStore, ReceiptError> {
    create_dir(dir)?;
    let path = dir.join("receipts.sqlite3");
    let err = |e: rusqlite::Error| store_error(&format!("opening {}", path.display()), e);
    let mut conn = Connection::open(&path).map_err(err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    let mode: String =
        retry_busy(|| conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0)))
            .map_err(err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(store_error(
            &path.display().to_string(),
            format!("journal mode is {mode}, not WAL"),
        ));
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        .map_err(err)?;
    let automatic = if options.truncate_log {
        0
    } else {
        options.checkpoint_pages
    };
    conn.pragma_update(None, "wal_autocheckpoint", automatic)
        .map_err(err)?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        !options.checkpoint_on_close,
    )
    .map_err(err)?;
    let version = match current_schema(&conn) {
        Some(version) => version,
        None => create_schema(&mut conn).map_err(err)?,
    };
    // Temporary files in memory: an append of many receipts in one
    // transaction makes SQLite keep a statement journal (each insert's
    // undo, should a constraint stop it half-way), which past 64 KiB it
    // spilled into a new file under /var/tmp for every batch, written
    // more than the log itself. It is never needed after a crash (the log
    // is what recovers), so memory is as durable. Set only once the schema
    // is made: a migration that indexes a large store sorts it, and that
    // sort may spill to a file rather than grow the process by the index.
    conn.execute_batch("PRAGMA temp_store=MEMORY;")
        .map_err(err)?;
    if version != SCHEMA_VERSION {
        return Err(store_error(
            &path.display().to_string(),
            format!(
                "schema version {version} is not supported (this build reads {SCHEMA_VERSION})"
            ),
        ));
    }
    let log = if options.truncate_log {
        // Pages in the log after each commit, as SQLite counts them (the
        // file keeps its high-water size when another process restarts the
        // log, so its length says nothing). Registered after the
        // `wal_autocheckpoint` pragma, which would replace it.
        let pages = Arc::new(AtomicU32::new(0));
        let seen = pages.clone();
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, count: c_int| {
            seen.store(u32::try_from(count).unwrap_or(0), Ordering::Relaxed);
            Ok(())
        }))
        .map_err(err)?;
        Some(LogLimit {
            pages,
            limit: options.checkpoint_pages,
        })
    } else {
        None
    };
    Ok(SqliteStore {
        conn: Mutex::new(conn),
        log,
    })
}

impl SqliteStore {
    /// After a commit on `conn`: truncates the log when it has grown past
    /// its limit (a short-lived store), never waiting for another
    /// connection. A checkpoint that cannot finish now leaves the log as it
    /// is (every page in it is committed); it is not an error of the commit.
    pub(super) fn keep_log_short(&self, conn: &Connection) -> LogState {
        let Some(log) = &self.log else {
            return LogState::Short;
        };
        let pages = log.pages.load(Ordering::Relaxed);
        if pages <= log.limit {
            return LogState::Short;
        }
        let truncated = conn.busy_timeout(Duration::ZERO).and_then(|()| {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                row.get::<_, i64>(0)
            })
        });
        if let Err(error) = conn.busy_timeout(BUSY_TIMEOUT) {
            tracing::warn!(%error, "restoring the store's busy timeout");
        }
        match truncated {
            Ok(0) => {
                tracing::debug!(pages, "receipt log truncated");
                log.pages.store(0, Ordering::Relaxed);
                LogState::Truncated
            }
            Ok(_) => {
                tracing::debug!(pages, "receipt log in use: not truncated");
                LogState::Busy
            }
            Err(error) => {
                tracing::debug!(%error, "receipt log not truncated");
                LogState::Busy
            }
        }
    }
}

/// The log of a short-lived store: the pages in it after the last commit,
/// and how many it may hold before a commit truncates it.
#[derive(Debug)]
pub(super) struct LogLimit {
    pages: Arc<AtomicU32>,
    limit: u32,
}

/// What [`SqliteStore::keep_log_short`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LogState {
    /// Nothing to do: a long-lived store, or the log is within its limit.
    Short,
    /// Copied into the database and cut to nothing.
    Truncated,
    /// Left as it is for a later commit: another connection is reading an
    /// older snapshot (or the checkpoint failed).
    Busy,
}

/// Runs `step` again while SQLite answers busy or locked, up to the busy
/// timeout. Switching a new database to WAL and creating its schema can fail
/// at once, without SQLite's busy handler, when several processes open a new
/// store together.
fn retry_busy<T>(mut step: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match step() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// The schema version of a store that has every table and index this build
/// makes, read without taking the write lock; `None` when anything is
/// missing (a new store, an older schema) or cannot be read.
fn current_schema(conn: &Connection) -> Option<String> {
    let (objects, version): (u32, String) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM sqlite_master WHERE name IN \
                 ('meta', 'receipts', 'blobs', 'receipts_chain', 'receipts_child', \
                  'receipts_link', 'receipts_caller')), \
             (SELECT value FROM meta WHERE key = 'schema_version')",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .ok()?;
    (objects == 7).then_some(version)
}

/// Creates (or completes, or migrates) the schema in a write transaction;
/// the schema version it leaves.
fn create_schema(conn: &mut Connection) -> rusqlite::Result<String> {
    retry_busy(|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // A schema this build does not know is refused untouched (the
        // transaction rolls back).
        let found: Option<String> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |row| row.get(0),
            )
            .ok();
        if let Some(version) = found
            && version != "1"
            && version != SCHEMA_VERSION
        {
            return Ok(version);
        }
        tx.execute_batch(SCHEMA)?;
        let mut version: String = tx.query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |row| row.get(0),
        )?;
        if version == "1" {
            // Schema 1 had no caller column: receipts of version 1 name no
            // caller, so the new column starts empty for them.
            tx.execute_batch(MIGRATE_1_TO_2)?;
            version = SCHEMA_VERSION.to_owned();
        }
        tx.execute_batch(INDEXES_2)?;
        tx.commit()?;
        Ok(version)
    })
}
