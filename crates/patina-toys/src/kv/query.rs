//! Read-only SQL on a granted SQLite file: one statement, bound parameters,
//! at most [`MAX_ROWS`] rows and [`MAX_QUERY_TIME`] of work.
//!
//! The file is opened read-only without following a symlink, with
//! `query_only`, defensive mode, an untrusted schema, no attached databases
//! and an authorizer that admits reading only. A query must never write,
//! attach another file, load an extension or change a setting of the file.
//! Everything here blocks: call it from `spawn_blocking`.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OpenFlags};

/// Most rows a query answers with.
pub const MAX_ROWS: usize = 10_000;
/// Most bytes of values (text and blobs) a query answers with.
pub const MAX_ANSWER_BYTES: usize = 64 << 20;
/// Longest string or blob SQLite may make while answering.
const MAX_LENGTH: i32 = 16 << 20;
/// Longest a query may run.
pub const MAX_QUERY_TIME: Duration = Duration::from_secs(10);
/// SQLite virtual machine steps between two checks of the clock.
const PROGRESS_STEPS: i32 = 1_000;

/// The answer to a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// Column names.
    pub columns: Vec<String>,
    /// The rows, each with one value per column.
    pub rows: Vec<Vec<Value>>,
}

/// Pragmas that only report, and take an argument naming what to report on.
const REPORTING_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
];

/// Pragmas that read a setting, admitted only without a value (no `= x`).
const SETTING_PRAGMAS: &[&str] = &[
    "user_version",
    "schema_version",
    "application_id",
    "page_size",
    "page_count",
    "freelist_count",
    "encoding",
];

/// Functions a query may not call even though SQLite knows them.
const FORBIDDEN_FUNCTIONS: &[&str] = &[
    "load_extension",
    "fts3_tokenizer",
    "readfile",
    "writefile",
    "edit",
];

/// What the authorizer admits: reading, nothing else.
fn authorize(ctx: AuthContext<'_>) -> Authorization {
    match ctx.action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => {
            Authorization::Allow
        }
        AuthAction::Function { function_name } => {
            if FORBIDDEN_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(function_name))
            {
                Authorization::Deny
            } else {
                Authorization::Allow
            }
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let is = |list: &[&str]| list.iter().any(|p| p.eq_ignore_ascii_case(pragma_name));
            if is(REPORTING_PRAGMAS) || (is(SETTING_PRAGMAS) && pragma_value.is_none()) {
                Authorization::Allow
            } else {
                Authorization::Deny
            }
        }
        _ => Authorization::Deny,
    }
}

/// Opens the granted file `path` for reading only, with every guard set and
/// `budget` of time for the work.
fn open(path: &Path, budget: Duration) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let mut conn = Connection::open_with_flags(path, flags)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_LENGTH)?;
    conn.authorizer(Some(authorize))?;
    let deadline = Instant::now() + budget;
    conn.progress_handler(PROGRESS_STEPS, Some(move || Instant::now() > deadline))?;
    Ok(conn)
}

/// Runs the one read-only statement `sql` with `params` on the file at `path`,
/// stopping it after `budget` (the toy uses [`MAX_QUERY_TIME`]). Every
/// failure is a message for the child.
pub fn query(path: &Path, sql: &str, params: Vec<Value>, budget: Duration) -> Result<Rows, String> {
    let conn = open(path, budget).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let timed_out = |e: rusqlite::Error| {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) {
            format!("the query ran longer than {budget:?} and was stopped")
        } else {
            format!("query failed: {e}")
        }
    };
    let mut stmt = conn.prepare(sql).map_err(|e| match e {
        rusqlite::Error::MultipleStatement => "a query is exactly one statement".to_owned(),
        e => format!("query refused: {e}"),
    })?;
    if !stmt.readonly() {
        return Err("query refused: only reading statements are allowed".to_owned());
    }
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let width = columns.len();
    let mut cursor = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(timed_out)?;
    let mut rows = Vec::new();
    let mut bytes = 0usize;
    while let Some(row) = cursor.next().map_err(timed_out)? {
        if rows.len() == MAX_ROWS {
            return Err(format!(
                "the query returned more than {MAX_ROWS} rows; narrow it (LIMIT, WHERE)"
            ));
        }
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            let value = match row.get_ref(i).map_err(timed_out)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Integer(n),
                ValueRef::Real(x) => Value::Real(x),
                ValueRef::Text(t) => {
                    bytes += t.len();
                    Value::Text(String::from_utf8_lossy(t).into_owned())
                }
                ValueRef::Blob(b) => {
                    bytes += b.len();
                    Value::Blob(b.to_vec())
                }
            };
            values.push(value);
        }
        if bytes > MAX_ANSWER_BYTES {
            return Err(format!(
                "the query's answer is larger than {MAX_ANSWER_BYTES} bytes; narrow it"
            ));
        }
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}
