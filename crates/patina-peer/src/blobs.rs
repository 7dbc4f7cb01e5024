//! What a Mother serves on `/patina/blob/0.1.0`: the bytes of the children
//! it holds, to the peers that may have them. Who may is the membrane's to
//! say ([`patina_membrane::Access::child_bytes`]: a peer whose role may run
//! or describe that child) — with one addition the home's owner makes by
//! asking: while this Mother asks a peer to run a child ([`Offers`]), that
//! peer may fetch that child's bytes from it.
//!
//! The bytes are read back and checked against their id before they are
//! served. This module must never serve a child to a peer neither the
//! policy nor an offer names, and never serve bytes that are not the child.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use patina_core::ChildId;
use patina_membrane::{CallerKey, MembraneError, MembraneServer};
use patina_mother::MotherError;
use patina_net::{BlobBody, BlobSource, Digest, PeerId, peer_id_to_ed25519};

/// The children this Mother offers to peers it asked to run them.
#[derive(Clone, Default)]
pub(crate) struct Offers(Arc<Mutex<HashMap<(PeerId, ChildId), usize>>>);

/// One offer; withdrawn when dropped (once the run it was made for ended).
pub(crate) struct Offer {
    offers: Offers,
    key: (PeerId, ChildId),
}

impl Offers {
    /// Offers `child` to `peer` until the returned guard is dropped.
    pub(crate) fn offer(&self, peer: PeerId, child: ChildId) -> Offer {
        let key = (peer, child);
        *self.lock().entry(key).or_default() += 1;
        Offer {
            offers: self.clone(),
            key,
        }
    }

    fn holds(&self, peer: PeerId, child: ChildId) -> bool {
        self.lock().contains_key(&(peer, child))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(PeerId, ChildId), usize>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Offer {
    fn drop(&mut self) {
        let mut offers = self.offers.lock();
        if let Some(count) = offers.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                offers.remove(&self.key);
            }
        }
    }
}

/// The Mother's children as a [`BlobSource`].
pub(crate) struct ChildBlobs {
    pub(crate) server: MembraneServer,
    pub(crate) offers: Offers,
}

fn refused(reason: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, reason.into())
}

#[async_trait::async_trait]
impl BlobSource for ChildBlobs {
    async fn blob(&self, asker: &PeerId, digest: &Digest) -> io::Result<Option<BlobBody>> {
        let child = ChildId::from_digest(digest.0);
        let answer = if self.offers.holds(*asker, child) {
            let mother = self.server.mother().clone();
            tokio::task::spawn_blocking(move || mother.children().read(&child))
                .await
                .map_err(io::Error::other)?
                .map_err(MembraneError::Mother)
        } else {
            let key = peer_id_to_ed25519(asker)
                .ok_or_else(|| refused("the asker's peer id is not an Ed25519 key"))?;
            let access = self
                .server
                .access_for_key(CallerKey(key), "peer")
                .map_err(|e| refused(e.to_string()))?;
            access.child_bytes(&child).await
        };
        match answer {
            Ok(bytes) => Ok(Some(BlobBody::shared(bytes.into()))),
            Err(MembraneError::Mother(MotherError::UnknownChild(_))) => Ok(None),
            Err(error) => {
                tracing::debug!(%asker, %child, kind = error.kind(), %error, "blob refused");
                Err(refused(format!("[{}] {error}", error.kind())))
            }
        }
    }
}
