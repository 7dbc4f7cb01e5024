//! The REST bridge host (`crates/patina-bridge`, `mother serve --http`). Its
//! crate landed after the runner, and the adapter is not written yet, so
//! its column is n/a with that reason; this file alone becomes the adapter: serve a Mother's
//! bridge on 127.0.0.1 with a bearer token, POST the case's call, and fetch
//! the receipt it names (see `served.rs` for the shape).

use anyhow::Result;

use super::{HostUnderTest, Pending, Setup};

/// The REST bridge's column.
pub async fn start(_: &Setup<'_>) -> Result<Box<dyn HostUnderTest>> {
    Ok(Box::new(Pending::new(
        "bridge",
        "the runner has no REST bridge adapter yet (crates/patina-bridge landed after it; the same-hash check of embedded, socket, REST and web-gateway is a test in crates/patina-bridge)",
    )))
}
