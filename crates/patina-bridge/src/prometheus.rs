//! The Prometheus text (exposition format 0.0.4) of `GET /metrics`: the
//! Mother's run counters (`patina_runs_total` by outcome, the
//! `patina_run_duration_seconds` histogram, `patina_receipts_appended_total`)
//! and, after them, what the children measured with the `measure` toy
//! (`patina_child_*`, written by the toy's own exposition code).
//!
//! It only formats what the membrane answered; it must never count
//! anything itself (the counters are the Mother's, so every door's runs are
//! in them).

use std::fmt::Write;

use patina_membrane::Metrics;
use patina_toys::measure::{ChildMetrics, prometheus_text};

/// The whole `/metrics` page.
pub fn render(metrics: &Metrics) -> String {
    let runs = &metrics.runs;
    let mut out = String::new();
    out.push_str("# HELP patina_runs_total Runs asked of this Mother (every door, and children invoking children), by how they ended: returned, the failure's kind, or refused.\n");
    out.push_str("# TYPE patina_runs_total counter\n");
    for (outcome, count) in &runs.outcomes {
        let _ = writeln!(out, "patina_runs_total{{outcome=\"{outcome}\"}} {count}");
    }
    out.push_str(
        "# HELP patina_run_duration_seconds Wall-clock time of each run that started (instantiation and call).\n",
    );
    out.push_str("# TYPE patina_run_duration_seconds histogram\n");
    for (bound, count) in &runs.duration_buckets {
        let _ = writeln!(
            out,
            "patina_run_duration_seconds_bucket{{le=\"{bound}\"}} {count}"
        );
    }
    let _ = writeln!(
        out,
        "patina_run_duration_seconds_bucket{{le=\"+Inf\"}} {}",
        runs.duration_count
    );
    let _ = writeln!(
        out,
        "patina_run_duration_seconds_sum {}",
        runs.duration_sum_seconds
    );
    let _ = writeln!(
        out,
        "patina_run_duration_seconds_count {}",
        runs.duration_count
    );
    out.push_str("# HELP patina_receipts_appended_total Receipts this Mother signed and appended for its runs.\n");
    out.push_str("# TYPE patina_receipts_appended_total counter\n");
    let _ = writeln!(
        out,
        "patina_receipts_appended_total {}",
        runs.receipts_appended
    );
    let children: Vec<ChildMetrics> = metrics.children.iter().map(|c| c.metrics.clone()).collect();
    out.push_str(&prometheus_text(&children));
    out
}
