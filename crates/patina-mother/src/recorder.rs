//! [`Recorder`]: turns a recorded run into a signed receipt on this Mother's
//! chain — seal, durable append, and keep the child's bytes so the receipt
//! can be replayed later.
//!
//! Its work is blocking (hashing, signing, a synced SQLite write): call it
//! from a blocking thread (the [`crate::Runner`] does). Appends go through
//! one committer thread that takes every receipt waiting when it starts a
//! write, so the receipts of concurrent runs share one transaction and one
//! fsync (group commit); each caller is answered only once its receipt is
//! durable. It must never sign
//! anything but a transcript the host produced, never append out of chain
//! order (the store decides the previous receipt inside its write), and
//! never drop a receipt silently: a failed append is an error.

use std::sync::{Arc, mpsc};

use patina_host::{Child, RunReport, unix_millis};
use patina_receipts::store::{BatchItem, ReceiptStore};
use patina_receipts::{
    Attribution, Blob, Identity, MotherId, Receipt, ReceiptError, Transcript, canonical,
};

use crate::{ChildStore, MotherError};

/// Seals and stores the receipts of one Mother.
#[derive(Clone)]
pub struct Recorder {
    children: ChildStore,
    identity: Arc<Identity>,
    committer: mpsc::Sender<Pending>,
}

/// The most receipts one transaction takes.
const MAX_BATCH: usize = 256;

/// A receipt waiting for the committer.
struct Pending {
    transcript: Transcript,
    blobs: Vec<Blob>,
    header: canonical::Header,
    reply: mpsc::SyncSender<Result<Receipt, ReceiptError>>,
}

/// The committer: waits for one receipt, takes every other one waiting,
/// appends them in one batch and answers each. Ends when every
/// [`Recorder`] is gone.
fn commit_loop(
    identity: Arc<Identity>,
    receipts: Arc<dyn ReceiptStore>,
    queue: mpsc::Receiver<Pending>,
) {
    while let Ok(first) = queue.recv() {
        let mut pending = vec![first];
        while pending.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => pending.push(next),
                Err(_) => break,
            }
        }
        let mother = identity.id();
        let mut seals: Vec<_> = pending
            .iter()
            .map(|p| {
                let identity = &identity;
                move |previous| {
                    canonical::seal_with(p.transcript.clone(), identity, &p.header, previous)
                }
            })
            .collect();
        let mut batch: Vec<BatchItem<'_>> = seals
            .iter_mut()
            .zip(&pending)
            .map(|(seal, p)| BatchItem {
                seal,
                blobs: &p.blobs,
            })
            .collect();
        let results = receipts.append_batch(&mother, &mut batch);
        drop(batch);
        drop(seals);
        tracing::debug!(receipts = pending.len(), "group commit");
        for (p, result) in pending.iter().zip(results) {
            // A caller that stopped waiting still has its receipt stored.
            let _ = p.reply.send(result);
        }
    }
}

impl Recorder {
    /// A recorder signing with `identity`, appending to `receipts` (through
    /// its committer thread, started here) and keeping recorded children's
    /// bytes in `children`.
    pub fn new(
        children: ChildStore,
        identity: Arc<Identity>,
        receipts: Arc<dyn ReceiptStore>,
    ) -> Result<Self, MotherError> {
        let (committer, queue) = mpsc::channel();
        let committer_identity = identity.clone();
        std::thread::Builder::new()
            .name("patina-receipts".into())
            .spawn(move || commit_loop(committer_identity, receipts, queue))
            .map_err(|error| MotherError::io("starting the receipt committer", error))?;
        Ok(Self {
            children,
            identity,
            committer,
        })
    }

    /// The id receipts are signed by.
    pub fn mother(&self) -> MotherId {
        self.identity.id()
    }

    /// Seals a recorded run into a signed receipt naming `attribution` (who
    /// asked) and appends it (durably) to this Mother's chain, keeping the
    /// child's bytes too. `None` for a live run. The report's events move
    /// into the receipt. Blocking.
    pub fn record(
        &self,
        child: &Child,
        report: &mut RunReport,
        attribution: &Attribution,
    ) -> Result<Option<Receipt>, MotherError> {
        let Some((transcript, blobs)) = report.take_transcript() else {
            return Ok(None);
        };
        if !self.children.contains(&child.id()) {
            self.children.install(&child.bytes()?, None)?;
        }
        let header = canonical::Header {
            started_at_ms: unix_millis(report.started_at),
            ended_at_ms: unix_millis(report.ended_at),
            attribution: attribution.clone(),
            meter: patina_receipts::Meter::Fuel,
        };
        let (reply, answer) = mpsc::sync_channel(1);
        let gone = || MotherError::Task("the receipt committer stopped".into());
        self.committer
            .send(Pending {
                transcript,
                blobs,
                header,
                reply,
            })
            .map_err(|_| gone())?;
        let receipt = answer.recv().map_err(|_| gone())??;
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
