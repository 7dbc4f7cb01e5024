//! Unit tests of the `kv` toy's own store: isolation between children,
//! namespaces, prefixes, limits and grants; shared fixtures for `query_tests`.

use patina_core::ChildId;
use rusqlite::Connection;
use tempfile::TempDir;

use super::store::{MAX_NAME, MAX_VALUE};
use super::*;

pub(super) struct Fixture {
    pub(super) dir: TempDir,
    pub(super) toy: KvToy,
}

pub(super) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let toy = KvToy::open(dir.path().join("state/kv.sqlite")).unwrap();
    Fixture { dir, toy }
}

impl Fixture {
    /// An instance for `child` under `grants` (canonicalised as the host would).
    pub(super) fn instance(&self, child: &[u8], grants: &[&str]) -> Box<dyn ToyInstance> {
        let mut canonical: Vec<Grant> = grants
            .iter()
            .map(|g| self.toy.canonicalize(&g.parse().unwrap()).unwrap())
            .collect();
        canonical.sort();
        canonical.dedup();
        self.toy.combine(&canonical).unwrap();
        self.toy
            .instantiate(&ToyContext::new(ChildId::of(child), canonical))
            .unwrap()
    }

    /// A database file with a table `t(id, name, score, data)` of three rows.
    pub(super) fn database(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB);
             INSERT INTO t VALUES (1, 'ann', 1.5, x'0102'), (2, 'bob', NULL, NULL), (3, 'cy', 3.0, x'');",
        )
        .unwrap();
        std::fs::canonicalize(path).unwrap()
    }
}

pub(super) fn s(text: &str) -> Val {
    Val::String(text.into())
}

pub(super) async fn call(kv: &mut Box<dyn ToyInstance>, function: &str, args: &[Val]) -> Val {
    let mut answer = kv.call(function, args).await.unwrap();
    assert_eq!(answer.len(), 1, "{function}: {answer:?}");
    answer.pop().unwrap()
}

pub(super) async fn set(kv: &mut Box<dyn ToyInstance>, ns: &str, key: &str, value: &[u8]) {
    let answer = call(kv, "set", &[s(ns), s(key), vals::bytes(value)]).await;
    assert_eq!(answer, vals::ok(None));
}

pub(super) async fn get(kv: &mut Box<dyn ToyInstance>, ns: &str, key: &str) -> Option<Vec<u8>> {
    match call(kv, "get", &[s(ns), s(key)]).await {
        Val::Result(Ok(Some(option))) => match *option {
            Val::Option(None) => None,
            Val::Option(Some(bytes)) => Some(
                match *bytes {
                    Val::List(items) => items,
                    other => panic!("{other:?}"),
                }
                .into_iter()
                .map(|b| match b {
                    Val::U8(b) => b,
                    other => panic!("{other:?}"),
                })
                .collect(),
            ),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

pub(super) async fn keys(kv: &mut Box<dyn ToyInstance>, ns: &str, prefix: &str) -> Val {
    call(kv, "keys", &[s(ns), s(prefix)]).await
}

pub(super) fn err_text(val: &Val) -> String {
    match val {
        Val::Result(Err(Some(message))) => match message.as_ref() {
            Val::String(m) => m.clone(),
            other => panic!("{other:?}"),
        },
        other => panic!("expected err, got {other:?}"),
    }
}

pub(super) fn value(case: &str, payload: Option<Val>) -> Val {
    Val::Variant(case.into(), payload.map(Box::new))
}

pub(super) async fn query(
    kv: &mut Box<dyn ToyInstance>,
    db: &str,
    sql: &str,
    params: Vec<Val>,
) -> Val {
    call(kv, "query", &[s(db), s(sql), Val::List(params)]).await
}

#[tokio::test]
async fn children_never_see_each_others_keys() {
    let f = fixture();
    let mut a = f.instance(b"child a", &["kv"]);
    let mut b = f.instance(b"child b", &["kv"]);
    set(&mut a, "ns", "k", b"from a").await;
    assert_eq!(get(&mut b, "ns", "k").await, None);
    assert_eq!(
        keys(&mut b, "ns", "").await,
        vals::ok(Some(vals::strings(Vec::<String>::new())))
    );
    set(&mut b, "ns", "k", b"from b").await;
    assert_eq!(get(&mut a, "ns", "k").await.unwrap(), b"from a");
    assert_eq!(get(&mut b, "ns", "k").await.unwrap(), b"from b");
    assert_eq!(
        call(&mut b, "clear", &[s("ns")]).await,
        vals::ok(Some(Val::U64(1)))
    );
    assert_eq!(get(&mut a, "ns", "k").await.unwrap(), b"from a");
    assert_eq!(
        call(&mut b, "delete", &[s("ns"), s("k")]).await,
        vals::ok(Some(Val::Bool(false)))
    );
    assert_eq!(get(&mut a, "ns", "k").await.unwrap(), b"from a");
    // The same child in a later run (a new instance) finds its keys again.
    let mut a_again = f.instance(b"child a", &["kv"]);
    assert_eq!(get(&mut a_again, "ns", "k").await.unwrap(), b"from a");
    // And a reopened store still has them.
    drop(f.toy);
    let reopened = KvToy::open(f.dir.path().join("state/kv.sqlite")).unwrap();
    let ctx = ToyContext::new(ChildId::of(b"child a"), vec!["kv".parse().unwrap()]);
    let mut a_later = reopened.instantiate(&ctx).unwrap();
    assert_eq!(get(&mut a_later, "ns", "k").await.unwrap(), b"from a");
}

#[tokio::test]
async fn namespaces_are_separate_and_keys_filter_by_prefix() {
    let f = fixture();
    let mut kv = f.instance(b"child", &["kv"]);
    for key in ["apple", "apricot", "banana", "ap", "a", "apz\u{e9}", "b"] {
        set(&mut kv, "fruit", key, key.as_bytes()).await;
    }
    set(&mut kv, "other", "apple", b"different").await;
    assert_eq!(
        keys(&mut kv, "fruit", "ap").await,
        vals::ok(Some(vals::strings(["ap", "apple", "apricot", "apz\u{e9}"])))
    );
    assert_eq!(
        keys(&mut kv, "fruit", "").await,
        vals::ok(Some(vals::strings([
            "a",
            "ap",
            "apple",
            "apricot",
            "apz\u{e9}",
            "b",
            "banana"
        ])))
    );
    assert_eq!(
        keys(&mut kv, "fruit", "c").await,
        vals::ok(Some(vals::strings(Vec::<String>::new())))
    );
    assert_eq!(
        keys(&mut kv, "other", "a").await,
        vals::ok(Some(vals::strings(["apple"])))
    );
    assert_eq!(get(&mut kv, "other", "apple").await.unwrap(), b"different");
    // Overwrite, delete, clear.
    set(&mut kv, "fruit", "apple", b"green").await;
    assert_eq!(get(&mut kv, "fruit", "apple").await.unwrap(), b"green");
    assert_eq!(
        call(&mut kv, "delete", &[s("fruit"), s("apple")]).await,
        vals::ok(Some(Val::Bool(true)))
    );
    assert_eq!(get(&mut kv, "fruit", "apple").await, None);
    assert_eq!(
        call(&mut kv, "clear", &[s("fruit")]).await,
        vals::ok(Some(Val::U64(6)))
    );
    assert_eq!(
        keys(&mut kv, "fruit", "").await,
        vals::ok(Some(vals::strings(Vec::<String>::new())))
    );
    assert_eq!(get(&mut kv, "other", "apple").await.unwrap(), b"different");
    // A prefix with LIKE/GLOB metacharacters is literal.
    set(&mut kv, "meta", "a%b", b"1").await;
    set(&mut kv, "meta", "axb", b"2").await;
    assert_eq!(
        keys(&mut kv, "meta", "a%").await,
        vals::ok(Some(vals::strings(["a%b"])))
    );
}

#[tokio::test]
async fn limits_are_answers() {
    let f = fixture();
    let mut kv = f.instance(b"child", &["kv"]);
    let long = "k".repeat(MAX_NAME + 1);
    let ok_len = "k".repeat(MAX_NAME);
    set(&mut kv, &ok_len, &ok_len, b"fits").await;
    assert!(
        err_text(&call(&mut kv, "set", &[s(&long), s("k"), vals::bytes(b"")]).await)
            .contains("namespace")
    );
    assert!(
        err_text(&call(&mut kv, "set", &[s("n"), s(&long), vals::bytes(b"")]).await)
            .contains("key")
    );
    assert!(err_text(&call(&mut kv, "get", &[s("n"), s(&long)]).await).contains("key"));
    // Values are at most 16 MiB, served by the typed `set`.
    let typed: &mut dyn std::any::Any = kv.as_mut();
    let typed = typed.downcast_mut::<KvInstance>().unwrap();
    let over = typed.set("n".into(), "k".into(), vec![7u8; MAX_VALUE + 1]);
    assert!(over.await.unwrap().unwrap_err().contains("value"));
    assert_eq!(typed.get("n".into(), "k".into()).await.unwrap(), Ok(None));
    let at = typed.set("n".into(), "k".into(), vec![7u8; MAX_VALUE]);
    assert_eq!(at.await.unwrap(), Ok(()));
}

#[tokio::test]
async fn a_full_or_busy_store_is_an_answer_and_the_run_goes_on() {
    let f = fixture();
    let mut kv = f.instance(b"child", &["kv"]);
    set(&mut kv, "n", "first", b"kept").await;
    // A child filling the store (here a page cap stands in for the disk).
    {
        let store = f.toy.store.get().unwrap();
        let conn = store.conn();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        conn.pragma_update(None, "max_page_count", pages + 4)
            .unwrap();
    }
    let mut full = None;
    for i in 0..100u8 {
        let args = [s("n"), s(&format!("k{i}")), vals::bytes(&[i; 3000])];
        let answer = call(&mut kv, "set", &args).await;
        if answer != vals::ok(None) {
            full = Some(err_text(&answer));
            break;
        }
    }
    let message = full.expect("the store fills up");
    assert!(message.contains("full"), "{message}");
    assert_eq!(get(&mut kv, "n", "first").await.unwrap(), b"kept");
    assert_eq!(
        call(&mut kv, "delete", &[s("n"), s("k0")]).await,
        vals::ok(Some(Val::Bool(true)))
    );
    // Another connection holding the write lock past the busy timeout.
    {
        let store = f.toy.store.get().unwrap();
        let conn = store.conn();
        conn.pragma_update(None, "max_page_count", 1_000_000)
            .unwrap();
        conn.busy_timeout(std::time::Duration::from_millis(50))
            .unwrap();
    }
    let other = Connection::open(f.dir.path().join("state/kv.sqlite")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let answer = call(&mut kv, "set", &[s("n"), s("late"), vals::bytes(b"v")]).await;
    assert!(err_text(&answer).contains("locked"), "{answer:?}");
    other.execute_batch("COMMIT").unwrap();
    set(&mut kv, "n", "late", b"v").await;
    assert_eq!(get(&mut kv, "n", "late").await.unwrap(), b"v");
}

#[tokio::test]
async fn the_own_store_needs_the_bare_grant_and_bad_calls_are_errors() {
    let f = fixture();
    let db = f.database("data.db");
    let mut kv = f.instance(b"child", &[&format!("kv:{}", db.display())]);
    for (function, args) in [
        ("get", vec![s("n"), s("k")]),
        ("set", vec![s("n"), s("k"), vals::bytes(b"v")]),
        ("delete", vec![s("n"), s("k")]),
        ("keys", vec![s("n"), s("")]),
        ("clear", vec![s("n")]),
    ] {
        assert!(
            err_text(&call(&mut kv, function, &args).await).contains("`kv`"),
            "{function}"
        );
    }
    assert!(matches!(
        kv.call("drop", &[]).await,
        Err(ToyError::NoSuchFunction { .. })
    ));
    assert!(matches!(
        kv.call("get", &[s("n")]).await,
        Err(ToyError::BadArguments { .. })
    ));
    assert!(matches!(
        kv.call(
            "query",
            &[s(""), s("SELECT 1"), Val::List(vec![Val::U32(1)])]
        )
        .await,
        Err(ToyError::BadArguments { .. })
    ));
    assert!(matches!(
        kv.call(
            "query",
            &[
                s(""),
                s("SELECT 1"),
                Val::List(vec![value("integer", Some(s("1")))])
            ]
        )
        .await,
        Err(ToyError::BadArguments { .. })
    ));
}

#[test]
fn grants_canonicalise_and_combine() {
    let f = fixture();
    let db = f.database("data.db");
    let toy = &f.toy;
    let bare: Grant = "kv".parse().unwrap();
    assert_eq!(toy.canonicalize(&bare).unwrap(), bare);
    let dotted = format!("kv:{}/./data.db", db.parent().unwrap().display());
    assert_eq!(
        toy.canonicalize(&dotted.parse().unwrap())
            .unwrap()
            .to_string(),
        format!("kv:{}", db.display())
    );
    let dir = format!("kv:{}", f.dir.path().display());
    let err = toy.canonicalize(&dir.parse().unwrap()).unwrap_err();
    assert!(err.to_string().contains("is not a regular file"), "{err}");
    let missing = format!("kv:{}/missing.db", f.dir.path().display());
    let err = toy.canonicalize(&missing.parse().unwrap()).unwrap_err();
    assert!(
        err.to_string().contains("cannot resolve the database file"),
        "{err}"
    );
    let other = f.database("other.db");
    let grants: Vec<Grant> = [
        "kv".to_owned(),
        format!("kv:{}", db.display()),
        format!("kv:{}", other.display()),
    ]
    .iter()
    .map(|g| g.parse().unwrap())
    .collect();
    assert!(toy.combine(&grants).is_ok());
}

/// Several handles opening one new store at once all succeed (as two
/// `mother` commands on a fresh home do): WAL switch and schema creation
/// are retried while another handle holds the lock.
#[test]
fn many_handles_open_a_new_store_at_once() {
    for _round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let kv = dir.path().join("kv.sqlite");
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| store::Store::open(&kv).unwrap());
            }
        });
    }
}
