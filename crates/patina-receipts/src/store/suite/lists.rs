//! The conformance checks about listing receipts by whom and what they
//! were for: by the caller a header names, and by a set of children. Part
//! of the shared [suite](super); test support only, and it must never
//! depend on a particular backend.

use patina_core::ChildId;

use super::{T0, identity, ids, three_runs_of_two_children, transcript};
use crate::store::{ListFilter, ReceiptStore};

/// Receipts are listed by the caller their header names: local runs and
/// imported ones, never a receipt of another caller or of none.
pub fn lists_by_caller(store: &dyn ReceiptStore) {
    use crate::canonical::{Header, seal_with};
    use crate::{Attribution, Caller};
    let me = identity(1);
    let caller = |id: &str| Attribution {
        caller: Some(Caller {
            id: id.into(),
            role: "agent".into(),
            door: "mcp".into(),
        }),
        approvals: Vec::new(),
    };
    let append_as = |fuel: u64, attribution: Attribution| {
        let mut seal = |head| {
            let header = Header {
                started_at_ms: T0,
                ended_at_ms: T0 + 1,
                attribution: attribution.clone(),
                ..Header::default()
            };
            seal_with(transcript(fuel), &me, &header, head)
        };
        store.append(&me.id(), &mut seal, &[]).unwrap()
    };
    let a1 = append_as(1, caller("token:a"));
    let _none = append_as(2, Attribution::default());
    let b = append_as(3, caller("token:b"));
    let a2 = append_as(4, caller("token:a"));
    let foreign = {
        let header = Header {
            started_at_ms: T0,
            ended_at_ms: T0 + 1,
            attribution: caller("token:a"),
            ..Header::default()
        };
        seal_with(transcript(5), &identity(9), &header, None)
    };
    assert!(store.import(&foreign, &[]).unwrap());
    let by = |caller: &str, limit| {
        ids(&store
            .list(&ListFilter {
                caller: Some(caller.into()),
                limit,
                ..ListFilter::default()
            })
            .unwrap())
    };
    assert_eq!(by("token:a", None), vec![foreign.id, a2.id, a1.id]);
    assert_eq!(by("token:a", Some(2)), vec![foreign.id, a2.id]);
    assert_eq!(by("token:b", None), vec![b.id]);
    assert!(by("token:c", None).is_empty());
    let a_and_child = store
        .list(&ListFilter {
            child: Some(a1.transcript.child),
            caller: Some("token:b".into()),
            ..ListFilter::default()
        })
        .unwrap();
    assert_eq!(ids(&a_and_child), vec![b.id]);
}

/// Receipts are listed by a set of children: each receipt once, newest
/// first, none for an empty set, children that never ran ignored.
pub fn lists_by_children(store: &dyn ReceiptStore) {
    let [r1, r2, r3] = three_runs_of_two_children(store, &identity(1));
    let other = r2.transcript.child;
    let of = |children: Vec<ChildId>, limit| {
        ids(&store
            .list(&ListFilter {
                children: Some(children),
                limit,
                ..ListFilter::default()
            })
            .unwrap())
    };
    let never = ChildId::of(b"never ran");
    let first = r1.transcript.child;
    assert_eq!(of(vec![first, other], None), vec![r3.id, r2.id, r1.id]);
    assert_eq!(of(vec![other, never], None), vec![r2.id]);
    assert_eq!(of(vec![first, first], Some(1)), vec![r3.id], "no copies");
    assert_eq!(of(Vec::new(), None), vec![], "no children: none");
}
