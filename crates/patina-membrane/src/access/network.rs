//! The `network.*` methods of an [`Access`] (peers, find, run on a peer,
//! push to a peer), and the bytes of a held child for a peer that may have
//! them (`/patina/blob/0.1.0`). Each is gated here — the epoch, the method,
//! the child, the grant and limit ceilings of a run, the rate and runs in
//! flight — before the attached [`crate::Network`] is asked to act.

use std::sync::Arc;

use patina_core::ChildId;
use patina_mother::{ChildRef, Installed, MotherError, RunSpec};
use tracing::Instrument;

use super::Access;
use crate::network::{Network, NetworkInfo};
use crate::{MembraneError, RemoteRun};

impl Access {
    fn network(&self) -> Result<Arc<dyn Network>, MembraneError> {
        self.shared().network().ok_or(MembraneError::NotOnNetwork)
    }

    /// The child `reference` names for a network method: one held here
    /// that the role may use, or a full `b3:` id the role may use.
    async fn network_child(&self, reference: &str) -> Result<ChildId, MembraneError> {
        match self.check_child(reference).await {
            Ok(id) => Ok(id),
            Err(MembraneError::Mother(MotherError::UnknownChild(missing))) => {
                let id = reference
                    .parse::<ChildId>()
                    .map_err(|_| MembraneError::Mother(MotherError::UnknownChild(missing)))?;
                if self.may_use_missing(&id) {
                    Ok(id)
                } else {
                    Err(MembraneError::ChildDenied {
                        role: self.role().name.clone(),
                        child: reference.to_owned(),
                    })
                }
            }
            Err(other) => Err(other),
        }
    }

    /// This node and its connected peers (`network.peers`).
    pub async fn network_info(&self) -> Result<NetworkInfo, MembraneError> {
        async {
            self.gate("network.peers")?;
            self.network()?.info().await
        }
        .instrument(self.span("network.peers"))
        .await
    }

    /// Providers of a child from the DHT, at most `limit` (1 to 64).
    pub async fn network_find(
        &self,
        child: &str,
        limit: usize,
    ) -> Result<Vec<String>, MembraneError> {
        async {
            self.gate("network.find")?;
            let network = self.network()?;
            let id = self.network_child(child).await?;
            network.find(id, limit.clamp(1, 64)).await
        }
        .instrument(self.span("network.find"))
        .await
    }

    /// One run on `peer`, under that peer's policy — and first under this
    /// caller's own role here: the child, the grant and limit ceilings, the
    /// rate and the runs in flight are checked as for a local run. The
    /// answer's receipt is the peer's, verified and kept here.
    pub async fn network_run(
        &self,
        peer: &str,
        mut spec: RunSpec,
    ) -> Result<RemoteRun, MembraneError> {
        async {
            self.gate("network.run")?;
            let network = self.network()?;
            let ChildRef::Installed(reference) = &spec.child else {
                return Err(MembraneError::BadRequest(
                    "a run on a peer names an installed child or a `b3:` id".into(),
                ));
            };
            let id = self.network_child(reference).await?;
            self.attenuate(&mut spec, &[], "")?;
            let _slot = self.run_slot()?;
            self.check_rate()?;
            spec.child = ChildRef::Installed(id.to_string());
            network.run_on(peer.to_owned(), spec).await
        }
        .instrument(self.span("network.run"))
        .await
    }

    /// Offers the bytes of a child held here to `peer` (its
    /// `runtime.install`, by digest: the peer's policy decides).
    pub async fn network_push(&self, peer: &str, child: &str) -> Result<Installed, MembraneError> {
        async {
            self.gate("network.push")?;
            let network = self.network()?;
            let id = self.check_child(child).await?;
            let bytes = self
                .blocking(move |mother| Ok(mother.children().read(&id)?))
                .await?;
            network.push(peer.to_owned(), id, bytes).await
        }
        .instrument(self.span("network.push"))
        .await
    }

    /// The bytes of the child `id` held here, for a caller whose role may
    /// run or describe that child (a peer fetching it by digest). The bytes
    /// are read back and checked against the id.
    pub async fn child_bytes(&self, id: &ChildId) -> Result<Vec<u8>, MembraneError> {
        async {
            self.check_epoch()?;
            let role = self.role();
            if !(role.allows("runtime.run") || role.allows("runtime.describe")) {
                return Err(MembraneError::Denied {
                    role: role.name.clone(),
                    method: "runtime.run or runtime.describe (to fetch a child's bytes)".into(),
                });
            }
            let id = self.check_child(&id.to_string()).await?;
            self.blocking(move |mother| Ok(mother.children().read(&id)?))
                .await
        }
        .instrument(self.span("blob.fetch"))
        .await
    }
}
