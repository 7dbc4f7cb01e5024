//! `mother serve --mcp 127.0.0.1:0`: MCP over streamable HTTP, spoken with
//! hand-written HTTP/1.1 on 127.0.0.1 — the path, Host, Origin and bearer
//! token checked before anything else; initialize, tools/list with schemas
//! checked, a call whose receipt names `token:ID`, refusals naming the
//! grant. Every wait is bounded, and the server is stopped by the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Duration;

use serde_json::{Value, json};

use super::{error_kind, install, names, policy, receipt_count, tool, validator};
use crate::common::{mother, text};

/// `mother serve --mcp`, killed if the test ends before it stops.
struct Served {
    child: Option<Child>,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn serve(home: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mother"))
        .env("PATINA_HOME", home)
        .env_remove("PATINA_LOG")
        .args(["serve", "--mcp", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mother serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let (send, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut served = Served {
        child: Some(child),
        addr: String::new(),
    };
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(120))
            .expect("mother serve prints its MCP address");
        if let Some(url) = line.strip_prefix("mcp http://") {
            served.addr = url.trim_end_matches("/mcp").to_owned();
            return served;
        }
    }
}

/// One HTTP answer: status and JSON body.
struct Answer {
    status: u16,
    body: Value,
}

/// POSTs `body` to `path` with `headers` (Host is the server's unless given).
fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &Value) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let body = body.to_string();
    let mut request = format!("POST {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {addr}\r\n"));
    }
    for (key, value) in headers {
        request.push_str(&format!("{key}: {value}\r\n"));
    }
    request.push_str(&format!(
        "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let payload = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    // An event stream: the last `data:` line is the answer.
    let json_text = if head.to_ascii_lowercase().contains("text/event-stream") {
        payload
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("null")
            .to_owned()
    } else {
        payload
    };
    let body = serde_json::from_str(json_text.trim()).unwrap_or(Value::String(json_text));
    Answer { status, body }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// An MCP request with the bearer `token`.
fn rpc(served: &Served, token: &str, id: u64, method: &str, params: Value) -> Value {
    let bearer = format!("Bearer {token}");
    let answer = post(
        &served.addr,
        "/mcp",
        &[
            ("Authorization", bearer.as_str()),
            ("MCP-Protocol-Version", "2025-11-25"),
        ],
        &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
    );
    assert_eq!(answer.status, 200, "{method}: {}", answer.body);
    answer.body
}

#[test]
fn mcp_over_http_checks_host_origin_and_token_and_records_the_token_as_caller() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let notes = dir.path().join("notes");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(notes.join("a.md"), "replay me\n").unwrap();
    install(&home, "calc");
    install(&home, "indexer");
    policy(
        &home,
        &format!(
            "[roles.agent]\nmethods = [\"runtime.list\", \"runtime.describe\", \"runtime.run\", \"receipts.get\"]\n\
             children = [\"calc\", \"indexer\"]\ngrants = [\"kv\"]\nask = [\"fs:{}:ro\"]\n",
            notes.display()
        ),
    );
    let created = mother(
        &home,
        &["token", "create", "--role", "agent", "--name", "http-agent"],
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout).trim().to_owned();
    let id = token
        .strip_prefix("patina_")
        .and_then(|rest| rest.split('_').next())
        .expect("patina_<id>_<secret>")
        .to_owned();
    let served = serve(&home);
    let hello = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}});
    let bearer = format!("Bearer {token}");

    // Refused before any MCP: path, Host, Origin, token.
    let answer = post(
        &served.addr,
        "/other",
        &[("Authorization", bearer.as_str())],
        &hello,
    );
    assert_eq!(answer.status, 404);
    let answer = post(
        &served.addr,
        "/mcp",
        &[
            ("Host", "evil.example:80"),
            ("Authorization", bearer.as_str()),
        ],
        &hello,
    );
    assert_eq!(
        (answer.status, &answer.body["error"]["kind"]),
        (403, &json!("bad-host"))
    );
    let answer = post(
        &served.addr,
        "/mcp",
        &[
            ("Origin", "http://evil.example"),
            ("Authorization", bearer.as_str()),
        ],
        &hello,
    );
    assert_eq!(
        (answer.status, &answer.body["error"]["kind"]),
        (403, &json!("bad-origin"))
    );
    let answer = post(&served.addr, "/mcp", &[], &hello);
    assert_eq!(
        (answer.status, &answer.body["error"]["kind"]),
        (401, &json!("unauthenticated"))
    );
    let forged = format!("Bearer patina_{id}_{}", "0".repeat(43));
    let answer = post(
        &served.addr,
        "/mcp",
        &[("Authorization", forged.as_str())],
        &hello,
    );
    assert_eq!(
        (answer.status, &answer.body["error"]["kind"]),
        (401, &json!("unauthenticated"))
    );

    // The same origin is fine.
    let origin = format!("http://{}", served.addr);
    let answer = post(
        &served.addr,
        "/mcp",
        &[
            ("Origin", origin.as_str()),
            ("Authorization", bearer.as_str()),
        ],
        &hello,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["result"]["serverInfo"]["name"], "patina-mother");

    let tools = rpc(&served, &token, 2, "tools/list", json!({}))["result"].clone();
    let all = names(&tools);
    assert!(all.iter().any(|n| n == "calc.add") && all.iter().any(|n| n == "indexer.search"));
    let add = tool(&tools, "calc.add");
    assert!(validator(&add["inputSchema"]).is_valid(&json!({"a": -2147483648_i64, "b": 0})));
    assert!(!validator(&add["inputSchema"]).is_valid(&json!({"a": -2147483649_i64, "b": 0})));

    let called = rpc(
        &served,
        &token,
        3,
        "tools/call",
        json!({"name": "calc.add", "arguments": {"a": 40, "b": 2}}),
    );
    let content = &called["result"]["structuredContent"];
    assert_eq!(content["result"], 42, "{called}");
    validator(&add["outputSchema"]).validate(content).unwrap();
    let receipt = content["receipt"].as_str().unwrap().to_owned();
    let got = rpc(
        &served,
        &token,
        4,
        "tools/call",
        json!({"name": "get_receipt", "arguments": {"receipt": receipt}}),
    );
    let header = &got["result"]["structuredContent"]["receipt"]["caller"];
    assert_eq!(header["id"], format!("token:{id}"));
    assert_eq!(header["door"], "mcp");

    // Refusals name the grant; without a way back to the client, a grant
    // in the ask list is approval-required.
    let refused = rpc(
        &served,
        &token,
        5,
        "tools/call",
        json!({"name": "indexer.index", "arguments": {"_grants": ["fs:/etc:ro", "kv"]}}),
    );
    assert_eq!(error_kind(&refused["result"]), "grant-above-ceiling");
    assert_eq!(
        refused["result"]["structuredContent"]["error"]["grant"],
        "fs:/etc:ro"
    );
    let notes_grant = format!("fs:{}:ro", notes.display());
    let asked = rpc(
        &served,
        &token,
        6,
        "tools/call",
        json!({"name": "indexer.index", "arguments": {"_grants": [notes_grant, "kv"]}}),
    );
    assert_eq!(error_kind(&asked["result"]), "approval-required");
    assert_eq!(
        asked["result"]["structuredContent"]["error"]["grant"],
        notes_grant.as_str()
    );

    let caller = format!("token:{id}");
    assert_eq!(receipt_count(&home, &caller), 1);

    // A revoked token replayed (the very bearer that worked above) is
    // refused from the next request on, while the server keeps running.
    let revoked = mother(&home, &["token", "revoke", &id]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let replayed = post(
        &served.addr,
        "/mcp",
        &[("Authorization", bearer.as_str())],
        &json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                "params": {"name": "calc.add", "arguments": {"a": 1, "b": 1}}}),
    );
    assert_eq!(
        (replayed.status, &replayed.body["error"]["kind"]),
        (401, &json!("unauthenticated")),
        "{}",
        replayed.body
    );
    assert!(
        replayed.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("revoked")),
        "{}",
        replayed.body
    );
    assert_eq!(receipt_count(&home, &caller), 1, "nothing more ran");
    drop(served);
}
