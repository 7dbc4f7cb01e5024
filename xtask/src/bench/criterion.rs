//! The criterion benches' medians, read from
//! `<target>/criterion/<group>/<bench>/new/estimates.json`, paired with their
//! baselines by [`PAIRS`]. Every result of this run is listed (a bench not
//! in `PAIRS` gets a row of its own without a baseline); results older than
//! the run are left out. It must never pair two figures from different runs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result};

use super::Figure;

/// (figure, its baseline, the ratio aimed at).
const PAIRS: &[(&str, &str, Option<f64>)] = &[
    (
        "warm_call/host_run_noop",
        "warm_call/raw_instance_pre_noop",
        None,
    ),
    (
        "warm_call/host_run_wave_args",
        "warm_call/host_run_noop",
        None,
    ),
    (
        "recording/record_chatter_100",
        "recording/live_chatter_100",
        Some(1.15),
    ),
    (
        "recording/replay_chatter_100",
        "recording/record_chatter_100",
        Some(1.0),
    ),
    (
        "recording/record_sealed_chatter_100",
        "recording/live_chatter_100",
        None,
    ),
    (
        "hop/membrane_hop_epoch_current",
        "hop/direct_epoch_current",
        None,
    ),
    // Context: the same attenuated call on an in-process door's `Access`
    // (the checks, no Cap'n Proto).
    ("hop/access_epoch_current", "hop/direct_epoch_current", None),
    (
        "run/socket_recorded_run",
        "run/embedded_recorded_run",
        Some(2.0),
    ),
    (
        "mcp/stdio_tool_call_calc_add",
        "mcp/embedded_run_calc_add",
        None,
    ),
    (
        "throughput/clients_64_recorded",
        "throughput/clients_64_live",
        // Recording keeps at least 60% of live throughput (issue 11).
        Some(1.0 / 0.6),
    ),
    // REST at 40% of embedded throughput or better: time per run ≤ 2.5×.
    (
        "bridge/rest_clients_64_recorded",
        "bridge/embedded_clients_64_recorded",
        Some(2.5),
    ),
    (
        "round_trip/stream_64B",
        "round_trip/request_response_64B",
        None,
    ),
    // A run on a peer against the same run on the peer's own Mother, and
    // against a bare libp2p request-response of the same payload (issue 12
    // aims at <= 3x their sum; the table's ratio is against each alone).
    (
        "peer_round_trip/remote_live_run",
        "peer_round_trip/local_live_run",
        None,
    ),
    (
        "peer_round_trip/remote_live_run",
        "peer_round_trip/bare_request_response",
        None,
    ),
    (
        "peer_round_trip/remote_recorded_run",
        "peer_round_trip/local_recorded_run",
        None,
    ),
];

/// (figure, the median aimed at in ns): aims that are absolute.
const VALUE_AIMS: &[(&str, f64)] = &[
    // One membrane hop within 2 µs (issue 11).
    ("hop/membrane_hop_epoch_current", 2_000.0),
    // At least 20,000 recorded runs/s through one `mother serve`: 50 µs a run.
    ("throughput/clients_64_recorded", 50_000.0),
];

fn value_aim(name: &str) -> Option<f64> {
    VALUE_AIMS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// The medians (ns) of every bench whose estimates were written after `since`.
fn medians(target: &Path, since: SystemTime) -> Result<BTreeMap<String, f64>> {
    let root = target.join("criterion");
    let mut found = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let is_new_estimate = path.file_name().is_some_and(|n| n == "estimates.json")
                && path
                    .parent()
                    .and_then(Path::file_name)
                    .is_some_and(|n| n == "new");
            if !is_new_estimate {
                continue;
            }
            let fresh = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since);
            if !fresh {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let json: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", path.display()))?;
            let Some(median) = json["median"]["point_estimate"].as_f64() else {
                continue;
            };
            // <root>/<group>/<bench>/new/estimates.json → "group/bench".
            let Some(bench_dir) = path.parent().and_then(Path::parent) else {
                continue;
            };
            let Ok(name) = bench_dir.strip_prefix(&root) else {
                continue;
            };
            found.insert(name.to_string_lossy().replace('\\', "/"), median);
        }
    }
    Ok(found)
}

/// The rows of the criterion benches run since `since`.
pub(super) fn figures(target: &Path, since: SystemTime) -> Result<Vec<Figure>> {
    let medians = medians(target, since)?;
    let mut rows = Vec::new();
    let mut paired = std::collections::BTreeSet::new();
    for (name, baseline, aim) in PAIRS {
        let (Some(value), Some(base)) = (medians.get(*name), medians.get(*baseline)) else {
            continue;
        };
        paired.insert(*name);
        rows.push(
            Figure::pair(
                *name,
                "ns",
                *value,
                *baseline,
                *base,
                value / base,
                "criterion",
            )
            .aim(*aim)
            .aim_value(value_aim(name)),
        );
    }
    for (name, value) in &medians {
        if paired.contains(name.as_str()) {
            continue;
        }
        rows.push(Figure {
            name: name.clone(),
            unit: "ns",
            value: Some(*value),
            baseline_name: None,
            baseline: None,
            ratio: None,
            aim: None,
            aim_value: value_aim(name),
            source: "criterion",
            note: None,
        });
    }
    Ok(rows)
}
