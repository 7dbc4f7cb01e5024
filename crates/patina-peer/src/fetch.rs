//! Fetching a child this Mother lacks, once the membrane decided the
//! caller may have it fetched: from the asking peer first, then from the
//! providers the DHT names, each passed over when it is unreachable, has
//! nothing, has too much (the configured cap) or serves other bytes.
//! `patina-net` verifies the blake3 digest before it hands bytes over; the
//! membrane checks the id again and validates the component before storing.
//!
//! Concurrent fetches of one child wait for one another, so a burst of runs
//! of a new child fetches it once. This module must never return bytes it
//! could not verify, and never decide who may fetch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use patina_core::ChildId;
use patina_mother::Mother;
use patina_net::{Digest, FetchError, NetHandle, PeerId};

use crate::PeerError;

/// The fetches under way, one lock per child.
#[derive(Default)]
pub(crate) struct Fetches(Mutex<HashMap<ChildId, Arc<tokio::sync::Mutex<()>>>>);

impl Fetches {
    fn lock_for(&self, child: ChildId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(child).or_default())
    }

    fn done(&self, child: ChildId) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&child);
    }
}

/// Fetches `child` with `net` — from `first` (the peer that asked) first,
/// then from DHT providers — unless `mother` has it by now.
pub(crate) async fn fetch_child(
    net: &NetHandle,
    mother: &Mother,
    fetches: &Fetches,
    child: ChildId,
    first: Option<PeerId>,
) -> Result<Vec<u8>, PeerError> {
    let lock = fetches.lock_for(child);
    let _turn = lock.lock().await;
    let result = fetch_now(net, mother, child, first).await;
    fetches.done(child);
    result
}

async fn fetch_now(
    net: &NetHandle,
    mother: &Mother,
    child: ChildId,
    first: Option<PeerId>,
) -> Result<Vec<u8>, PeerError> {
    let held = mother.clone();
    let stored = tokio::task::spawn_blocking(move || {
        held.children()
            .contains(&child)
            .then(|| held.children().read(&child))
    })
    .await
    .map_err(|e| PeerError::Io {
        context: "reading a stored child".into(),
        source: std::io::Error::other(e),
    })?;
    if let Some(bytes) = stored {
        return Ok(bytes?);
    }
    let digest = Digest(*child.digest());
    let local = net.local_peer_id();
    let mut attempts = Vec::new();
    let mut tried = vec![local];
    if let Some(asker) = first.filter(|peer| *peer != local) {
        match net.fetch_blob_from(digest, &[asker]).await {
            Ok(bytes) => return Ok(bytes),
            Err(error) => describe(&error, &mut attempts),
        }
        tried.push(asker);
    }
    let wanted = net.config().dht.providers_wanted;
    let providers: Vec<PeerId> = match net.find_providers(digest, wanted).await {
        Ok(found) => found.into_iter().filter(|p| !tried.contains(p)).collect(),
        Err(error) => {
            attempts.push(format!("the DHT: {error}"));
            Vec::new()
        }
    };
    if providers.is_empty() {
        attempts.push("the DHT names no other provider".into());
    } else {
        match net.fetch_blob_from(digest, &providers).await {
            Ok(bytes) => return Ok(bytes),
            Err(error) => describe(&error, &mut attempts),
        }
    }
    Err(PeerError::ChildUnavailable {
        child: child.to_string(),
        attempts,
    })
}

/// Each provider's failure as `<peer> <what it did>`.
fn describe(error: &FetchError, attempts: &mut Vec<String>) {
    match error {
        FetchError::AllFailed { attempts: each, .. } => {
            attempts.extend(each.iter().map(|a| format!("{} {}", a.peer, a.error)));
        }
        other => attempts.push(other.to_string()),
    }
}
