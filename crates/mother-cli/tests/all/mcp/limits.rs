//! The reserved `_limits` and `_deny_missing` inputs of a child tool,
//! through `mother mcp`: a limit within the caller's ceiling bounds the run
//! (and is what its receipt records), one above it is refused with the
//! limit named, malformed ones are `bad-arguments` that name what was
//! wrong, and `_deny_missing` runs a child whose ungranted import then
//! fails as `denied` instead of the run being refused.

use serde_json::json;

use super::client::StdioAgent;
use super::stdio::world;
use super::{error_kind, install, policy};

#[test]
fn an_agent_bounds_its_runs_under_its_ceiling_and_can_ask_for_denied_stubs() {
    let world = world();
    install(&world.home, "hello-log");
    policy(
        &world.home,
        "[roles.agent]\nmethods = [\"runtime.list\", \"runtime.describe\", \"runtime.run\", \"receipts.get\"]\nchildren = [\"calc\", \"hello-log\"]\nlimits = { fuel = 1000000, timeout_ms = 5000 }\n",
    );
    let mut agent = StdioAgent::start(&world.home, &["--name", "bounded"]);
    agent.initialize(json!({}));

    // The schema offers both inputs.
    let tools = agent.tools();
    let add = super::tool(&tools, "calc.add");
    let input = super::validator(&add["inputSchema"]);
    assert!(
        input.is_valid(&json!({"a": 2, "b": 3, "_limits": {"fuel": 10}, "_deny_missing": true}))
    );
    assert!(!input.is_valid(&json!({"a": 2, "b": 3, "_limits": {"fule": 10}})));
    assert!(!input.is_valid(&json!({"a": 2, "b": 3, "_limits": {"fuel": -1}})));

    // Within the ceiling: the run is bounded by what was asked, and its
    // receipt records that limit.
    let starved = agent.call("calc.add", json!({"a": 2, "b": 3, "_limits": {"fuel": 1}}));
    assert_eq!(error_kind(&starved), "out-of-fuel", "{starved}");
    let receipt = starved["structuredContent"]["receipt"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed = agent.call("get_receipt", json!({"receipt": receipt}));
    let limits = &signed["structuredContent"]["receipt"]["transcript"]["call"]["limits"];
    assert_eq!(limits["fuel"], 1, "{signed}");
    let fed = agent.call(
        "calc.add",
        json!({"a": 2, "b": 3, "_limits": {"fuel": 1000000, "timeout_ms": 2000}}),
    );
    assert_eq!(fed["structuredContent"]["result"], 5, "{fed}");

    // One step above the ceiling: refused before anything runs, the limit named.
    let above = agent.call(
        "calc.add",
        json!({"a": 2, "b": 3, "_limits": {"fuel": 1000001}}),
    );
    assert_eq!(error_kind(&above), "limit-above-ceiling", "{above}");
    let message = above["structuredContent"]["error"]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("fuel") && message.contains("1000000"),
        "{message}"
    );
    assert!(above["structuredContent"]["receipt"].is_null(), "{above}");

    // Malformed limits and flags name what is wrong.
    for (arguments, names) in [
        (json!({"a": 2, "b": 3, "_limits": {"fule": 10}}), "`fule`"),
        (
            json!({"a": 2, "b": 3, "_limits": {"fuel": -1}}),
            "`_limits.fuel`",
        ),
        (
            json!({"a": 2, "b": 3, "_limits": {"fuel": "lots"}}),
            "`_limits.fuel`",
        ),
        (json!({"a": 2, "b": 3, "_limits": 10}), "`_limits`"),
        (
            json!({"a": 2, "b": 3, "_deny_missing": "yes"}),
            "`_deny_missing`",
        ),
        (json!({"a": 2, "b": 3, "_mode": "live"}), "`_mode`"),
    ] {
        let bad = agent.call("calc.add", arguments.clone());
        assert_eq!(error_kind(&bad), "bad-arguments", "{arguments}: {bad}");
        let message = bad["structuredContent"]["error"]["message"]
            .as_str()
            .unwrap();
        assert!(message.contains(names), "{arguments}: {message}");
    }

    // hello-log imports `log`, which this role may not grant: refused as
    // it stands, run with a stub that fails as `denied` when asked for.
    let refused = agent.call("hello-log.greet", json!({"name": "ann"}));
    assert_eq!(error_kind(&refused), "missing-grants", "{refused}");
    let denied = agent.call(
        "hello-log.greet",
        json!({"name": "ann", "_deny_missing": true}),
    );
    assert_eq!(error_kind(&denied), "denied", "{denied}");
    let message = denied["structuredContent"]["error"]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("patina:toys/log"), "{message}");
    assert!(
        denied["structuredContent"]["receipt"].is_string(),
        "{denied}"
    );
}
