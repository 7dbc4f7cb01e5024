//! One `mother mcp --role ROLE` process on the MCP host's home, spoken to
//! by the official SDK's own client (rmcp's `()` client handler over the
//! process's stdin and stdout: MCP's stdio transport), and what its server
//! said its tools are. Every exchange is bounded in time. It calls tools
//! and reads their answers; it never decides what a case expects.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject, Tool};
use rmcp::service::{RoleClient, RunningService};
use serde_json::{Value, json};
use tokio::process::Child;

use crate::hosts::home::Home;

/// How long the handshake, a listing or a fixed tool may take.
const EXCHANGE: Duration = Duration::from_secs(120);

/// The caller's name: its receipts name `local:conformance`.
pub const CALLER: &str = "conformance";

/// The tools of one child, as the server lists them.
#[derive(Clone, Debug)]
pub struct ChildTools {
    /// The name the server shows the child by (`list_children`).
    pub label: String,
    /// Its tools, in the server's order.
    pub tools: Vec<Tool>,
}

/// A running `mother mcp` and its client.
pub struct Session {
    /// The role it was started with.
    pub role: String,
    client: RunningService<RoleClient, ()>,
    /// Child id (`b3:…`) → its tools.
    children: HashMap<String, ChildTools>,
    _process: Child,
}

impl Session {
    /// Starts `mother mcp --role ROLE --name conformance` on `home`, shakes
    /// hands, and reads `list_children` and `tools/list`.
    pub async fn start(home: &Home, role: &str) -> Result<Self> {
        let mut command = home.command(&["mcp", "--role", role, "--name", CALLER]);
        command.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut process = command.spawn().context("starting `mother mcp`")?;
        let stdout = process.stdout.take().context("`mother mcp`'s stdout")?;
        let stdin = process.stdin.take().context("`mother mcp`'s stdin")?;
        let client = tokio::time::timeout(EXCHANGE, ().serve((stdout, stdin)))
            .await
            .with_context(|| format!("`mother mcp` did not shake hands within {EXCHANGE:?}"))?
            .context("the MCP handshake with `mother mcp`")?;
        let listed = tokio::time::timeout(EXCHANGE, client.list_all_tools())
            .await
            .with_context(|| format!("tools/list was not answered within {EXCHANGE:?}"))?
            .context("tools/list")?;
        let mut session = Self {
            role: role.to_owned(),
            client,
            children: HashMap::new(),
            _process: process,
        };
        let answer = session.fixed("list_children", json!({})).await?;
        let by_name: HashMap<&str, &Tool> = listed.iter().map(|t| (t.name.as_ref(), t)).collect();
        for child in answer["children"].as_array().into_iter().flatten() {
            let (Some(id), Some(label)) = (child["id"].as_str(), child["name"].as_str()) else {
                bail!("list_children answered a child without an id or a name: {child}");
            };
            let mut tools = Vec::new();
            for name in child["tools"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                let tool = by_name.get(name).with_context(|| {
                    format!("list_children names the tool `{name}`, tools/list does not list it")
                })?;
                tools.push((*tool).clone());
            }
            let label = label.to_owned();
            session
                .children
                .insert(id.to_owned(), ChildTools { label, tools });
        }
        Ok(session)
    }

    /// The tools of the child `id`, if the server lists the child.
    pub fn child(&self, id: &str) -> Option<&ChildTools> {
        self.children.get(id)
    }

    /// Calls the tool `name` with `arguments`; `within` bounds the wait.
    pub async fn call(
        &self,
        name: &str,
        arguments: JsonObject,
        within: Duration,
    ) -> Result<CallToolResult> {
        let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        tokio::time::timeout(within, self.client.call_tool(params))
            .await
            .with_context(|| format!("`{name}` was not answered within {within:?}"))?
            .with_context(|| format!("calling `{name}`"))
    }

    /// A fixed tool's `structuredContent` (an error answer is an error).
    pub async fn fixed(&self, name: &str, arguments: Value) -> Result<Value> {
        let Value::Object(arguments) = arguments else {
            bail!("the arguments of `{name}` are an object");
        };
        let answer = self.call(name, arguments, EXCHANGE).await?;
        let content = answer
            .structured_content
            .with_context(|| format!("`{name}` answered no structuredContent"))?;
        if answer.is_error == Some(true) {
            bail!(
                "`{name}` answered an error: {}: {}",
                content["error"]["kind"],
                content["error"]["message"]
            );
        }
        Ok(content)
    }
}
