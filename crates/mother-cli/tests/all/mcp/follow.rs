//! `mother mcp` follows the home while it serves an agent, as `mother
//! serve` does on its signals: a `policy.toml` another command changed, and
//! an epoch `mother epoch bump` advanced, apply at the agent's next request.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::client::StdioAgent;
use super::{error_kind, install, names, policy};
use crate::common::mother;

const BOTH: &str = "[roles.agent]\nmethods = [\"runtime.list\", \"runtime.describe\", \"runtime.run\"]\nchildren = [\"calc\", \"hello-log\"]\n";
const HELLO_ONLY: &str = "[roles.agent]\nmethods = [\"runtime.list\", \"runtime.describe\", \"runtime.run\"]\nchildren = [\"hello-log\"]\n";

/// Calls `calc.add` until `done` holds for its answer, for at most 10 s.
fn add_until(agent: &mut StdioAgent, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = agent.call("calc.add", json!({"a": 2, "b": 3}));
        if done(&answer) {
            return answer;
        }
        assert!(Instant::now() < deadline, "not within 10 s: {answer}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_role_narrowed_or_an_epoch_bumped_while_an_agent_is_served_applies_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    for child in ["calc", "hello-log"] {
        install(&home, child);
    }
    policy(&home, BOTH);
    let mut agent = StdioAgent::start(&home, &["--name", "followed"]);
    agent.initialize(json!({}));
    let answer = agent.call("calc.add", json!({"a": 2, "b": 3}));
    assert_eq!(answer["structuredContent"]["result"], 5, "{answer}");

    // The epoch advanced by another command: the agent goes on under its
    // role (it is a local caller, not a holder of an old capability).
    let bumped = mother(&home, &["epoch", "bump"]);
    assert!(bumped.status.success());
    std::thread::sleep(Duration::from_millis(1_500));
    let answer = agent.call("calc.add", json!({"a": 2, "b": 3}));
    assert_eq!(answer["structuredContent"]["result"], 5, "{answer}");

    // The role narrowed in policy.toml: calc is refused from then on.
    policy(&home, HELLO_ONLY);
    let refused = add_until(&mut agent, |answer| answer["isError"] == true);
    let kind = error_kind(&refused);
    assert!(
        ["child-denied", "unknown-tool"].contains(&kind),
        "refused for the child: {refused}"
    );
    let tools = names(&agent.tools());
    assert!(
        tools.iter().any(|n| n.starts_with("hello-log.")),
        "{tools:?}"
    );
    assert!(!tools.iter().any(|n| n.starts_with("calc.")), "{tools:?}");
}
