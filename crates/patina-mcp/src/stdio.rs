//! Serving one caller over a byte stream both ways: stdin and stdout
//! (`mother mcp`), newline-delimited JSON-RPC as MCP's stdio transport has
//! it. While the session lasts, the caller's children are looked at every
//! `poll`, and a client that negotiated a protocol before `2026-07-28` is
//! sent `notifications/tools/list_changed` when its tool list changed
//! (newer clients ask for it with `subscriptions/listen`, see `server`).

use rmcp::model::ProtocolVersion;
use rmcp::{Peer, RoleServer, ServiceExt};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::{McpError, McpServer};

/// Serves `server` over stdin and stdout until the client hangs up.
pub async fn serve_stdio(server: McpServer) -> Result<(), McpError> {
    serve_io(server, tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves `server` over `reader` / `writer` until the client hangs up.
pub async fn serve_io<R, W>(server: McpServer, reader: R, writer: W) -> Result<(), McpError>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let running = server
        .clone()
        .serve((reader, writer))
        .await
        .map_err(|e| McpError::Protocol(e.to_string()))?;
    let follower = tokio::spawn(follow(server, running.peer().clone()));
    let ended = running.waiting().await;
    follower.abort();
    ended.map_err(|e| McpError::Protocol(e.to_string()))?;
    Ok(())
}

/// Tells `peer` whenever the caller's tool list changes. A local caller's
/// access is taken again when the epoch moved (its old one went stale).
async fn follow(server: McpServer, peer: Peer<RoleServer>) {
    let current = || match server.access() {
        Some(Ok(access)) => Some(access),
        Some(Err(error)) => {
            tracing::info!(kind = error.kind(), %error, "not following the children");
            None
        }
        None => None,
    };
    let Some(mut access) = current() else {
        return;
    };
    let mut before = match server.catalog(&access, true).await {
        Ok(catalog) => catalog
            .fingerprint()
            .into_iter()
            .map(|(name, id)| (name.to_owned(), *id))
            .collect(),
        Err(error) => {
            tracing::warn!(kind = error.kind(), %error, "not following the children");
            return;
        }
    };
    loop {
        match server.changed(&access, &mut before).await {
            Ok(()) => {}
            Err(error) if error.kind() == "stale-epoch" => {
                let Some(fresh) = current() else { return };
                if fresh.epoch() == access.epoch() {
                    return;
                }
                access = fresh;
                continue;
            }
            Err(error) => {
                tracing::info!(kind = error.kind(), %error, "stopped following the children");
                return;
            }
        }
        tracing::info!("the tool list changed");
        let legacy = peer.peer_info().is_some_and(|info| {
            info.protocol_version.as_str() < ProtocolVersion::V_2026_07_28.as_str()
        });
        if legacy && let Err(error) = peer.notify_tool_list_changed().await {
            tracing::debug!(%error, "the client went away");
            return;
        }
    }
}
