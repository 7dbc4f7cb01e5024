//! [`Recorder`]: turns a recorded run into a signed receipt on this Mother's
//! chain — seal, durable append, and keep the child's bytes so the receipt
//! can be replayed later.
//!
//! Its work is blocking (hashing, signing, a synced SQLite write): call it
//! from a blocking thread (the [`crate::Runner`] does). It must never sign
//! anything but a transcript the host produced, never append out of chain
//! order (the store decides the previous receipt inside its write), and
//! never drop a receipt silently: a failed append is an error.

use std::sync::Arc;

use patina_host::{Child, RunReport, unix_millis};
use patina_receipts::store::ReceiptStore;
use patina_receipts::{Identity, MotherId, Receipt, canonical};

use crate::{ChildStore, MotherError};

/// Seals and stores the receipts of one Mother.
#[derive(Clone)]
pub struct Recorder {
    children: ChildStore,
    identity: Arc<Identity>,
    receipts: Arc<dyn ReceiptStore>,
}

impl Recorder {
    /// A recorder signing with `identity`, appending to `receipts` and
    /// keeping recorded children's bytes in `children`.
    pub fn new(
        children: ChildStore,
        identity: Arc<Identity>,
        receipts: Arc<dyn ReceiptStore>,
    ) -> Self {
        Self {
            children,
            identity,
            receipts,
        }
    }

    /// The id receipts are signed by.
    pub fn mother(&self) -> MotherId {
        self.identity.id()
    }

    /// Seals a recorded run into a signed receipt and appends it (durably) to
    /// this Mother's chain, keeping the child's bytes too. `None` for a live
    /// run. The report's events move into the receipt. Blocking.
    pub fn record(
        &self,
        child: &Child,
        report: &mut RunReport,
    ) -> Result<Option<Receipt>, MotherError> {
        let Some((transcript, blobs)) = report.take_transcript() else {
            return Ok(None);
        };
        if !self.children.contains(&child.id()) {
            self.children.install(&child.bytes()?, None)?;
        }
        let (started, ended) = (unix_millis(report.started_at), unix_millis(report.ended_at));
        let identity = &self.identity;
        let receipt = self.receipts.append(
            &identity.id(),
            &mut |previous| canonical::seal(transcript.clone(), identity, started, ended, previous),
            &blobs,
        )?;
        Ok(Some(receipt))
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("mother", &self.identity.id())
            .finish_non_exhaustive()
    }
}
