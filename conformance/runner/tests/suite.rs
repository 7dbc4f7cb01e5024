//! The conformance suite inside `cargo test`: the children are built from
//! source (`patina-conformance build-children`: Rust always, Python and
//! JavaScript when their toolchains are there — their rows are n/a with the
//! reason otherwise), the suite runs on the embedded host, on the served,
//! peer (libp2p on 127.0.0.1) and REST bridge hosts when the `mother` binary
//! was built beside the runner (as `cargo test --workspace` builds it), and
//! on the JavaScript host; every cell must
//! pass or say why it cannot apply. Then a receipt the JavaScript host
//! sealed goes through `mother receipts verify` and `mother replay`, as a
//! user would check it.
//!
//! The JavaScript host needs Node 20 and `hosts/js`'s packages; when
//! `node_modules` is missing the test runs `npm ci` there (the pinned lock
//! file). Without node or npm the JavaScript column is skipped loudly —
//! unless `PATINA_REQUIRE_JS_CHILDREN` is set (CI sets it), when that fails
//! the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// Set (to anything) to make a missing node or npm a failure.
const REQUIRE: &str = "PATINA_REQUIRE_JS_CHILDREN";
/// Set (to anything) to make Python children that were not built (no
/// componentize-py) a failure; `.ci/run` installs componentize-py and sets it.
const REQUIRE_PYTHON: &str = "PATINA_REQUIRE_PYTHON_CHILDREN";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn runner() -> Command {
    Command::new(env!("CARGO_BIN_EXE_patina-conformance"))
}

/// Whether `program --version` runs.
fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the JavaScript host can run here (installing its pinned packages
/// when they are missing); `Err` says why not.
fn js_host_ready() -> Result<(), String> {
    for tool in ["node", "npm"] {
        if !runs(tool) {
            return Err(format!("`{tool}` is not installed (or not on PATH)"));
        }
    }
    let js = repo().join("hosts/js");
    if !js.join("node_modules").is_dir() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&js)
            .status()
            .map_err(|e| format!("running npm ci: {e}"))?;
        assert!(status.success(), "npm ci in hosts/js failed ({status})");
    }
    Ok(())
}

/// The `mother` binary `cargo test --workspace` built beside the runner.
fn mother_beside_runner() -> Option<PathBuf> {
    let runner = Path::new(env!("CARGO_BIN_EXE_patina-conformance"));
    let mother = runner.with_file_name(format!("mother{}", std::env::consts::EXE_SUFFIX));
    mother.is_file().then_some(mother)
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn run_ok(command: &mut Command, what: &str) -> Output {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        stdout_of(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The conformance children, built once per test process.
fn children() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let children = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance-children");
        run_ok(
            runner().arg("build-children").arg("--out").arg(&children),
            "building the conformance children",
        );
        children
    })
}

/// The suite's JSON report from `suite`'s stdout.
fn report_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "the suite printed no report ({e}):\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The receipt file the runner kept for `host`'s cell of `case`.
fn kept_receipt(report: &Value, keep: &Path, case: &str, host: &str) -> PathBuf {
    let row = report["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["case"] == case))
        .unwrap_or_else(|| panic!("no row {case}"));
    let id = row["cells"][host]["receipt"]
        .as_str()
        .unwrap_or_else(|| panic!("no receipt for {case} on {host}: {}", row["cells"][host]));
    keep.join(format!("{id}.json"))
}

#[test]
fn every_case_passes_on_every_host_this_machine_runs() {
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance-receipts");
    let _ = std::fs::remove_dir_all(&keep);
    let js = match js_host_ready() {
        Ok(()) => true,
        Err(reason) if std::env::var_os(REQUIRE).is_some() => {
            panic!("the JavaScript host cannot run here and {REQUIRE} is set: {reason}")
        }
        Err(reason) => {
            eprintln!(
                "\n*** SKIPPED (not tested!): the JavaScript host's column: {reason}.\n\
                 *** Install node and npm (or set {REQUIRE} to make this a failure).\n"
            );
            false
        }
    };
    let children = children();
    let mother = mother_beside_runner();
    let mut suite = runner();
    suite
        .arg("--children")
        .arg(children)
        .arg("--keep-receipts")
        .arg(&keep)
        .arg("--json")
        .args(["--host", "embedded"]);
    if let Some(mother) = &mother {
        suite.arg("--mother").arg(mother);
        for host in ["served", "peer", "bridge", "mcp"] {
            suite.args(["--host", host]);
        }
    } else {
        eprintln!(
            "*** the served, peer, bridge and mcp columns are left out: no `mother` binary beside the runner (cargo test --workspace builds one)"
        );
    }
    if js {
        suite.args(["--host", "js"]);
    }
    let output = suite.output().expect("running the suite");
    let report = report_of(&output);
    let failures: Vec<String> = report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .flat_map(|row| {
            row["cells"]
                .as_object()
                .expect("cells")
                .iter()
                .filter(|(_, cell)| cell["status"] == "fail")
                .map(move |(host, cell)| format!("{} on {host}: {}", row["case"], cell["reason"]))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "failed cells:\n{}",
        failures.join("\n")
    );
    assert!(
        output.status.success(),
        "the suite exited {}",
        output.status
    );

    // Every Rust row passed on the embedded host and, when the `mother`
    // binary is here, on a peer over libp2p and through the REST bridge,
    // which has no route for a command child's argv and says so.
    let rows = report["rows"].as_array().expect("rows");
    assert!(rows.len() >= 50, "only {} rows", rows.len());
    for row in rows.iter().filter(|r| r["language"] == "rust") {
        assert_eq!(row["cells"]["embedded"]["status"], "pass", "{row}");
        if mother.is_none() {
            continue;
        }
        assert_eq!(row["cells"]["peer"]["status"], "pass", "{row}");
        let bridge = &row["cells"]["bridge"];
        if row["case"].as_str().unwrap().starts_with("cmd-") {
            assert_eq!(bridge["status"], "n/a", "{row}");
            assert!(
                bridge["reason"].as_str().unwrap().contains("argv"),
                "{bridge}"
            );
        } else {
            assert_eq!(bridge["status"], "pass", "{row}");
        }
    }
    if mother.is_some() {
        // The peer's cell is the peer's own run: its receipt is signed by
        // another Mother than the served one's, names the asker as a caller
        // that came through the `peer` door, and records the same transcript.
        let read = |host: &str| -> Value {
            let path = kept_receipt(&report, &keep, "values-add [rust]", host);
            let text = std::fs::read_to_string(&path).expect("a kept receipt");
            serde_json::from_str::<Value>(&text).expect("a receipt export")["receipt"].clone()
        };
        let (peer, served, bridge) = (read("peer"), read("served"), read("bridge"));
        assert_eq!(peer["caller"]["door"], "peer", "{peer}");
        assert_eq!(bridge["caller"]["door"], "http", "{bridge}");
        assert_ne!(peer["mother"], served["mother"]);
        for other in [&served, &bridge] {
            assert_eq!(peer["transcript_hash"], other["transcript_hash"]);
        }
    }
    if mother.is_some() {
        mcp_column(rows);
    }
    other_languages(rows, "python", std::env::var_os(REQUIRE_PYTHON).is_some());
    other_languages(rows, "js", js);
    if !js {
        return;
    }
    let passed_on_js = rows
        .iter()
        .filter(|r| r["cells"]["js"]["status"] == "pass")
        .count();
    assert!(passed_on_js >= 30, "only {passed_on_js} rows passed on js");

    // A receipt the JavaScript host sealed (meter none, its own key) is
    // accepted by `mother receipts verify` and replays with `mother replay`.
    let Some(mother) = mother else { return };
    let receipt = kept_receipt(&report, &keep, "hello-greet [rust]", "js");
    let home = tempfile::tempdir().expect("a home");
    let cli = || {
        let mut command = Command::new(&mother);
        command
            .env("PATINA_HOME", home.path())
            .env_remove("RUST_LOG");
        command
    };
    run_ok(
        cli().arg("install").arg(children.join("rust/hello.wasm")),
        "mother install",
    );
    let verified = run_ok(
        cli().args(["receipts", "verify", "--json"]).arg(&receipt),
        "mother receipts verify",
    );
    let verified: Value = serde_json::from_slice(&verified.stdout).expect("verify --json");
    assert_eq!(verified["verified"], true, "{verified}");
    let replayed = run_ok(
        cli().arg("replay").arg(&receipt).arg("--json"),
        "mother replay",
    );
    let summary: Value = serde_json::from_slice(&replayed.stdout).expect("replay --json");
    assert_eq!(summary["matched"], true, "{summary}");
}

/// The rows of `language`'s children (`... [python]`, `... [js]`): when
/// `required`, they were built and every cell passed or is n/a for a reason
/// of the case or the door (never because the child is missing), so the
/// same Python or JavaScript child ran on every host the Rust one did.
fn other_languages(rows: &[Value], language: &str, required: bool) {
    if !required {
        return;
    }
    let suffix = format!("[{language}]");
    let ours: Vec<&Value> = rows
        .iter()
        .filter(|r| r["case"].as_str().is_some_and(|c| c.ends_with(&suffix)))
        .collect();
    assert!(ours.len() >= 25, "only {} {language} rows", ours.len());
    let mut passed = 0;
    for row in ours {
        for (host, cell) in row["cells"].as_object().expect("cells") {
            let reason = cell["reason"].as_str().unwrap_or_default();
            assert!(
                !reason.contains("was not built"),
                "{} on {host}: {reason}",
                row["case"]
            );
            if cell["status"] == "pass" {
                passed += 1;
            }
        }
    }
    assert!(passed >= 100, "only {passed} {language} cells passed");
}

/// Why an MCP cell may be n/a, by case (every other Rust row must pass on
/// MCP — deny-missing and limits above the host's defaults included, asked
/// for in `_deny_missing` and `_limits`): what MCP cannot express, said in
/// the cell.
const MCP_NOT_APPLICABLE: &[(&str, &str)] = &[(
    "values-unknown-function",
    "the server answered `unknown-tool`",
)];

/// The MCP column: every Rust row passes there — full transcript hash and
/// fuel equal to the embedded host's (`check::agreement` of two metered
/// hosts) — but the few MCP cannot express, which say why.
fn mcp_column(rows: &[Value]) {
    let mut passed = 0;
    for row in rows.iter().filter(|r| r["language"] == "rust") {
        let case = row["case"].as_str().unwrap().trim_end_matches(" [rust]");
        let cell = &row["cells"]["mcp"];
        match MCP_NOT_APPLICABLE.iter().find(|(name, _)| *name == case) {
            Some((_, reason)) => {
                assert_eq!(cell["status"], "n/a", "{row}");
                assert!(
                    cell["reason"].as_str().unwrap().contains(reason),
                    "{case}: {cell}"
                );
            }
            None => {
                assert_eq!(cell["status"], "pass", "{row}");
                // Values that vary run by run are compared by pattern (a note says so).
                if cell["note"].is_null() && cell["receipt"].is_string() {
                    assert_eq!(
                        cell["transcript_hash"], row["cells"]["embedded"]["transcript_hash"],
                        "{row}"
                    );
                }
                passed += 1;
            }
        }
    }
    assert!(passed >= 40, "only {passed} Rust rows passed on mcp");
}

/// A host outside the repository joins through the line protocol: one that
/// says a case cannot apply is n/a with its reason, one that answers with a
/// receipt that is not one fails the cell with the reason, and the suite
/// exits non-zero.
#[test]
fn an_external_host_is_judged_by_what_it_answers() {
    // Answers every request with its own id: n/a, or a "receipt" of `{}`.
    let answer =
        |body: &str| format!(r#"sed -u 's/.*"id":\([0-9][0-9]*\),.*/{{"id":\1,{body}}}/'"#);
    let output = runner()
        .arg("--children")
        .arg(children())
        .args(["--case", "values-add", "--host", "embedded", "--json"])
        .arg("--external")
        .arg(format!(
            "shy={}",
            answer(r#""not_applicable":"this host has no toys""#)
        ))
        .arg("--external")
        .arg(format!("liar={}", answer(r#""export":"{}""#)))
        .output()
        .expect("running the suite");
    let report = report_of(&output);
    assert!(!output.status.success(), "a failed cell fails the suite");
    assert_eq!(
        report["hosts"],
        serde_json::json!(["embedded", "shy", "liar"])
    );
    let row = report["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["case"] == "values-add [rust]"))
        .expect("the values-add row");
    assert_eq!(row["cells"]["embedded"]["status"], "pass", "{row}");
    let shy = &row["cells"]["shy"];
    assert_eq!(shy["status"], "n/a", "{shy}");
    assert_eq!(shy["reason"], "this host has no toys", "{shy}");
    let liar = &row["cells"]["liar"];
    assert_eq!(liar["status"], "fail", "{liar}");
    assert!(
        liar["reason"].as_str().unwrap().contains("the host `liar`"),
        "{liar}"
    );
    assert!(
        liar["reason"]
            .as_str()
            .unwrap()
            .contains("receipt does not decode"),
        "{liar}"
    );
}
