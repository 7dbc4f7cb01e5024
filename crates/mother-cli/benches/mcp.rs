//! One MCP tool call over stdio against the same run embedded.
//!
//! - `mcp/stdio_tool_call_calc_add`: a `tools/call` of `calc.add` written to
//!   a running `mother mcp`'s stdin and its answer read from its stdout —
//!   JSON-RPC, the catalogue lookup, the membrane's checks, the recorded
//!   run with its receipt appended, the answer;
//! - `mcp/embedded_run_calc_add`: the same recorded run on an embedded
//!   `Mother` in this process (`Mother::run`), the baseline.
//!
//! After criterion, a plain loop of `LATENCY_CALLS` calls of each prints
//! p50 and p99 (criterion reports medians, not tails).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use patina_mother::{CallSpec, ChildRef, Mother, MotherConfig, RunSpec};
use serde_json::{Value, json};

const LATENCY_CALLS: usize = 300;

struct Agent {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    id: u64,
}

impl Agent {
    fn start(home: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mother"))
            .env("PATINA_HOME", home)
            .env_remove("PATINA_LOG")
            .args(["mcp", "--name", "bench"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mother mcp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut agent = Self {
            child,
            stdin,
            stdout,
            id: 0,
        };
        agent.request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "bench", "version": "0"}}),
        );
        agent.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        agent
    }

    fn send(&mut self, message: &Value) {
        let mut line = message.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.id += 1;
        let id = self.id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                self.stdout.read_line(&mut line).expect("read") > 0,
                "mother mcp ended"
            );
            let message: Value = serde_json::from_str(&line).expect("JSON");
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    fn add(&mut self) {
        let answer = self.request(
            "tools/call",
            json!({"name": "calc.add", "arguments": {"a": 2, "b": 3}}),
        );
        assert_eq!(
            answer["result"]["structuredContent"]["result"], 5,
            "{answer}"
        );
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spec() -> RunSpec {
    RunSpec::new(
        ChildRef::Installed("calc".into()),
        CallSpec::Json {
            function: "add".into(),
            args: json!([2, 3]),
        },
    )
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

fn bench(c: &mut Criterion) {
    let home = tempfile::tempdir().expect("a temporary home");
    let home = home.path().to_owned();
    let calc = children_artifacts::by_name("calc").expect("calc").path;
    let out = Command::new(env!("CARGO_BIN_EXE_mother"))
        .env("PATINA_HOME", &home)
        .args(["install", calc, "--name", "calc"])
        .output()
        .expect("mother install");
    assert!(out.status.success());
    std::fs::write(
        home.join("policy.toml"),
        "[roles.agent]\nmethods = [\"runtime.list\", \"runtime.describe\", \"runtime.run\"]\nchildren = [\"calc\"]\n",
    )
    .expect("policy");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mother = runtime
        .block_on(async { Mother::open(MotherConfig::new(&home)) })
        .expect("the Mother opens");
    let embedded = || {
        runtime.block_on(async {
            let output = mother.run(spec()).await.expect("runs");
            assert!(output.receipt.is_some());
        });
    };
    let mut agent = Agent::start(&home);
    agent.add();

    let mut group = c.benchmark_group("mcp");
    group.sample_size(50);
    group.bench_function("stdio_tool_call_calc_add", |b| b.iter(|| agent.add()));
    group.bench_function("embedded_run_calc_add", |b| b.iter(embedded));
    group.finish();

    let mut over_mcp = Vec::with_capacity(LATENCY_CALLS);
    let mut in_process = Vec::with_capacity(LATENCY_CALLS);
    for _ in 0..LATENCY_CALLS {
        let start = Instant::now();
        agent.add();
        over_mcp.push(start.elapsed());
        let start = Instant::now();
        embedded();
        in_process.push(start.elapsed());
    }
    let (p50, p99) = percentiles(over_mcp);
    let (e50, e99) = percentiles(in_process);
    eprintln!(
        "mcp latency over {LATENCY_CALLS} calls: stdio tool call p50 {p50:?} p99 {p99:?}; \
         embedded run p50 {e50:?} p99 {e99:?}; ratio p50 {:.2} p99 {:.2}",
        p50.as_secs_f64() / e50.as_secs_f64(),
        p99.as_secs_f64() / e99.as_secs_f64()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
