//! Tests of the sled store: the shared conformance suite, plus tampering at
//! rest and the one-process rule. Never touches anything outside its
//! temporary dirs.

use std::path::Path;

use super::*;
use crate::store::suite::{append, identity};
use crate::verify;

crate::store::suite::conformance_suite!(|dir: &Path| open_sled(dir).unwrap());

#[test]
fn tampering_at_rest_is_caught_by_verification_not_by_get() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_sled(dir.path()).unwrap();
    let alice = identity(1);
    let r = [
        append(&store, &alice, 1),
        append(&store, &alice, 2),
        append(&store, &alice, 3),
    ];
    let body = store.receipts.get(r[1].id.0.0).unwrap().unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains(r#""fuel":2}"#), "{text}");
    store
        .receipts
        .insert(
            r[1].id.0.0,
            text.replace(r#""fuel":2}"#, r#""fuel":7}"#).as_bytes(),
        )
        .unwrap();

    let got = store.get(&r[1].id).unwrap().expect("get still returns it");
    assert_eq!(got.transcript.fuel, 7);
    assert!(matches!(verify(&got), Err(ReceiptError::Tampered { .. })));
    match store.verify_chain(&alice.id()) {
        Err(ReceiptError::Tampered { id, .. }) => assert_eq!(id, r[1].id.to_string()),
        other => panic!("expected tampering, got {other:?}"),
    }

    store
        .receipts
        .insert(r[1].id.0.0, &b"{\"version\":"[..])
        .unwrap();
    let err = store.get(&r[1].id).unwrap_err();
    assert!(
        matches!(&err, ReceiptError::Malformed(m) if m.contains(&r[1].id.to_string())),
        "{err:?}"
    );
    assert!(matches!(
        store.list(&ListFilter::default()),
        Err(ReceiptError::Malformed(_))
    ));
    store.receipts.remove(r[1].id.0.0).unwrap();
    assert!(matches!(
        store.verify_chain(&alice.id()),
        Err(ReceiptError::Chain { .. })
    ));
}

#[test]
fn a_second_handle_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _store = open_sled(dir.path()).unwrap();
    // Refused with its reason, after waiting a moment for the lock (a
    // handle just dropped lets go of it a little later).
    let Err(ReceiptError::Store(why)) = open_sled(dir.path()) else {
        panic!("a second handle was opened");
    };
    assert!(why.contains("another handle has it open"), "{why}");
}
