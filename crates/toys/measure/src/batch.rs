//! [`RunMetrics`]: what one run of a child measured, accumulated in memory
//! and written to the [`MetricsStore`](super::MetricsStore) once, when the run
//! ends. Also the rules every metric obeys: valid names ([`check_name`]),
//! finite values, one type per name, bounded numbers of names.
//!
//! Nothing here touches the store or any other child's metrics; checks that
//! need the store get the child's stored name→type map passed in.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// Longest metric name, in characters.
pub const MAX_NAME: usize = 64;
/// Most distinct metric names one run may touch.
pub const MAX_NAMES_PER_RUN: usize = 1_000;
/// Most distinct metric names one child may have in the store.
pub const MAX_NAMES_PER_CHILD: usize = 10_000;

/// The upper bounds of Prometheus' default histogram buckets; a last bucket,
/// `+Inf`, holds everything above the largest.
pub const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// The number of buckets of a histogram, `+Inf` included.
pub const BUCKETS: usize = DEFAULT_BUCKETS.len() + 1;

/// The type of a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// A `u64` that only grows (saturating).
    Counter,
    /// An `f64` set to its last value.
    Gauge,
    /// Observations counted in buckets, with their sum and count.
    Histogram,
}

impl MetricKind {
    /// The type's name, as in Prometheus' `# TYPE` lines.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

impl std::fmt::Display for MetricKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last value a run set a gauge to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaugeValue {
    /// The value (finite).
    pub value: f64,
    /// When it was set, in milliseconds since the Unix epoch.
    pub updated_ms: u64,
}

/// Observations of one histogram: per-bucket counts (NOT cumulative: bucket
/// `i` counts values in `(DEFAULT_BUCKETS[i-1], DEFAULT_BUCKETS[i]]`, the last
/// one values above 10), their sum and their number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistogramData {
    /// Per-bucket counts, `+Inf` last.
    pub buckets: [u64; BUCKETS],
    /// Sum of the observed values.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

impl Default for HistogramData {
    fn default() -> Self {
        Self {
            buckets: [0; BUCKETS],
            sum: 0.0,
            count: 0,
        }
    }
}

impl HistogramData {
    /// Counts one observation of `value`.
    pub fn observe(&mut self, value: f64) {
        let index = DEFAULT_BUCKETS
            .iter()
            .position(|le| value <= *le)
            .unwrap_or(DEFAULT_BUCKETS.len());
        self.buckets[index] = self.buckets[index].saturating_add(1);
        self.sum += value;
        self.count = self.count.saturating_add(1);
    }

    /// Adds the observations of `other`.
    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine = mine.saturating_add(theirs);
        }
        self.sum += other.sum;
        self.count = self.count.saturating_add(other.count);
    }

    /// The cumulative counts Prometheus exposes: observations `<= le`, `+Inf` last.
    pub fn cumulative(&self) -> [u64; BUCKETS] {
        let mut total = 0u64;
        self.buckets.map(|n| {
            total = total.saturating_add(n);
            total
        })
    }
}

/// What one run measured, by metric name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunMetrics {
    /// Counter increments (added to the stored values).
    pub counters: BTreeMap<String, u64>,
    /// Gauges' last values (replacing the stored values).
    pub gauges: BTreeMap<String, GaugeValue>,
    /// Histogram observations (added to the stored ones).
    pub histograms: BTreeMap<String, HistogramData>,
}

impl RunMetrics {
    /// Whether the run measured nothing.
    pub fn is_empty(&self) -> bool {
        self.counters.is_empty() && self.gauges.is_empty() && self.histograms.is_empty()
    }

    /// The number of distinct names touched.
    pub fn len(&self) -> usize {
        self.counters.len() + self.gauges.len() + self.histograms.len()
    }

    /// The type this run gave `name`, if it touched it.
    pub fn kind(&self, name: &str) -> Option<MetricKind> {
        if self.counters.contains_key(name) {
            Some(MetricKind::Counter)
        } else if self.gauges.contains_key(name) {
            Some(MetricKind::Gauge)
        } else if self.histograms.contains_key(name) {
            Some(MetricKind::Histogram)
        } else {
            None
        }
    }
}

/// Checks `name`: 1 to [`MAX_NAME`] characters of `a-z`, `0-9` and `_`,
/// starting with a letter. The error is the answer the child gets.
pub fn check_name(name: &str) -> Result<(), String> {
    let shown = || quoted(name);
    let Some(first) = name.chars().next() else {
        return Err("a metric name must not be empty".to_owned());
    };
    if name.chars().count() > MAX_NAME {
        return Err(format!(
            "metric name {} is longer than {MAX_NAME} characters",
            shown()
        ));
    }
    if !first.is_ascii_lowercase() {
        return Err(format!(
            "metric name {} must start with a letter `a`-`z`",
            shown()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "metric name {} has `{}`; use `a`-`z`, `0`-`9` and `_`",
            shown(),
            bad.escape_default()
        ));
    }
    Ok(())
}

/// Checks that a gauge or histogram value is finite.
pub fn check_value(name: &str, value: f64) -> Result<(), String> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(format!("value {value} of metric `{name}` is not finite"))
    }
}

/// `name` in backquotes, cut so an answer never echoes a huge argument.
fn quoted(name: &str) -> String {
    const SHOWN: usize = MAX_NAME + 8;
    if name.chars().count() <= SHOWN {
        format!("`{}`", name.escape_default())
    } else {
        let head: String = name.chars().take(SHOWN).collect();
        format!("`{}…`", head.escape_default())
    }
}

/// A run's metrics being gathered, checked against what the child already
/// has in the store (`stored`: name → type).
#[derive(Debug, Default)]
pub struct Recorder {
    stored: HashMap<String, MetricKind>,
    /// What the run measured so far.
    pub run: RunMetrics,
    /// Names this run touched that the store does not hold yet.
    new_names: usize,
}

impl Recorder {
    /// A recorder for a child whose stored metrics have the types `stored`.
    pub fn new(stored: HashMap<String, MetricKind>) -> Self {
        Self {
            stored,
            run: RunMetrics::default(),
            new_names: 0,
        }
    }

    /// Checks that `name` (already checked by [`check_name`]) may be used as
    /// a `kind` in this run: the same type as before, within the limits on
    /// names.
    fn admit(&mut self, name: &str, kind: MetricKind) -> Result<(), String> {
        let in_run = self.run.kind(name);
        let known = in_run.or_else(|| self.stored.get(name).copied());
        if let Some(existing) = known
            && existing != kind
        {
            return Err(format!(
                "metric `{name}` is a {existing}, not a {kind}; a name keeps its first type"
            ));
        }
        if in_run.is_none() {
            if self.run.len() >= MAX_NAMES_PER_RUN {
                return Err(format!(
                    "a run may touch at most {MAX_NAMES_PER_RUN} metric names"
                ));
            }
            if known.is_none() {
                if self.stored.len() + self.new_names >= MAX_NAMES_PER_CHILD {
                    return Err(format!(
                        "a child may have at most {MAX_NAMES_PER_CHILD} metric names"
                    ));
                }
                self.new_names += 1;
            }
        }
        Ok(())
    }

    /// `counter-add(name, delta)`.
    pub fn counter_add(&mut self, name: &str, delta: u64) -> Result<(), String> {
        check_name(name)?;
        self.admit(name, MetricKind::Counter)?;
        let value = self.run.counters.entry(name.to_owned()).or_default();
        *value = value.saturating_add(delta);
        Ok(())
    }

    /// `gauge-set(name, value)` at `now_ms`.
    pub fn gauge_set(&mut self, name: &str, value: f64, now_ms: u64) -> Result<(), String> {
        check_name(name)?;
        check_value(name, value)?;
        self.admit(name, MetricKind::Gauge)?;
        self.run.gauges.insert(
            name.to_owned(),
            GaugeValue {
                value,
                updated_ms: now_ms,
            },
        );
        Ok(())
    }

    /// `histogram-observe(name, value)`.
    pub fn histogram_observe(&mut self, name: &str, value: f64) -> Result<(), String> {
        check_name(name)?;
        check_value(name, value)?;
        self.admit(name, MetricKind::Histogram)?;
        self.run
            .histograms
            .entry(name.to_owned())
            .or_default()
            .observe(value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_per_child_are_bounded_against_the_store() {
        let stored = (0..MAX_NAMES_PER_CHILD - 1)
            .map(|i| (format!("s{i}"), MetricKind::Counter))
            .collect();
        let mut recorder = Recorder::new(stored);
        recorder.counter_add("fresh", 1).unwrap();
        let message = recorder.gauge_set("one_more", 1.0, 0).unwrap_err();
        assert!(message.contains("a child may have at most"), "{message}");
        // Stored names stay usable, with their type.
        recorder.counter_add("s0", 1).unwrap();
        let message = recorder.histogram_observe("s1", 1.0).unwrap_err();
        assert!(
            message.contains("is a counter, not a histogram"),
            "{message}"
        );
        assert_eq!(recorder.run.len(), 2);
    }

    #[test]
    fn buckets_are_upper_inclusive() {
        let mut h = HistogramData::default();
        for le in DEFAULT_BUCKETS {
            h.observe(le);
        }
        h.observe(f64::MAX);
        assert_eq!(h.buckets, [1; BUCKETS]);
        assert_eq!(h.cumulative()[BUCKETS - 1], h.count);
    }
}
