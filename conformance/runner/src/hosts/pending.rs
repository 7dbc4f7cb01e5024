//! Hosts whose doors are being built on other branches (the peer Mother
//! over libp2p, the REST bridge, MCP): their column is in the matrix, every
//! cell n/a with the reason, until their crates land on main and an adapter
//! is written here (run the case's spec through the door, return the
//! receipt it answers with).

use anyhow::{Result, bail};

use super::{HostUnderTest, Prepared, Ran};
use crate::case::Case;

/// A host not on this build.
pub struct Pending {
    name: &'static str,
    reason: &'static str,
}

impl Pending {
    /// The host `name`, n/a for `reason`.
    pub fn new(name: &'static str, reason: &'static str) -> Self {
        Self { name, reason }
    }
}

#[async_trait::async_trait(?Send)]
impl HostUnderTest for Pending {
    fn name(&self) -> &'static str {
        self.name
    }

    fn metered(&self) -> bool {
        true
    }

    fn not_applicable(&self, _: &Case) -> Option<String> {
        Some(self.reason.to_owned())
    }

    async fn run(&mut self, _: &Case, _: &Prepared) -> Result<Ran> {
        bail!("{}", self.reason)
    }
}
