//! Approvals through `mother mcp`: a grant outside the role refused by
//! name with nobody asked; a grant in the role's `ask` list put to the
//! person (accepted, declined, cancelled, a client that cannot ask) with
//! the approval in the receipt; and the 2026-07-28 flow, where the server
//! answers input-required and the client retries once with the state.

use serde_json::{Value, json};

use super::client::StdioAgent;
use super::stdio::{agent_policy, world};
use super::{error_kind, receipt_count};

#[test]
fn grants_outside_the_role_are_refused_by_name_and_approvals_go_to_a_person() {
    let world = world();
    agent_policy(&world);
    let notes = format!("fs:{}:ro", world.notes.display());
    let repo = format!("git:{}", world.repo.display());

    // A client that can ask a person.
    let mut agent = StdioAgent::start(&world.home, &["--name", "asker"]);
    agent.initialize(json!({"elicitation": {"form": {}}}));

    // Within the role: no question.
    let status = agent.call("git-status.status", json!({"_grants": [repo]}));
    assert_eq!(
        status["structuredContent"]["result"]["ok"]["untracked-count"], 1,
        "{status}"
    );

    // Outside role and ask list: refused, the grant named; nobody asked.
    let (refused, asked) = agent.call_answering(
        "indexer.index",
        json!({"_grants": ["fs:/etc:ro", "kv"]}),
        json!({"action": "accept", "content": {"approve": true}}),
    );
    assert!(asked.is_empty(), "{asked:?}");
    assert_eq!(error_kind(&refused), "grant-above-ceiling");
    assert_eq!(refused["structuredContent"]["error"]["grant"], "fs:/etc:ro");

    // In the ask list: the person is asked about that grant, and approves.
    let (indexed, asked) = agent.call_answering(
        "indexer.index",
        json!({"_grants": [notes, "kv"]}),
        json!({"action": "accept", "content": {"approve": true}}),
    );
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["method"], "elicitation/create");
    assert!(
        asked[0]["params"]["message"]
            .as_str()
            .unwrap()
            .contains(&notes)
    );
    assert_eq!(
        indexed["structuredContent"]["result"]["ok"]["files"], 2,
        "{indexed}"
    );
    assert_eq!(indexed["structuredContent"]["approvals"], json!([notes]));
    let receipt = indexed["structuredContent"]["receipt"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = agent.call("get_receipt", json!({"receipt": receipt}));
    assert_eq!(
        got["structuredContent"]["receipt"]["approvals"],
        json!([{"grant": notes, "by": "mcp-elicitation"}])
    );

    // Declined (and cancelled, and accepted without approving): refused,
    // nothing ran.
    let before = receipt_count(&world.home, "local:asker");
    for reply in [
        json!({"action": "decline"}),
        json!({"action": "cancel"}),
        json!({"action": "accept", "content": {"approve": false}}),
    ] {
        let (declined, asked) = agent.call_answering(
            "indexer.search",
            json!({"query": "receipt", "_grants": [notes, "kv"]}),
            reply.clone(),
        );
        assert_eq!(asked.len(), 1);
        assert_eq!(error_kind(&declined), "approval-declined", "{reply}");
        assert_eq!(
            declined["structuredContent"]["error"]["grant"],
            notes.as_str()
        );
    }
    assert_eq!(receipt_count(&world.home, "local:asker"), before);

    // A client that cannot ask a person: approval-required, the grant named.
    let mut plain = StdioAgent::start(&world.home, &["--name", "plain"]);
    plain.initialize(json!({}));
    let refused = plain.call(
        "indexer.search",
        json!({"query": "x", "_grants": [notes, "kv"]}),
    );
    assert_eq!(error_kind(&refused), "approval-required");
    assert_eq!(
        refused["structuredContent"]["error"]["grant"],
        notes.as_str()
    );
}

/// `_meta` of a request on protocol 2026-07-28 (no `initialize`).
fn meta_2026(capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "patina-test-client", "version": "0.1.0"},
    })
}

#[test]
fn a_2026_client_is_asked_with_input_required_and_retries_once() {
    let world = world();
    agent_policy(&world);
    let notes = format!("fs:{}:ro", world.notes.display());
    let mut agent = StdioAgent::start(&world.home, &["--name", "modern"]);
    let meta = meta_2026(json!({"elicitation": {"form": {}}}));
    let arguments = json!({"_grants": [notes, "kv"]});
    let first = agent.request(
        "tools/call",
        json!({"_meta": meta, "name": "indexer.index", "arguments": arguments}),
    );
    let first = &first["result"];
    assert_eq!(first["resultType"], "input_required", "{first}");
    let state = first["requestState"]
        .as_str()
        .expect("a requestState")
        .to_owned();
    let requests = first["inputRequests"].as_object().expect("inputRequests");
    assert_eq!(requests.len(), 1);
    let (key, question) = requests.iter().next().unwrap();
    assert_eq!(question["method"], "elicitation/create");
    assert!(
        question["params"]["message"]
            .as_str()
            .unwrap()
            .contains(&notes)
    );

    // The same state with other arguments is refused (and spent).
    let other = agent.request(
        "tools/call",
        json!({"_meta": meta, "name": "indexer.index",
               "arguments": {"_grants": [notes, "kv", "log"]},
               "requestState": state,
               "inputResponses": {key: {"action": "accept", "content": {"approve": true}}}}),
    );
    assert_eq!(error_kind(&other["result"]), "bad-request-state");

    // Asked again, approved on the retry.
    let again = agent.request(
        "tools/call",
        json!({"_meta": meta, "name": "indexer.index", "arguments": arguments}),
    );
    let state = again["result"]["requestState"].as_str().unwrap().to_owned();
    let retry = json!({"_meta": meta, "name": "indexer.index", "arguments": arguments,
                       "requestState": state,
                       "inputResponses": {key: {"action": "accept", "content": {"approve": true}}}});
    let done = agent.request("tools/call", retry.clone());
    let content = &done["result"]["structuredContent"];
    assert_eq!(content["result"]["ok"]["files"], 2, "{done}");
    assert_eq!(content["approvals"], json!([notes]));

    // A state is good once.
    let replayed = agent.request("tools/call", retry);
    assert_eq!(error_kind(&replayed["result"]), "bad-request-state");

    // Declined on the retry: nothing runs.
    let asked = agent.request(
        "tools/call",
        json!({"_meta": meta, "name": "indexer.index", "arguments": arguments}),
    );
    let state = asked["result"]["requestState"].as_str().unwrap().to_owned();
    let declined = agent.request(
        "tools/call",
        json!({"_meta": meta, "name": "indexer.index", "arguments": arguments,
               "requestState": state, "inputResponses": {key: {"action": "decline"}}}),
    );
    assert_eq!(error_kind(&declined["result"]), "approval-declined");
    assert_eq!(receipt_count(&world.home, "local:modern"), 1);

    // A 2026 client that declared no elicitation is refused, the grant named.
    let plain = agent.request(
        "tools/call",
        json!({"_meta": meta_2026(json!({})), "name": "indexer.index", "arguments": arguments}),
    );
    assert_eq!(error_kind(&plain["result"]), "approval-required");
}
