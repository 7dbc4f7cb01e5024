//! Opening the Mother's SQLite stores when several processes open them at
//! once: the switch to WAL and the first schema creation can fail at once with
//! "database is locked" (SQLite does not call its busy handler there), so
//! those steps are retried up to the busy timeout. Never used for a child's
//! own SQL.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// Opens (creating it) the SQLite file at `path` for one of the toys' own
/// stores: the busy timeout set, switched to WAL with `synchronous=NORMAL`.
/// Returns the journal mode SQLite settled on (`wal` unless the file system
/// cannot do WAL), for the caller to judge.
pub fn open_wal(path: &Path, timeout: Duration) -> rusqlite::Result<(Connection, String)> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(timeout)?;
    let mode: String = retry_busy(timeout, || {
        conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
    })?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok((conn, mode))
}

/// Runs `step` again while SQLite answers busy or locked, until `timeout`.
pub fn retry_busy<T>(
    timeout: Duration,
    mut step: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let deadline = Instant::now() + timeout;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Several handles opening one new file at once all succeed (as two
    /// `mother` commands on a fresh home do).
    #[test]
    fn many_handles_open_a_new_store_at_once() {
        for _round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("s.sqlite");
            std::thread::scope(|scope| {
                for _ in 0..16 {
                    scope.spawn(|| {
                        let timeout = Duration::from_secs(5);
                        let (conn, mode) = open_wal(&path, timeout).unwrap();
                        assert_eq!(mode, "wal");
                        retry_busy(timeout, || {
                            conn.execute_batch("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
                        })
                        .unwrap();
                    });
                }
            });
        }
    }
}
