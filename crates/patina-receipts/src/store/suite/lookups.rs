//! The conformance checks about finding things again: ids and prefixes,
//! imported receipts, blobs. Part of the shared [suite](super); test support
//! only, and it must never depend on a particular backend.

use std::collections::HashMap;

use super::{append, append_with, identity, list, sealed, transcript, transcript_with_blob};
use crate::store::ReceiptStore;
use crate::{Blob, Digest, EventResult, Payload, Receipt, ReceiptError, ReceiptId};

/// Two receipts of a foreign Mother whose ids share their first 4 digits.
fn colliding_pair() -> (Receipt, Receipt) {
    let stranger = identity(9);
    let mut seen: HashMap<String, Receipt> = HashMap::new();
    for fuel in 1000.. {
        let receipt = sealed(&stranger, transcript(fuel), None);
        if let Some(first) = seen.remove(&receipt.id.hex()[..4]) {
            return (first, receipt);
        }
        seen.insert(receipt.id.hex()[..4].to_owned(), receipt);
    }
    unreachable!("the prefixes are only 65536")
}

/// Full ids, prefixes, ambiguous and unknown prefixes, bad text.
pub fn resolves_ids_and_prefixes(store: &dyn ReceiptStore) {
    let r = append(store, &identity(1), 1);
    let (x, y) = colliding_pair();
    assert!(store.import(&x, &[]).unwrap() && store.import(&y, &[]).unwrap());
    let all = [r.id, x.id, y.id];

    assert_eq!(store.resolve(&r.id.hex()).unwrap(), r.id);
    assert_eq!(store.resolve(&r.id.hex().to_uppercase()).unwrap(), r.id);
    let unique = |id: &ReceiptId| {
        let hex = id.hex();
        let len = (4..=64)
            .find(|&n| all.iter().filter(|o| o.matches_prefix(&hex[..n])).count() == 1)
            .unwrap();
        hex[..len].to_owned()
    };
    for id in &all {
        assert_eq!(store.resolve(&unique(id)).unwrap(), *id);
    }

    let shared = &x.id.hex()[..4];
    match store.resolve(shared) {
        Err(ReceiptError::Ambiguous { prefix, candidates }) => {
            assert_eq!(prefix, shared);
            assert!(
                candidates.contains(&x.id.hex()) && candidates.contains(&y.id.hex()),
                "{candidates:?}"
            );
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }

    let absent = ReceiptId(Digest::of("test", b"absent")).hex();
    assert!(matches!(store.resolve(&absent), Err(ReceiptError::NotFound(p)) if p == absent));
    let unused = (0..=0xffffu32)
        .map(|n| format!("{n:04x}"))
        .find(|p| !all.iter().any(|id| id.matches_prefix(p)))
        .unwrap();
    assert!(matches!(
        store.resolve(&unused),
        Err(ReceiptError::NotFound(_))
    ));

    let too_long = format!("{}0", r.id.hex());
    for bad in [
        "",
        "abc",
        "xyz1",
        "g000",
        "b3:abcd",
        " abcd",
        too_long.as_str(),
    ] {
        assert!(
            matches!(store.resolve(bad), Err(ReceiptError::BadId(t)) if t == bad),
            "{bad:?}"
        );
    }
}

/// Imports verify, need their blobs, join no chain, and happen once.
pub fn imports_foreign_receipts(store: &dyn ReceiptStore) {
    let (alice, stranger) = (identity(1), identity(9));
    let a1 = append(store, &alice, 1);
    let f1 = sealed(&stranger, transcript(11), None);
    let f2 = sealed(&stranger, transcript(12), Some(f1.id));

    assert!(
        store.import(&f2, &[]).unwrap(),
        "a receipt need not come with its predecessor"
    );
    assert!(store.import(&f1, &[]).unwrap());
    assert!(!store.import(&f1, &[]).unwrap(), "already there");
    assert!(
        !store.import(&a1, &[]).unwrap(),
        "a local receipt is already there"
    );
    assert_eq!(store.get(&f1.id).unwrap(), Some(f1.clone()));
    assert_eq!(
        store.head(&stranger.id()).unwrap(),
        None,
        "imports join no local chain"
    );
    assert_eq!(store.verify_chain(&stranger.id()).unwrap(), 0);
    assert_eq!(list(store, None, None), vec![f1.id, f2.id, a1.id]);

    let mut tampered = sealed(&stranger, transcript(13), None);
    tampered.transcript.events[0].result = EventResult::Ok(Payload::Text("(42)".into()));
    assert!(matches!(
        store.import(&tampered, &[]),
        Err(ReceiptError::Tampered { .. })
    ));
    assert_eq!(store.get(&tampered.id).unwrap(), None);

    let (with_blob, blob) = transcript_with_blob(14);
    let f4 = sealed(&stranger, with_blob, None);
    assert!(
        matches!(store.import(&f4, &[]), Err(ReceiptError::Blob(d)) if d == blob.digest.to_string())
    );
    let damaged = Blob {
        digest: blob.digest,
        bytes: b"not it".to_vec(),
    };
    assert!(matches!(
        store.import(&f4, &[damaged]),
        Err(ReceiptError::Blob(_))
    ));
    assert_eq!(store.get(&f4.id).unwrap(), None);
    assert!(store.import(&f4, std::slice::from_ref(&blob)).unwrap());
    assert_eq!(store.blob(&blob.digest).unwrap(), Some(blob.bytes.clone()));
    let mut same_blob = transcript(15);
    same_blob.outcome.stdout = f4.transcript.outcome.stdout.clone();
    let f5 = sealed(&stranger, same_blob, None);
    assert!(
        store.import(&f5, &[]).unwrap(),
        "a blob already stored counts"
    );

    assert_eq!(store.head(&alice.id()).unwrap(), Some(a1.id));
    assert_eq!(append(store, &alice, 2).previous, Some(a1.id));
    assert_eq!(store.verify_chain(&alice.id()).unwrap(), 2);
}

/// Large payloads go to blobs and come back byte for byte.
pub fn round_trips_blobs(store: &dyn ReceiptStore) {
    let alice = identity(1);
    let mut blobs = Vec::new();
    let mut again = transcript(2);
    let mut transcript = transcript(1);
    // Large enough to be written in chunks where a store does (a few MiB,
    // not a whole number of chunks), varied so a misplaced chunk shows.
    let result: Vec<u8> = (0..(3 << 20) + 5).map(|i| (i % 251) as u8).collect();
    transcript.events[0].result = EventResult::Ok(Payload::of_bytes(&result, &mut blobs));
    let stdout = "all work and no play ".repeat(500);
    transcript.outcome.stdout = Payload::of_text(&stdout, &mut blobs);
    let extra = Blob::new(b"not referenced, kept anyway".to_vec());
    blobs.push(extra.clone());

    let r = append_with(store, &alice, transcript, &blobs);
    let got = store.get(&r.id).unwrap().unwrap();
    assert_eq!(got, r);
    assert_eq!(got.references().len(), 2);
    let lookup = |d: &Digest| store.blob(d).unwrap();
    assert_eq!(
        got.transcript.outcome.stdout.bytes(lookup),
        Some(stdout.into_bytes())
    );
    let EventResult::Ok(payload) = &got.transcript.events[0].result else {
        panic!("an ok event")
    };
    assert_eq!(payload.bytes(lookup).as_ref(), Some(&result));
    assert_eq!(store.blob(&extra.digest).unwrap(), Some(extra.bytes));
    // The same large blob with a second receipt: stored once, still whole.
    again.events[0].result = EventResult::Ok(Payload::of_bytes(&result, &mut Vec::new()));
    let blob = Blob::new(result.clone());
    append_with(store, &alice, again, std::slice::from_ref(&blob));
    assert_eq!(store.blob(&blob.digest).unwrap(), Some(result));
    assert_eq!(store.blob(&Blob::digest(b"never stored")).unwrap(), None);
}
