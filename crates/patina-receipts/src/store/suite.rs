//! The conformance suite every [`ReceiptStore`] backend must pass, written
//! once against the trait. A backend's tests instantiate it with
//! [`conformance_suite!`] and an `open(dir)` function, so SQLite and sled run
//! exactly the same checks.
//!
//! Test support only (compiled under `#[cfg(test)]`): it must never depend on
//! a particular backend.

use std::path::Path;

use patina_core::ChildId;

use super::{ListFilter, ReceiptStore};
use crate::canonical::seal;
use crate::{Blob, Digest, Identity, Payload, Receipt, ReceiptError, ReceiptId, Transcript};

mod lists;
mod lookups;

pub use lists::{lists_by_caller, lists_by_children};
pub use lookups::{imports_foreign_receipts, resolves_ids_and_prefixes, round_trips_blobs};

/// Milliseconds of the first test run.
const T0: u64 = 1_700_000_000_000;

/// Instantiates the suite: one `#[test]` per check, each on a fresh store
/// made by `$open(dir: &Path) -> impl ReceiptStore`.
macro_rules! conformance_suite {
    ($open:expr) => {
        mod conformance {
            use super::*;
            use crate::store::{ReceiptStore, suite};

            fn open(dir: &std::path::Path) -> Box<dyn ReceiptStore> {
                Box::new(($open)(dir))
            }

            fn with_store(check: fn(&dyn ReceiptStore)) {
                let dir = tempfile::tempdir().unwrap();
                check(&*open(dir.path()));
            }

            #[test]
            fn appends_chain_and_lists() {
                with_store(suite::appends_chain_and_lists);
            }

            #[test]
            fn resolves_ids_and_prefixes() {
                with_store(suite::resolves_ids_and_prefixes);
            }

            #[test]
            fn refuses_broken_links() {
                with_store(suite::refuses_broken_links);
            }

            #[test]
            fn imports_foreign_receipts() {
                with_store(suite::imports_foreign_receipts);
            }

            #[test]
            fn round_trips_blobs() {
                with_store(suite::round_trips_blobs);
            }

            #[test]
            fn keeps_mothers_apart() {
                with_store(suite::keeps_mothers_apart);
            }

            #[test]
            fn seals_outside_the_write_lock() {
                with_store(suite::seals_outside_the_write_lock);
            }

            #[test]
            fn appends_from_threads() {
                with_store(suite::appends_from_threads);
            }

            #[test]
            fn appends_batches() {
                with_store(suite::appends_batches);
            }

            #[test]
            fn lists_by_caller() {
                with_store(suite::lists_by_caller);
            }

            #[test]
            fn lists_by_children() {
                with_store(suite::lists_by_children);
            }

            #[test]
            fn survives_reopen() {
                let dir = tempfile::tempdir().unwrap();
                suite::survives_reopen(dir.path(), &open);
            }
        }
    };
}
pub(crate) use conformance_suite;

/// A batch appends in order on one chain; a refused item (sealed by another
/// Mother) leaves the others, and the next one links past it.
pub fn appends_batches(store: &dyn ReceiptStore) {
    let me = identity(1);
    let other = identity(2);
    let first = append(store, &me, 1);
    let mut heads = Vec::new();
    let mut a = |head| {
        heads.push(head);
        sealed(&me, transcript(2), head)
    };
    let mut wrong = |head| sealed(&other, transcript(3), head);
    let mut c = |head| sealed(&me, transcript(4), head);
    let mut batch = [
        super::BatchItem {
            seal: &mut a,
            blobs: &[],
            sealed: None,
        },
        super::BatchItem {
            seal: &mut wrong,
            blobs: &[],
            sealed: None,
        },
        super::BatchItem {
            seal: &mut c,
            blobs: &[],
            sealed: None,
        },
    ];
    let results = store.append_batch(&me.id(), &mut batch);
    assert_eq!(results.len(), 3);
    let second = results[0].as_ref().unwrap().clone();
    assert!(
        matches!(results[1], Err(ReceiptError::Chain { .. })),
        "{:?}",
        results[1]
    );
    let third = results[2].as_ref().unwrap().clone();
    assert_eq!(heads, vec![Some(first.id)]);
    assert_eq!(second.previous, Some(first.id));
    assert_eq!(third.previous, Some(second.id));
    assert_eq!(store.head(&me.id()).unwrap(), Some(third.id));
    assert_eq!(store.verify_chain(&me.id()).unwrap(), 3);
    assert_eq!(store.head(&other.id()).unwrap(), None);
}

/// A transcript of the test vector's shape, distinct for each `fuel`.
pub fn transcript(fuel: u64) -> Transcript {
    let mut transcript = crate::canonical::tests_support::transcript();
    transcript.fuel = fuel;
    transcript.call.args = vec![format!("\"run {fuel}\"")];
    transcript
}

/// The identity with seed `[n; 32]`.
pub fn identity(n: u8) -> Identity {
    Identity::from_seed([n; 32])
}

/// A receipt of `identity` sealing `transcript` after `previous`.
pub fn sealed(identity: &Identity, transcript: Transcript, previous: Option<ReceiptId>) -> Receipt {
    let t = T0 + transcript.fuel;
    seal(transcript, identity, t, t + 1, previous)
}

/// Appends `transcript` to `identity`'s chain, checking the head it was given.
pub fn append_with(
    store: &dyn ReceiptStore,
    identity: &Identity,
    transcript: Transcript,
    blobs: &[Blob],
) -> Receipt {
    let expected = store.head(&identity.id()).unwrap();
    let mut given = Vec::new();
    let mut seal = |head| {
        given.push(head);
        sealed(identity, transcript.clone(), head)
    };
    let receipt = store.append(&identity.id(), &mut seal, blobs).unwrap();
    assert_eq!(given, vec![expected], "seal is called once, with the head");
    receipt
}

/// Appends a run with `fuel` to `identity`'s chain.
pub fn append(store: &dyn ReceiptStore, identity: &Identity, fuel: u64) -> Receipt {
    append_with(store, identity, transcript(fuel), &[])
}

pub fn ids(receipts: &[Receipt]) -> Vec<ReceiptId> {
    receipts.iter().map(|r| r.id).collect()
}

/// The ids `list` gives for this filter.
pub fn list(
    store: &dyn ReceiptStore,
    child: Option<ChildId>,
    limit: Option<usize>,
) -> Vec<ReceiptId> {
    ids(&store
        .list(&ListFilter {
            child,
            limit,
            ..ListFilter::default()
        })
        .unwrap())
}

/// Three receipts on `identity`'s chain: the first and the third of one
/// child, the second of another.
pub fn three_runs_of_two_children(store: &dyn ReceiptStore, identity: &Identity) -> [Receipt; 3] {
    let r1 = append(store, identity, 1);
    let mut t2 = transcript(2);
    t2.child = ChildId::of(b"other child");
    let r2 = append_with(store, identity, t2, &[]);
    let r3 = append(store, identity, 3);
    [r1, r2, r3]
}

/// A transcript whose stdout is a blob, and that blob.
pub fn transcript_with_blob(fuel: u64) -> (Transcript, Blob) {
    let mut blobs = Vec::new();
    let mut transcript = transcript(fuel);
    let big = format!("{fuel} ").repeat(crate::INLINE_LIMIT);
    transcript.outcome.stdout = Payload::of_text(&big, &mut blobs);
    (transcript, blobs.remove(0))
}

/// Three receipts: links, head, list order / limit / child filter, get.
pub fn appends_chain_and_lists(store: &dyn ReceiptStore) {
    let alice = identity(1);
    assert_eq!(store.head(&alice.id()).unwrap(), None);
    assert_eq!(store.verify_chain(&alice.id()).unwrap(), 0);
    assert!(store.list(&ListFilter::default()).unwrap().is_empty());

    let [r1, r2, r3] = three_runs_of_two_children(store, &alice);
    let other = r2.transcript.child;
    assert_eq!(
        (r1.previous, r2.previous, r3.previous),
        (None, Some(r1.id), Some(r2.id))
    );
    assert_eq!(store.head(&alice.id()).unwrap(), Some(r3.id));

    assert_eq!(
        list(store, None, None),
        vec![r3.id, r2.id, r1.id],
        "newest first"
    );
    assert_eq!(list(store, None, Some(2)), vec![r3.id, r2.id]);
    assert_eq!(list(store, None, Some(0)), vec![]);
    assert_eq!(list(store, Some(other), None), vec![r2.id]);
    assert_eq!(
        list(store, Some(r1.transcript.child), None),
        vec![r3.id, r1.id]
    );
    assert_eq!(list(store, Some(r1.transcript.child), Some(1)), vec![r3.id]);
    assert_eq!(list(store, Some(ChildId::of(b"never ran")), None), vec![]);

    assert_eq!(store.get(&r2.id).unwrap(), Some(r2.clone()));
    assert_eq!(
        store
            .get(&ReceiptId(Digest::of("test", b"absent")))
            .unwrap(),
        None
    );
    assert_eq!(store.verify_chain(&alice.id()).unwrap(), 3);
}

/// A sealed receipt that does not extend the chain is refused; nothing changes.
pub fn refuses_broken_links(store: &dyn ReceiptStore) {
    let (alice, bob) = (identity(1), identity(2));
    let r1 = append(store, &alice, 1);
    let stray = ReceiptId(Digest::of("test", b"stray"));
    let refuse = |seal: &mut dyn FnMut(Option<ReceiptId>) -> Receipt, blobs: &[Blob]| {
        store.append(&alice.id(), seal, blobs).unwrap_err()
    };

    let err = refuse(&mut |_| sealed(&alice, transcript(2), None), &[]);
    assert!(matches!(err, ReceiptError::Chain { .. }), "{err:?}");
    let err = refuse(&mut |_| sealed(&alice, transcript(2), Some(stray)), &[]);
    assert!(matches!(err, ReceiptError::Chain { .. }), "{err:?}");
    let err = refuse(&mut |head| sealed(&bob, transcript(2), head), &[]);
    assert!(
        matches!(err, ReceiptError::Chain { .. }),
        "another Mother's receipt: {err:?}"
    );
    let mut tampered = |head| {
        let mut r = sealed(&alice, transcript(2), head);
        r.transcript.fuel += 1;
        r
    };
    assert!(matches!(
        refuse(&mut tampered, &[]),
        ReceiptError::Tampered { .. }
    ));
    let (with_blob, blob) = transcript_with_blob(2);
    let err = refuse(&mut |head| sealed(&alice, with_blob.clone(), head), &[]);
    assert!(matches!(err, ReceiptError::Blob(d) if d == blob.digest.to_string()));
    let damaged = Blob {
        digest: blob.digest,
        bytes: b"not it".to_vec(),
    };
    let err = refuse(
        &mut |head| sealed(&alice, with_blob.clone(), head),
        &[damaged],
    );
    assert!(matches!(err, ReceiptError::Blob(_)), "{err:?}");
    let err = store
        .append(
            &bob.id(),
            &mut |_| sealed(&bob, transcript(3), Some(r1.id)),
            &[],
        )
        .unwrap_err();
    assert!(
        matches!(err, ReceiptError::Chain { .. }),
        "a first receipt follows nothing: {err:?}"
    );

    assert_eq!(store.head(&alice.id()).unwrap(), Some(r1.id));
    assert_eq!(store.head(&bob.id()).unwrap(), None);
    assert_eq!(list(store, None, None), vec![r1.id]);
    assert_eq!(
        store.blob(&blob.digest).unwrap(),
        None,
        "a refused append stores no blob"
    );
    assert_eq!(store.verify_chain(&alice.id()).unwrap(), 1);
    assert_eq!(
        append(store, &alice, 2).previous,
        Some(r1.id),
        "the chain goes on"
    );
}

/// Two Mothers appending in turn keep two separate chains.
pub fn keeps_mothers_apart(store: &dyn ReceiptStore) {
    let (alice, bob) = (identity(1), identity(2));
    let a1 = append(store, &alice, 1);
    let b1 = append(store, &bob, 1);
    let a2 = append(store, &alice, 2);
    let b2 = append(store, &bob, 2);
    assert_eq!((a1.previous, a2.previous), (None, Some(a1.id)));
    assert_eq!((b1.previous, b2.previous), (None, Some(b1.id)));
    assert_eq!(store.head(&alice.id()).unwrap(), Some(a2.id));
    assert_eq!(store.head(&bob.id()).unwrap(), Some(b2.id));
    assert_eq!(store.verify_chain(&alice.id()).unwrap(), 2);
    assert_eq!(store.verify_chain(&bob.id()).unwrap(), 2);
    assert_eq!(list(store, None, None), vec![b2.id, a2.id, b1.id, a1.id]);
}

/// The receipt is sealed and verified with no write lock held, and the head
/// is checked again inside it: a seal that itself appends to the chain (as
/// another writer would, meanwhile) neither deadlocks nor forks the chain —
/// the append seals again on the new head, and after
/// [`OPTIMISTIC_TRIES`](super::OPTIMISTIC_TRIES) lost races it seals inside
/// the lock (where this seal, appending no more, cannot race).
pub fn seals_outside_the_write_lock(store: &dyn ReceiptStore) {
    let alice = identity(1);
    let r1 = append(store, &alice, 1);
    let tries = super::OPTIMISTIC_TRIES;
    let mut given = Vec::new();
    let mut racers = Vec::new();
    let receipt = store
        .append(
            &alice.id(),
            &mut |head| {
                given.push(head);
                if given.len() < tries {
                    racers.push(append(store, &alice, 10 + given.len() as u64));
                }
                sealed(&alice, transcript(2), head)
            },
            &[],
        )
        .unwrap();
    assert_eq!(racers.len(), tries - 1);
    let mut heads = vec![Some(r1.id)];
    heads.extend(racers.iter().map(|r| Some(r.id)));
    assert_eq!(given, heads, "sealed again on each head a racer made");
    assert_eq!(receipt.previous, racers.last().map(|r| r.id));
    assert_eq!(store.head(&alice.id()).unwrap(), Some(receipt.id));
    assert_eq!(
        store.verify_chain(&alice.id()).unwrap(),
        2 + tries as u64 - 1
    );
}

/// Threads sharing one handle append to one Mother's chain: it stays linear.
pub fn appends_from_threads(store: &dyn ReceiptStore) {
    let alice = identity(1);
    std::thread::scope(|scope| {
        for thread in 0..4u64 {
            let alice = &alice;
            scope.spawn(move || {
                for n in 0..10 {
                    let t = transcript(100 * thread + n);
                    store
                        .append(&alice.id(), &mut |head| sealed(alice, t.clone(), head), &[])
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(store.verify_chain(&alice.id()).unwrap(), 40);
    assert_eq!(list(store, None, None).len(), 40);
}

/// Everything written is there after the store is closed and reopened.
pub fn survives_reopen(dir: &Path, open: &dyn Fn(&Path) -> Box<dyn ReceiptStore>) {
    let (alice, stranger) = (identity(1), identity(9));
    let (with_blob, blob) = transcript_with_blob(4);
    let foreign = sealed(&stranger, with_blob, None);
    let before = {
        let store = open(dir);
        for fuel in 1..=3 {
            append(&*store, &alice, fuel);
        }
        assert!(store.import(&foreign, std::slice::from_ref(&blob)).unwrap());
        store.list(&ListFilter::default()).unwrap()
    };
    let store = open(dir);
    assert_eq!(store.list(&ListFilter::default()).unwrap(), before);
    assert_eq!(store.head(&alice.id()).unwrap(), Some(before[1].id));
    assert_eq!(store.verify_chain(&alice.id()).unwrap(), 3);
    assert_eq!(store.get(&foreign.id).unwrap(), Some(foreign));
    assert_eq!(store.blob(&blob.digest).unwrap(), Some(blob.bytes));
    assert_eq!(
        store.resolve(&before[1].id.hex()[..8]).unwrap(),
        before[1].id
    );
    let r4 = append(&*store, &alice, 5);
    assert_eq!(r4.previous, Some(before[1].id));
    drop(store);
    assert_eq!(open(dir).verify_chain(&alice.id()).unwrap(), 4);
}
