//! The JavaScript host (`hosts/js`, the edge Mother on Node and jco): one
//! `patina-js serve` process with its own home and key, driven through the
//! suite's line protocol (`stdio.rs`). It has no fuel meter and no cap on a
//! module's own memory, and toys for `log`, `kv`, `blob` and `fs:DIR:ro`
//! only: the cases that need more are n/a here, with that reason.

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use super::stdio::StdioHost;
use super::{HostUnderTest, Prepared, Ran, Setup, expected_failure};
use crate::case::Case;

/// A `patina-js serve` process.
pub struct JsHost {
    host: StdioHost,
    _home: tempfile::TempDir,
}

/// Starts `node hosts/js/bin/patina-js.mjs serve` on a fresh home.
pub async fn start(setup: &Setup<'_>) -> Result<Box<dyn HostUnderTest>> {
    let dir = setup.repo.join("hosts/js");
    if !dir.join("node_modules").is_dir() {
        bail!("{} has no node_modules: run `npm ci` there", dir.display());
    }
    let home = tempfile::tempdir().context("a home for the JavaScript host")?;
    let mut command = Command::new("node");
    command
        // componentize-py children use extended constant expressions.
        .arg("--experimental-wasm-extended-const")
        .arg(dir.join("bin/patina-js.mjs"))
        .arg("serve")
        .env("PATINA_JS_HOME", home.path());
    let host = StdioHost::spawn("the JavaScript host (is Node 20 installed?)", command)?;
    Ok(Box::new(JsHost { host, _home: home }))
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
                return Some(
                    "no fuel meter: V8 counts no instructions (receipts say meter none)".into(),
                );
            }
            Some("memory-limit-exceeded") => {
                return Some(
                    "no memory cap: the host cannot bound a module's own linear memory in V8"
                        .into(),
                );
            }
            _ => {}
        }
        case.grants.iter().find(|g| !serves(g)).map(|g| {
            format!("no toy for the grant `{g}` (this host serves log, kv, blob, fs:DIR:ro)")
        })
    }

    async fn run(&mut self, case: &Case, child: &Prepared) -> Result<Ran> {
        self.host.ask(case, child).await
    }
}
