//! Tests of the SQLite store: the shared conformance suite, plus what only
//! SQLite can show — tampering with rows at rest, several handles (separate
//! connections, as separate processes would have) appending to one chain,
//! and a newer schema. Never touches anything outside its temporary dirs.

use std::path::Path;

use super::*;
use crate::store::suite::{self, append, identity};
use crate::{Tampered, verify};

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
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_sqlite(dir.path()).unwrap();
    store
        .conn()
        .execute(
            "UPDATE meta SET value = '2' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    drop(store);
    let err = open_sqlite(dir.path()).unwrap_err();
    assert!(
        matches!(&err, ReceiptError::Store(m) if m.contains("schema version 2")),
        "{err:?}"
    );
}
