//! [`BridgeConfig`]: the bounds of one HTTP bridge — request body and
//! header sizes, connections, how long a client may take to send its
//! headers, how long shutdown waits for requests in flight.
//!
//! Only bounds of HTTP live here: what a caller may do, run rates and runs
//! in flight per caller are the policy's (`policy.toml`), decided in the
//! membrane.

use std::time::Duration;

/// Bounds of one bridge.
#[derive(Clone, Debug)]
pub struct BridgeConfig {
    /// The largest request body read, in bytes (more: `413 payload-too-large`).
    pub max_body_bytes: usize,
    /// The most bytes of request headers, names and values together (more:
    /// `431 headers-too-large`).
    pub max_header_bytes: usize,
    /// The most request headers (more: 431, from the HTTP parser).
    pub max_headers: usize,
    /// Connections open at once; the next one waits to be accepted.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body, once its
    /// headers are in (more: `408 request-timeout`): a client that trickles
    /// its body holds a connection no longer.
    pub body_read_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub drain: Duration,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_header_bytes: 16 << 10,
            max_headers: 64,
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            drain: Duration::from_secs(30),
        }
    }
}
