//! Streamable HTTP (`mother serve --mcp 127.0.0.1:PORT`): MCP over HTTP/1.1
//! POSTs, stateless (every request stands alone: JSON-RPC in, JSON out), on
//! hyper's server with rmcp's `StreamableHttpService`.
//!
//! Before rmcp sees a request, each one passes, in this order:
//! 0. the path is [`PATH`] (`/mcp`);
//! 1. **Host**: the `Host` header must name the address served
//!    (`127.0.0.1:PORT`, `localhost:PORT`) — no DNS rebinding;
//! 2. **Origin**: a request from a browser page (`Origin` present) must come
//!    from that same address;
//! 3. **Bearer**: `Authorization: Bearer <token>` must be a live token
//!    (`mother token create`); the membrane gives its `Access` (door `mcp`),
//!    which rides in the request to the handler.
//!
//! A failure is answered here (403 or 401, JSON `{error: {kind, message}}`)
//! and reaches no handler. Without a connection back to the client, a
//! grant that needs a person's approval is asked for only from clients
//! that speak `2026-07-28` (`InputRequiredResult`); older ones get
//! `approval-required`. This module decides nothing about what a caller
//! may do: the token's access does.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use patina_membrane::MembraneServer;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{McpConfig, McpError, McpServer};

/// How `serve_http` behaves.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// The MCP server's settings (`ask_during_call` is turned off: stateless
    /// HTTP has no way back to the client during a call).
    pub mcp: McpConfig,
    /// Connections served at once, at most.
    pub max_connections: usize,
    /// The largest request body read, in bytes.
    pub max_body_bytes: usize,
    /// How long a connection may take to send a request's headers (a
    /// client that opens connections and sends nothing holds no slot
    /// longer).
    pub header_read_timeout: std::time::Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            mcp: McpConfig::default(),
            max_connections: 256,
            max_body_bytes: 4 << 20,
            header_read_timeout: std::time::Duration::from_secs(10),
        }
    }
}

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The one path MCP is served at.
pub const PATH: &str = "/mcp";

/// Serves MCP over streamable HTTP on `listener` until `shutdown` resolves.
/// The listener must be bound to a loopback address: the Host and Origin
/// checks allow that address only.
pub async fn serve_http(
    membrane: MembraneServer,
    listener: TcpListener,
    config: HttpConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), McpError> {
    let addr = listener
        .local_addr()
        .map_err(|e| McpError::io("reading the listener's address", e))?;
    let gate = Arc::new(Gate::new(addr));
    let mut mcp = config.mcp.clone();
    mcp.ask_during_call = false;
    let server = McpServer::per_request(mcp);
    let cancel = CancellationToken::new();
    let rmcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(gate.hosts.clone())
        .with_allowed_origins(gate.origins.clone())
        .enforce_origin_validation()
        .with_max_request_body_bytes(config.max_body_bytes)
        .with_cancellation_token(cancel.clone());
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        rmcp_config,
    );
    let slots = Arc::new(Semaphore::new(config.max_connections));
    tokio::pin!(shutdown);
    tracing::info!(%addr, "serving MCP over HTTP");
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, most often: give them time back.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "too many connections: closed");
            continue;
        };
        let gate = gate.clone();
        let membrane = membrane.clone();
        let service = service.clone();
        let span = tracing::info_span!("mcp_http_connection", %peer);
        let header_read_timeout = config.header_read_timeout;
        tokio::spawn(
            async move {
                let _slot = slot;
                let handler = service_fn(move |request: Request<Incoming>| {
                    let gate = gate.clone();
                    let membrane = membrane.clone();
                    let mut service = service.clone();
                    async move {
                        let response = match gate.admit(&membrane, request) {
                            Ok(request) => {
                                use tower_service::Service as _;
                                match service.call(request).await {
                                    Ok(response) => response.map(|b| b.boxed_unsync()),
                                    Err(never) => match never {},
                                }
                            }
                            Err(refusal) => refusal.into_response(),
                        };
                        Ok::<_, Infallible>(response)
                    }
                });
                let mut http = hyper::server::conn::http1::Builder::new();
                // Without a timer hyper keeps no header timeout at all.
                http.timer(TokioTimer::new())
                    .header_read_timeout(header_read_timeout);
                if let Err(error) = http.serve_connection(TokioIo::new(stream), handler).await {
                    tracing::debug!(%error, "connection ended");
                }
            }
            .instrument(span),
        );
    }
    cancel.cancel();
    Ok(())
}

/// The checks every request passes before rmcp sees it.
struct Gate {
    hosts: Vec<String>,
    origins: Vec<String>,
}

impl Gate {
    fn new(addr: SocketAddr) -> Self {
        let port = addr.port();
        let ip = match addr {
            SocketAddr::V4(v4) => v4.ip().to_string(),
            SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        };
        let mut hosts = vec![format!("{ip}:{port}")];
        if addr.ip().is_loopback() {
            hosts.push(format!("localhost:{port}"));
        }
        let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
        Self { hosts, origins }
    }

    fn admit(
        &self,
        membrane: &MembraneServer,
        mut request: Request<Incoming>,
    ) -> Result<Request<Incoming>, Refusal> {
        if request.uri().path() != PATH {
            return Err(Refusal::new(
                StatusCode::NOT_FOUND,
                "not-found",
                &format!("MCP is served at {PATH}"),
            ));
        }
        let headers = request.headers();
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "bad-host",
                &format!(
                    "Host `{host}` is not this server ({})",
                    self.hosts.join(", ")
                ),
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    "bad-origin",
                    &format!("Origin `{origin}` may not call this server"),
                ));
            }
        }
        let Some(token) = bearer(headers) else {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "an `Authorization: Bearer <token>` header is required (mother token create)",
            ));
        };
        match membrane.access_for_token(token, "mcp") {
            Ok(access) => {
                request.extensions_mut().insert(access);
                Ok(request)
            }
            Err(error) => Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                error.kind(),
                &error.to_string(),
            )),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Why the gate turned a request away (answered before rmcp sees it).
struct Refusal {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, kind: &'static str, message: &str) -> Self {
        Self {
            status,
            kind,
            message: message.to_owned(),
        }
    }

    fn into_response(self) -> Response<Body> {
        refuse(self.status, self.kind, &self.message)
    }
}

fn refuse(status: StatusCode, kind: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({"error": {"kind": kind, "message": message}}).to_string();
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed_unsync());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_allows_the_served_address_only() {
        let gate = Gate::new("127.0.0.1:4242".parse().unwrap());
        assert_eq!(gate.hosts, ["127.0.0.1:4242", "localhost:4242"]);
        assert_eq!(
            gate.origins,
            ["http://127.0.0.1:4242", "http://localhost:4242"]
        );
    }

    /// A client that connects and sends nothing is closed after the
    /// header timeout: it cannot hold one of the connection slots.
    #[tokio::test]
    async fn a_silent_connection_is_closed_at_the_header_timeout() {
        use tokio::io::AsyncReadExt as _;
        let home = tempfile::tempdir().unwrap();
        let mother =
            patina_mother::Mother::open(patina_mother::MotherConfig::new(home.path().join("home")))
                .unwrap();
        let membrane = MembraneServer::new(
            mother,
            patina_membrane::Policy::default(),
            patina_membrane::EpochGuard::new(1),
            patina_membrane::ServeConfig::default(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = HttpConfig {
            header_read_timeout: std::time::Duration::from_millis(200),
            ..HttpConfig::default()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(serve_http(membrane, listener, config, async {
            let _ = stopped.await;
        }));
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut byte = [0u8; 1];
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(10), silent.read(&mut byte)).await;
        assert!(
            matches!(read, Ok(Ok(0) | Err(_))),
            "closed by the server, not left open: {read:?}"
        );
        let _ = stop.send(());
        served.await.unwrap().unwrap();
    }

    #[test]
    fn a_bearer_is_read_from_its_header_only() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}
