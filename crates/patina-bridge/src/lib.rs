//! `patina-bridge`: a Patina Mother over HTTP — a thin, replaceable door.
//! Each route turns a request into a call of the caller's
//! `patina_membrane::Access` (for the request's bearer token) and the
//! answer, or the typed error, into JSON with an HTTP status chosen by the
//! error's kind ([`status_of`]).
//!
//! Routes (`docs/bridge.md`): `GET /v1/children`, `GET /v1/children/{name}`
//! (imports, exports, WIT, and each command's JSON Schemas, from
//! `patina-host`'s schema module), `POST /v1/children/{name}/call/{function}`,
//! `GET /v1/receipts/{id}`, `POST /v1/replay/{id}`, `GET /metrics`
//! (Prometheus), `GET /v1/openapi.json` (OpenAPI 3.1, derived from the
//! handlers that route), and bridge children mounted under path prefixes
//! ([`mount`], `Access::handle_http`). Bounds of HTTP are in
//! [`BridgeConfig`]; graceful shutdown in [`serve`].
//!
//! ```no_run
//! # async fn demo(mother: patina_mother::Mother) -> Result<(), Box<dyn std::error::Error>> {
//! use patina_bridge::{Bridge, BridgeConfig};
//! let server = patina_membrane::MembraneServer::open(mother, Default::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let bridge = Bridge::new(server, BridgeConfig::default());
//! patina_bridge::serve(listener, bridge, std::future::pending()).await;
//! # Ok(()) }
//! ```
//!
//! This crate must never decide what a caller may do — no policy logic,
//! no role, grant or limit check of its own: the membrane decides, the
//! bridge translates. It never reads the Mother but through an `Access`.

mod api;
mod auth;
mod config;
mod error;
mod limits;
pub mod mount;
mod prometheus;
mod routes;
pub mod schemas;
mod serve;
mod state;

use axum::Router;

pub use api::{
    CallAnswer, ChildDescription, ChildEntry, ChildList, CommandSchema, ExportedReceiptBody,
    FailedCall, ReceiptRef, ReplayAnswer,
};
pub use auth::Caller;
pub use config::BridgeConfig;
pub use error::{ApiError, ErrorBody, ErrorDetail, KNOWN_KINDS, known_status, status_of};
pub use serve::{Served, serve};
pub use state::Bridge;

/// The bridge's routes (and its mounts), ready to serve.
pub fn router(bridge: Bridge) -> Router {
    let (routes, document) = routes::build(&bridge);
    bridge.set_openapi(serde_json::to_value(&document).unwrap_or_default());
    routes
        .merge(mount::router(&bridge))
        .fallback(routes::unknown_route)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(bridge)
}
