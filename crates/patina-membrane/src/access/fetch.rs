//! Which child a run names, and whether a child this Mother lacks may be
//! fetched for the caller and stored here: the decision is the caller's
//! role's (it may install, or it names that child's id), the fetching is
//! the attached [`crate::Network`]'s, and the bytes are checked against the
//! id and validated as a component before anything runs them.

use patina_core::ChildId;
use patina_mother::{InstallSpec, MotherError};

use super::Access;
use crate::MembraneError;
use crate::policy::Children;

/// The child of a run: held here, or missing but fetchable for this caller.
pub(crate) enum RunChild {
    /// Installed here, with this id.
    Held(ChildId),
    /// Not held; the caller's role may have it fetched and stored.
    Fetch(ChildId),
}

impl RunChild {
    /// The child's full id (the run names it by this from here on, so that
    /// a name moved to other bytes after the check changes nothing).
    pub(crate) fn id(&self) -> ChildId {
        match self {
            Self::Held(id) | Self::Fetch(id) => *id,
        }
    }
}

impl Access {
    /// Whether the role names the child `id` by its full id.
    fn names_child(&self, id: &ChildId) -> bool {
        match &self.role().children {
            Children::Any => false,
            Children::Only(list) => list
                .iter()
                .any(|entry| entry.parse::<ChildId>().is_ok_and(|named| named == *id)),
        }
    }

    /// Whether the role may use the child `id`, which is not held here
    /// (so only its full id can name it).
    pub(crate) fn may_use_missing(&self, id: &ChildId) -> bool {
        matches!(self.role().children, Children::Any) || self.names_child(id)
    }

    /// The child `reference` names for a run: held (and allowed), or a full
    /// `b3:` id this Mother lacks that the role may have fetched — any
    /// child for a role that may `runtime.install` (and use any child), or
    /// one whose id the role's `children` name. Nothing is fetched yet.
    pub(crate) async fn child_for_run(&self, reference: &str) -> Result<RunChild, MembraneError> {
        let missing = match self.check_child(reference).await {
            Ok(id) => return Ok(RunChild::Held(id)),
            Err(MembraneError::Mother(MotherError::UnknownChild(missing))) => missing,
            Err(other) => return Err(other),
        };
        let unknown = || MembraneError::Mother(MotherError::UnknownChild(missing.clone()));
        let Ok(id) = reference.parse::<ChildId>() else {
            return Err(unknown());
        };
        if self.shared().network().is_none() {
            return Err(unknown());
        }
        let role = self.role();
        let may_store = role.allows("runtime.install") || self.names_child(&id);
        if !(self.may_use_missing(&id) && may_store) {
            return Err(MembraneError::FetchDenied {
                child: id.to_string(),
                role: role.name.clone(),
            });
        }
        Ok(RunChild::Fetch(id))
    }

    /// Fetches the child `id` through the network, checks the bytes are
    /// that child, and installs them by digest (no name, no grants).
    pub(crate) async fn fetch_and_store(&self, id: ChildId) -> Result<(), MembraneError> {
        let network = self.shared().network().ok_or(MembraneError::NotOnNetwork)?;
        let bytes = network.fetch_child(id, self.principal().clone()).await?;
        let got = ChildId::of(&bytes);
        if got != id {
            return Err(MembraneError::Network {
                kind: "wrong-bytes",
                message: format!("the bytes fetched for {id} are {got}"),
            });
        }
        let mother = self.mother().clone();
        self.on_mother(async move { mother.install(bytes, InstallSpec::default()).await })
            .await?;
        tracing::info!(child = %id, "fetched and stored");
        Ok(())
    }
}
