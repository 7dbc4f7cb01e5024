//! Composition through the `invoke` toy on a real Mother: the callee runs
//! with the grants it was installed with (never the caller's), a child can
//! reach only the children it was granted and never itself, every nested
//! call is recorded as a receipt that the caller's answer names, and the
//! caller's receipt replays without running the callee again.

use crate::common::{json, mother, text};
use serde_json::Value;

fn install(home: &std::path::Path, file: &str, name: &str, grants: &[&str]) {
    let mut args = vec!["install", file, "--name", name];
    for grant in grants {
        args.extend(["--grant", grant]);
    }
    let out = mother(home, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Runs `call` on the composer with `grants` and returns `mother run --json`.
fn compose(home: &std::path::Path, call: &str, grants: &[&str]) -> Value {
    let mut args = vec!["run", "composer", call, "--json"];
    for grant in grants {
        args.extend(["--grant", grant]);
    }
    json(&mother(home, &args))
}

/// The callee receipt id inside a composer answer's WAVE text.
fn callee_receipt(wave: &str) -> String {
    let start = wave.find("some(\"").expect("a receipt id") + 6;
    let end = wave[start..].find('"').unwrap() + start;
    wave[start..end].to_owned()
}

#[test]
fn a_callee_runs_with_its_own_grants_and_is_recorded() {
    let home = tempfile::tempdir().unwrap();
    install(home.path(), children_artifacts::COMPOSER, "composer", &[]);
    install(
        home.path(),
        children_artifacts::HELLO_LOG,
        "hello",
        &["log"],
    );

    // The composer has no `log` grant; the callee has its own.
    let value = compose(
        home.path(),
        r#"call("hello", "greet(\"ann\")")"#,
        &["invoke:hello"],
    );
    let wave = value["wave"].as_str().unwrap();
    assert!(
        wave.starts_with("ok({value: \"\\\"hello, ann!\\\"\""),
        "{value}"
    );
    let nested = callee_receipt(wave);
    let caller = value["receipt"].as_str().unwrap().to_owned();

    // The callee's receipt is in the chain, with its own grant and the log.
    let shown = text(&mother(home.path(), &["receipts", "show", &nested]).stdout);
    assert!(shown.contains("grants      log"), "{shown}");
    assert!(shown.contains("greeting ann"), "{shown}");
    // The caller's receipt holds the invoke call and its answer, naming the
    // callee's receipt.
    let shown = text(&mother(home.path(), &["receipts", "show", &caller]).stdout);
    assert!(
        shown.contains("patina:toys/invoke@0.1.0#call(\"hello\""),
        "{shown}"
    );
    assert!(shown.contains(&nested), "{shown}");
    let listed = json(&mother(home.path(), &["receipts", "list", "--json"]));
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");

    // Replaying the caller answers `invoke` from its receipt: exact, and no
    // new run of the callee (still two receipts).
    let replayed = json(&mother(home.path(), &["replay", &caller, "--json"]));
    assert_eq!(replayed["matched"], true, "{replayed}");
    let listed = json(&mother(home.path(), &["receipts", "list", "--json"]));
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
}

#[test]
fn the_callers_grants_never_pass_to_the_callee() {
    let home = tempfile::tempdir().unwrap();
    install(home.path(), children_artifacts::COMPOSER, "composer", &[]);
    // Installed without grants: it may not log, whoever calls it.
    install(home.path(), children_artifacts::HELLO_LOG, "hello", &[]);
    let value = compose(
        home.path(),
        r#"call("hello", "greet(\"ann\")")"#,
        &["invoke:hello", "log"],
    );
    let wave = value["wave"].as_str().unwrap();
    assert!(
        wave.starts_with("err(\"refused: `hello` did not start"),
        "{wave}"
    );
    assert!(wave.contains("log"), "{wave}");
}

#[test]
fn only_granted_children_and_never_itself() {
    let home = tempfile::tempdir().unwrap();
    install(home.path(), children_artifacts::COMPOSER, "composer", &[]);
    install(
        home.path(),
        children_artifacts::COMPOSER,
        "composer-too",
        &[],
    );
    install(home.path(), children_artifacts::CALC, "calc", &[]);

    let value = compose(
        home.path(),
        r#"call("calc", "add(1, 2)")"#,
        &["invoke:hello"],
    );
    assert!(
        value["wave"].as_str().unwrap().contains("not granted"),
        "{value}"
    );
    let value = compose(
        home.path(),
        r#"call("calc", "add(1, 2)")"#,
        &["invoke:calc"],
    );
    assert!(
        value["wave"]
            .as_str()
            .unwrap()
            .starts_with("ok({value: \"3\""),
        "{value}"
    );

    // Itself, by its own name or another name for the same bytes.
    for name in ["composer", "composer-too"] {
        let call = format!(r#"call("{name}", "call(\"calc\", \"add(1, 2)\")")"#);
        let grant = format!("invoke:{name}");
        let value = compose(home.path(), &call, &[&grant, "invoke:calc"]);
        let wave = value["wave"].as_str().unwrap();
        assert!(wave.contains("cannot invoke itself"), "{wave}");
    }
    // Nothing ran but the two calls of calc above... and the refused callers.
    let listed = json(&mother(home.path(), &["receipts", "list", "--json"]));
    let calc_runs = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["call"] == "add(1, 2)")
        .count();
    assert_eq!(calc_runs, 1, "{listed}");
}

#[test]
fn install_grants_are_checked_and_need_a_name() {
    let home = tempfile::tempdir().unwrap();
    let out = mother(
        home.path(),
        &["install", children_artifacts::HELLO_LOG, "--grant", "log"],
    );
    assert!(!out.status.success());
    let out = mother(
        home.path(),
        &[
            "install",
            children_artifacts::HELLO_LOG,
            "--name",
            "hello",
            "--grant",
            "fs:/definitely/not/here",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("error["),
        "{}",
        text(&out.stderr)
    );
}

/// `bytes` with an extra custom section: the same code under another id.
fn twin_of(bytes: &[u8], dir: &std::path::Path) -> String {
    let (name, payload) = (b"twin", b"x");
    let mut out = bytes.to_vec();
    out.push(0); // custom section
    out.push((1 + name.len() + payload.len()) as u8);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(payload);
    let path = dir.join("twin.wasm");
    std::fs::write(&path, out).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_cycle_through_another_child_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let twin = twin_of(children_artifacts::COMPOSER_BYTES, home.path());
    install(home.path(), children_artifacts::COMPOSER, "composer", &[]);
    install(home.path(), &twin, "twin", &["invoke:composer"]);
    install(home.path(), children_artifacts::CALC, "calc", &[]);
    // composer -> twin -> composer: the twin's call is refused, and the
    // twin's refusal is what the composer gets back.
    let call = r#"call("twin", "call(\"composer\", \"call(\\\"calc\\\", \\\"add(1, 2)\\\")\")")"#;
    let value = compose(home.path(), call, &["invoke:twin"]);
    let wave = value["wave"].as_str().unwrap();
    assert!(wave.starts_with("ok({value: \"err("), "{wave}");
    assert!(wave.contains("already on the call chain"), "{wave}");
}

#[test]
fn a_callee_never_gets_more_than_the_callers_limits() {
    let home = tempfile::tempdir().unwrap();
    install(home.path(), children_artifacts::COMPOSER, "composer", &[]);
    install(home.path(), children_artifacts::LIMITS, "limits", &[]);
    let out = mother(
        home.path(),
        &[
            "run",
            "composer",
            r#"call("limits", "hog-forever()")"#,
            "--grant",
            "invoke:limits",
            "--memory",
            "32MiB",
            "--json",
        ],
    );
    let value = json(&out);
    let wave = value["wave"].as_str().unwrap();
    // The callee stopped at the caller's 32 MiB, not at the default 256 MiB,
    // and its failed run was recorded all the same.
    assert!(wave.contains("memory limit exceeded"), "{wave}");
    assert!(wave.contains("the cap is 33554432"), "{wave}");
    assert!(wave.contains("(receipt "), "{wave}");
}

#[test]
fn no_grant_reaches_the_mothers_own_state() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let inside = home.join("blobs");
    std::fs::create_dir_all(&inside).unwrap();
    // The work tree of a real repository holding the home: `git:` is refused
    // for the home it contains, not for not being a repository.
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(git.success());
    let refused = |grant: String| {
        let out = mother(
            &home,
            &[
                "run",
                children_artifacts::HELLO_CMD,
                "--grant",
                &grant,
                "--",
                "a",
            ],
        );
        assert!(!out.status.success(), "{grant} was accepted");
        let err = text(&out.stderr);
        assert!(err.contains("the Mother's own state"), "{grant}: {err}");
    };
    for path in [&home, &inside, &dir.path().to_path_buf()] {
        refused(format!("fs:{}:ro", path.display()));
    }
    refused(format!("git:{}", dir.path().display()));
    // The Mother's key cannot be read through a kv grant either.
    let key = home.join("identity.key");
    let out = mother(
        &home,
        &[
            "run",
            children_artifacts::HELLO_CMD,
            "--grant",
            &format!("kv:{}", key.display()),
            "--",
            "a",
        ],
    );
    assert!(
        text(&out.stderr).contains("the Mother's own state"),
        "{}",
        text(&out.stderr)
    );
}
