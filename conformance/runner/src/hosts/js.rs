//! The JavaScript host (`hosts/js`, the edge Mother on Node and jco): one
//! `patina-js serve` process (its own home and key), one JSON request per
//! line on its stdin, one answer per line on its stdout. The answer carries
//! the canonical export of the receipt it sealed, read here as strictly as
//! any receipt.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use patina_receipts::ExportedReceipt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::{HostUnderTest, Prepared, Ran, expected_failure, is_refusal, limits};
use crate::case::Case;

/// Time for one answer beyond the case's own deadline (transpiling a large
/// child with jco takes seconds).
const SLACK: Duration = Duration::from_secs(120);

/// A `patina-js serve` process.
pub struct JsHost {
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    next: u64,
    _process: Child,
    _home: tempfile::TempDir,
}

impl JsHost {
    /// Starts `node <dir>/bin/patina-js.mjs serve` on a fresh home.
    pub fn start(dir: &Path) -> Result<Self> {
        if !dir.join("node_modules").is_dir() {
            bail!(
                "{} has no node_modules: run `npm ci` there",
                dir.display()
            );
        }
        let home = tempfile::tempdir().context("a home for the JavaScript host")?;
        let mut process = Command::new("node")
            // componentize-py children use extended constant expressions.
            .arg("--experimental-wasm-extended-const")
            .arg(dir.join("bin/patina-js.mjs"))
            .arg("serve")
            .env("PATINA_JS_HOME", home.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting node (is Node 20 installed?)")?;
        let stdin = process.stdin.take().context("node's stdin")?;
        let stdout = process.stdout.take().context("node's stdout")?;
        Ok(Self {
            stdin,
            lines: BufReader::new(stdout).lines(),
            next: 0,
            _process: process,
            _home: home,
        })
    }
}

/// The grants this host has toys for.
fn serves(grant: &str) -> bool {
    matches!(grant, "log" | "kv" | "blob") || (grant.starts_with("fs:") && grant.ends_with(":ro"))
}

#[async_trait::async_trait(?Send)]
impl HostUnderTest for JsHost {
    fn name(&self) -> &'static str {
        "js"
    }

    fn metered(&self) -> bool {
        false
    }

    fn not_applicable(&self, case: &Case) -> Option<String> {
        match expected_failure(case) {
            Some("out-of-fuel") => {
                return Some("no fuel meter: V8 counts no instructions (receipts say meter none)".into());
            }
            Some("memory-limit-exceeded") => {
                return Some(
                    "no memory cap: the host cannot bound a module's own linear memory in V8".into(),
                );
            }
            _ => {}
        }
        case.grants
            .iter()
            .find(|g| !serves(g))
            .map(|g| format!("no toy for the grant `{g}` (this host serves log, kv, blob, fs:DIR:ro)"))
    }

    async fn run(&mut self, case: &Case, child: &Prepared) -> Result<Ran> {
        self.next += 1;
        let limits = limits(case);
        let request = serde_json::json!({
            "id": self.next,
            "child": child.path,
            "description": child.description,
            "call": case.call,
            "argv": case.argv,
            "grants": case.grants,
            "deny_missing": case.deny_missing,
            "limits": {
                "fuel": limits.fuel,
                "timeout": limits.timeout_ms,
                "memory": limits.memory,
                "output": limits.output,
            },
        });
        let mut line = serde_json::to_vec(&request)?;
        line.push(b'\n');
        self.stdin.write_all(&line).await.context("writing to node")?;
        self.stdin.flush().await?;
        let wait = Duration::from_millis(limits.timeout_ms.unwrap_or(0)) + SLACK;
        let answer = tokio::time::timeout(wait, self.lines.next_line())
            .await
            .context("the JavaScript host did not answer in time")?
            .context("reading node's answer")?
            .context("the JavaScript host exited")?;
        let answer: serde_json::Value =
            serde_json::from_str(&answer).context("the JavaScript host's answer is not JSON")?;
        if answer["id"] != self.next {
            bail!("the JavaScript host answered request {} for {}", answer["id"], self.next);
        }
        if let Some(refused) = answer.get("refused") {
            let kind = refused["kind"].as_str().unwrap_or_default().to_owned();
            let message = refused["message"].as_str().unwrap_or_default().to_owned();
            if !is_refusal(&kind) {
                bail!("the JavaScript host failed: {kind}: {message}");
            }
            return Ok(Ran::Refused { kind, message });
        }
        let export = answer["export"]
            .as_str()
            .context("the JavaScript host's answer has no receipt")?;
        let (receipt, blobs) = ExportedReceipt::decode(export.as_bytes())
            .context("the JavaScript host's receipt does not decode")?;
        Ok(Ran::Recorded {
            receipt: Box::new(receipt),
            blobs,
        })
    }
}
