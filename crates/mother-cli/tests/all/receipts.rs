//! Receipts from the command line: every run leaves a signed receipt, which
//! can be listed, shown, verified, exported, imported and replayed; tampering
//! is caught and named; the same run on two Mothers has the same transcript
//! hash and different receipt ids.

use std::path::Path;

use crate::common::{json, mother, text};
use serde_json::Value;

/// Runs with `--json` and returns the receipt id it printed.
fn run_receipt(home: &Path, args: &[&str]) -> String {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = mother(home, &all);
    let value = json(&out);
    value["receipt"]
        .as_str()
        .unwrap_or_else(|| panic!("no receipt in {value}"))
        .to_owned()
}

#[test]
fn a_run_leaves_a_receipt_that_lists_shows_and_verifies() {
    let home = tempfile::tempdir().unwrap();
    let id = run_receipt(
        home.path(),
        &[
            children_artifacts::HELLO_LOG,
            "chatter(2)",
            "--grant",
            "log",
        ],
    );
    assert_eq!(id.len(), 64);
    let out = mother(home.path(), &["run", children_artifacts::CALC, "add(1, 2)"]);
    assert!(
        text(&out.stderr).contains("receipt "),
        "text mode names the receipt: {}",
        text(&out.stderr)
    );

    let list = json(&mother(home.path(), &["receipts", "list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[1]["id"], id.as_str(), "newest first");
    let calc = list[0]["child"].as_str().unwrap().to_owned();
    let calc_only = json(&mother(
        home.path(),
        &["receipts", "list", "--json", "--child", &calc[..12]],
    ));
    assert_eq!(calc_only.as_array().unwrap().len(), 1, "{calc_only}");
    assert_eq!(calc_only[0]["call"], "add(1, 2)");

    let short = &id[..8];
    let shown = text(&mother(home.path(), &["receipts", "show", short]).stdout);
    assert!(
        shown.contains("patina:toys/log@0.1.0#log(debug, \"line 1\") -> ()"),
        "{shown}"
    );
    assert!(shown.contains("grants      log"), "{shown}");
    assert!(shown.contains("signature   ok"), "{shown}");

    let verified = mother(home.path(), &["receipts", "verify", short]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    assert!(text(&verified.stdout).starts_with("ok: "));

    let replayed = mother(home.path(), &["replay", short, "--json"]);
    assert!(replayed.status.success(), "{}", text(&replayed.stdout));
    let value = json(&replayed);
    assert_eq!(value["matched"], true);
    assert_eq!(value["transcript_hash"], value["recorded_transcript_hash"]);
}

#[test]
fn live_runs_leave_no_receipt() {
    let home = tempfile::tempdir().unwrap();
    let value = json(&mother(
        home.path(),
        &[
            "run",
            children_artifacts::CALC,
            "add(1, 2)",
            "--mode",
            "live",
            "--json",
        ],
    ));
    assert_eq!(value["result"], 3);
    assert!(value.get("receipt").is_none());
    assert_eq!(
        json(&mother(home.path(), &["receipts", "list", "--json"])),
        Value::Array(vec![])
    );
}

#[test]
fn a_tampered_export_fails_verify_and_replay() {
    let home = tempfile::tempdir().unwrap();
    let id = run_receipt(
        home.path(),
        &[
            children_artifacts::HELLO_LOG,
            "chatter(2)",
            "--grant",
            "log",
        ],
    );
    let exported = mother(home.path(), &["receipts", "export", &id]);
    assert!(exported.status.success());
    let file = home.path().join("receipt.json");
    std::fs::write(&file, &exported.stdout).unwrap();
    let file = file.to_str().unwrap();
    assert!(
        mother(home.path(), &["receipts", "verify", file])
            .status
            .success()
    );

    let edited = text(&exported.stdout).replace("line 1", "line 7");
    assert_ne!(edited, text(&exported.stdout));
    let tampered = home.path().join("tampered.json");
    std::fs::write(&tampered, edited).unwrap();
    let tampered = tampered.to_str().unwrap();
    let out = mother(home.path(), &["receipts", "verify", tampered]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error[tampered]") && stderr.contains("transcript was altered"),
        "{stderr}"
    );
    let out = mother(home.path(), &["replay", tampered]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("tampered"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_same_run_on_two_mothers_has_one_transcript_hash_and_two_ids() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let call = [children_artifacts::CALC, "types.echo-point({x: 3, y: 4})"];
    let id_a = run_receipt(a.path(), &call);
    let id_b = run_receipt(b.path(), &call);
    assert_ne!(id_a, id_b);
    let show = |home: &Path, id: &str| json(&mother(home, &["receipts", "show", id, "--json"]));
    let (ra, rb) = (show(a.path(), &id_a), show(b.path(), &id_b));
    assert_eq!(ra["transcript_hash"], rb["transcript_hash"]);
    assert_ne!(ra["mother"], rb["mother"]);
    assert_eq!(ra["verified"], true);

    // A's receipt, exported and imported by B, verifies there and replays there.
    let exported = mother(a.path(), &["receipts", "export", &id_a]);
    let file = b.path().join("from-a.json");
    std::fs::write(&file, &exported.stdout).unwrap();
    let imported = json(&mother(
        b.path(),
        &["receipts", "import", file.to_str().unwrap(), "--json"],
    ));
    assert_eq!(imported["new"], true);
    let again = json(&mother(
        b.path(),
        &["receipts", "import", file.to_str().unwrap(), "--json"],
    ));
    assert_eq!(again["new"], false);
    assert!(
        mother(b.path(), &["receipts", "verify", &id_a[..10]])
            .status
            .success()
    );
    let replayed = mother(b.path(), &["replay", &id_a[..10], "--json"]);
    assert_eq!(json(&replayed)["matched"], true);
}

#[test]
fn clocks_and_random_replay_to_identical_output() {
    let home = tempfile::tempdir().unwrap();
    let out = mother(
        home.path(),
        &["run", children_artifacts::CLOCK_RANDOM, "--json"],
    );
    let value = json(&out);
    let id = value["receipt"].as_str().unwrap().to_owned();
    let recorded = value["stdout"].as_str().unwrap().to_owned();
    assert!(recorded.contains("random: "));
    let replayed = mother(home.path(), &["replay", &id]);
    assert!(replayed.status.success(), "{}", text(&replayed.stderr));
    assert_eq!(text(&replayed.stdout), recorded);
    assert!(text(&replayed.stderr).contains("matched"));
}

#[test]
fn receipt_ids_resolve_like_git_and_bad_ones_are_typed_errors() {
    let home = tempfile::tempdir().unwrap();
    run_receipt(home.path(), &[children_artifacts::CALC, "add(1, 1)"]);
    for (reference, kind) in [("zz", "bad-receipt-id"), ("0000000000", "unknown-receipt")] {
        let out = mother(home.path(), &["receipts", "show", reference, "--json"]);
        assert!(!out.status.success());
        assert_eq!(json(&out)["error"]["kind"], kind, "{reference}");
    }
    let junk = home.path().join("junk.json");
    std::fs::write(&junk, b"{\"receipt\": 1}").unwrap();
    let out = mother(
        home.path(),
        &["receipts", "import", junk.to_str().unwrap(), "--json"],
    );
    assert_eq!(json(&out)["error"]["kind"], "malformed-receipt");
}

/// `mother receipts show ID | head -1`: a reader that goes away before
/// `mother` is done printing ends it quietly — killed by SIGPIPE, as any
/// Unix tool — never a panic about a broken pipe.
#[test]
fn a_reader_that_hangs_up_ends_the_output_quietly() {
    use std::os::unix::process::ExitStatusExt;

    let home = tempfile::tempdir().unwrap();
    let id = run_receipt(
        home.path(),
        &[
            children_artifacts::HELLO_LOG,
            "chatter(50)",
            "--grant",
            "log",
        ],
    );
    // The reading end is closed before `mother` starts: its first write
    // meets a broken pipe, whatever the timing.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mother"))
        .env("PATINA_HOME", home.path())
        .env_remove("PATINA_LOG")
        .args(["receipts", "show", &id])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?}: {}",
        out.status,
        text(&out.stderr)
    );
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
}
