//! [`RunStats`]: what every run of this Mother's process came to — runs by
//! outcome kind (`returned`, `out-of-fuel`, `trap`, ... and `refused` for a
//! run the host refused before any child code ran), their durations as a
//! histogram, and the receipts appended. Counted in the [`crate::Runner`],
//! which every run goes through whatever door asked for it (the CLI, the
//! socket, peers, HTTP, MCP, and children invoking children), so no door
//! counts its own.
//!
//! It only counts, in memory, for this process: it must never decide
//! anything, block a run, or grow with anything a caller controls (the
//! outcome kinds are the host's stable kinds, a short fixed set).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Upper bounds (seconds) of the duration histogram's buckets; the last
/// bucket, `+Inf`, is implied.
pub const DURATION_BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The run counters of one Mother (shared by its clones).
#[derive(Debug, Default)]
pub struct RunStats {
    outcomes: Mutex<BTreeMap<&'static str, u64>>,
    /// One count per bucket of [`DURATION_BUCKETS`], plus `+Inf`
    /// (not cumulative; the snapshot makes them so).
    buckets: [AtomicU64; DURATION_BUCKETS.len() + 1],
    duration_sum_ns: AtomicU64,
    receipts: AtomicU64,
}

impl RunStats {
    /// Counts one run that ended with `kind` (`returned` or the failure's
    /// kind) after `elapsed`, recorded or not.
    pub(crate) fn ran(&self, kind: &'static str, elapsed: Duration, recorded: bool) {
        self.count(kind);
        let seconds = elapsed.as_secs_f64();
        let bucket = DURATION_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(DURATION_BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.duration_sum_ns.fetch_add(nanos, Ordering::Relaxed);
        if recorded {
            self.receipts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one run the host refused before any child code ran.
    pub(crate) fn refused(&self) {
        self.count("refused");
    }

    fn count(&self, kind: &'static str) {
        if let Ok(mut outcomes) = self.outcomes.lock() {
            *outcomes.entry(kind).or_default() += 1;
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> RunStatsSnapshot {
        let outcomes: BTreeMap<String, u64> = self
            .outcomes
            .lock()
            .map(|o| o.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect())
            .unwrap_or_default();
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(DURATION_BUCKETS.len());
        for (bound, count) in DURATION_BUCKETS.iter().zip(&self.buckets) {
            cumulative += count.load(Ordering::Relaxed);
            buckets.push((*bound, cumulative));
        }
        let started = cumulative + self.buckets[DURATION_BUCKETS.len()].load(Ordering::Relaxed);
        RunStatsSnapshot {
            runs: outcomes.values().sum(),
            outcomes,
            duration_buckets: buckets,
            duration_count: started,
            duration_sum_seconds: self.duration_sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
            receipts_appended: self.receipts.load(Ordering::Relaxed),
        }
    }
}

/// The run counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunStatsSnapshot {
    /// Runs asked of this Mother since it opened (refused ones included).
    pub runs: u64,
    /// Runs by how they ended: `returned`, a failure's kind, or `refused`.
    pub outcomes: BTreeMap<String, u64>,
    /// The duration histogram of the runs that started: (upper bound in
    /// seconds, runs at or under it), cumulative.
    pub duration_buckets: Vec<(f64, u64)>,
    /// Runs that started (the histogram's count, its `+Inf` bucket).
    pub duration_count: u64,
    /// Their durations added up, in seconds.
    pub duration_sum_seconds: f64,
    /// Receipts this Mother signed and appended for its runs.
    pub receipts_appended: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_counts_outcomes_buckets_and_receipts() {
        let stats = RunStats::default();
        stats.ran("returned", Duration::from_micros(300), true);
        stats.ran("returned", Duration::from_millis(3), false);
        stats.ran("out-of-fuel", Duration::from_secs(60), true);
        stats.refused();
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.runs, 4);
        assert_eq!(snapshot.outcomes["returned"], 2);
        assert_eq!(snapshot.outcomes["out-of-fuel"], 1);
        assert_eq!(snapshot.outcomes["refused"], 1);
        assert_eq!(snapshot.receipts_appended, 2);
        assert_eq!(snapshot.duration_count, 3);
        // 0.3 ms is in the first bucket; 3 ms from the 0.005 s bucket on;
        // 60 s only in +Inf.
        assert_eq!(snapshot.duration_buckets[0], (0.000_5, 1));
        assert_eq!(snapshot.duration_buckets[3], (0.005, 2));
        assert_eq!(snapshot.duration_buckets.last(), Some(&(30.0, 2)));
        assert!((snapshot.duration_sum_seconds - 60.0033).abs() < 1e-6);
    }
}
