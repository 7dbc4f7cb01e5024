//! [`serve`]: the bridge's accept loop on a TCP listener — HTTP/1.1 with
//! keep-alive (hyper), bounded header block and count, a deadline for the
//! headers, at most `max_connections` at once, a `tracing` span per
//! connection — and graceful shutdown: when `shutdown` resolves it stops
//! accepting, lets every request in flight finish (at most `drain`), and
//! closes idle connections.
//!
//! It only moves bytes to the router; it must never answer a request
//! itself.

use std::future::Future;
use std::sync::Arc;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::{Bridge, router};

/// How serving ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Served {
    /// Connections accepted.
    pub connections: u64,
    /// Whether every connection closed within the drain time.
    pub drained: bool,
}

/// Serves `bridge` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    bridge: Bridge,
    shutdown: impl Future<Output = ()>,
) -> Served {
    let config = bridge.config().clone();
    let app = router(bridge);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        // The parser's own bound on the header block (hyper's least is 8 KiB);
        // the exact bound is checked on the parsed headers.
        .max_buf_size((config.max_header_bytes + (16 << 10)).max(8 << 10))
        .max_headers(config.max_headers)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let mut connections = 0u64;
    tokio::pin!(shutdown);
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        connections += 1;
        let span = tracing::info_span!("connection", door = "http", id = connections, %peer);
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(
            async move {
                let _slot = slot;
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "connection ended");
                }
            }
            .instrument(span),
        );
    }
    drop(listener);
    tracing::info!("shutting down: no new connections, draining requests in flight");
    let drained = tokio::time::timeout(config.drain, graceful.shutdown())
        .await
        .is_ok();
    Served {
        connections,
        drained,
    }
}
