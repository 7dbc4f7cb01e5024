//! MCP against the real `mother` binary: `mother mcp` as a process spoken
//! to in JSON-RPC lines over its stdin/stdout (`stdio`), and `mother serve
//! --mcp` over streamable HTTP (`http`), with the example children and a
//! hand-written WAT component. `client` is a minimal MCP client written
//! from the protocol (no SDK), so what is tested is the wire; `sdk` speaks
//! to the same binary through the official SDK's (rmcp's) own client.

mod approvals;
mod client;
mod follow;
mod http;
mod limits;
mod sdk;
mod stdio;

use std::path::Path;

use serde_json::Value;

use crate::common::{json as output_json, mother, text};

/// A component from outside this repository: a `u8` and an `s64`, so the
/// schemas' bounds and 64-bit strings are checked on it. (No exported
/// type: wit-component 0.254's decoder, which `inspect` uses, refuses a
/// component with a top-level type export such as a `flags`.)
pub const BUMP_WAT: &str = r#"
(component
  (core module $m
    (func (export "bump") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    (func (export "double") (param i64) (result i64) local.get 0 local.get 0 i64.add))
  (core instance $i (instantiate $m))
  (func (export "bump") (param "x" u8) (param "y" u8) (result u16) (canon lift (core func $i "bump")))
  (func (export "double") (param "n" s64) (result s64) (canon lift (core func $i "double"))))
"#;

/// Installs `child` (an example child's name) under its name.
pub fn install(home: &Path, child: &str) {
    let path = children_artifacts::by_name(child)
        .expect("an example child")
        .path;
    let out = mother(home, &["install", path, "--name", child]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Installs the WAT component as `bump`.
pub fn install_wat(home: &Path) {
    let bytes = wat::parse_str(BUMP_WAT).expect("the WAT parses");
    let file = home.join("bump.wasm");
    std::fs::write(&file, bytes).unwrap();
    let out = mother(home, &["install", file.to_str().unwrap(), "--name", "bump"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Writes `policy.toml`.
pub fn policy(home: &Path, toml: &str) {
    std::fs::write(home.join("policy.toml"), toml).unwrap();
    let out = mother(home, &["policy", "check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// A validator of `schema` (JSON Schema 2020-12).
pub fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::new(schema).unwrap_or_else(|e| panic!("{e}: {schema}"))
}

/// The tool called `name` in a `tools/list` answer.
pub fn tool<'a>(tools: &'a Value, name: &str) -> &'a Value {
    tools["tools"]
        .as_array()
        .and_then(|list| list.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no tool {name} in {tools}"))
}

/// The tool names of a `tools/list` answer.
pub fn names(tools: &Value) -> Vec<String> {
    tools["tools"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|t| t["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `error.kind` of a tool call's answer that is an error.
pub fn error_kind(result: &Value) -> &str {
    assert_eq!(result["isError"], true, "{result}");
    result["structuredContent"]["error"]["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("no error kind in {result}"))
}

/// How many receipts name `caller` (`mother receipts list --caller`).
pub fn receipt_count(home: &Path, caller: &str) -> usize {
    let listed = output_json(&mother(
        home,
        &[
            "receipts", "list", "--caller", caller, "--json", "--limit", "1000",
        ],
    ));
    listed.as_array().map_or(0, Vec::len)
}

/// `mother mcp ARGS` in `home`, its stdin and stdout piped (stderr dropped).
pub fn start_mcp(home: &Path, args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_mother"))
        .env("PATINA_HOME", home)
        .env_remove("PATINA_LOG")
        .arg("mcp")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mother mcp starts")
}
