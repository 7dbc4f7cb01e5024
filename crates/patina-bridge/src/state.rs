//! [`Bridge`]: what every route shares — the membrane server whose
//! accesses the routes call, the bounds, the mounts, and the OpenAPI document made from
//! the routes. Cheap to clone.
//!
//! It holds no authority of its own: a route gets an `Access` for the
//! request's bearer token ([`crate::Caller`]) and asks it.

use std::sync::{Arc, OnceLock};

use patina_membrane::MembraneServer;

use crate::BridgeConfig;
use crate::mount::Mount;

/// The state of one bridge.
#[derive(Clone, Debug)]
pub struct Bridge {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    server: MembraneServer,
    config: BridgeConfig,
    mounts: Vec<Mount>,
    openapi: OnceLock<serde_json::Value>,
}

impl Bridge {
    /// A bridge to the Mother `server` serves, with `config`'s bounds.
    pub fn new(server: MembraneServer, config: BridgeConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                server,
                config,
                mounts: Vec::new(),
                openapi: OnceLock::new(),
            }),
        }
    }

    /// A bridge that also serves `mounts` (bridge children under path
    /// prefixes); `bad-request` when two prefixes overlap.
    pub fn with_mounts(
        server: MembraneServer,
        config: BridgeConfig,
        mounts: Vec<Mount>,
    ) -> Result<Self, crate::ApiError> {
        crate::mount::check(&mounts)?;
        Ok(Self {
            inner: Arc::new(Inner {
                server,
                config,
                mounts,
                openapi: OnceLock::new(),
            }),
        })
    }

    /// The mounts.
    pub fn mounts(&self) -> &[Mount] {
        &self.inner.mounts
    }

    /// The membrane server.
    pub fn server(&self) -> &MembraneServer {
        &self.inner.server
    }

    /// The bounds.
    pub fn config(&self) -> &BridgeConfig {
        &self.inner.config
    }

    /// The OpenAPI document of the routes (set once, when they are built).
    pub(crate) fn openapi(&self) -> Option<&serde_json::Value> {
        self.inner.openapi.get()
    }

    pub(crate) fn set_openapi(&self, document: serde_json::Value) {
        let _ = self.inner.openapi.set(document);
    }
}
