//! The MCP host: `mother mcp` (`crates/patina-mcp` over stdio) on a home
//! of its own, driven by the official SDK's client (`session.rs`) as an
//! agent would drive it: each case's child is installed into the home
//! (`mother install FILE --name NAME`, then the server is started again so
//! it lists the new child's tools), the call is the tool the server named
//! for that function with JSON arguments (`translate.rs`), and the answer's
//! receipt is read back with the `get_receipt` tool.
//!
//! A call asks for the case's limits in `_limits` and for deny-missing in
//! `_deny_missing`, as an agent would; the home's `policy.toml` has one
//! role per set of limits the cases ask for, whose ceilings are exactly
//! those limits, and the server runs under the role of the case at hand —
//! so the membrane's ceiling check is on the path of every call, and a
//! limit the call left out would still be the case's. It translates and
//! reports; it never judges an answer (that is `crate::check`).

mod session;
mod translate;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use patina_mother::LimitsSpec;
use patina_receipts::{Blob, ExportedReceipt, Receipt, canonical};
use rmcp::model::CallToolResult;
use serde_json::{Value, json};

use self::session::Session;
use self::translate::{Translation, translate};
use super::home::Home;
use super::{Embedded, HostUnderTest, Prepared, Ran, Setup, is_refusal, limits};
use crate::case::{Case, Named};

/// Time for one call beyond the case's own deadline (the server may
/// compile the child first).
const SLACK: Duration = Duration::from_secs(300);

/// The MCP host.
pub struct Mcp {
    home: Home,
    /// The suite's own Mother: its host reads the children's types.
    embedded: Embedded,
    /// Ids of the children installed in the home.
    installed: HashSet<String>,
    /// Names installed in the home for the cases (invoke's callees).
    named: HashSet<String>,
    /// The limit ceilings of each role in `policy.toml`, in order: the
    /// role of `roles[i]` is `role_name(i)`.
    roles: Vec<(u64, u64, u64)>,
    /// The running server, when it lists every installed child.
    session: Option<Session>,
}

/// Starts the MCP host with the setup's `mother` binary (its server is
/// started at the first case).
pub async fn start(setup: &Setup<'_>) -> Result<Box<dyn HostUnderTest>> {
    let mother = setup
        .mother
        .context("the mcp host needs --mother PATH (the `mother` binary)")?;
    Ok(Box::new(Mcp {
        home: Home::new("mcp", mother)?,
        embedded: setup.embedded.clone(),
        installed: HashSet::new(),
        named: HashSet::new(),
        roles: Vec::new(),
        session: None,
    }))
}

fn role_name(index: usize) -> String {
    format!("conformance-{index}")
}

/// Why `limits` has no MCP form: `_limits` names fuel, the deadline and
/// memory (the limits a role bounds), not the output cap.
fn inexpressible(limits: &LimitsSpec) -> Option<String> {
    let host = patina_core::Limits::default();
    if limits.output != Some(host.output) {
        return Some(format!(
            "an MCP call runs with the host's output cap ({} bytes; `_limits` has no output \
             cap, as a role has no output ceiling), not {:?}",
            host.output, limits.output
        ));
    }
    None
}

impl Mcp {
    /// Installs `child` once (the next call starts the server again, so
    /// that it lists the child's tools).
    async fn install(&mut self, child: &Prepared) -> Result<()> {
        if self.installed.contains(&child.id) {
            return Ok(());
        }
        let name = install_name(child, self.installed.len());
        let path = child
            .path
            .to_str()
            .context("a child path that is not UTF-8")?;
        self.home
            .run(&["install", path, "--name", &name])
            .await
            .with_context(|| {
                format!(
                    "installing {} into the MCP host's home",
                    child.path.display()
                )
            })?;
        self.installed.insert(child.id.clone());
        self.session = None;
        Ok(())
    }

    /// The role whose ceilings are `limits`, written into `policy.toml`
    /// when it is new.
    async fn role(&mut self, limits: &LimitsSpec) -> Result<String> {
        let key = (
            limits.fuel.unwrap_or_default(),
            limits.timeout_ms.unwrap_or_default(),
            limits.memory.unwrap_or_default(),
        );
        if let Some(index) = self.roles.iter().position(|r| *r == key) {
            return Ok(role_name(index));
        }
        self.roles.push(key);
        let mut policy = String::new();
        for (index, (fuel, timeout_ms, memory)) in self.roles.iter().enumerate() {
            let _ = write!(
                policy,
                "[roles.{}]\n\
                 methods = [\"runtime.list\", \"runtime.describe\", \"runtime.run\", \"receipts.get\", \"receipts.list\"]\n\
                 children = [\"*\"]\n\
                 grants = [\"*\"]\n\
                 limits = {{ fuel = {fuel}, timeout_ms = {timeout_ms}, memory = {memory} }}\n\n",
                role_name(index)
            );
        }
        std::fs::create_dir_all(self.home.root())?;
        let file = self.home.root().join("policy.toml");
        std::fs::write(&file, policy).with_context(|| format!("writing {}", file.display()))?;
        self.home.run(&["policy", "check"]).await?;
        Ok(role_name(self.roles.len() - 1))
    }

    /// Starts the server under `role` unless it runs so, listing every
    /// installed child.
    async fn start_session(&mut self, role: &str) -> Result<()> {
        if self.session.as_ref().is_some_and(|s| s.role != role) {
            self.session = None;
        }
        if self.session.is_none() {
            self.session = Some(Session::start(&self.home, role).await?);
        }
        Ok(())
    }
}

/// A name for the child in the home (the server shows its tools under it).
fn install_name(child: &Prepared, index: usize) -> String {
    let language = child
        .path
        .parent()
        .and_then(|dir| dir.file_name())
        .and_then(|name| name.to_str())
        .unwrap_or("child");
    let stem = child
        .path
        .file_stem()
        .and_then(|name| name.to_str())
        .unwrap_or("child");
    let name: String = format!("{stem}-{language}-{index}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name.to_ascii_lowercase()
}

#[async_trait::async_trait(?Send)]
impl HostUnderTest for Mcp {
    fn name(&self) -> &'static str {
        "mcp"
    }

    fn metered(&self) -> bool {
        true
    }

    fn not_applicable(&self, case: &Case) -> Option<String> {
        inexpressible(&limits(case))
    }

    /// `mother install FILE --name NAME --grant G...` into the home (the
    /// next call starts the server again).
    async fn install_named(&mut self, named: &Named, child: &Prepared) -> Result<Option<String>> {
        if self.named.contains(&named.name) {
            return Ok(None);
        }
        let path = child
            .path
            .to_str()
            .context("a child path that is not UTF-8")?;
        let mut args = vec!["install", path, "--name", &named.name];
        for grant in &named.grants {
            args.extend(["--grant", grant]);
        }
        self.home.run(&args).await.with_context(|| {
            format!(
                "installing {} as `{}` into the MCP host's home",
                path, named.name
            )
        })?;
        self.named.insert(named.name.clone());
        self.session = None;
        Ok(None)
    }

    async fn run(&mut self, case: &Case, child: &Prepared) -> Result<Ran> {
        self.install(child).await?;
        let limits = limits(case);
        let role = self.role(&limits).await?;
        let loaded = self
            .embedded
            .mother()
            .host()
            .load(&child.bytes)
            .with_context(|| format!("loading {} to read its types", child.path.display()))?;
        self.start_session(&role).await?;
        let session = self.session.as_ref().context("the MCP session")?;
        let tools = session
            .child(&child.id)
            .with_context(|| format!("list_children does not list {}", child.id))?;
        let (tool, arguments, unknown_function) = match translate(case, &loaded, tools)? {
            Translation::NotApplicable(reason) => return Ok(Ran::NotApplicable { reason }),
            Translation::Call {
                tool,
                arguments,
                unknown_function,
            } => (tool, arguments, unknown_function),
        };
        let within = Duration::from_millis(limits.timeout_ms.unwrap_or(0)) + SLACK;
        let answer = session.call(&tool, arguments, within).await?;
        let content = answer
            .structured_content
            .clone()
            .with_context(|| format!("`{tool}` answered no structuredContent: {answer:?}"))?;
        if let Some(id) = content["receipt"].as_str() {
            // A run: it returned, or it started and failed (out of fuel, a trap).
            let (receipt, blobs) = receipt(session, &self.home, id).await?;
            return Ok(Ran::Recorded {
                receipt: Box::new(receipt),
                blobs,
            });
        }
        refusal(&tool, &answer, &content, unknown_function)
    }
}

/// An answer without a receipt: a refusal of one of the suite's kinds, a
/// function the child does not export (MCP has no tool for it), or the
/// host failed.
fn refusal(
    tool: &str,
    answer: &CallToolResult,
    content: &Value,
    unknown_function: Option<String>,
) -> Result<Ran> {
    if answer.is_error != Some(true) {
        bail!("`{tool}` answered neither a receipt nor an error: {content}");
    }
    let kind = content["error"]["kind"].as_str().unwrap_or_default();
    let message = content["error"]["message"].as_str().unwrap_or_default();
    if is_refusal(kind) {
        return Ok(Ran::Refused {
            kind: kind.to_owned(),
            message: message.to_owned(),
        });
    }
    if let Some(function) = unknown_function
        && kind == "unknown-tool"
    {
        return Ok(Ran::NotApplicable {
            reason: format!(
                "MCP offers one tool per exported function, so a call of `{function}` (not \
                 exported) is a call of a tool that does not exist: the server answered \
                 `{kind}` ({message}), its own kind, before any run — there is no \
                 `unknown-function` to compare"
            ),
        });
    }
    bail!("the MCP server failed: `{tool}` answered {kind}: {message}")
}

/// The receipt `id` through the `get_receipt` tool (its canonical bytes,
/// checked to be the receipt asked for). `get_receipt` answers no blobs: a
/// receipt that refers to some has them read with `mother receipts export`
/// on the same home, whose receipt must be the same bytes.
async fn receipt(session: &Session, home: &Home, id: &str) -> Result<(Receipt, Vec<Blob>)> {
    let got = session
        .fixed("get_receipt", json!({ "receipt": id }))
        .await?;
    let text = got["canonical"]
        .as_str()
        .context("get_receipt answered no `canonical`")?;
    let receipt = canonical::decode(text.as_bytes())
        .with_context(|| format!("get_receipt's receipt {id} does not decode"))?;
    if receipt.id.hex() != id && receipt.id.to_string() != id {
        bail!("get_receipt for {id} answered the receipt {}", receipt.id);
    }
    if receipt.references().is_empty() {
        return Ok((receipt, Vec::new()));
    }
    let export = home.run(&["receipts", "export", &receipt.id.hex()]).await?;
    let (exported, blobs) =
        ExportedReceipt::decode(&export).context("`mother receipts export` does not decode")?;
    if canonical::encode(&exported) != text.as_bytes() {
        bail!("`mother receipts export {id}` is not the receipt get_receipt answered");
    }
    Ok((receipt, blobs))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Limits as `super::limits` gives them (the output cap always 4 MiB).
    fn asked(fuel: u64, timeout_ms: u64, memory: u64) -> LimitsSpec {
        LimitsSpec {
            fuel: Some(fuel),
            timeout_ms: Some(timeout_ms),
            memory: Some(memory),
            output: Some(crate::case::DEFAULT_OUTPUT),
        }
    }

    #[test]
    fn any_fuel_deadline_and_memory_have_an_mcp_form() {
        // The suite's defaults, the host's own (10^10 fuel, 10 s, 256 MiB),
        // lower ones, and ones above the host's defaults (`_limits` asks
        // for them; the role's ceiling is the same).
        for limits in [
            asked(1_000_000_000, 10_000, 64 << 20),
            asked(10_000_000_000, 10_000, 256 << 20),
            asked(1_000_000, 300, 16 << 20),
            asked(100_000_000_000, 10_001, 512 << 20),
        ] {
            assert_eq!(inexpressible(&limits), None, "{limits:?}");
        }
    }

    #[test]
    fn an_output_cap_other_than_the_hosts_has_no_mcp_form() {
        let mut other_output = asked(1_000_000, 300, 64 << 20);
        other_output.output = Some(1 << 20);
        let reason = inexpressible(&other_output).expect("n/a");
        assert!(reason.contains("output cap"), "{reason}");
    }
}
