//! The bounded slots of a served membrane: connections open, connections
//! not yet logged in, and connections of one caller key. Each is a guard
//! taken when a connection reaches that state and given back when it is
//! dropped; a slot that cannot be taken is a typed `busy` error. This
//! module must never hand out a slot past its bound, nor keep one after
//! its guard is gone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};

use crate::MembraneError;
use crate::policy::CallerKey;
use crate::shared::Shared;

/// One of a bounded count of the server's connections: those open, or
/// those not yet logged in.
pub(super) struct CountSlot {
    shared: Arc<Shared>,
    count: fn(&Shared) -> &AtomicUsize,
}

impl CountSlot {
    /// One of the [`crate::ServeConfig::max_connections`] open connections.
    pub(super) fn open(shared: &Arc<Shared>) -> Result<Self, MembraneError> {
        let bound = shared.config.max_connections;
        Self::take(shared, |s| &s.open, bound, "connections are open")
    }

    /// One of the [`crate::ServeConfig::max_pending_logins`] connections
    /// not yet logged in.
    pub(super) fn pending(shared: &Arc<Shared>) -> Result<Self, MembraneError> {
        let bound = shared.config.max_pending_logins;
        let what = "connections are waiting to log in";
        Self::take(shared, |s| &s.pending, bound, what)
    }

    fn take(
        shared: &Arc<Shared>,
        count: fn(&Shared) -> &AtomicUsize,
        bound: usize,
        what: &str,
    ) -> Result<Self, MembraneError> {
        let before = count(shared).fetch_add(1, Ordering::SeqCst);
        if before >= bound {
            count(shared).fetch_sub(1, Ordering::SeqCst);
            return Err(MembraneError::Busy(format!("{before} {what}")));
        }
        Ok(Self {
            shared: shared.clone(),
            count,
        })
    }
}

impl Drop for CountSlot {
    fn drop(&mut self) {
        (self.count)(&self.shared).fetch_sub(1, Ordering::SeqCst);
    }
}

/// One of the connections a caller key may hold open at once
/// ([`crate::ServeConfig::max_connections_per_caller`]), so that one caller
/// — a low role, a buggy client — cannot take every connection the server
/// has, logged in and silent.
pub(super) struct CallerSlot {
    shared: Arc<Shared>,
    key: CallerKey,
}

impl CallerSlot {
    pub(super) fn take(shared: &Arc<Shared>, key: CallerKey) -> Result<Self, MembraneError> {
        let mut open = shared
            .callers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_insert(0);
        let limit = shared.config.max_connections_per_caller;
        if *count >= limit {
            if *count == 0 {
                open.remove(&key);
            }
            return Err(MembraneError::Busy(format!(
                "this caller has reached its limit of open connections ({limit})"
            )));
        }
        *count += 1;
        Ok(Self {
            shared: shared.clone(),
            key,
        })
    }

    /// The caller key it counts.
    pub(super) fn key(&self) -> CallerKey {
        self.key
    }
}

impl Drop for CallerSlot {
    fn drop(&mut self) {
        let mut open = self
            .shared
            .callers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}
