//! `cargo xtask bench`: runs every benchmark of the workspace and prints one
//! table — each figure, the baseline it is compared with (measured in the
//! same run), their ratio and the ratio aimed at — and writes it as JSON to
//! `<target>/bench/report.json` (`CARGO_TARGET_DIR` respected) so two
//! commits can be compared.
//!
//! Sources: the criterion benches (`cargo bench --workspace --benches`, their
//! medians read back from `<target>/criterion/**/new/estimates.json`) and the
//! process-per-call figures of [`process`]. Set `XTASK_BENCH_ONLY=criterion`
//! or `=process` to run one source, and `XTASK_BENCH_PACKAGES=a,b` to run
//! the criterion benches of those packages only. It must never write a figure it did not
//! measure in this run: a figure not measured yet is a row marked `pending`
//! with no value.

mod criterion;
mod process;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde::Serialize;

/// One row of the table.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Figure {
    /// What was measured, `group/name`.
    pub name: String,
    /// Unit of `value` and `baseline`: `ns`, `ms` or `bytes`.
    pub unit: &'static str,
    /// The median measured (`None`: pending or failed).
    pub value: Option<f64>,
    /// What it is compared with.
    pub baseline_name: Option<String>,
    /// The baseline's median, measured in the same run.
    pub baseline: Option<f64>,
    /// `value / baseline` (for processes: the median of the pairwise ratios).
    pub ratio: Option<f64>,
    /// The ratio aimed at (at most), if there is one.
    pub aim: Option<f64>,
    /// The median aimed at (at most, in `unit`), if there is one.
    pub aim_value: Option<f64>,
    /// `criterion`, `process` or `pending`.
    pub source: &'static str,
    /// Anything the reader must know (why it is pending, a skipped run).
    pub note: Option<String>,
}

impl Figure {
    /// A figure compared with a baseline.
    pub fn pair(
        name: impl Into<String>,
        unit: &'static str,
        value: f64,
        baseline_name: impl Into<String>,
        baseline: f64,
        ratio: f64,
        source: &'static str,
    ) -> Self {
        Self {
            name: name.into(),
            unit,
            value: Some(value),
            baseline_name: Some(baseline_name.into()),
            baseline: Some(baseline),
            ratio: Some(ratio),
            aim: None,
            aim_value: None,
            source,
            note: None,
        }
    }

    /// A figure not measured in this run, with why.
    pub fn pending(name: &str, unit: &'static str, note: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            unit,
            value: None,
            baseline_name: None,
            baseline: None,
            ratio: None,
            aim: None,
            aim_value: None,
            source: "pending",
            note: Some(note.into()),
        }
    }

    fn aim(mut self, aim: Option<f64>) -> Self {
        self.aim = aim;
        self
    }

    fn aim_value(mut self, aim: Option<f64>) -> Self {
        self.aim_value = aim;
        self
    }

    /// Whether every aim it has is met (`None`: no aim, or not measured).
    fn met(&self) -> Option<bool> {
        let ratio = self.aim.map(|aim| self.ratio.map(|r| r <= aim));
        let value = self.aim_value.map(|aim| self.value.map(|v| v <= aim));
        match (ratio, value) {
            (None, None) => None,
            (Some(a), None) | (None, Some(a)) => a,
            (Some(a), Some(b)) => Some(a? && b?),
        }
    }
}

/// The whole report.
#[derive(Debug, Serialize)]
struct Report {
    /// Format of this file.
    version: u32,
    /// `git rev-parse HEAD`, if known.
    commit: Option<String>,
    /// Whether the work tree had uncommitted changes.
    dirty: Option<bool>,
    /// Seconds since the Unix epoch when the run started.
    started: u64,
    /// Processors the machine reports.
    cpus: usize,
    figures: Vec<Figure>,
}

/// The host-memory figure of issue 10 item 1 (peak RSS of a recorded 16 MiB
/// blob round trip), measured with the process figures.
pub(crate) const HOST_MEMORY_FIGURE: &str = "host_memory/blob_roundtrip_16mib_peak_rss";

/// Runs the benchmarks, prints the table and writes the report.
pub(crate) fn run() -> Result<()> {
    let root = workspace_root();
    let target = target_dir(&root);
    let started = SystemTime::now();
    let only = std::env::var("XTASK_BENCH_ONLY").unwrap_or_default();
    let mut figures = Vec::new();
    if only.is_empty() || only == "criterion" {
        let packages = std::env::var("XTASK_BENCH_PACKAGES").unwrap_or_default();
        let mut args = vec!["bench", "--benches"];
        if packages.is_empty() {
            args.push("--workspace");
        }
        for package in packages.split(',').filter(|p| !p.is_empty()) {
            args.extend(["-p", package]);
        }
        crate::cargo(&args)?;
        figures.extend(criterion::figures(&target, started)?);
    }
    if only.is_empty() || only == "process" {
        figures.extend(process::figures(&root, &target)?);
    }
    let report = Report {
        version: 1,
        commit: git(&root, &["rev-parse", "HEAD"]),
        dirty: git(&root, &["status", "--porcelain"]).map(|s| !s.is_empty()),
        started: started
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        figures,
    };
    print_table(&report.figures);
    let dir = target.join("bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("report.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    println!("\nwritten to {}", path.display());
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `CARGO_TARGET_DIR` (relative to the workspace root) or `<root>/target`.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn show(value: Option<f64>, unit: &str) -> String {
    match (value, unit) {
        (None, _) => "-".into(),
        (Some(v), "ns") if v >= 1e6 => format!("{:.2} ms", v / 1e6),
        (Some(v), "ns") if v >= 1e3 => format!("{:.1} µs", v / 1e3),
        (Some(v), "ns") => format!("{v:.0} ns"),
        (Some(v), "ms") => format!("{v:.2} ms"),
        (Some(v), "bytes") => format!("{:.1} MiB", v / f64::from(1 << 20)),
        (Some(v), unit) => format!("{v} {unit}"),
    }
}

fn print_table(figures: &[Figure]) {
    let rows: Vec<[String; 6]> = figures
        .iter()
        .map(|f| {
            [
                f.name.clone(),
                show(f.value, f.unit),
                f.baseline_name.clone().unwrap_or_else(|| "-".into()),
                show(f.baseline, f.unit),
                f.ratio.map_or_else(|| "-".into(), |r| format!("{r:.2}×")),
                {
                    let mut aims = Vec::new();
                    if let Some(aim) = f.aim {
                        aims.push(format!("ratio ≤ {aim}"));
                    }
                    if let Some(aim) = f.aim_value {
                        aims.push(format!("median ≤ {}", show(Some(aim), f.unit)));
                    }
                    let verdict = match f.met() {
                        Some(true) => " ok",
                        Some(false) => " MISSED",
                        None => "",
                    };
                    format!("{}{verdict}", aims.join(", "))
                },
            ]
        })
        .collect();
    let head = ["figure", "median", "baseline", "its median", "ratio", "aim"];
    let mut width = head.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut out = String::new();
        for (cell, w) in cells.iter().zip(width) {
            out.push_str(&format!("{cell:<w$}  "));
        }
        println!("{}", out.trim_end());
    };
    println!();
    line(head);
    for (row, figure) in rows.iter().zip(figures) {
        line([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
        if let Some(note) = &figure.note {
            println!("    ({note})");
        }
    }
}
