//! The `mother` binary as a person or a script uses it: install, list,
//! inspect, run (WAVE and JSON), errors as one line or one JSON object with a
//! non-zero exit, and the demo — each in a fresh `$PATINA_HOME`.

use crate::common::{json, mother, text};

#[test]
fn install_list_and_run_by_name_and_id_prefix() {
    let home = tempfile::tempdir().unwrap();
    let out = mother(
        home.path(),
        &["install", children_artifacts::CALC, "--name", "calc"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(id.starts_with("b3:"));

    let list = json(&mother(home.path(), &["list", "--json"]));
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["names"][0], "calc");

    let out = mother(home.path(), &["run", "calc", "add(2, 3)"]);
    assert_eq!(text(&out.stdout), "5\n");
    let prefix = &id[..12];
    let out = mother(
        home.path(),
        &["run", prefix, "types.echo-point({x: 1, y: 2})"],
    );
    assert_eq!(text(&out.stdout), "{x: 1, y: 2}\n", "{}", text(&out.stderr));
}

#[test]
fn run_json_prints_one_object() {
    let home = tempfile::tempdir().unwrap();
    let out = mother(
        home.path(),
        &[
            "run",
            children_artifacts::HELLO_LOG,
            "greet(\"ann\")",
            "--grant",
            "log",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let value = json(&out);
    assert_eq!(value["call"], "greet");
    assert_eq!(value["result"], "hello, ann!");
    assert_eq!(value["wave"], "\"hello, ann!\"");
    assert_eq!(value["grants"][0], "log");
    assert_eq!(value["logs"][0]["message"], "greeting ann");
    assert!(value["fuel"].as_u64().unwrap() > 0);
    assert!(value["child"].as_str().unwrap().starts_with("b3:"));

    let out = mother(
        home.path(),
        &[
            "run",
            children_artifacts::CALC,
            "add",
            "--args-json",
            "[40, 2]",
            "--json",
        ],
    );
    assert_eq!(json(&out)["result"], 42);
}

#[test]
fn errors_are_one_line_typed_and_non_zero() {
    let home = tempfile::tempdir().unwrap();
    let junk = home.path().join("junk.wasm");
    std::fs::write(&junk, b"definitely not wasm").unwrap();
    let core = home.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let junk = junk.to_str().unwrap();
    let core = core.to_str().unwrap();
    let calc = children_artifacts::CALC;
    let limits = children_artifacts::LIMITS;
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", junk, "f()"], "not-wasm"),
        (vec!["inspect", core], "core-module"),
        (vec!["run", "no-such-child", "f()"], "unknown-child"),
        (vec!["run", calc, "nope()"], "unknown-function"),
        (vec!["run", calc, "add(1)"], "bad-arguments"),
        (vec!["run", calc, "add(\"x\", 1)"], "bad-arguments"),
        (
            vec!["run", calc, "add(1, 2)", "--grant", "teleport"],
            "bad-grant",
        ),
        (
            vec!["run", calc, "add(1, 2)", "--memory", "lots"],
            "bad-limit",
        ),
        (vec!["run", calc, "add", "--args-json", "[1,"], "bad-json"),
        (
            vec!["run", children_artifacts::HELLO_LOG, "greet(\"a\")"],
            "missing-grants",
        ),
        (
            vec!["run", limits, "spin", "--timeout", "100ms"],
            "deadline-exceeded",
        ),
        (
            vec!["run", limits, "spin", "--fuel", "10000"],
            "out-of-fuel",
        ),
        (
            vec!["run", limits, "hog-forever", "--memory", "16MiB"],
            "memory-limit-exceeded",
        ),
    ];
    for (args, kind) in cases {
        let out = mother(home.path(), &args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!("error[{kind}]")),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");

        let mut with_json = args.clone();
        with_json.push("--json");
        let out = mother(home.path(), &with_json);
        assert!(!out.status.success());
        assert_eq!(json(&out)["error"]["kind"], kind, "{args:?}");
    }
}

#[test]
fn a_command_child_gets_argv_and_reports_its_exit_status() {
    let home = tempfile::tempdir().unwrap();
    let cmd = children_artifacts::HELLO_CMD;
    let out = mother(home.path(), &["run", cmd, "--", "a", "b"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "args: a b\nenv: 0 vars\n");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("stderr works\nreceipt "),
        "the child's stderr, then the receipt id: {stderr}"
    );
    let out = mother(home.path(), &["run", cmd, "--mode", "live", "--", "a"]);
    assert_eq!(
        text(&out.stderr),
        "stderr works\n",
        "a live run adds nothing"
    );
    let out = mother(home.path(), &["run", cmd, "--", "--exit", "3"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "Rust's std reports failure as status 1"
    );
    let value = json(&mother(home.path(), &["run", cmd, "--json", "--", "x"]));
    assert_eq!(value["exit_code"], 0);
    assert_eq!(value["stdout"], "args: x\nenv: 0 vars\n");
}

#[test]
fn inspect_shows_imports_exports_and_what_they_need() {
    let home = tempfile::tempdir().unwrap();
    let out = mother(home.path(), &["inspect", children_artifacts::HELLO_LOG]);
    let shown = text(&out.stdout);
    assert!(shown.contains("patina:toys/log@0.1.0"), "{shown}");
    assert!(shown.contains("needs --grant log"), "{shown}");
    assert!(
        shown.contains("greet: func(name: string) -> string"),
        "{shown}"
    );
    let value = json(&mother(
        home.path(),
        &["inspect", children_artifacts::CALC, "--json"],
    ));
    let exports = value["exports"].as_array().unwrap();
    assert!(
        exports.iter().any(|e| e["name"] == "add"
            && e["functions"][0]["signature"] == "func(a: s32, b: s32) -> s32")
    );
    assert_eq!(value["command"], false);
    assert!(
        value["imports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "base")
    );
}

#[cfg(feature = "demo")]
#[test]
fn the_demo_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    // The demo's folders go beside the home (`home-demo`), inside `dir`.
    let home = dir.path().join("home");
    let out = mother(&home, &["demo"]);
    let shown = text(&out.stdout) + &text(&out.stderr);
    assert!(out.status.success(), "{shown}\n{}", text(&out.stderr));
    for expected in [
        "installed b3:",
        "refused[missing-grants]",
        "=> \"hello, ann!\"",
        "[info] greeting ann",
        "=> 5",
        "error[deadline-exceeded]",
        "error[out-of-fuel]",
        "error[memory-limit-exceeded]",
        "hello.txt",
        "$ mother receipts list",
        "signature   ok",
        "matched: transcript",
        "hashes intact",
        "files: 2, words:",
        "{path: \"receipts.md\", score: 1",
        "added: [\"new.md\"], modified: [\"receipts.md\"]",
        "value: \"\\\"hello, from composer!\\\"\"",
        "cannot invoke itself",
        "items         counter    5",
        // Part 10: the same child on two Mothers over libp2p (127.0.0.1).
        "the second Mother fetched calc by its digest from here",
        "(the peer that answered), kept here",
        "the same transcript hash on both Mothers:",
        "replayed on this Mother",
    ] {
        assert!(
            shown.contains(expected),
            "demo output lacks {expected:?}:\n{shown}"
        );
    }
    assert!(dir.path().join("home-demo/demo-notes/new.md").is_file());
    // The peer's receipt is kept here: two receipts of calc's `add(2, 3)`
    // (the peer's and this Mother's own), signed by two keys.
    let calc = json(&mother(
        &home,
        &["receipts", "list", "--child", "calc", "--json"],
    ));
    let signers: std::collections::BTreeSet<String> = calc
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["call"] == "add(2, 3)")
        .map(|r| r["mother"].to_string())
        .collect();
    assert_eq!(signers.len(), 2, "{calc}");
    let list = json(&mother(&home, &["list", "--json"]));
    assert_eq!(
        list.as_array().unwrap().len(),
        children_artifacts::ALL.len()
    );
}
