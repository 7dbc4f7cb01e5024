//! Mothers on the network from the command line: `mother serve --listen`
//! processes on 127.0.0.1 only; `mother run --on`, `peers`, `find` and
//! `push` through the served Mother; refusals by the peer's policy; a peer
//! killed mid-run; `config.toml`. Every wait is bounded.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{json, mother, text};

/// A `mother serve` process on the network, killed if the test ends first.
struct Node {
    process: Option<Child>,
    peer_id: String,
    /// Its TCP address, ending in `/p2p/<peer id>`.
    addr: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Node {
    fn kill(&mut self) {
        drop(self.process.take().map(|mut child| {
            let _ = child.kill();
            child.wait()
        }));
    }
}

/// Starts `mother serve --json` with `flags` and reads the peer id and
/// listen addresses it prints.
fn serve(home: &Path, flags: &[&str]) -> Node {
    let mut process = Command::new(env!("CARGO_BIN_EXE_mother"))
        .env("PATINA_HOME", home)
        .env_remove("PATINA_LOG")
        .args(["serve", "--json"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mother serve starts");
    let stdout = process.stdout.take().expect("its stdout");
    let (send, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = send.send(line);
    });
    let mut node = Node {
        process: Some(process),
        peer_id: String::new(),
        addr: String::new(),
    };
    let line = lines
        .recv_timeout(Duration::from_secs(120))
        .expect("mother serve prints its addresses");
    let printed: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    node.peer_id = printed["peer_id"].as_str().expect("a peer id").to_owned();
    node.addr = printed["listen"]
        .as_array()
        .expect("listen addresses")
        .iter()
        .filter_map(Value::as_str)
        .find(|a| a.starts_with("/ip4/127.0.0.1/tcp/"))
        .expect("a TCP address on 127.0.0.1")
        .to_owned();
    assert!(
        node.addr.ends_with(&format!("/p2p/{}", node.peer_id)),
        "{line}"
    );
    node
}

fn key(home: &Path) -> String {
    let out = mother(home, &["key"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

fn allow(home: &Path, caller: &str) {
    let out = mother(home, &["policy", "allow", caller, "--role", "runner"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn install(home: &Path, file: &str, name: &str) {
    let out = mother(home, &["install", file, "--name", name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn succeeds(home: &Path, args: &[&str]) -> std::process::Output {
    let out = mother(home, args);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

#[test]
fn mothers_run_children_on_each_other_from_the_command_line() {
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let [h1, h2, h3, stranger] = [0, 1, 2, 3].map(|i| dirs[i].path());
    let caller = key(h1);
    allow(h2, &caller);
    allow(h3, &caller);
    install(h1, children_artifacts::CALC, "calc");
    install(h1, children_artifacts::HELLO_LOG, "hello-log");
    let n2 = serve(h2, &["--listen", "/ip4/127.0.0.1/tcp/0"]);
    // H3 listens as its config.toml says, and joins through H2.
    std::fs::write(
        h3.join("config.toml"),
        "[peer]\nlisten = [\"/ip4/127.0.0.1/tcp/0\"]\n",
    )
    .unwrap();
    let n3 = serve(h3, &["--bootstrap", &n2.addr]);
    let _n1 = serve(
        h1,
        &["--listen", "/ip4/127.0.0.1/tcp/0", "--bootstrap", &n2.addr],
    );

    // A run on a peer prints as a local run prints.
    let out = succeeds(h1, &["run", "--on", &n2.addr, "calc", "add(2, 3)"]);
    assert_eq!(text(&out.stdout), "5\n");
    assert!(
        text(&out.stderr).starts_with("receipt "),
        "{}",
        text(&out.stderr)
    );

    // By peer id (known from the bootstrap), and on the third Mother.
    let mut receipts = Vec::new();
    for target in [&n2.peer_id, &n3.addr] {
        let out = succeeds(h1, &["run", "--on", target, "calc", "add(2, 3)", "--json"]);
        let summary = json(&out);
        assert_eq!(summary["result"], 5, "{summary}");
        let id = summary["receipt"]
            .as_str()
            .expect("a receipt id")
            .to_owned();
        // Kept here: shown, verified and replayed from the local store.
        let shown = json(&succeeds(h1, &["receipts", "show", &id, "--json"]));
        succeeds(h1, &["receipts", "verify", &id]);
        let replayed = succeeds(h1, &["replay", &id]);
        assert!(
            text(&replayed.stderr).contains("matched"),
            "{}",
            text(&replayed.stderr)
        );
        receipts.push(shown);
    }
    let (from_2, from_3) = (&receipts[0], &receipts[1]);
    assert_eq!(from_2["transcript_hash"], from_3["transcript_hash"]);
    assert_ne!(from_2["id"], from_3["id"]);
    assert_eq!(from_2["mother"].as_str(), Some(key(h2).as_str()));
    assert_eq!(from_3["mother"].as_str(), Some(key(h3).as_str()));

    // The served Mother's peers, with their addresses.
    let peers = json(&succeeds(h1, &["peers", "--json"]));
    let listed: Vec<&str> = peers["peers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["peer"].as_str())
        .collect();
    assert!(
        listed.contains(&n2.peer_id.as_str()) && listed.contains(&n3.peer_id.as_str()),
        "{peers}"
    );

    // H2 and H3 fetched calc to run it: they provide it now.
    let deadline = Instant::now() + Duration::from_secs(30);
    let providers = loop {
        let found = json(&succeeds(h1, &["find", "calc", "--json"]));
        let providers: Vec<String> = found["providers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str().map(str::to_owned))
            .collect();
        if !providers.is_empty() || Instant::now() > deadline {
            break providers;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        providers.contains(&n2.peer_id) || providers.contains(&n3.peer_id),
        "{providers:?}"
    );

    // Offered bytes: H3 may install (runner), so it holds hello-log now.
    let pushed = json(&succeeds(
        h1,
        &["push", "hello-log", "--to", &n3.addr, "--json"],
    ));
    let hello = pushed["child"].as_str().unwrap().to_owned();
    let listed = json(&succeeds(h3, &["list", "--json"]));
    assert!(listed.to_string().contains(&hello), "{listed}");

    // Above the peer's ceiling: refused, naming the grant.
    let out = mother(
        h1,
        &[
            "run",
            "--on",
            &n2.addr,
            "hello-log",
            "greet(\"x\")",
            "--grant",
            "log",
            "--grant",
            "kv",
        ],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("error[grant-above-ceiling]"), "{stderr}");
    assert!(stderr.contains("`kv`"), "{stderr}");

    // A Mother H2's policy does not name runs nothing there. It holds calc
    // itself (`run --on` resolves the child here first), so the refusal is
    // H2's.
    install(stranger, children_artifacts::CALC, "calc");
    let _n4 = serve(stranger, &["--listen", "/ip4/127.0.0.1/tcp/0"]);
    let out = mother(stranger, &["run", "--on", &n2.addr, "calc", "add(1, 1)"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("error[unauthenticated]"), "{stderr}");
}

/// A fuel budget `spin()` does not spend within the run's 60 s.
const LONG_FUEL: u64 = 1_000_000_000_000_000;

#[test]
fn killing_the_peer_mid_run_is_a_clear_error_within_the_deadline() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let (h1, h2) = (dirs[0].path(), dirs[1].path());
    // The built-in `runner` caps a run at the host defaults (10 s, a fuel
    // budget `spin()` spends in a few seconds): too short a window to kill
    // the peer mid-run. A role of H2's own allows a long run.
    std::fs::write(
        h2.join("policy.toml"),
        format!(
            "[callers]\n\"{}\" = \"long\"\n\n[roles.long]\nmethods = [\"runtime.*\"]\n\
             children = [\"*\"]\nlimits = {{ fuel = {LONG_FUEL}, timeout_ms = 60000 }}\n",
            key(h1)
        ),
    )
    .unwrap();
    install(h1, children_artifacts::LIMITS, "limits");
    let mut n2 = serve(h2, &["--listen", "/ip4/127.0.0.1/tcp/0"]);
    let _n1 = serve(h1, &["--listen", "/ip4/127.0.0.1/tcp/0"]);
    let mut client = Command::new(env!("CARGO_BIN_EXE_mother"))
        .env("PATINA_HOME", h1)
        .args([
            "run",
            "--on",
            &n2.addr,
            "limits",
            "spin()",
            "--timeout",
            "60s",
            "--fuel",
            &LONG_FUEL.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once H2 holds the child, it is about to spin: kill it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !text(&mother(h2, &["list"]).stdout).contains("b3:") {
        assert!(Instant::now() < deadline, "H2 fetched the child");
        if let Some(status) = client.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut client.stderr.take().unwrap(), &mut stderr).unwrap();
            panic!("the run ended ({status}) before H2 fetched the child: {stderr}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    n2.kill();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = client.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = client.kill();
            panic!("the caller hangs after its peer died");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    use std::io::Read;
    client
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success());
    assert!(stderr.starts_with("error[peer-disconnected]"), "{stderr}");
    assert!(stderr.contains(&n2.peer_id), "{stderr}");
}

#[test]
fn a_config_toml_with_an_unknown_key_is_refused_with_its_line() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        "[peer]\nlisten = [\"/ip4/127.0.0.1/tcp/0\"]\nlisen = []\n",
    )
    .unwrap();
    let out = mother(home.path(), &["serve"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("error[bad-config]"), "{stderr}");
    assert!(
        stderr.contains("config.toml:3:") && stderr.contains("lisen"),
        "{stderr}"
    );
}
