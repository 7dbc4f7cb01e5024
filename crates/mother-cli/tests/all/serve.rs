//! `mother serve` and `--connect`: the same commands through the socket
//! print exactly what they print embedded; one Mother per home; a policy
//! decides what another key may do; SIGTERM stops the server cleanly.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{mother, text};

/// A `mother serve` process, killed if the test ends before it stops.
struct Served(Option<Child>);

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn serve(home: &Path) -> Served {
    let child = Command::new(env!("CARGO_BIN_EXE_mother"))
        .env("PATINA_HOME", home)
        .args(["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mother serve starts");
    let served = Served(Some(child));
    let socket = home.join("mother.sock");
    let deadline = Instant::now() + Duration::from_secs(60);
    // Until it accepts (a killed server's socket file may still be there).
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "the socket accepts");
        std::thread::sleep(Duration::from_millis(50));
    }
    served
}

/// Output with what differs between two runs of the same call (the
/// elapsed time) masked.
fn masked(output: &std::process::Output) -> (String, String, Option<i32>) {
    let mask = |bytes: &[u8]| {
        let text = text(bytes);
        let key = "\"elapsed_ms\":";
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(key) {
            out.push_str(&rest[..at + key.len()]);
            rest = rest[at + key.len()..]
                .trim_start_matches(|c: char| c.is_ascii_digit() || ".e-".contains(c));
            out.push('T');
        }
        out.push_str(rest);
        out
    };
    (
        mask(&output.stdout),
        mask(&output.stderr),
        output.status.code(),
    )
}

#[test]
fn served_commands_print_what_embedded_ones_print() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let out = mother(
        home,
        &["install", children_artifacts::CALC, "--name", "calc"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let served = serve(home);

    // A second Mother on the same home refuses to start.
    let second = mother(home, &["serve"]);
    assert!(!second.status.success());
    assert!(
        text(&second.stderr).contains("error[busy]"),
        "{}",
        text(&second.stderr)
    );

    for args in [
        vec!["list"],
        vec!["list", "--json"],
        vec!["inspect", "calc"],
        vec!["inspect", "calc", "--json"],
        vec!["inspect", "calc", "--wit"],
        vec!["run", "calc", "nope(1)"],
        vec!["run", "missing", "add(1, 2)"],
        vec!["run", "calc", "add(1, 2)", "--grant", "Not A Grant"],
    ] {
        let embedded = mother(home, &args);
        let connected = mother(home, &[&["--connect"], args.as_slice()].concat());
        assert_eq!(masked(&embedded), masked(&connected), "{args:?}");
    }

    // A run, then every receipt command on its receipt, both ways.
    let ran = mother(home, &["--connect", "run", "calc", "add(2, 3)", "--json"]);
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert_eq!(summary["wave"], "5");
    let id = summary["receipt"].as_str().unwrap()[..12].to_owned();
    for args in [
        vec!["receipts", "list"],
        vec!["receipts", "list", "--json"],
        vec!["receipts", "show", &id],
        vec!["receipts", "show", &id, "--json"],
        vec!["receipts", "verify", &id],
        vec!["receipts", "export", &id],
        vec!["replay", &id],
        vec!["replay", &id, "--json"],
    ] {
        let embedded = mother(home, &args);
        let connected = mother(home, &[&["--connect"], args.as_slice()].concat());
        assert!(
            embedded.status.success(),
            "{args:?}: {}",
            text(&embedded.stderr)
        );
        assert_eq!(masked(&embedded), masked(&connected), "{args:?}");
    }
    let run = mother(home, &["run", "calc", "add(2, 3)"]);
    let connected = mother(home, &["--connect", "run", "calc", "add(2, 3)"]);
    assert_eq!(text(&run.stdout), text(&connected.stdout));

    // Another key: unknown until the policy names it, then a runner.
    let key_file = home.join("other.key");
    let other = mother(home, &["key", "--of", key_file.to_str().unwrap()]);
    let other_key = text(&other.stdout).trim().to_owned();
    let as_other = |args: &[&str]| {
        mother(
            home,
            &[&["--connect", "--key", key_file.to_str().unwrap()], args].concat(),
        )
    };
    let refused = as_other(&["list"]);
    assert!(
        text(&refused.stderr).contains("error[unknown-key]"),
        "{}",
        text(&refused.stderr)
    );
    let allowed = mother(home, &["policy", "allow", &other_key, "--role", "runner"]);
    assert!(allowed.status.success(), "{}", text(&allowed.stderr));
    assert!(text(&allowed.stdout).contains("told the serving Mother"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = as_other(&["list"]);
        if listed.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the reload is seen: {}",
            text(&listed.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let above = as_other(&["run", "calc", "add(1, 2)", "--grant", "kv"]);
    assert!(
        text(&above.stderr).contains(
            "error[grant-above-ceiling]: grant `kv` is above the ceiling of role `runner` (log)"
        ),
        "{}",
        text(&above.stderr)
    );
    let live = as_other(&["run", "calc", "add(1, 2)", "--mode", "live"]);
    assert!(
        text(&live.stderr)
            .contains("error[live-denied]: role `runner` may run children only recorded, not live"),
        "{}",
        text(&live.stderr)
    );
    let replay = as_other(&["replay", &id]);
    assert!(
        text(&replay.stderr).contains("error[denied]"),
        "{}",
        text(&replay.stderr)
    );
    let theirs = as_other(&["receipts", "show", &id]);
    assert!(
        text(&theirs.stderr).contains("error[receipt-denied]"),
        "{}",
        text(&theirs.stderr)
    );
    let explained = mother(home, &["policy", "explain", &other_key]);
    assert!(
        text(&explained.stdout).contains("role      runner")
            && text(&explained.stdout).contains("runs      recorded only"),
        "{}",
        text(&explained.stdout)
    );

    // The epoch, bumped while serving.
    let bumped = mother(home, &["epoch", "bump"]);
    assert!(
        text(&bumped.stdout).contains("the serving Mother"),
        "{}",
        text(&bumped.stdout)
    );

    // SIGTERM: the server stops by itself and removes its socket.
    let mut served = served;
    let child = served.0.as_mut().unwrap();
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) of the child process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "mother serve stops on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(!home.join("mother.sock").exists());
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("stopped: every run in flight finished"),
        "{stderr}"
    );
}

#[test]
fn a_policy_file_with_a_mistake_is_refused_with_its_line() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("policy.toml");
    std::fs::write(
        &file,
        "[callers]\n\n[roles.ops]\nmethods = [\"runtime.run\"]\ngrant = [\"log\"]\n",
    )
    .unwrap();
    let out = mother(home.path(), &["policy", "check"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error[bad-policy]"), "{stderr}");
    assert!(stderr.contains("policy.toml:5:"), "{stderr}");
    assert!(stderr.contains("grant"), "{stderr}");
    std::fs::write(&file, "[roles.ops]\nmethods = [\"runtime.*\"]\n").unwrap();
    let out = mother(home.path(), &["policy", "check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("roles admin, agent, ops, reader, runner"),
        "{}",
        text(&out.stdout)
    );
}

/// `kill -9` of a serving Mother during 1,000 runs over 50 connections:
/// after a restart every run that was answered has its receipt, and every
/// receipt verifies with its chain link.
#[test]
fn a_killed_server_lost_no_answered_receipt() {
    use patina_membrane::Connection;
    use patina_mother::{CallSpec, ChildRef, Mother, MotherConfig, ReceiptRef, RunSpec};
    use std::cell::RefCell;
    use std::rc::Rc;

    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let out = mother(
        home,
        &["install", children_artifacts::CALC, "--name", "calc"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut served = serve(home);
    let seed = patina_receipts::Identity::load_or_create(&home.join("identity.key"))
        .unwrap()
        .seed();
    let socket = home.join("mother.sock");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let answered: Rc<RefCell<Vec<String>>> = Rc::default();
    local.block_on(&runtime, async {
        let mut clients = Vec::new();
        for connection in 0..50 {
            let session = Connection::unix(&socket)
                .await
                .unwrap()
                .login(&seed)
                .await
                .unwrap();
            let answered = answered.clone();
            clients.push(tokio::task::spawn_local(async move {
                for run in 0..20 {
                    let spec = RunSpec::new(
                        ChildRef::Installed("calc".into()),
                        CallSpec::Wave(format!("add({connection}, {run})")),
                    );
                    match session.run(&spec).await {
                        Ok(ran) => answered
                            .borrow_mut()
                            .push(ran.receipt.expect("recorded").id.to_string()),
                        Err(_) => return,
                    }
                }
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while answered.borrow().len() < 400 {
            assert!(Instant::now() < deadline, "runs are answered");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let child = served.0.as_mut().unwrap();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for client in clients {
            let _ = tokio::time::timeout(Duration::from_secs(30), client).await;
        }
    });
    drop(served);
    let answered = answered.borrow().clone();
    assert!(
        answered.len() >= 400 && answered.len() < 1000,
        "{}",
        answered.len()
    );

    // The lock died with the process: a new server starts on the home.
    let again = serve(home);
    let listed = mother(home, &["--connect", "list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    drop(again);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mother = Mother::open(MotherConfig::new(home)).unwrap();
        for id in &answered {
            let verified = mother
                .verify_receipt(&ReceiptRef::Stored(id.clone()))
                .await
                .unwrap_or_else(|e| panic!("answered receipt {id}: {e}"));
            assert_eq!(verified.receipt.id.to_string(), *id);
        }
        let all = mother.receipts_of(None, None).await.unwrap();
        assert!(all.len() >= answered.len());
        for receipt in &all {
            mother
                .verify_receipt(&ReceiptRef::Stored(receipt.id.to_string()))
                .await
                .unwrap();
        }
    });
}
