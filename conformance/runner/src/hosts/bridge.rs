//! The REST bridge host (`crates/patina-bridge`, `mother serve --http`). Its
//! crate is not on this branch yet, so its column is n/a with that reason;
//! when it lands, this file alone becomes the adapter: serve a Mother's
//! bridge on 127.0.0.1 with a bearer token, POST the case's call, and fetch
//! the receipt it names (see `served.rs` for the shape).

use anyhow::Result;

use super::{HostUnderTest, Pending, Setup};

/// The REST bridge's column.
pub async fn start(_: &Setup<'_>) -> Result<Box<dyn HostUnderTest>> {
    Ok(Box::new(Pending::new(
        "bridge",
        "the REST bridge (crates/patina-bridge) is not on this build yet",
    )))
}
