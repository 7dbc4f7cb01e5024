//! Tests of the SQLite store: the shared conformance suite, plus what only
//! SQLite can show — tampering with rows at rest, several handles (separate
//! connections, as separate processes would have) appending to one chain,
//! and a newer schema. Never touches anything outside its temporary dirs.

use std::path::Path;

use super::*;
use crate::store::suite::{self, append, identity};
use crate::{Tampered, verify};

mod batches;

crate::store::suite::conformance_suite!(|dir: &Path| open_sqlite(dir).unwrap());

/// Rewrites the stored body of `id` with `edit`.
fn edit_body(store: &SqliteStore, id: &ReceiptId, edit: impl Fn(Vec<u8>) -> Vec<u8>) {
    let conn = store.conn();
    let body: Vec<u8> = conn
        .query_row("SELECT body FROM receipts WHERE id = ?1", [id.hex()], |r| {
            r.get(0)
        })
        .unwrap();
    let changed = conn
        .execute(
            "UPDATE receipts SET body = ?1 WHERE id = ?2",
            params![edit(body), id.hex()],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

#[test]
fn tampering_at_rest_is_caught_by_verification_not_by_get() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_sqlite(dir.path()).unwrap();
    let alice = identity(1);
    let r = [
        append(&store, &alice, 1),
        append(&store, &alice, 2),
        append(&store, &alice, 3),
    ];
    edit_body(&store, &r[1].id, |body| {
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains(r#""fuel":2}"#), "{text}");
        text.replace(r#""fuel":2}"#, r#""fuel":7}"#).into_bytes()
    });

    let got = store.get(&r[1].id).unwrap().expect("get still returns it");
    assert_eq!(got.transcript.fuel, 7);
    match verify(&got) {
        Err(ReceiptError::Tampered {
            what: Tampered::Transcript { .. },
            ..
        }) => {}
        other => panic!("expected a tampered transcript, got {other:?}"),
    }
    match store.verify_chain(&alice.id()) {
        Err(ReceiptError::Tampered { id, .. }) => assert_eq!(id, r[1].id.to_string()),
        other => panic!("expected tampering, got {other:?}"),
    }
}

#[test]
fn a_damaged_body_is_an_error_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_sqlite(dir.path()).unwrap();
    let alice = identity(1);
    let r1 = append(&store, &alice, 1);
    append(&store, &alice, 2);
    edit_body(&store, &r1.id, |mut body| {
        body.truncate(body.len() / 2);
        body
    });
    for err in [
        store.get(&r1.id).unwrap_err(),
        store.list(&ListFilter::default()).unwrap_err(),
        store.verify_chain(&alice.id()).unwrap_err(),
    ] {
        assert!(
            matches!(&err, ReceiptError::Malformed(m) if m.contains("#1")),
            "{err:?}"
        );
    }
}

#[test]
fn a_missing_link_or_a_damaged_blob_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_sqlite(dir.path()).unwrap();
    let alice = identity(1);
    let (with_blob, blob) = suite::transcript_with_blob(1);
    let r1 = suite::append_with(&store, &alice, with_blob, std::slice::from_ref(&blob));
    append(&store, &alice, 2);
    let conn = store.conn();
    conn.execute("UPDATE blobs SET bytes = x'00'", []).unwrap();
    conn.execute("DELETE FROM receipts WHERE id = ?1", [r1.id.hex()])
        .unwrap();
    drop(conn);
    assert!(matches!(
        store.blob(&blob.digest),
        Err(ReceiptError::Blob(_))
    ));
    assert!(matches!(
        store.verify_chain(&alice.id()),
        Err(ReceiptError::Chain { .. })
    ));
}

#[test]
fn handles_on_one_file_keep_one_linear_chain() {
    let dir = tempfile::tempdir().unwrap();
    let alice = identity(1);
    std::thread::scope(|scope| {
        for thread in 0..4u64 {
            let (dir, alice) = (dir.path(), &alice);
            scope.spawn(move || {
                let store = open_sqlite(dir).unwrap();
                for n in 0..25 {
                    let transcript = suite::transcript(1000 * thread + n);
                    let mut seal = |head| suite::sealed(alice, transcript.clone(), head);
                    store.append(&alice.id(), &mut seal, &[]).unwrap();
                }
            });
        }
    });
    let store = open_sqlite(dir.path()).unwrap();
    assert_eq!(store.verify_chain(&alice.id()).unwrap(), 100);
    assert_eq!(store.list(&ListFilter::default()).unwrap().len(), 100);
}

#[test]
fn durability_settings_are_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_sqlite(dir.path()).unwrap();
    let conn = store.conn();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let synchronous: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        (mode.as_str(), synchronous),
        ("wal", 2),
        "WAL with synchronous=FULL"
    );
    let temp_store: i64 = conn
        .query_row("PRAGMA temp_store", [], |r| r.get(0))
        .unwrap();
    assert_eq!(temp_store, 2, "statement journals kept in memory");
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_sqlite(dir.path()).unwrap();
    store
        .conn()
        .execute(
            "UPDATE meta SET value = '3' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    drop(store);
    let err = open_sqlite(dir.path()).unwrap_err();
    assert!(
        matches!(&err, ReceiptError::Store(m) if m.contains("schema version 3")),
        "{err:?}"
    );
    // A newer store missing an index this build would make is refused
    // untouched: nothing of this build's schema is written into it.
    let conn = Connection::open(dir.path().join("receipts.sqlite3")).unwrap();
    conn.execute_batch("DROP INDEX receipts_caller").unwrap();
    drop(conn);
    let err = open_sqlite(dir.path()).unwrap_err();
    assert!(
        matches!(&err, ReceiptError::Store(m) if m.contains("schema version 3")),
        "{err:?}"
    );
    let conn = Connection::open(dir.path().join("receipts.sqlite3")).unwrap();
    let indexes: u32 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'receipts_caller'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 0, "the newer store was written to");
}

/// A store written by a build of schema 1 (no caller column, version 1
/// receipts) opens, keeps its receipts and chain, and takes version 2
/// receipts listed by caller after them.
#[test]
fn a_schema_1_store_is_migrated_and_keeps_its_chain() {
    let dir = tempfile::tempdir().unwrap();
    let me = identity(1);
    let v1 = {
        let mut receipt = suite::sealed(&me, suite::transcript(1), None);
        receipt.version = 1;
        receipt.id = crate::canonical::receipt_id(&receipt);
        receipt.signature = me.sign(&receipt.id);
        receipt
    };
    {
        let conn = rusqlite::Connection::open(dir.path().join("receipts.sqlite3")).unwrap();
        conn.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE receipts (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,
                 mother TEXT NOT NULL, child TEXT NOT NULL, local INTEGER NOT NULL, previous TEXT,
                 body BLOB NOT NULL);
             CREATE TABLE blobs (digest TEXT PRIMARY KEY, bytes BLOB NOT NULL);
             INSERT INTO meta (key, value) VALUES ('schema_version', '1');",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO receipts (id, mother, child, local, previous, body) VALUES (?1, ?2, ?3, 1, NULL, ?4)",
            params![
                v1.id.hex(),
                v1.mother.to_string(),
                v1.transcript.child.to_string(),
                crate::canonical::encode(&v1)
            ],
        )
        .unwrap();
    }
    let store = open_sqlite(dir.path()).unwrap();
    assert_eq!(store.get(&v1.id).unwrap(), Some(v1.clone()));
    let next = append(&store, &me, 2);
    assert_eq!(next.previous, Some(v1.id));
    assert_eq!(next.version, crate::RECEIPT_VERSION);
    assert_eq!(store.verify_chain(&me.id()).unwrap(), 2);
    let version: String = store
        .conn()
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, "2");
    // Still set after a migration (it is set only once the schema is made,
    // so that the migration's sort may spill to a file).
    let temp_store: i64 = store
        .conn()
        .query_row("PRAGMA temp_store", [], |r| r.get(0))
        .unwrap();
    assert_eq!(temp_store, 2, "temporary files in memory after migrating");
}

/// Bytes of the store's write-ahead log (0 when there is none).
fn wal_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("receipts.sqlite3-wal")).map_or(0, |m| m.len())
}

#[test]
fn a_short_lived_store_keeps_its_log_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let alice = identity(1);
    let store = open_sqlite_with(dir.path(), SqliteOptions::SHORT_LIVED).unwrap();
    let pages: u32 = store
        .conn()
        .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pages, 0, "the store truncates its log itself");
    let first = append(&store, &alice, 1);
    drop(store);
    // Closed without a checkpoint: the receipt is (durably) in the log only,
    // and the next open finds it there.
    assert!(wal_len(dir.path()) > 0, "the log is kept on close");
    let store = open_sqlite_with(dir.path(), SqliteOptions::SHORT_LIVED).unwrap();
    assert_eq!(store.get(&first.id).unwrap().map(|r| r.id), Some(first.id));
    let second = append(&store, &alice, 2);
    assert_eq!(
        second.previous,
        Some(first.id),
        "the chain goes on from the log"
    );
    drop(store);

    // A long-lived handle (SQLite's default) checkpoints on close and
    // leaves no log behind.
    let store = open_sqlite(dir.path()).unwrap();
    assert_eq!(
        store.get(&second.id).unwrap().map(|r| r.id),
        Some(second.id)
    );
    drop(store);
    assert_eq!(wal_len(dir.path()), 0, "checkpointed and removed on close");
}

/// One process per command, as `mother run` is: each opens the store, appends
/// one receipt and goes without a checkpoint. SQLite's own checkpoint never
/// shortened such a log (a fresh process cannot know what was copied), so it
/// grew by every command and each open re-read all of it; a short-lived store
/// truncates it once it passes its limit.
#[test]
fn a_log_shared_by_short_lived_processes_stays_short() {
    let dir = tempfile::tempdir().unwrap();
    let alice = identity(1);
    let options = SqliteOptions {
        checkpoint_pages: 16,
        ..SqliteOptions::SHORT_LIVED
    };
    let page = 4096 + 24;
    let limit = 32 + 16 * page;
    let (mut largest, mut truncations, mut last) = (0, 0, None);
    for n in 1..=60u64 {
        let store = open_sqlite_with(dir.path(), options).unwrap();
        let receipt = append(&store, &alice, n);
        assert_eq!(receipt.previous, last, "the chain goes on across opens");
        last = Some(receipt.id);
        drop(store);
        let len = wal_len(dir.path());
        if len == 0 {
            truncations += 1;
        }
        largest = largest.max(len);
    }
    assert!(
        largest <= limit + 8 * page,
        "the log grew to {largest} bytes (limit {limit})"
    );
    assert!(
        truncations >= 3,
        "truncated {truncations} times in 60 commits"
    );
    let store = open_sqlite_with(dir.path(), options).unwrap();
    assert_eq!(store.verify_chain(&alice.id()).unwrap(), 60);
}

#[test]
fn a_long_lived_store_leaves_checkpoints_to_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_sqlite(dir.path()).unwrap();
    let pages: u32 = store
        .conn()
        .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pages, SqliteOptions::LONG_LIVED.checkpoint_pages);
    append(&store, &identity(1), 1);
    assert!(
        wal_len(dir.path()) > 0,
        "a long-lived store keeps its log open"
    );
}

/// Opening a store whose schema is current takes no write lock, so a reader
/// (`mother receipts list`) is not held up by another process's append
/// (before, the open waited out the busy timeout and failed).
#[test]
fn opening_a_current_store_does_not_wait_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let alice = identity(1);
    let first = append(&open_sqlite(dir.path()).unwrap(), &alice, 1);
    let writer = Connection::open(dir.path().join("receipts.sqlite3")).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    let reader = open_sqlite(dir.path()).unwrap();
    assert_eq!(reader.get(&first.id).unwrap().map(|r| r.id), Some(first.id));
    writer.execute_batch("ROLLBACK").unwrap();
}

/// A reader holding an older snapshot keeps the log from being truncated:
/// the appends go on without waiting for it (the checkpoint never waits) and
/// the busy timeout is back afterwards; the next commit after the reader is
/// done truncates the log.
#[test]
fn a_log_in_use_is_left_for_a_later_commit_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let alice = identity(1);
    let options = SqliteOptions {
        checkpoint_pages: 4,
        ..SqliteOptions::SHORT_LIVED
    };
    let store = open_sqlite_with(dir.path(), options).unwrap();
    append(&store, &alice, 1);
    let reader = Connection::open(dir.path().join("receipts.sqlite3")).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let seen: u32 = reader
        .query_row("SELECT count(*) FROM receipts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(seen, 1);
    let started = std::time::Instant::now();
    for n in 2..=6 {
        append(&store, &alice, n);
    }
    // Waiting for the reader would take the busy timeout (30 s) per append;
    // this bounds a lock wait, not a speed.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "an append waited for the reader"
    );
    assert!(wal_len(dir.path()) > 0, "truncated under a reader");
    assert_eq!(
        store.keep_log_short(&store.conn()),
        open::LogState::Busy,
        "the log is over its limit and in use"
    );
    let timeout: u32 = store
        .conn()
        .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
        .unwrap();
    assert_eq!(timeout, 30_000, "the busy timeout is restored");
    reader.execute_batch("COMMIT").unwrap();
    append(&store, &alice, 7);
    assert_eq!(wal_len(dir.path()), 0, "truncated once the reader is done");
    assert_eq!(store.verify_chain(&alice.id()).unwrap(), 7);
}
