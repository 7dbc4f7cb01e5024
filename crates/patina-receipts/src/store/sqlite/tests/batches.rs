//! Batch appends of the SQLite store: receipts sealed ahead, and a batch
//! that SQLite rolls back whole.

use super::*;
use crate::store::BatchItem;

/// A batch whose receipts were sealed ahead on the right head goes in as
/// sealed (its seal functions never run); one sealed ahead on a wrong head
/// is sealed again on the real head, and the chain still verifies.
#[test]
fn a_batch_sealed_ahead_goes_in_as_sealed_and_a_wrong_guess_is_resealed() {
    use crate::store::Sealed;
    let dir = tempfile::tempdir().unwrap();
    let store = open_sqlite(dir.path()).unwrap();
    let me = identity(1);
    let first = append(&store, &me, 1);
    let ahead = suite::sealed(&me, suite::transcript(2), Some(first.id));
    let after = suite::sealed(&me, suite::transcript(3), Some(ahead.id));
    let calls = std::cell::Cell::new(0);
    let mut seal_a = |head| {
        calls.set(calls.get() + 1);
        suite::sealed(&me, suite::transcript(2), head)
    };
    let mut seal_b = |head| {
        calls.set(calls.get() + 1);
        suite::sealed(&me, suite::transcript(3), head)
    };
    let mut batch = [
        BatchItem {
            seal: &mut seal_a,
            blobs: &[],
            sealed: Some(Sealed::verified(ahead.clone()).unwrap()),
        },
        BatchItem {
            seal: &mut seal_b,
            blobs: &[],
            sealed: Some(Sealed::verified(after.clone()).unwrap()),
        },
    ];
    let results = store.append_batch(&me.id(), &mut batch);
    assert_eq!(results[0].as_ref().unwrap().id, ahead.id);
    assert_eq!(results[1].as_ref().unwrap().id, after.id);
    assert_eq!(calls.get(), 0, "receipts sealed ahead are not sealed again");

    // Sealed ahead on `first` again: the head is `after` now.
    let stale = suite::sealed(&me, suite::transcript(4), Some(first.id));
    let mut seal_c = |head| suite::sealed(&me, suite::transcript(4), head);
    let mut batch = [BatchItem {
        seal: &mut seal_c,
        blobs: &[],
        sealed: Some(Sealed::verified(stale.clone()).unwrap()),
    }];
    let results = store.append_batch(&me.id(), &mut batch);
    let resealed = results[0].as_ref().unwrap();
    assert_ne!(resealed.id, stale.id);
    assert_eq!(resealed.previous, Some(after.id));
    assert_eq!(store.verify_chain(&me.id()).unwrap(), 4);
}

/// Only a receipt that verifies can be handed over as sealed ahead.
#[test]
fn a_tampered_receipt_is_never_sealed_ahead() {
    let me = identity(1);
    let mut receipt = suite::sealed(&me, suite::transcript(2), None);
    receipt.transcript.fuel += 1;
    let refused = crate::store::Sealed::verified(receipt).unwrap_err();
    assert!(
        matches!(refused, ReceiptError::Tampered { .. }),
        "{refused:?}"
    );
}

/// A batch that fills the database part-way through, and so is rolled back
/// whole by SQLite, appends nothing and says so for every item; the store
/// keeps exactly what it had.
#[test]
fn a_batch_that_fills_the_database_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_sqlite(dir.path()).unwrap();
    let me = identity(1);
    let first = append(&store, &me, 1);
    let pages: i64 = store
        .conn()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    let limit = |pages: i64| {
        store
            .conn()
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            .unwrap();
    };
    limit(pages + 2);
    let me_too = &me;
    let mut seals: Vec<_> = (2..60)
        .map(|fuel| move |head| suite::sealed(me_too, suite::transcript(fuel), head))
        .collect();
    let mut batch: Vec<BatchItem<'_>> = seals
        .iter_mut()
        .map(|seal| BatchItem {
            seal,
            blobs: &[],
            sealed: None,
        })
        .collect();
    let results = store.append_batch(&me.id(), &mut batch);
    drop(batch);
    assert_eq!(results.len(), 58);
    // A full database makes SQLite (as bundled) roll the whole transaction
    // back: then every item is refused, saying so — none is appended in
    // autocommit on a head that is gone, none reported though rolled back.
    for result in &results {
        let Err(error) = result else {
            panic!("an item reported appended from a rolled-back batch");
        };
        let text = error.to_string();
        assert!(text.contains("rolled back"), "{text}");
        assert!(text.contains("database or disk is full"), "{text}");
        assert!(!text.contains("receipt store: receipt store"), "{text}");
    }
    limit(1 << 30);
    let stored: Vec<ReceiptId> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|r| r.id))
        .collect();
    for id in &stored {
        assert!(
            store.get(id).unwrap().is_some(),
            "{id} reported but not stored"
        );
    }
    assert_eq!(
        store.verify_chain(&me.id()).unwrap(),
        1 + stored.len() as u64
    );
    assert_eq!(
        store.head(&me.id()).unwrap(),
        Some(stored.last().copied().unwrap_or(first.id))
    );
}
