//! `patina-mcp`: the MCP (Model Context Protocol) door of a Mother. An agent
//! (an MCP client) composes children instead of getting a shell: each
//! command of each child its role allows is a typed tool (`<child>.<function>`,
//! input and output JSON Schemas from the one schema module of
//! `patina-host`), and every call is a run through the agent's
//! [`patina_membrane::Access`], recorded, with its receipt id in the
//! answer's `structuredContent`. Four fixed tools look at what was done:
//! `list_children`, `describe_child`, `get_receipt`, `replay`.
//!
//! Served over stdio ([`serve_stdio`], `mother mcp`: the agent is a
//! `local:NAME` caller under a role the home's owner chose) and streamable
//! HTTP ([`serve_http`], `mother serve --mcp`: each request's bearer token
//! is its caller; Host and Origin are checked).
//!
//! This crate translates, it never decides: no tool installs, grants or
//! changes a policy or a role; a grant or a limit a call asks for (the
//! reserved `_grants` and `_limits` inputs) is checked by the membrane, and
//! a grant in the role's `ask` list is put to the person at the client (MCP
//! elicitation) for that one call, then run with
//! [`patina_membrane::Access::run_approved`], which records the approval in
//! the receipt.
//!
//! Layout: `names` (tool names), `catalog` (a caller's tools), `answer`
//! (what a call answers), `fixed` (the four fixed tools), `approval` (asking
//! a person), `server` (the rmcp handler), `stdio` and `http` (transports).

mod answer;
mod approval;
mod catalog;
mod error;
mod fixed;
mod http;
mod names;
mod server;
mod spec;
mod stdio;

pub use catalog::GRANTS_ARGUMENT;
pub use error::McpError;
pub use http::{HttpConfig, serve_http};
pub use names::{MAX_TOOL_NAME, RESERVED, is_valid as is_valid_tool_name};
pub use server::{McpConfig, McpServer};
pub use spec::{DENY_MISSING_ARGUMENT, LIMITS_ARGUMENT};
pub use stdio::{serve_io, serve_stdio};

/// What an approval given through MCP elicitation is recorded as (`by` in a
/// receipt's `approvals`).
pub const APPROVED_BY: &str = "mcp-elicitation";
