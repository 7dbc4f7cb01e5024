//! A minimal MCP client over a child process's stdio: JSON-RPC 2.0, one
//! message a line. Requests the server sends the client (e.g.
//! `elicitation/create`) are answered by a closure the test gives;
//! notifications are kept for the test to look at. Every wait is bounded.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any one answer may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(120);

/// `mother mcp` and the pipes to it.
pub struct StdioAgent {
    child: Option<Child>,
    stdin: ChildStdin,
    lines: Receiver<String>,
    next_id: u64,
    /// Notifications received so far.
    pub notifications: Vec<Value>,
}

impl Drop for StdioAgent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl StdioAgent {
    /// Starts `mother mcp ARGS` in `home`.
    pub fn start(home: &Path, args: &[&str]) -> Self {
        let mut child = super::start_mcp(home, args);
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child: Some(child),
            stdin,
            lines,
            next_id: 1,
            notifications: Vec::new(),
        }
    }

    /// Sends one message.
    pub fn send(&mut self, message: &Value) {
        let mut line = message.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .expect("write to mother mcp");
        self.stdin.flush().expect("flush");
    }

    /// The next message from the server, within `within`.
    pub fn next(&mut self, within: Duration) -> Option<Value> {
        match self.lines.recv_timeout(within) {
            Ok(line) => Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("mother mcp closed its stdout"),
        }
    }

    /// Sends a request and returns its response (`result` or `error`
    /// object as a whole), answering the server's own requests with
    /// `answer` on the way.
    pub fn request_with(
        &mut self,
        method: &str,
        params: Value,
        answer: &mut dyn FnMut(&Value) -> Value,
    ) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + ANSWER_WITHIN;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .next(left)
                .unwrap_or_else(|| panic!("no answer to {method} within {ANSWER_WITHIN:?}"));
            if message.get("method").is_some() && message.get("id").is_some() {
                let result = answer(&message);
                self.send(&json!({"jsonrpc": "2.0", "id": message["id"], "result": result}));
            } else if message.get("method").is_some() {
                self.notifications.push(message);
            } else if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// A request whose server asks nothing back.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.request_with(method, params, &mut |asked| {
            panic!("the server asked {asked} unexpectedly")
        })
    }

    /// `initialize` (protocol 2025-11-25) with `capabilities`, then
    /// `notifications/initialized`; the server's `InitializeResult`.
    pub fn initialize(&mut self, capabilities: Value) -> Value {
        let answer = self.request(
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": capabilities,
                "clientInfo": {"name": "patina-test-client", "version": "0.1.0"},
            }),
        );
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        answer["result"].clone()
    }

    /// `tools/list`'s result.
    pub fn tools(&mut self) -> Value {
        let answer = self.request("tools/list", json!({}));
        answer["result"].clone()
    }

    /// `tools/call`'s result.
    pub fn call(&mut self, name: &str, arguments: Value) -> Value {
        let answer = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        assert!(answer.get("error").is_none(), "{answer}");
        answer["result"].clone()
    }

    /// `tools/call`'s result, answering an elicitation with `answer`;
    /// also how many elicitations came.
    pub fn call_answering(
        &mut self,
        name: &str,
        arguments: Value,
        reply: Value,
    ) -> (Value, Vec<Value>) {
        let mut asked = Vec::new();
        let answer = self.request_with(
            "tools/call",
            json!({"name": name, "arguments": arguments}),
            &mut |request| {
                asked.push(request.clone());
                reply.clone()
            },
        );
        assert!(answer.get("error").is_none(), "{answer}");
        (answer["result"].clone(), asked)
    }
}
