//! The peer host: a second Mother reached over libp2p on loopback
//! (`crates/patina-peer`, the membrane over `/patina/membrane/0.1.0`). Its
//! crate landed after the runner, and the adapter is not written yet, so
//! its column is n/a with that reason; this file alone becomes the adapter: start a peer Mother
//! on 127.0.0.1, dial it, and run `super::spec(case, id)` through its
//! membrane, answering with the receipt it seals (see `served.rs`).

use anyhow::Result;

use super::{HostUnderTest, Pending, Setup};

/// The peer host's column.
pub async fn start(_: &Setup<'_>) -> Result<Box<dyn HostUnderTest>> {
    Ok(Box::new(Pending::new(
        "peer",
        "the runner has no peer adapter yet (crates/patina-peer landed after it; `mother run --on` is tested in crates/patina-peer and mother-cli)",
    )))
}
