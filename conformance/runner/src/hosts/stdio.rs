//! A host driven through the suite's line protocol on its stdin and stdout
//! — the way the JavaScript host is driven, and the way a third party's host
//! joins the matrix (`--external NAME=COMMAND`, docs/conformance.md §5).
//! One JSON request per line:
//! `{"id", "child", "description", "call", "argv", "grants", "deny_missing",
//! "limits": {"fuel", "timeout", "memory", "output"}}`; one JSON answer per
//! line with the same `id` and one of `"export"` (the canonical export of
//! the receipt it sealed, read here as strictly as any receipt),
//! `"refused": {"kind", "message"}` or `"not_applicable": "why"`.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use patina_receipts::ExportedReceipt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::{Prepared, Ran, is_refusal, limits};
use crate::case::Case;

/// Time for one answer beyond the case's own deadline (a host may compile
/// or transpile a large child first: jco takes seconds).
const SLACK: Duration = Duration::from_secs(120);

/// A host process spoken to over its stdin and stdout.
pub struct StdioHost {
    what: String,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    next: u64,
    _process: Child,
}

impl StdioHost {
    /// Starts `command` (its stderr goes to ours); `what` names it in errors.
    pub fn spawn(what: &str, mut command: Command) -> Result<Self> {
        let mut process = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {what}"))?;
        let stdin = process.stdin.take().context("the host's stdin")?;
        let stdout = process.stdout.take().context("the host's stdout")?;
        Ok(Self {
            what: what.to_owned(),
            stdin,
            lines: BufReader::new(stdout).lines(),
            next: 0,
            _process: process,
        })
    }

    /// Sends `case` with `child` and reads the answer.
    pub async fn ask(&mut self, case: &Case, child: &Prepared) -> Result<Ran> {
        let what = self.what.clone();
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
        self.stdin
            .write_all(&line)
            .await
            .with_context(|| format!("writing to {what}"))?;
        self.stdin.flush().await?;
        let wait = Duration::from_millis(limits.timeout_ms.unwrap_or(0)) + SLACK;
        let answer = tokio::time::timeout(wait, self.lines.next_line())
            .await
            .with_context(|| format!("{what} did not answer within {wait:?}"))?
            .with_context(|| format!("reading {what}'s answer"))?
            .with_context(|| format!("{what} exited"))?;
        let answer: serde_json::Value = serde_json::from_str(&answer)
            .with_context(|| format!("{what}'s answer is not JSON"))?;
        if answer["id"] != self.next {
            bail!("{what} answered request {} for {}", answer["id"], self.next);
        }
        if let Some(reason) = answer.get("not_applicable") {
            let reason = reason.as_str().unwrap_or_default();
            if reason.is_empty() {
                bail!("{what} answered n/a without a reason");
            }
            return Ok(Ran::NotApplicable {
                reason: reason.to_owned(),
            });
        }
        if let Some(refused) = answer.get("refused") {
            let kind = refused["kind"].as_str().unwrap_or_default().to_owned();
            let message = refused["message"].as_str().unwrap_or_default().to_owned();
            if !is_refusal(&kind) {
                bail!("{what} failed: {kind}: {message}");
            }
            return Ok(Ran::Refused { kind, message });
        }
        let export = answer["export"]
            .as_str()
            .with_context(|| format!("{what}'s answer has no receipt"))?;
        let (receipt, blobs) = ExportedReceipt::decode(export.as_bytes())
            .with_context(|| format!("{what}'s receipt does not decode"))?;
        Ok(Ran::Recorded {
            receipt: Box::new(receipt),
            blobs,
        })
    }
}
