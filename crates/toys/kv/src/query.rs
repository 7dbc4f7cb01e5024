//! Read-only SQL on a granted SQLite file: one statement, bound parameters,
//! and a bounded answer: at most [`MAX_ROWS`] rows, [`MAX_COLUMNS`] columns,
//! [`MAX_CELLS`] values, [`MAX_ANSWER_BYTES`] of budget and [`MAX_QUERY_TIME`]
//! of work.
//!
//! The file is opened read-only without following a symlink in its last
//! path component, with `query_only`, defensive mode, an untrusted schema, no
//! attached databases and an authorizer that admits reading only. A query
//! must never write the database's content, attach another file, load an
//! extension or change a setting of the file (SQLite may still create the
//! `-wal`/`-shm` side files of a WAL database, see `docs/toys/kv.md`). An
//! answer becomes `Val`s costing ~40 bytes of host memory per blob byte, so
//! every value is charged to the budget BEFORE it is copied out of SQLite.
//! Everything here blocks: call it from `spawn_blocking`.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags};

/// Most rows a query answers with.
pub const MAX_ROWS: usize = 10_000;
/// Most columns a statement may have (`SQLITE_LIMIT_COLUMN`, set after the
/// schema is loaded so wider tables stay readable by naming columns).
pub const MAX_COLUMNS: usize = 256;
/// Most values (rows x columns) a query answers with.
pub const MAX_CELLS: usize = 50_000;
/// What each value costs of the answer budget on top of its text/blob bytes
/// (the `Val` variant, its case name and its box in the host).
pub const CELL_COST: usize = 64;
/// The answer budget: text and blob bytes plus [`CELL_COST`] per value.
pub const MAX_ANSWER_BYTES: usize = 4 << 20;
/// Longest string or blob SQLite may make or read while answering. SQLite
/// holds a whole row (up to [`MAX_COLUMNS`] values) before the toy sees it,
/// so this also bounds SQLite's own memory for one row.
pub const MAX_LENGTH: usize = 1 << 20;
// The cell cap binds before the budget for answers of small values, and one
// value never exceeds the budget.
const _: () = assert!(MAX_CELLS * CELL_COST < MAX_ANSWER_BYTES && MAX_LENGTH <= MAX_ANSWER_BYTES);
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

/// Why a query has no answer; each names the guard that stopped it. All of
/// them are answers for the child (`err(message)`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// The file could not be opened (or its schema not loaded).
    #[error("cannot open the database: {0}")]
    Open(String),
    /// The authorizer denied an action of the statement while preparing it.
    #[error("query refused by the authorizer (only reading is allowed): {0}")]
    Denied(String),
    /// The statement prepared, but SQLite does not call it read-only.
    #[error("query refused: only read-only statements are allowed")]
    NotReadOnly,
    /// More than one statement.
    #[error("query refused: a query is exactly one statement")]
    MultipleStatements,
    /// SQLite could not prepare the statement (syntax, unknown table, too
    /// many columns, wrong parameter count...).
    #[error("invalid query: {0}")]
    Invalid(String),
    /// The statement failed while running.
    #[error("query failed: {0}")]
    Failed(String),
    /// The statement ran out of time.
    #[error("the query ran longer than {0:?} and was stopped")]
    Stopped(Duration),
    /// More than [`MAX_ROWS`] rows.
    #[error("the query returned more than {MAX_ROWS} rows; narrow it (LIMIT, WHERE)")]
    TooManyRows,
    /// More than [`MAX_CELLS`] values.
    #[error("the query's answer has more than {MAX_CELLS} values (rows x columns); narrow it")]
    TooManyCells,
    /// The value at (`row`, `column`), counted from 0, would pass the budget;
    /// it was not copied.
    #[error(
        "the query's answer is larger than {MAX_ANSWER_BYTES} bytes \
         ({CELL_COST} per value plus text and blob bytes) at row {row}, column {column}; narrow it"
    )]
    AnswerTooLarge { row: usize, column: usize },
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
fn authorize(ctx: &AuthContext<'_>) -> Authorization {
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

/// The first action the authorizer denied, to name it in [`QueryError::Denied`].
type Denials = Arc<Mutex<Option<String>>>;

/// Opens the granted file `path` for reading only, with every guard set and
/// `budget` of time for the work; the authorizer notes what it denies in `denied`.
fn open(path: &Path, budget: Duration, denied: Denials) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let mut conn = Connection::open_with_flags(path, flags)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_LENGTH as i32)?;
    let deadline = Instant::now() + budget;
    conn.progress_handler(PROGRESS_STEPS, Some(move || Instant::now() > deadline))?;
    // Load the schema before limiting columns: a table wider than the limit
    // would otherwise read as a malformed schema.
    conn.prepare("SELECT 1 FROM sqlite_schema")?;
    conn.set_limit(Limit::SQLITE_LIMIT_COLUMN, MAX_COLUMNS as i32)?;
    conn.authorizer(Some(move |ctx: AuthContext<'_>| {
        let verdict = authorize(&ctx);
        if matches!(verdict, Authorization::Deny) {
            let mut first = denied.lock().unwrap_or_else(PoisonError::into_inner);
            first.get_or_insert_with(|| format!("{:?}", ctx.action));
        }
        verdict
    }))?;
    Ok(conn)
}

/// The answer budget, charged per value before the value is copied.
struct Budget {
    used: usize,
}

impl Budget {
    /// Charges the value at (`row`, `column`) holding `len` bytes of text or blob.
    fn charge(&mut self, row: usize, column: usize, len: usize) -> Result<(), QueryError> {
        let used = self.used.saturating_add(CELL_COST).saturating_add(len);
        if used > MAX_ANSWER_BYTES {
            return Err(QueryError::AnswerTooLarge { row, column });
        }
        self.used = used;
        Ok(())
    }
}

/// Runs the one read-only statement `sql` with `params` on the file at `path`,
/// stopping it after `budget` (the toy uses [`MAX_QUERY_TIME`]).
pub fn query(
    path: &Path,
    sql: &str,
    params: Vec<Value>,
    budget: Duration,
) -> Result<Rows, QueryError> {
    let denied = Denials::default();
    let conn =
        open(path, budget, Arc::clone(&denied)).map_err(|e| QueryError::Open(e.to_string()))?;
    let failed = |e: rusqlite::Error| {
        if e.sqlite_error_code() == Some(ErrorCode::OperationInterrupted) {
            QueryError::Stopped(budget)
        } else {
            QueryError::Failed(e.to_string())
        }
    };
    let mut stmt = conn.prepare(sql).map_err(|e| {
        // A denial fails the prepare (as SQLITE_AUTH, or SQLITE_ERROR for a
        // function), so the authorizer's own note says which guard fired.
        let denial = denied.lock().unwrap_or_else(PoisonError::into_inner).take();
        match (e, denial) {
            (_, Some(action)) => QueryError::Denied(format!("{action} is not authorized")),
            (rusqlite::Error::MultipleStatement, None) => QueryError::MultipleStatements,
            (e, None) => QueryError::Invalid(e.to_string()),
        }
    })?;
    if !stmt.readonly() {
        return Err(QueryError::NotReadOnly);
    }
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let width = columns.len();
    let mut cursor = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(failed)?;
    let mut rows = Vec::new();
    let mut spent = Budget { used: 0 };
    while let Some(row) = cursor.next().map_err(failed)? {
        let index = rows.len();
        if index == MAX_ROWS {
            return Err(QueryError::TooManyRows);
        }
        if (index + 1).saturating_mul(width) > MAX_CELLS {
            return Err(QueryError::TooManyCells);
        }
        let mut values = Vec::with_capacity(width);
        for column in 0..width {
            let value = row.get_ref(column).map_err(failed)?;
            let len = match value {
                // Text that is not UTF-8 grows (up to 3x) into replacement characters.
                ValueRef::Text(t) if std::str::from_utf8(t).is_err() => t.len().saturating_mul(3),
                ValueRef::Text(b) | ValueRef::Blob(b) => b.len(),
                ValueRef::Null | ValueRef::Integer(_) | ValueRef::Real(_) => 0,
            };
            // Charged before the copy: a refused value is never built.
            spent.charge(index, column, len)?;
            values.push(match value {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Integer(n),
                ValueRef::Real(x) => Value::Real(x),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}
