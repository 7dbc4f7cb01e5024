//! Unit tests of `query`: parameters and types, refusals of writes, attach
//! and settings (each by the guard that must fire), granted paths, symlinks,
//! and row and time bounds. Answer-size bounds and WAL files: `answer_tests`.

use super::query::{MAX_QUERY_TIME, MAX_ROWS};
use super::tests::*;
use super::*;
use std::time::Duration;

use rusqlite::Connection;

#[tokio::test]
async fn query_with_params_maps_every_type() {
    let f = fixture();
    let db = f.database("data.db");
    let mut kv = f.instance(b"child", &[&format!("kv:{}", db.display()), "kv"]);
    let answer = query(
        &mut kv,
        "",
        "SELECT id, name, score, data FROM t WHERE id >= ?1 AND name != ?2 ORDER BY id",
        vec![
            value("integer", Some(Val::S64(1))),
            value("text", Some(s("cy"))),
        ],
    )
    .await;
    let expected = vals::ok(Some(vals::record([
        ("columns", vals::strings(["id", "name", "score", "data"])),
        (
            "rows",
            Val::List(vec![
                Val::List(vec![
                    value("integer", Some(Val::S64(1))),
                    value("text", Some(s("ann"))),
                    value("real", Some(Val::Float64(1.5))),
                    value("blob", Some(vals::bytes(&[1, 2]))),
                ]),
                Val::List(vec![
                    value("integer", Some(Val::S64(2))),
                    value("text", Some(s("bob"))),
                    value("null", None),
                    value("null", None),
                ]),
            ]),
        ),
    ])));
    assert_eq!(answer, expected);
    // Real, blob and null parameters bind too; by its canonical path as well.
    let answer = query(
        &mut kv,
        db.to_str().unwrap(),
        "SELECT ?1, ?2, ?3 IS NULL",
        vec![
            value("real", Some(Val::Float64(2.5))),
            value("blob", Some(vals::bytes(b"x"))),
            value("null", None),
        ],
    )
    .await;
    let Val::Result(Ok(Some(rows))) = answer else {
        panic!("{answer:?}")
    };
    let Val::Record(fields) = *rows else { panic!() };
    assert_eq!(
        fields[1].1,
        Val::List(vec![Val::List(vec![
            value("real", Some(Val::Float64(2.5))),
            value("blob", Some(vals::bytes(b"x"))),
            value("integer", Some(Val::S64(1))),
        ])])
    );
    // Reporting pragmas are fine.
    let answer = query(&mut kv, "", "PRAGMA table_info(t)", vec![]).await;
    assert!(matches!(answer, Val::Result(Ok(_))), "{answer:?}");
    // Wrong parameter counts and syntax errors are answers.
    err_text(&query(&mut kv, "", "SELECT ?1, ?2", vec![value("null", None)]).await);
    err_text(&query(&mut kv, "", "SELEC nonsense", vec![]).await);
}

#[tokio::test]
async fn query_refuses_writes_attach_and_settings() {
    use query::QueryError::{Denied, Invalid, MultipleStatements, NotReadOnly};
    let f = fixture();
    let db = f.database("data.db");
    let other = f.database("other.db");
    let before = std::fs::read(&db).unwrap();
    let copy = f.dir.path().join("copy.db");
    // Each attack with the guard that must stop it: the authorizer while
    // preparing, or (for statements it is never asked about) the read-only check.
    let attack = [
        (
            "INSERT INTO t (name) VALUES ('eve')".to_owned(),
            "authorizer",
        ),
        ("UPDATE t SET name = 'eve'".to_owned(), "authorizer"),
        ("DELETE FROM t".to_owned(), "authorizer"),
        ("DROP TABLE t".to_owned(), "authorizer"),
        ("CREATE TABLE u (x)".to_owned(), "authorizer"),
        ("CREATE TEMP TABLE u (x)".to_owned(), "authorizer"),
        (
            format!("ATTACH DATABASE '{}' AS o", other.display()),
            "authorizer",
        ),
        ("DETACH DATABASE main".to_owned(), "authorizer"),
        ("PRAGMA writable_schema = ON".to_owned(), "authorizer"),
        ("PRAGMA writable_schema".to_owned(), "authorizer"),
        ("PRAGMA query_only = OFF".to_owned(), "authorizer"),
        ("PRAGMA user_version = 7".to_owned(), "authorizer"),
        ("PRAGMA journal_mode = DELETE".to_owned(), "authorizer"),
        ("VACUUM".to_owned(), "read-only"),
        (format!("VACUUM INTO '{}'", copy.display()), "read-only"),
        ("BEGIN".to_owned(), "authorizer"),
        (
            "SELECT load_extension('/tmp/evil.so')".to_owned(),
            "authorizer",
        ),
        ("SELECT 1; DELETE FROM t".to_owned(), "authorizer"),
        ("SELECT 1; SELECT 2".to_owned(), "one statement"),
        (
            "WITH x AS (SELECT 1) INSERT INTO t (name) SELECT 'eve' FROM x".to_owned(),
            "authorizer",
        ),
    ];
    for (sql, guard) in &attack {
        let e = query::query(&db, sql, vec![], MAX_QUERY_TIME).unwrap_err();
        let fired = match &e {
            Denied(m) if m.contains("not authorized") => "authorizer",
            NotReadOnly => "read-only",
            MultipleStatements => "one statement",
            _ => "another",
        };
        assert_eq!(fired, *guard, "{sql}: {e:?}");
    }
    // A syntax error or an unknown table is an invalid query, not a refusal.
    for sql in ["SELEC nonsense", "SELECT * FROM missing", "INSERT INTO"] {
        let e = query::query(&db, sql, vec![], MAX_QUERY_TIME).unwrap_err();
        assert!(matches!(e, Invalid(_)), "{sql}: {e:?}");
        assert!(!e.to_string().contains("refused"), "{sql}: {e}");
    }
    // Through the toy, each is an `err` answer with the guard's message.
    let mut kv = f.instance(b"child", &[&format!("kv:{}", db.display())]);
    let message = err_text(&query(&mut kv, "", "DELETE FROM t", vec![]).await);
    assert!(message.contains("refused by the authorizer"), "{message}");
    let message = err_text(&query(&mut kv, "", "VACUUM", vec![]).await);
    assert!(message.contains("only read-only statements"), "{message}");
    let message = err_text(&query(&mut kv, "", "SELEC nonsense", vec![]).await);
    assert!(message.starts_with("invalid query"), "{message}");
    assert!(!copy.exists());
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the granted file is unchanged"
    );
    let answer = query(&mut kv, "", "SELECT count(*) FROM t", vec![]).await;
    let Val::Result(Ok(Some(rows))) = answer else {
        panic!("{answer:?}")
    };
    assert!(format!("{rows:?}").contains("S64(3)"));
}

#[tokio::test]
async fn only_granted_files_by_their_exact_canonical_path() {
    let f = fixture();
    let db = f.database("data.db");
    let secret = f.database("secret.db");
    let mut kv = f.instance(b"child", &[&format!("kv:{}", db.display()), "kv"]);
    let not_granted = [
        secret.display().to_string(),
        format!("{}/../{}", db.parent().unwrap().display(), "secret.db"),
        format!("{}/./data.db", db.parent().unwrap().display()),
        "data.db".to_owned(),
        f.dir.path().join("state/kv.sqlite").display().to_string(),
        ":memory:".to_owned(),
        format!("file:{}?mode=rw", db.display()),
    ];
    for name in &not_granted {
        let message = err_text(&query(&mut kv, name, "SELECT 1", vec![]).await);
        assert!(message.contains("not granted"), "{name}: {message}");
    }
    // With no file granted, nothing is queried.
    let mut bare = f.instance(b"child", &["kv"]);
    assert!(err_text(&query(&mut bare, "", "SELECT 1", vec![]).await).contains("no database"));
    // With two granted, `""` is ambiguous, each exact path works.
    let mut two = f.instance(
        b"child",
        &[
            &format!("kv:{}", db.display()),
            &format!("kv:{}", secret.display()),
        ],
    );
    assert!(err_text(&query(&mut two, "", "SELECT 1", vec![]).await).contains("several"));
    for path in [&db, &secret] {
        let answer = query(
            &mut two,
            path.to_str().unwrap(),
            "SELECT count(*) FROM t",
            vec![],
        )
        .await;
        assert!(matches!(answer, Val::Result(Ok(_))), "{answer:?}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_cannot_swap_the_granted_file() {
    let f = fixture();
    let db = f.database("data.db");
    let secret = f.database("secret.db");
    let secret_conn = Connection::open(&secret).unwrap();
    secret_conn
        .execute("UPDATE t SET name = 'SECRET'", [])
        .unwrap();
    drop(secret_conn);
    // A symlink granted is canonicalised to its target ...
    let link = f.dir.path().join("link.db");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let grant = f
        .toy
        .canonicalize(&format!("kv:{}", link.display()).parse().unwrap())
        .unwrap();
    assert_eq!(grant.to_string(), format!("kv:{}", db.display()));
    let mut kv = f.instance(b"child", &[&format!("kv:{}", link.display())]);
    // ... and the link's own path is not a granted name.
    let message = err_text(&query(&mut kv, link.to_str().unwrap(), "SELECT 1", vec![]).await);
    assert!(message.contains("not granted"), "{message}");
    // Swapping the granted file itself (the last path component) for a
    // symlink to another one after the grant is refused when the query opens it.
    std::fs::remove_file(&db).unwrap();
    std::os::unix::fs::symlink(&secret, &db).unwrap();
    let answer = query(&mut kv, "", "SELECT name FROM t", vec![]).await;
    assert!(!format!("{answer:?}").contains("SECRET"), "{answer:?}");
    assert!(err_text(&answer).starts_with("cannot open"), "{answer:?}");
    // SQLite's NOFOLLOW also refuses a symlink in any directory of the path
    // (SQLITE_CANTOPEN_SYMLINK): a parent directory swapped after the grant.
    let sub = f.dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let granted = f.database("sub/in.db");
    let mut kv = f.instance(b"child", &[&format!("kv:{}", granted.display())]);
    let elsewhere = f.dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::rename(&secret, elsewhere.join("in.db")).unwrap();
    std::fs::rename(&sub, f.dir.path().join("sub.old")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &sub).unwrap();
    let answer = query(&mut kv, "", "SELECT name FROM t", vec![]).await;
    assert!(!format!("{answer:?}").contains("SECRET"), "{answer:?}");
    assert!(err_text(&answer).starts_with("cannot open"), "{answer:?}");
}

#[test]
fn queries_are_bounded_in_rows_and_time() {
    let f = fixture();
    let db = f.database("data.db");
    let many =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT ?1) SELECT x FROM c";
    let rows = query::query(
        &db,
        many,
        vec![Value::Integer(MAX_ROWS as i64)],
        MAX_QUERY_TIME,
    )
    .unwrap();
    assert_eq!(rows.rows.len(), MAX_ROWS);
    let too_many = query::query(
        &db,
        many,
        vec![Value::Integer(MAX_ROWS as i64 + 1)],
        MAX_QUERY_TIME,
    );
    assert_eq!(too_many.unwrap_err(), query::QueryError::TooManyRows);
    let forever =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
    let started = std::time::Instant::now();
    let stopped = query::query(&db, forever, vec![], Duration::from_millis(200));
    assert_eq!(
        stopped.unwrap_err(),
        query::QueryError::Stopped(Duration::from_millis(200))
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}
