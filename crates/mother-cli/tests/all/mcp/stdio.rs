//! `mother mcp` as a process: initialize, tools with schemas checked
//! against values, calls that leave receipts naming `local:NAME`, an agent
//! that cannot see or run a child outside its list, every tool tried as a
//! way to widen its grants, and `notifications/tools/list_changed` after an
//! install. Approvals by a person are in `approvals`, on the same world.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::client::StdioAgent;
use super::{error_kind, install, install_wat, names, policy, receipt_count, tool, validator};
use crate::common::{json as output_json, mother, text};

/// A home with calc, indexer, git-status, hello-log and the WAT `bump`;
/// `notes` (a folder with two notes) and `repo` (a git repository) beside it.
pub(super) struct World {
    pub(super) _dir: tempfile::TempDir,
    pub(super) home: std::path::PathBuf,
    pub(super) notes: std::path::PathBuf,
    pub(super) repo: std::path::PathBuf,
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
}

pub(super) fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let notes = dir.path().join("notes");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(
        notes.join("replay.md"),
        "# Replay\nA receipt can be replayed.\n",
    )
    .unwrap();
    std::fs::write(notes.join("toys.txt"), "Toys are granted, never ambient.\n").unwrap();
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README.md"), "hello\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(
        &repo,
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "-m",
            "first",
        ],
    );
    std::fs::write(repo.join("new.txt"), "untracked\n").unwrap();
    for child in ["calc", "indexer", "git-status"] {
        install(&home, child);
    }
    install_wat(&home);
    World {
        _dir: dir,
        home,
        notes,
        repo,
    }
}

/// The agent role: these children, `kv` and the repository always, the
/// notes folder only when a person approves.
pub(super) fn agent_policy(world: &World) {
    policy(
        &world.home,
        &format!(
            r#"
[roles.agent]
methods = ["runtime.list", "runtime.describe", "runtime.run", "receipts.get", "receipts.list", "receipts.verify", "receipts.replay"]
children = ["calc", "indexer", "git-status", "bump", "hello-log"]
grants = ["kv", "git:{repo}"]
ask = ["fs:{notes}:ro"]
"#,
            repo = world.repo.display(),
            notes = world.notes.display()
        ),
    );
}

#[test]
fn an_agent_calls_typed_tools_and_every_call_leaves_a_receipt_naming_it() {
    let world = world();
    agent_policy(&world);
    let mut agent = StdioAgent::start(&world.home, &["--name", "claude"]);
    let init = agent.initialize(json!({}));
    assert_eq!(init["serverInfo"]["name"], "patina-mother");
    assert_eq!(init["capabilities"]["tools"]["listChanged"], true);

    let tools = agent.tools();
    let all = names(&tools);
    for expected in [
        "list_children",
        "describe_child",
        "get_receipt",
        "replay",
        "calc.add",
        "indexer.index",
        "indexer.search",
        "git-status.status",
        "bump.bump",
        "bump.double",
    ] {
        assert!(all.iter().any(|n| n == expected), "{expected} in {all:?}");
    }
    for name in &all {
        assert!(mcp_spec_allows(name), "{name}");
    }

    // calc.add: integers with their bounds.
    let add = tool(&tools, "calc.add");
    assert!(
        add["description"]
            .as_str()
            .unwrap()
            .contains("func(a: s32, b: s32) -> s32")
    );
    let input = validator(&add["inputSchema"]);
    assert!(input.is_valid(&json!({"a": 2, "b": 3})));
    assert!(input.is_valid(&json!({"a": 2, "b": 3, "_grants": []})));
    assert!(
        !input.is_valid(&json!({"a": 2.5, "b": 3})),
        "not an integer"
    );
    assert!(
        !input.is_valid(&json!({"a": 2147483648_u64, "b": 3})),
        "above s32"
    );
    assert!(!input.is_valid(&json!({"a": 2})), "b is required");
    assert!(
        !input.is_valid(&json!({"a": 2, "b": 3, "c": 4})),
        "no other key"
    );

    // A component from outside the repository: u8 bounds.
    let bump = tool(&tools, "bump.bump");
    let input = validator(&bump["inputSchema"]);
    assert!(input.is_valid(&json!({"x": 255, "y": 0})));
    assert!(!input.is_valid(&json!({"x": 256, "y": 0})), "above u8");
    assert!(!input.is_valid(&json!({"x": -1, "y": 0})), "below u8");
    assert!(!input.is_valid(&json!({"x": 1})), "y is required");
    let answer = agent.call("bump.bump", json!({"x": 200, "y": 5}));
    assert_eq!(answer["structuredContent"]["result"], 205, "{answer}");
    validator(&bump["outputSchema"])
        .validate(&answer["structuredContent"])
        .unwrap();
    let double = validator(&tool(&tools, "bump.double")["inputSchema"]);
    assert!(
        double.is_valid(&json!({"n": "-9223372036854775808"})),
        "s64 as a string"
    );

    // A call: the result, and its receipt.
    let answer = agent.call("calc.add", json!({"a": 2, "b": 3}));
    assert_ne!(answer["isError"], true, "{answer}");
    let content = &answer["structuredContent"];
    assert_eq!(content["result"], 5);
    validator(&add["outputSchema"]).validate(content).unwrap();
    let receipt = content["receipt"]
        .as_str()
        .expect("a receipt id")
        .to_owned();
    assert_eq!(receipt.len(), 64);

    // get_receipt: the canonical receipt, naming the caller and the door.
    let got = agent.call("get_receipt", json!({"receipt": receipt}));
    let got = &got["structuredContent"];
    assert_eq!(got["id"], receipt.as_str());
    assert_eq!(got["caller"], "local:claude");
    assert_eq!(got["receipt"]["caller"]["id"], "local:claude");
    assert_eq!(got["receipt"]["caller"]["role"], "agent");
    assert_eq!(got["receipt"]["caller"]["door"], "mcp");
    let canonical = got["canonical"].as_str().unwrap();
    let exported = output_json(&mother(&world.home, &["receipts", "export", &receipt]));
    assert_eq!(
        serde_json::from_str::<Value>(canonical).unwrap(),
        exported["receipt"],
        "get_receipt is the stored receipt"
    );

    // replay: matched.
    let replayed = agent.call("replay", json!({"receipt": &receipt[..12]}));
    assert_eq!(replayed["structuredContent"]["matched"], true, "{replayed}");
    assert_eq!(replayed["structuredContent"]["divergence"], Value::Null);

    // What the agent did, by caller.
    let listed = output_json(&mother(
        &world.home,
        &["receipts", "list", "--caller", "local:claude", "--json"],
    ));
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "bump and add: {listed}");
    assert!(ids.contains(&receipt.as_str()));

    // Errors an agent routes on.
    let bad = agent.call("calc.add", json!({"a": "two", "b": 3}));
    assert_eq!(error_kind(&bad), "bad-arguments");
    assert!(
        bad["structuredContent"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("s32")
    );
    validator(&add["outputSchema"])
        .validate(&bad["structuredContent"])
        .unwrap();
    let missing = agent.call("calc.add", json!({"a": 1}));
    assert_eq!(error_kind(&missing), "bad-arguments");
    let unknown = agent.call("calc.subtract", json!({}));
    assert_eq!(error_kind(&unknown), "unknown-tool");
    let grants = agent.call("calc.add", json!({"a": 1, "b": 2, "_grants": "kv"}));
    assert_eq!(error_kind(&grants), "bad-arguments");
    let no_receipt = agent.call("get_receipt", json!({"receipt": "ffffffff"}));
    assert!(no_receipt["isError"] == true, "{no_receipt}");
}

/// MCP's tool-name rule, written from the specification (1 to 128 of
/// `A-Z a-z 0-9 _ - .`) rather than taken from `patina-mcp`, so the test
/// holds the server to the spec, not to itself.
fn mcp_spec_allows(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[test]
fn an_agent_sees_and_runs_only_its_children_and_cannot_widen_itself() {
    let world = world();
    install(&world.home, "hello-log");
    // The built-in agent role, with only calc named.
    policy(
        &world.home,
        "[roles.agent]\nmethods = [\"runtime.list\", \"runtime.describe\", \"runtime.run\", \"receipts.get\", \"receipts.replay\"]\nchildren = [\"calc\"]\n",
    );
    // A receipt of the home's owner, not the agent's.
    let owners = output_json(&mother(
        &world.home,
        &[
            "run",
            "hello-log",
            "greet",
            "--args-json",
            "[\"ann\"]",
            "--grant",
            "log",
            "--json",
        ],
    ));
    let owners = owners["receipt"].as_str().unwrap().to_owned();
    let policy_before = std::fs::read(world.home.join("policy.toml")).unwrap();
    let list_before = text(&mother(&world.home, &["list", "--json"]).stdout);

    let mut agent = StdioAgent::start(&world.home, &["--name", "narrow"]);
    agent.initialize(json!({"elicitation": {}}));
    let tools = agent.tools();
    let all = names(&tools);
    assert!(all.iter().any(|n| n == "calc.add"), "{all:?}");
    for hidden in ["hello-log", "indexer", "git-status", "bump"] {
        assert!(
            !all.iter().any(|n| n.starts_with(hidden)),
            "{hidden} in {all:?}"
        );
    }
    // No tool installs, grants, or changes a policy, a role or a token.
    for name in &all {
        for word in [
            "install", "grant", "policy", "role", "token", "approve", "allow",
        ] {
            assert!(!name.contains(word), "{name}");
        }
    }
    let children = agent.call("list_children", json!({}));
    let listed: Vec<&str> = children["structuredContent"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(listed, ["calc"]);
    let described = agent.call("describe_child", json!({"child": "hello-log"}));
    assert_eq!(error_kind(&described), "child-denied");
    // A tool name that tries to reach another child: no name resolves to
    // anything but an exact entry of the agent's own catalogue.
    for name in [
        "hello-log.greet",
        "calc.greet",
        "calc.add/../hello-log.greet",
        "../hello-log.greet",
        "calc/../../hello-log/greet",
        "hello_log.greet",
        "HELLO-LOG.GREET",
        "Calc.add",
        "calc.add ",
        "calc.add\u{0}hello-log.greet",
        "calc.add.hello-log.greet",
        "calc..add",
        "*.greet",
        "hello-log.*",
        "%2e%2e/hello-log.greet",
        "",
    ] {
        let hidden = agent.call(name, json!({"name": "ann"}));
        assert_eq!(error_kind(&hidden), "unknown-tool", "{name:?}: {hidden}");
    }
    let theirs = agent.call("get_receipt", json!({"receipt": owners}));
    assert_eq!(error_kind(&theirs), "receipt-denied");
    let theirs = agent.call("replay", json!({"receipt": owners}));
    assert_eq!(error_kind(&theirs), "receipt-denied");

    // Every tool, asked for more: a grant, a role, a policy, an install.
    let widen = [
        ("_grants", json!(["*"])),
        ("_grants", json!(["fs:/:rw"])),
        ("_grants", json!(["log"])),
        ("_grants", json!(["invoke:hello-log"])),
        ("_grants", json!(["invoke:*"])),
        ("_role", json!("admin")),
        ("_approve", json!(["fs:/:rw"])),
        ("grants", json!(["*"])),
        ("role", json!("admin")),
        ("policy", json!("[roles.agent]\nchildren = [\"*\"]")),
        ("install", json!("hello-log")),
    ];
    for name in &all {
        for (key, value) in &widen {
            let mut arguments = match name.as_str() {
                "calc.add" => json!({"a": 1, "b": 2}),
                "describe_child" => json!({"child": "calc"}),
                "get_receipt" | "replay" => json!({"receipt": owners}),
                _ => json!({}),
            };
            arguments[*key] = value.clone();
            let (answer, asked) = agent.call_answering(
                name,
                arguments,
                json!({"action": "accept", "content": {"approve": true}}),
            );
            assert!(asked.is_empty(), "{name} {key}: nobody is asked");
            let kind = error_kind(&answer).to_owned();
            let expected: &[&str] = match (name.as_str(), *key) {
                ("calc.add", "_grants") => &["grant-above-ceiling", "bad-grant"],
                _ => &["bad-arguments"],
            };
            assert!(
                expected.contains(&kind.as_str()),
                "{name} {key}: {kind} {answer}"
            );
        }
    }
    assert_eq!(
        std::fs::read(world.home.join("policy.toml")).unwrap(),
        policy_before
    );
    assert_eq!(
        text(&mother(&world.home, &["list", "--json"]).stdout),
        list_before
    );
    assert_eq!(receipt_count(&world.home, "local:narrow"), 0, "nothing ran");
}

#[test]
fn installing_a_child_the_role_names_tells_the_client_its_tools_changed() {
    let world = world();
    agent_policy(&world);
    let mut agent = StdioAgent::start(&world.home, &["--name", "watcher"]);
    agent.initialize(json!({}));
    let before = names(&agent.tools());
    assert!(
        !before.iter().any(|n| n.starts_with("hello-log.")),
        "{before:?}"
    );

    install(&world.home, "hello-log");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut told = false;
    while !told && Instant::now() < deadline {
        if let Some(message) = agent.next(Duration::from_secs(1)) {
            told = message["method"] == "notifications/tools/list_changed";
        }
    }
    assert!(told, "notifications/tools/list_changed within a minute");
    let after = names(&agent.tools());
    assert!(after.iter().any(|n| n == "hello-log.greet"), "{after:?}");
}
