//! The own store's per-child quota: exact byte accounting by triggers, growth
//! past the quota refused as an answer, shrinking always allowed, children
//! counted apart, and a store made before the accounting existed backfilled.

use patina_core::ChildId;
use rusqlite::Connection;

use super::tests::{call, fixture, s, set};
use super::*;

fn usage(toy: &KvToy, child: &[u8]) -> u64 {
    toy.usage(&ChildId::of(child)).unwrap()
}

fn refusal(answer: &Val) -> &str {
    match answer {
        Val::Result(Err(Some(message))) => match message.as_ref() {
            Val::String(text) => text,
            other => panic!("{other:?}"),
        },
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test]
async fn usage_counts_namespace_key_and_value_bytes_through_every_write() {
    let world = fixture();
    let mut kv = world.instance(b"a", &["kv"]);
    assert_eq!(usage(&world.toy, b"a"), 0);
    set(&mut kv, "ns", "clé", b"12345").await;
    // "ns" 2 + "clé" 4 bytes (not 3 characters) + 5.
    assert_eq!(usage(&world.toy, b"a"), 11);
    set(&mut kv, "ns", "clé", b"12").await;
    assert_eq!(usage(&world.toy, b"a"), 8);
    set(&mut kv, "other", "k", b"xyz").await;
    assert_eq!(usage(&world.toy, b"a"), 8 + 9);
    call(&mut kv, "delete", &[s("ns"), s("clé")]).await;
    assert_eq!(usage(&world.toy, b"a"), 9);
    call(&mut kv, "clear", &[s("other")]).await;
    assert_eq!(usage(&world.toy, b"a"), 0);
}

#[tokio::test]
async fn growth_past_the_quota_is_refused_and_shrinking_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.sqlite");
    let toy = KvToy::open(path).unwrap().with_quota(100);
    let grants = vec!["kv".parse::<Grant>().unwrap()];
    let mut kv = toy
        .instantiate(&ToyContext::new(ChildId::of(b"a"), grants.clone()))
        .unwrap();
    set(&mut kv, "n", "k1", &[0; 60]).await;
    let answer = call(&mut kv, "set", &[s("n"), s("k2"), vals::bytes(&[0; 40])]).await;
    let message = refusal(&answer);
    assert!(
        message.contains("over the kv quota") && message.contains("the quota is 100"),
        "{message}"
    );
    // Nothing of the refused write was kept.
    assert_eq!(usage(&toy, b"a"), 63);
    assert_eq!(
        call(&mut kv, "get", &[s("n"), s("k2")]).await,
        vals::ok(Some(vals::option(None)))
    );
    // Exactly up to the quota is allowed.
    set(&mut kv, "n", "k2", &[0; 34]).await;
    assert_eq!(usage(&toy, b"a"), 100);
    // Another child has a quota of its own.
    let mut other = toy
        .instantiate(&ToyContext::new(ChildId::of(b"b"), grants.clone()))
        .unwrap();
    set(&mut other, "n", "k", &[0; 90]).await;

    // A lowered quota: over it, a write that grows is refused, one that
    // shrinks (or keeps the size) goes through.
    let toy = toy.with_quota(50);
    let mut kv = toy
        .instantiate(&ToyContext::new(ChildId::of(b"a"), grants))
        .unwrap();
    let answer = call(&mut kv, "set", &[s("n"), s("k1"), vals::bytes(&[1; 61])]).await;
    refusal(&answer);
    set(&mut kv, "n", "k1", &[1; 60]).await;
    set(&mut kv, "n", "k1", &[1; 10]).await;
    assert_eq!(usage(&toy, b"a"), 50);
}

#[tokio::test]
async fn two_handles_on_one_file_share_the_accounting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.sqlite");
    let first = KvToy::open(path.clone()).unwrap().with_quota(100);
    let second = KvToy::open(path).unwrap().with_quota(100);
    let grants = vec!["kv".parse::<Grant>().unwrap()];
    let ctx = ToyContext::new(ChildId::of(b"a"), grants);
    let mut one = first.instantiate(&ctx).unwrap();
    let mut two = second.instantiate(&ctx).unwrap();
    set(&mut one, "n", "a", &[0; 60]).await;
    let answer = call(&mut two, "set", &[s("n"), s("b"), vals::bytes(&[0; 60])]).await;
    refusal(&answer);
    assert_eq!(usage(&second, b"a"), 62);
}

#[test]
fn a_store_made_before_the_accounting_is_backfilled_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.sqlite");
    let child = ChildId::of(b"a").to_string();
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE kv (child TEXT NOT NULL, namespace TEXT NOT NULL, key TEXT NOT NULL,
                              value BLOB NOT NULL, PRIMARY KEY (child, namespace, key));",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO kv VALUES (?1, 'ns', 'k1', x'00010203'), (?1, 'ns', 'k2', x'')",
            [&child],
        )
        .unwrap();
    }
    let toy = KvToy::open(path.clone()).unwrap();
    // (2 + 2 + 4) + (2 + 2 + 0) bytes.
    assert_eq!(usage(&toy, b"a"), 12);
    drop(toy);
    // Opening again neither counts the rows twice nor loses them.
    let toy = KvToy::open(path).unwrap();
    assert_eq!(usage(&toy, b"a"), 12);
    assert_eq!(usage(&toy, b"b"), 0);
}
