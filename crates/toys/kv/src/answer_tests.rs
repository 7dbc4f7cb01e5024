//! Unit tests of the bounds on a query's answer (columns, cells, bytes, one
//! value's length; a value over the budget refused before it is copied) and of
//! `query` on a WAL-mode database (content unchanged, writes still refused).

use super::query::{
    CELL_COST, MAX_ANSWER_BYTES, MAX_CELLS, MAX_COLUMNS, MAX_LENGTH, MAX_QUERY_TIME, QueryError,
};
use super::tests::*;
use super::*;

use rusqlite::Connection;

/// `SELECT` of `n` columns `expr AS c0, expr AS c1, ...`.
fn select_columns(n: usize, expr: &str) -> String {
    let columns: Vec<String> = (0..n).map(|i| format!("{expr} AS c{i}")).collect();
    format!("SELECT {}", columns.join(", "))
}

/// `SELECT expr` over `rows` rows of a recursive CTE.
fn select_rows(rows: usize, expr: &str) -> String {
    format!(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT {rows}) \
         SELECT {expr} FROM n"
    )
}

fn run(db: &Path, sql: &str, params: Vec<Value>) -> Result<query::Rows, QueryError> {
    query::query(db, sql, params, MAX_QUERY_TIME)
}

#[test]
fn the_bounds_are_the_reviewed_ones() {
    assert_eq!(MAX_ANSWER_BYTES, 4 << 20);
    assert_eq!(MAX_COLUMNS, 256);
    assert_eq!(MAX_CELLS, 50_000);
    assert_eq!(CELL_COST, 64);
    assert_eq!(MAX_LENGTH, 1 << 20);
}

#[test]
fn rows_are_at_most_256_columns_wide() {
    let f = fixture();
    let db = f.database("data.db");
    let rows = run(&db, &select_columns(MAX_COLUMNS, "1"), vec![]).unwrap();
    assert_eq!(rows.columns.len(), MAX_COLUMNS);
    let e = run(&db, &select_columns(MAX_COLUMNS + 1, "1"), vec![]).unwrap_err();
    assert!(
        matches!(&e, QueryError::Invalid(m) if m.contains("too many columns")),
        "{e:?}"
    );
    // A wider table stays readable by naming columns, but not with `*`.
    let wide = f.dir.path().join("wide.db");
    let conn = Connection::open(&wide).unwrap();
    let columns: Vec<String> = (0..300).map(|i| format!("c{i}")).collect();
    conn.execute_batch(&format!(
        "CREATE TABLE w ({}); INSERT INTO w (c0, c299) VALUES (1, 2);",
        columns.join(", ")
    ))
    .unwrap();
    drop(conn);
    let rows = run(&wide, "SELECT c0, c299 FROM w", vec![]).unwrap();
    assert_eq!(rows.rows, vec![vec![Value::Integer(1), Value::Integer(2)]]);
    let e = run(&wide, "SELECT * FROM w", vec![]).unwrap_err();
    assert!(
        matches!(&e, QueryError::Invalid(m) if m.contains("too many columns")),
        "{e:?}"
    );
}

#[test]
fn answers_are_at_most_max_cells_values() {
    let f = fixture();
    let db = f.database("data.db");
    // Exactly the cap: 10,000 rows x 5 integer columns.
    let rows = run(&db, &select_rows(10_000, "x, x, x, x, x"), vec![]).unwrap();
    assert_eq!(rows.rows.len() * rows.columns.len(), MAX_CELLS);
    // One more column: refused at the row that would pass it.
    let e = run(&db, &select_rows(10_000, "x, x, x, x, x, x"), vec![]).unwrap_err();
    assert_eq!(e, QueryError::TooManyCells);
    // 10,000 rows x 256 integer columns (the reviewed 755 MB answer).
    let wide = select_columns(MAX_COLUMNS, "x").replace("SELECT ", "");
    let e = run(&db, &select_rows(10_000, &wide), vec![]).unwrap_err();
    assert_eq!(e, QueryError::TooManyCells);
}

#[test]
fn every_value_costs_its_cell_on_top_of_its_bytes() {
    let f = fixture();
    let db = f.database("data.db");
    // Four values of exactly a quarter of the budget, counting their cells.
    let quarter = (MAX_ANSWER_BYTES / 4 - CELL_COST) as i64;
    let sql = select_rows(4, "zeroblob(?1)");
    let rows = run(&db, &sql, vec![Value::Integer(quarter)]).unwrap();
    assert_eq!(rows.rows.len(), 4);
    // One byte more each: the fourth value no longer fits (it would without
    // the cell cost).
    let e = run(&db, &sql, vec![Value::Integer(quarter + 1)]).unwrap_err();
    assert_eq!(e, QueryError::AnswerTooLarge { row: 3, column: 0 });
    // Text counts the same way.
    let text = select_rows(5, "printf('%.*c', ?1, 'x')");
    let e = run(&db, &text, vec![Value::Integer(quarter)]).unwrap_err();
    assert_eq!(e, QueryError::AnswerTooLarge { row: 4, column: 0 });
}

#[test]
fn a_big_value_is_refused_before_it_is_copied() {
    let f = fixture();
    let db = f.database("data.db");
    // 20 columns of 1 MiB random blobs (the reviewed 616 MB row): refused at
    // the value that passes the budget, naming its column, so no later value
    // of the row was copied.
    let sql = select_columns(20, &format!("randomblob({})", MAX_LENGTH - CELL_COST));
    let e = run(&db, &sql, vec![]).unwrap_err();
    assert_eq!(e, QueryError::AnswerTooLarge { row: 0, column: 4 });
    // No single value may be longer than MAX_LENGTH, made or read.
    let e = run(&db, &format!("SELECT zeroblob({})", MAX_LENGTH + 1), vec![]).unwrap_err();
    assert!(
        matches!(&e, QueryError::Failed(m) if m.contains("too big")),
        "{e:?}"
    );
    let e = run(&db, "SELECT zeroblob(16000000)", vec![]).unwrap_err();
    assert!(matches!(e, QueryError::Failed(_)), "{e:?}");
    let stored = f.dir.path().join("big.db");
    let conn = Connection::open(&stored).unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE b (id, data); INSERT INTO b VALUES (1, zeroblob({}));",
        MAX_LENGTH + 1
    ))
    .unwrap();
    drop(conn);
    let e = run(&stored, "SELECT data FROM b", vec![]).unwrap_err();
    assert!(matches!(e, QueryError::Failed(_)), "{e:?}");
    assert_eq!(
        run(&stored, "SELECT id FROM b", vec![]).unwrap().rows,
        vec![vec![Value::Integer(1)]]
    );
}

#[tokio::test]
async fn a_wal_database_is_read_unchanged_and_writes_are_still_refused() {
    let f = fixture();
    let path = f.dir.path().join("wal.db");
    let writer = Connection::open(&path).unwrap();
    let mode: String = writer
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    writer
        .execute_batch(
            "PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO t (name) VALUES ('ann'), ('bob');",
        )
        .unwrap();
    let path = std::fs::canonicalize(path).unwrap();
    let wal = path.with_file_name("wal.db-wal");
    let (db_before, wal_before) = (std::fs::read(&path).unwrap(), std::fs::read(&wal).unwrap());
    assert!(!wal_before.is_empty(), "the rows are still in the WAL");
    let mut kv = f.instance(b"child", &[&format!("kv:{}", path.display())]);
    // Rows still in the WAL (a writer is open) are read.
    let answer = query(&mut kv, "", "SELECT name FROM t ORDER BY id", vec![]).await;
    assert!(format!("{answer:?}").contains("bob"), "{answer:?}");
    for sql in ["INSERT INTO t (name) VALUES ('eve')", "DELETE FROM t"] {
        let e = run(&path, sql, vec![]).unwrap_err();
        assert!(matches!(e, QueryError::Denied(_)), "{sql}: {e:?}");
    }
    let e = run(&path, "VACUUM", vec![]).unwrap_err();
    assert_eq!(e, QueryError::NotReadOnly);
    assert!(matches!(
        run(&path, "PRAGMA wal_checkpoint(TRUNCATE)", vec![]).unwrap_err(),
        QueryError::Denied(_)
    ));
    assert_eq!(std::fs::read(&path).unwrap(), db_before);
    assert_eq!(std::fs::read(&wal).unwrap(), wal_before);
    // With the writer gone (it checkpoints and removes its side files), a
    // query may create `-wal`/`-shm` again, but the database is unchanged.
    drop(writer);
    let db_before = std::fs::read(&path).unwrap();
    let answer = query(&mut kv, "", "SELECT count(*) FROM t", vec![]).await;
    assert!(format!("{answer:?}").contains("S64(2)"), "{answer:?}");
    err_text(&query(&mut kv, "", "UPDATE t SET name = 'eve'", vec![]).await);
    assert_eq!(std::fs::read(&path).unwrap(), db_before);
    assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0);
    let check = Connection::open(&path).unwrap();
    let names: Vec<String> = check
        .prepare("SELECT name FROM t ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, ["ann", "bob"]);
}
