//! The MCP host (`crates/patina-mcp`, `mother mcp` over stdio). Its crate
//! landed after the runner and the adapter is not written yet, so its
//! column is n/a with that reason; this file alone becomes the adapter: start `mother mcp`, call the
//! child's tool with the case's arguments, and fetch the receipt the answer
//! names (see `js.rs` for a host driven over stdio).

use anyhow::Result;

use super::{HostUnderTest, Pending, Setup};

/// MCP's column.
pub async fn start(_: &Setup<'_>) -> Result<Box<dyn HostUnderTest>> {
    Ok(Box::new(Pending::new(
        "mcp",
        "the runner has no MCP adapter yet (crates/patina-mcp landed after it)",
    )))
}
