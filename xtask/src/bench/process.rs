//! Process-per-call figures: `mother run CHILD 'add(2, 3)'` of an installed
//! child (one whole process: open the home, load the compiled artifact, run,
//! seal and append the receipt, print) against `raw-embedder` (the baseline,
//! `xtask/raw-embedder`) on the very artifact that Mother compiled, in pairs
//! A B A B … so drift of the machine hits both; wall-clock time and peak RSS
//! of each process from `wait4`.
//!
//! Children: `calc` (a small Rust child, built by `children-artifacts`; also
//! on a home that has seen 200 runs of it, where a receipt log that grows
//! with use would show) and,
//! when `componentize-py` is on `PATH` (or named by `COMPONENTIZE_PY`), a
//! Python child built from `xtask/bench-children/pyadd`; without it that row
//! is `pending`. `XTASK_BENCH_RUNS` sets the number of pairs (default 10).
//! It must never compare processes run on different artifacts or report a
//! run whose output was wrong.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::Figure;

/// The ratio `mother run` is held to (issue 10).
const AIM: f64 = 1.5;
/// Runs of each command before counting.
const WARMUP: usize = 2;
/// Runs a "used home" has seen before its figure is taken.
const USED_HOME_RUNS: usize = 200;

/// One finished process.
struct Sample {
    wall: Duration,
    peak_rss: u64,
}

/// Runs `argv` to completion with no input and its output discarded.
fn run_once(argv: &[OsString]) -> Result<Sample> {
    let start = Instant::now();
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", argv[0].to_string_lossy()))?;
    let pid = libc::pid_t::try_from(child.id()).context("pid out of range")?;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped (std never waited on it).
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if reaped != pid {
        bail!(
            "waiting for {}: {}",
            argv[0].to_string_lossy(),
            std::io::Error::last_os_error()
        );
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!("{:?} failed (wait status {status})", argv);
    }
    Ok(Sample {
        wall,
        peak_rss: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
    })
}

/// `argv` run to completion with no input, its output captured.
fn output_of(argv: &[OsString]) -> Result<std::process::Output> {
    Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting {}", argv[0].to_string_lossy()))
}

/// What `argv` prints, checked to be `expected`.
fn check_output(argv: &[OsString], expected: &str) -> Result<()> {
    let out = output_of(argv)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || stdout.trim() != expected {
        bail!(
            "{argv:?} printed {:?} (status {}), not {expected:?}: {}",
            stdout.trim(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Where an executable named `name` is on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// The Python child, built with componentize-py if it is there (rebuilt only
/// when its sources are newer). `Err` text says why there is none.
fn python_child(root: &Path, target: &Path) -> Result<PathBuf, String> {
    let tool = std::env::var_os("COMPONENTIZE_PY")
        .map(PathBuf::from)
        .or_else(|| on_path("componentize-py"))
        .ok_or("componentize-py is not installed (pip install componentize-py)")?;
    let src = root.join("xtask/bench-children/pyadd");
    let out = target.join("bench").join("pyadd.wasm");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let newest_source = ["app.py", "wit/world.wit"]
        .iter()
        .filter_map(|f| modified(&src.join(f)))
        .max();
    if modified(&out).is_some_and(|built| newest_source.is_none_or(|s| s <= built)) {
        return Ok(out);
    }
    std::fs::create_dir_all(target.join("bench")).map_err(|e| e.to_string())?;
    let status = Command::new(&tool)
        .args(["-d", "wit", "-w", "pyadd", "componentize", "app", "-o"])
        .arg(&out)
        .current_dir(&src)
        // Nothing written into the source tree (`__pycache__`).
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .status()
        .map_err(|e| format!("running {}: {e}", tool.display()))?;
    if !status.success() {
        return Err(format!("{} failed ({status})", tool.display()));
    }
    Ok(out)
}

/// The one compiled artifact under a fresh home.
fn find_artifact(dir: &Path) -> Result<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "cwasm") {
                found.push(path);
            }
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        other => bail!(
            "expected one compiled artifact under {}, found {other:?}",
            dir.display()
        ),
    }
}

/// Installs `wasm` in a fresh home and times `mother run` against the raw
/// embedder on the artifact the install compiled, in `runs` pairs, after
/// `aged` runs of it (so the receipt store and its log are a used home's).
fn compare(
    label: &str,
    wasm: &Path,
    (mother, raw): (&Path, &Path),
    runs: usize,
    aged: usize,
) -> Result<Vec<Figure>> {
    let home = tempfile::tempdir().context("creating a Mother home")?;
    let os = |s: &str| OsString::from(s);
    let install = [
        mother.into(),
        os("--home"),
        home.path().into(),
        os("install"),
        wasm.into(),
        os("--name"),
        os("bench"),
    ];
    run_once(&install).context("installing the child")?;
    let artifact = find_artifact(home.path())?;
    let a = vec![
        mother.into(),
        os("--home"),
        home.path().into(),
        os("run"),
        os("bench"),
        os("add(2, 3)"),
    ];
    let b = vec![raw.into(), artifact.into()];
    check_output(&a, "5")?;
    check_output(&b, "5")?;
    for _ in 0..aged {
        run_once(&a)?;
    }
    for _ in 0..WARMUP {
        run_once(&a)?;
        run_once(&b)?;
    }
    let (mut wall, mut rss) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (x, y) = (run_once(&a)?, run_once(&b)?);
        wall.push((x.wall.as_secs_f64() * 1e3, y.wall.as_secs_f64() * 1e3));
        rss.push((x.peak_rss as f64, y.peak_rss as f64));
    }
    let size = std::fs::metadata(wasm).map_or(0, |m| m.len());
    let row = |what: &str, unit: &'static str, pairs: &[(f64, f64)], aim: Option<f64>| {
        let mut figure = Figure::pair(
            format!("process/mother_run_{label}{what}"),
            unit,
            median(pairs.iter().map(|p| p.0).collect()),
            format!("process/raw_embedder_{label}{what}"),
            median(pairs.iter().map(|p| p.1).collect()),
            median(pairs.iter().map(|p| p.0 / p.1).collect()),
            "process",
        )
        .aim(aim);
        figure.note = Some(match aged {
            0 => format!("{runs} pairs, child {size} bytes"),
            _ => format!("{runs} pairs, child {size} bytes, after {aged} earlier runs in the home"),
        });
        figure
    };
    Ok(vec![
        row("", "ms", &wall, Some(AIM)),
        row("_peak_rss", "bytes", &rss, None),
    ])
}

/// Bytes `byte-probe` puts into `blob` and reads back for the host-memory figure.
const PAYLOAD: u64 = 16 << 20;

/// The host-memory figure (issue 10 item 1): peak RSS of a recorded
/// `mother run` of `byte-probe`'s `blob-roundtrip(16 MiB)` against the same
/// run with 0 bytes, in pairs; the ratio is the extra peak RSS per payload
/// byte. It includes the child's own linear memory (about 1× the payload:
/// its buffer, freed after the put and reused for the answer, which it
/// checks where it lies): the host's share is the rest. Then the same for
/// `mother replay` of the two runs' receipts (issue 10 checks both).
fn host_memory(probe: &Path, mother: &Path, runs: usize) -> Result<Vec<Figure>> {
    let home = tempfile::tempdir().context("creating a Mother home")?;
    let os = |s: &str| OsString::from(s);
    let base = [mother.into(), os("--home"), home.path().into()];
    let install = [
        &base[..],
        &[os("install"), probe.into(), os("--name"), os("probe")],
    ]
    .concat();
    run_once(&install).context("installing byte-probe")?;
    let roundtrip = |bytes: u64| {
        let call = os(&format!("blob-roundtrip({bytes})"));
        let run = [
            os("run"),
            os("probe"),
            call,
            os("--grant"),
            os("blob"),
            os("--deny-missing"),
        ];
        [&base[..], &run[..]].concat()
    };
    let (full, empty) = (roundtrip(PAYLOAD), roundtrip(0));
    check_output(&full, &format!("ok({PAYLOAD})"))?;
    let recorded = extra_rss_figure(
        (
            super::HOST_MEMORY_FIGURE,
            "host_memory/blob_roundtrip_0_peak_rss",
        ),
        (&full, &empty),
        runs,
        "recorded run; includes the child's own 1× (its buffer, reused for the answer)",
    )?;

    // The same receipts replayed: the recorded payload comes back from the
    // store and answers the child's `get`.
    let replay = |run: &[OsString]| -> Result<Vec<OsString>> {
        let id = receipt_of(&[run, &[os("--json")]].concat())?;
        Ok([&base[..], &[os("replay"), os(&id)]].concat())
    };
    let replayed = extra_rss_figure(
        (
            "host_memory/blob_roundtrip_16mib_replay_peak_rss",
            "host_memory/blob_roundtrip_0_replay_peak_rss",
        ),
        (&replay(&full)?, &replay(&empty)?),
        runs,
        "`mother replay` of those runs' receipts",
    )?;
    Ok(vec![recorded, replayed])
}

/// Peak RSS of `full` (moving [`PAYLOAD`] bytes) against `empty` (moving
/// none), in up to 5 pairs; the ratio is the extra peak RSS per payload byte.
fn extra_rss_figure(
    (name, baseline_name): (&str, &str),
    (full, empty): (&[OsString], &[OsString]),
    runs: usize,
    what: &str,
) -> Result<Figure> {
    let mut pairs = Vec::new();
    for _ in 0..runs.min(5) {
        let (x, y) = (run_once(full)?, run_once(empty)?);
        pairs.push((x.peak_rss as f64, y.peak_rss as f64));
    }
    let value = median(pairs.iter().map(|p| p.0).collect());
    let baseline = median(pairs.iter().map(|p| p.1).collect());
    let mut figure = Figure::pair(
        name,
        "bytes",
        value,
        baseline_name,
        baseline,
        (value - baseline) / PAYLOAD as f64,
        "process",
    );
    figure.note = Some(format!(
        "ratio: extra peak RSS per payload byte, {what}; {} pairs",
        pairs.len()
    ));
    Ok(figure)
}

/// The id of the receipt of the recorded run `argv` (which prints JSON).
fn receipt_of(argv: &[OsString]) -> Result<String> {
    let out = output_of(argv)?;
    if !out.status.success() {
        bail!("{argv:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("reading the run's JSON")?;
    summary["receipt"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("{argv:?} printed no receipt"))
}

/// Builds what it needs and measures every child.
pub(super) fn figures(root: &Path, target: &Path) -> Result<Vec<Figure>> {
    crate::cargo(&[
        "build",
        "--release",
        "-p",
        "mother-cli",
        "-p",
        "raw-embedder",
        "-p",
        "children-artifacts",
    ])?;
    let runs = std::env::var("XTASK_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10usize)
        .max(1);
    let release = target.join("release");
    let (mother, raw) = (release.join("mother"), release.join("raw-embedder"));
    let calc = target.join("wasm-children/wasm32-wasip2/release/calc.wasm");
    let mut figures = compare("rust_calc", &calc, (&mother, &raw), runs, 0)?;
    // A used home: the receipt log of one-command processes must stay
    // short (it once grew by every run, and every run read all of it).
    figures.extend(compare(
        "rust_calc_used_home",
        &calc,
        (&mother, &raw),
        runs,
        USED_HOME_RUNS,
    )?);
    let probe = target.join("wasm-children/wasm32-wasip2/release/byte_probe.wasm");
    figures.extend(host_memory(&probe, &mother, runs)?);
    match python_child(root, target) {
        Ok(wasm) => figures.extend(compare("python_add", &wasm, (&mother, &raw), runs, 0)?),
        Err(why) => figures.push(Figure::pending("process/mother_run_python_add", "ms", why)),
    }
    Ok(figures)
}
