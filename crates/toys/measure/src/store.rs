//! [`MetricsStore`]: the Mother's metrics of every child, in one SQLite file
//! (WAL). A run's [`RunMetrics`] are applied in one transaction; readers get
//! typed snapshots ([`ChildMetrics`]) or Prometheus text.
//!
//! Every row is keyed by the child's id, and [`MetricsStore::apply`] writes
//! only the rows of the child it is given: one child never reads or changes
//! another's metrics. A name keeps one type per child even when two runs race.
//!
//! `u64` values (counters, counts) are stored as the `i64` with the same
//! bits, since SQLite integers are signed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use patina_core::ChildId;
use patina_toy::sqlite::{open_wal, retry_busy};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::batch::{BUCKETS, GaugeValue, HistogramData, MetricKind, RunMetrics};
use super::expose::{ChildMetrics, Metric, MetricValue};
use patina_toy::ToyError;

const SCHEMA_VERSION: &str = "1";
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (
    child TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (child, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gauges (
    child TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL, updated_ms INTEGER NOT NULL,
    PRIMARY KEY (child, name)) WITHOUT ROWID;
-- `sum` is NULL when it is NaN (+Inf plus -Inf), which SQLite cannot hold.
CREATE TABLE IF NOT EXISTS histograms (
    child TEXT NOT NULL, name TEXT NOT NULL, sum REAL, count INTEGER NOT NULL,
    PRIMARY KEY (child, name)) WITHOUT ROWID;
-- Per-bucket (not cumulative) counts; `bucket` indexes the default buckets
-- .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10, and 11 is +Inf.
CREATE TABLE IF NOT EXISTS histogram_buckets (
    child TEXT NOT NULL, name TEXT NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (child, name, bucket)) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
";

/// What [`MetricsStore::apply`] did with a run's metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Metrics written.
    pub written: usize,
    /// Names skipped because the store gave them another type meanwhile (a
    /// concurrent run of the same child): `(name, stored type)`.
    pub conflicts: Vec<(String, MetricKind)>,
}

/// The SQLite metrics store. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct MetricsStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn to_db(n: u64) -> i64 {
    i64::from_ne_bytes(n.to_ne_bytes())
}

fn from_db(n: i64) -> u64 {
    u64::from_ne_bytes(n.to_ne_bytes())
}

impl MetricsStore {
    /// Opens (creating it) the metrics file at `path`.
    pub fn open(path: &Path) -> Result<Self, ToyError> {
        let err = |e: rusqlite::Error| backend(path, e);
        let (mut conn, mode) = open_wal(path, BUSY_TIMEOUT).map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(backend(path, format!("journal mode is {mode}, not WAL")));
        }
        let version: String = retry_busy(BUSY_TIMEOUT, || {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(SCHEMA)?;
            let version = tx.query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |row| row.get(0),
            )?;
            tx.commit()?;
            Ok(version)
        })
        .map_err(err)?;
        if version != SCHEMA_VERSION {
            return Err(backend(
                path,
                format!(
                    "schema version {version} is not supported (this build reads {SCHEMA_VERSION})"
                ),
            ));
        }
        Ok(Self {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A dropped transaction rolls back, so a poisoned lock is recovered from.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> ToyError + '_ {
        |e| backend(&self.path, e)
    }

    /// The type of each metric `child` has (name → type).
    pub fn kinds(&self, child: &ChildId) -> Result<HashMap<String, MetricKind>, ToyError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT name, 0 FROM counters WHERE child = ?1
                 UNION ALL SELECT name, 1 FROM gauges WHERE child = ?1
                 UNION ALL SELECT name, 2 FROM histograms WHERE child = ?1",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([child.to_string()], |row| {
                Ok((row.get::<_, String>(0)?, kind_of(row.get(1)?)))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Adds what one run of `child` measured, in one transaction: counters
    /// and histograms accumulate (saturating), gauges take the run's value.
    pub fn apply(&self, child: &ChildId, batch: &RunMetrics) -> Result<Applied, ToyError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.err())?;
        let applied = apply_in(&tx, &child.to_string(), batch).map_err(self.err())?;
        tx.commit().map_err(self.err())?;
        Ok(applied)
    }

    /// Every child's metrics, children and names sorted.
    pub fn snapshot(&self) -> Result<Vec<ChildMetrics>, ToyError> {
        self.read(None)
    }

    /// The metrics of `child` alone.
    pub fn child_snapshot(&self, child: &ChildId) -> Result<ChildMetrics, ToyError> {
        let mut all = self.read(Some(child))?;
        Ok(all.pop().unwrap_or_else(|| ChildMetrics {
            child: *child,
            metrics: Vec::new(),
        }))
    }

    /// Every child's metrics as Prometheus text (format 0.0.4).
    pub fn prometheus_text(&self) -> Result<String, ToyError> {
        Ok(super::expose::prometheus_text(&self.snapshot()?))
    }

    fn read(&self, only: Option<&ChildId>) -> Result<Vec<ChildMetrics>, ToyError> {
        let filter = only.map(ToString::to_string);
        let conn = self.conn();
        let tx = conn.unchecked_transaction().map_err(self.err())?;
        let mut children: BTreeMap<String, BTreeMap<String, MetricValue>> = BTreeMap::new();
        let mut put = |child: String, name: String, value| {
            children.entry(child).or_default().insert(name, value);
        };
        let where_ = "WHERE ?1 IS NULL OR child = ?1";
        {
            let sql = format!("SELECT child, name, value FROM counters {where_}");
            let mut stmt = tx.prepare(&sql).map_err(self.err())?;
            let mut rows = stmt.query([&filter]).map_err(self.err())?;
            while let Some(row) = rows.next().map_err(self.err())? {
                let value = from_db(row.get(2).map_err(self.err())?);
                put(
                    row.get(0).map_err(self.err())?,
                    row.get(1).map_err(self.err())?,
                    MetricValue::Counter { value },
                );
            }
            let sql = format!("SELECT child, name, value, updated_ms FROM gauges {where_}");
            let mut stmt = tx.prepare(&sql).map_err(self.err())?;
            let mut rows = stmt.query([&filter]).map_err(self.err())?;
            while let Some(row) = rows.next().map_err(self.err())? {
                let gauge = GaugeValue {
                    value: row.get(2).map_err(self.err())?,
                    updated_ms: from_db(row.get(3).map_err(self.err())?),
                };
                put(
                    row.get(0).map_err(self.err())?,
                    row.get(1).map_err(self.err())?,
                    MetricValue::Gauge(gauge),
                );
            }
            let sql = format!("SELECT child, name FROM histograms {where_}");
            let mut stmt = tx.prepare(&sql).map_err(self.err())?;
            let mut rows = stmt.query([&filter]).map_err(self.err())?;
            while let Some(row) = rows.next().map_err(self.err())? {
                let (child, name): (String, String) = (
                    row.get(0).map_err(self.err())?,
                    row.get(1).map_err(self.err())?,
                );
                let data = load_histogram(&tx, &child, &name)
                    .map_err(self.err())?
                    .unwrap_or_default();
                put(child, name, MetricValue::Histogram(data));
            }
        }
        drop(tx);
        children
            .into_iter()
            .map(|(child, metrics)| {
                let child = child
                    .parse::<ChildId>()
                    .map_err(|e| backend(&self.path, e))?;
                let metrics = metrics
                    .into_iter()
                    .map(|(name, value)| Metric { name, value })
                    .collect();
                Ok(ChildMetrics { child, metrics })
            })
            .collect()
    }
}

fn backend(path: &Path, error: impl std::fmt::Display) -> ToyError {
    ToyError::Store {
        reason: format!("metrics store {}: {error}", path.display()),
    }
}

fn kind_of(code: i64) -> MetricKind {
    match code {
        0 => MetricKind::Counter,
        1 => MetricKind::Gauge,
        _ => MetricKind::Histogram,
    }
}

/// The type `name` has for `child` in the store, if any.
fn stored_kind(
    tx: &Transaction<'_>,
    child: &str,
    name: &str,
) -> rusqlite::Result<Option<MetricKind>> {
    tx.prepare_cached(
        "SELECT 0 FROM counters WHERE child = ?1 AND name = ?2
         UNION ALL SELECT 1 FROM gauges WHERE child = ?1 AND name = ?2
         UNION ALL SELECT 2 FROM histograms WHERE child = ?1 AND name = ?2",
    )?
    .query_row(params![child, name], |row| Ok(kind_of(row.get(0)?)))
    .optional()
}

/// Whether `name` may be written as a `kind` for `child`; records a conflict if not.
fn admit(
    tx: &Transaction<'_>,
    child: &str,
    name: &str,
    kind: MetricKind,
    applied: &mut Applied,
) -> rusqlite::Result<bool> {
    match stored_kind(tx, child, name)? {
        Some(stored) if stored != kind => {
            tracing::warn!(child, name, %stored, %kind, "metric skipped: the store gave it another type");
            applied.conflicts.push((name.to_owned(), stored));
            Ok(false)
        }
        _ => {
            applied.written += 1;
            Ok(true)
        }
    }
}

fn apply_in(tx: &Transaction<'_>, child: &str, batch: &RunMetrics) -> rusqlite::Result<Applied> {
    let mut applied = Applied::default();
    for (name, delta) in &batch.counters {
        if !admit(tx, child, name, MetricKind::Counter, &mut applied)? {
            continue;
        }
        let old: Option<i64> = tx
            .prepare_cached("SELECT value FROM counters WHERE child = ?1 AND name = ?2")?
            .query_row(params![child, name], |row| row.get(0))
            .optional()?;
        let value = old.map_or(0, from_db).saturating_add(*delta);
        tx.prepare_cached(
            "INSERT INTO counters (child, name, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (child, name) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![child, name, to_db(value)])?;
    }
    for (name, gauge) in &batch.gauges {
        if !admit(tx, child, name, MetricKind::Gauge, &mut applied)? {
            continue;
        }
        tx.prepare_cached(
            "INSERT INTO gauges (child, name, value, updated_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (child, name) DO UPDATE
             SET value = excluded.value, updated_ms = excluded.updated_ms",
        )?
        .execute(params![child, name, gauge.value, to_db(gauge.updated_ms)])?;
    }
    for (name, run) in &batch.histograms {
        if !admit(tx, child, name, MetricKind::Histogram, &mut applied)? {
            continue;
        }
        let mut data = load_histogram(tx, child, name)?.unwrap_or_default();
        data.merge(run);
        let sum = (!data.sum.is_nan()).then_some(data.sum);
        tx.prepare_cached(
            "INSERT INTO histograms (child, name, sum, count) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (child, name) DO UPDATE SET sum = excluded.sum, count = excluded.count",
        )?
        .execute(params![child, name, sum, to_db(data.count)])?;
        let mut put = tx.prepare_cached(
            "INSERT INTO histogram_buckets (child, name, bucket, count) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (child, name, bucket) DO UPDATE SET count = excluded.count",
        )?;
        for (bucket, count) in (0i64..).zip(data.buckets) {
            put.execute(params![child, name, bucket, to_db(count)])?;
        }
    }
    Ok(applied)
}

/// The stored observations of one histogram.
fn load_histogram(
    tx: &Transaction<'_>,
    child: &str,
    name: &str,
) -> rusqlite::Result<Option<HistogramData>> {
    let head: Option<(Option<f64>, i64)> = tx
        .prepare_cached("SELECT sum, count FROM histograms WHERE child = ?1 AND name = ?2")?
        .query_row(params![child, name], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((sum, count)) = head else {
        return Ok(None);
    };
    let mut data = HistogramData {
        sum: sum.unwrap_or(f64::NAN),
        count: from_db(count),
        ..HistogramData::default()
    };
    let mut stmt = tx.prepare_cached(
        "SELECT bucket, count FROM histogram_buckets WHERE child = ?1 AND name = ?2",
    )?;
    let mut rows = stmt.query(params![child, name])?;
    while let Some(row) = rows.next()? {
        let bucket: i64 = row.get(0)?;
        if let Some(slot) = usize::try_from(bucket)
            .ok()
            .filter(|b| *b < BUCKETS)
            .and_then(|b| data.buckets.get_mut(b))
        {
            *slot = from_db(row.get(1)?);
        }
    }
    Ok(Some(data))
}
