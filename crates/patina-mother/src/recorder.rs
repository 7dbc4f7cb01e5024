//! [`Recorder`]: turns a recorded run into a signed receipt on this Mother's
//! chain — seal, durable append, and keep the child's bytes so the receipt
//! can be replayed later.
//!
//! Its blocking work (hashing, signing, a synced SQLite write) is done by
//! two threads in a pipeline: the sealer takes every receipt waiting,
//! seals and verifies them in chain order from the head it expects, and
//! hands the batch to the writer, which appends it in one transaction with
//! one fsync (group commit) while the sealer works on the next batch; each
//! caller is answered only once its receipt is durable. A receipt sealed
//! ahead on a head that turned out wrong (another writer, a refused
//! receipt) is sealed again inside the write. A run's task hands its
//! transcript over ([`Recorder::submit`]) and awaits the receipt without
//! holding a thread; only the first recording of a child stores its bytes
//! (blocking: the [`crate::Runner`] does that part on a blocking thread).
//! It must never sign anything but a transcript the host produced, never
//! append out of chain
//! order (the store decides the previous receipt inside its write), and
//! never drop a receipt silently: a failed append is an error.

use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};

use patina_host::{Child, RunReport, unix_millis};
use patina_receipts::store::{BatchItem, ReceiptStore, Sealed};
use patina_receipts::{
    Attribution, Blob, Identity, MotherId, Receipt, ReceiptError, ReceiptId, Transcript, canonical,
};

use patina_core::ChildId;

use crate::{ChildStore, MotherError};

/// Seals and stores the receipts of one Mother.
#[derive(Clone)]
pub struct Recorder {
    children: ChildStore,
    identity: Arc<Identity>,
    committer: mpsc::Sender<Pending>,
    /// Children whose bytes this recorder has seen stored in `children`.
    stored: Arc<Mutex<HashSet<ChildId>>>,
}

/// A receipt handed to the committer: await it ([`Submitted::receipt`]).
#[derive(Debug)]
pub struct Submitted(tokio::sync::oneshot::Receiver<Result<Receipt, ReceiptError>>);

impl Submitted {
    /// The receipt, once it is durable on the chain.
    pub async fn receipt(self) -> Result<Receipt, MotherError> {
        Ok(self.0.await.map_err(|_| committer_gone())??)
    }
}

fn committer_gone() -> MotherError {
    MotherError::Task("the receipt committer stopped".into())
}

/// The most receipts one transaction takes.
const MAX_BATCH: usize = 256;

/// A receipt waiting for the committer.
struct Pending {
    transcript: Transcript,
    blobs: Vec<Blob>,
    header: canonical::Header,
    reply: tokio::sync::oneshot::Sender<Result<Receipt, ReceiptError>>,
}

/// A batch on its way from the sealer to the writer: each receipt with the
/// receipt sealed (and verified) ahead, when the sealer knew the head.
struct Batch {
    pending: Vec<Pending>,
    sealed: Vec<Option<Sealed>>,
}

/// What the writer tells the sealer: how many batches it has written, the
/// chain's head after the last one (`None`: not known) and whether a batch
/// went in otherwise than sealed ahead (the sealer's guess of the head is
/// then stale).
#[derive(Default)]
struct Written {
    batches: u64,
    head: Option<Option<ReceiptId>>,
    stale: bool,
}

type Progress = Arc<(Mutex<Written>, Condvar)>;

/// How often a sealer waiting for the writer checks that it is still there.
const WRITER_CHECK: std::time::Duration = std::time::Duration::from_millis(100);

/// The sealer: waits for one receipt, takes every other one waiting, and
/// seals and verifies them in chain order from the head it expects — the
/// signature work of a batch, done while the writer commits the one
/// before. Ends when every [`Recorder`] is gone.
fn seal_loop(
    identity: Arc<Identity>,
    receipts: Arc<dyn ReceiptStore>,
    queue: mpsc::Receiver<Pending>,
    writer: mpsc::SyncSender<Batch>,
    progress: Progress,
) {
    let mother = identity.id();
    let mut guess: Option<Option<ReceiptId>> = None;
    let mut sent: u64 = 0;
    while let Ok(first) = queue.recv() {
        let mut pending = vec![first];
        while pending.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => pending.push(next),
                Err(_) => break,
            }
        }
        {
            let (lock, written) = &*progress;
            let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
            if guess.is_none() || state.stale {
                // Start over from the head the store has once every batch
                // sent so far is written.
                while state.batches < sent {
                    // A writer that is gone (it holds the other handle on
                    // `progress`) writes nothing more: stop, so every
                    // caller waiting is told the committer stopped.
                    if Arc::strong_count(&progress) < 2 {
                        return;
                    }
                    state = written
                        .wait_timeout(state, WRITER_CHECK)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                state.stale = false;
                guess = match state.head {
                    Some(head) => Some(head),
                    None => receipts.head(&mother).ok(),
                };
            }
        }
        let sealed = pending
            .iter()
            .map(|p| {
                let head = guess?;
                let receipt =
                    canonical::seal_with(p.transcript.clone(), &identity, &p.header, head);
                let sealed = Sealed::verified(receipt).ok();
                guess = sealed.as_ref().map(|s| Some(s.receipt().id));
                sealed
            })
            .collect();
        if writer.send(Batch { pending, sealed }).is_err() {
            break;
        }
        sent += 1;
    }
}

/// The writer: appends each batch in one transaction (one fsync) — the
/// receipts sealed ahead as they are when they follow the head, the others
/// sealed again inside the write — and answers each caller once its
/// receipt is durable.
fn write_loop(
    identity: Arc<Identity>,
    receipts: Arc<dyn ReceiptStore>,
    batches: mpsc::Receiver<Batch>,
    progress: Progress,
) {
    let mother = identity.id();
    while let Ok(Batch { pending, sealed }) = batches.recv() {
        let ahead: Vec<Option<ReceiptId>> = sealed
            .iter()
            .map(|s| s.as_ref().map(|s| s.receipt().id))
            .collect();
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
            .zip(sealed)
            .map(|((seal, p), sealed)| BatchItem {
                seal,
                blobs: &p.blobs,
                sealed,
            })
            .collect();
        let results = receipts.append_batch(&mother, &mut batch);
        drop(batch);
        drop(seals);
        let as_sealed = results
            .iter()
            .zip(&ahead)
            .all(|(result, ahead)| matches!((result, ahead), (Ok(r), Some(id)) if r.id == *id));
        let last = results
            .iter()
            .rev()
            .find_map(|r| r.as_ref().ok().map(|r| r.id));
        {
            let (lock, written) = &*progress;
            let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
            state.batches += 1;
            state.head = match last {
                Some(id) => Some(Some(id)),
                None if as_sealed => state.head,
                None => None,
            };
            state.stale |= !as_sealed;
            written.notify_all();
        }
        tracing::debug!(receipts = pending.len(), as_sealed, "group commit");
        for (p, result) in pending.into_iter().zip(results) {
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
        // At most one batch sealed ahead of the one being written.
        let (writer, batches) = mpsc::sync_channel(0);
        let progress = Progress::default();
        let (sealer_identity, sealer_receipts, sealer_progress) =
            (identity.clone(), receipts.clone(), progress.clone());
        std::thread::Builder::new()
            .name("patina-seal".into())
            .spawn(move || {
                seal_loop(
                    sealer_identity,
                    sealer_receipts,
                    queue,
                    writer,
                    sealer_progress,
                )
            })
            .map_err(|error| MotherError::io("starting the receipt sealer", error))?;
        let writer_identity = identity.clone();
        std::thread::Builder::new()
            .name("patina-receipts".into())
            .spawn(move || write_loop(writer_identity, receipts, batches, progress))
            .map_err(|error| MotherError::io("starting the receipt committer", error))?;
        Ok(Self {
            children,
            identity,
            committer,
            stored: Arc::default(),
        })
    }

    /// The id receipts are signed by.
    pub fn mother(&self) -> MotherId {
        self.identity.id()
    }

    /// Whether recording a run of `id` would first have to store the
    /// child's bytes (blocking work: [`Self::store_child`]).
    pub fn must_store(&self, id: &ChildId) -> bool {
        !self
            .stored
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(id)
    }

    /// Keeps `child`'s bytes in the child store (if they are not there), so
    /// its receipts can be replayed. Blocking.
    pub fn store_child(&self, child: &Child) -> Result<(), MotherError> {
        let id = child.id();
        if !self.children.contains(&id) {
            self.children.install(&child.bytes()?, None)?;
        }
        self.stored
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id);
        Ok(())
    }

    /// Hands a recorded run to the committer, to be sealed into a signed
    /// receipt naming `attribution` (who asked) and appended (durably) to
    /// this Mother's chain; `None` for a live run. The report's events move
    /// into the receipt. The child's bytes must already be stored
    /// ([`Self::must_store`]). Never blocks.
    pub fn submit(
        &self,
        report: &mut RunReport,
        attribution: &Attribution,
    ) -> Result<Option<Submitted>, MotherError> {
        let Some((transcript, blobs)) = report.take_transcript() else {
            return Ok(None);
        };
        let header = canonical::Header {
            started_at_ms: unix_millis(report.started_at),
            ended_at_ms: unix_millis(report.ended_at),
            attribution: attribution.clone(),
            meter: patina_receipts::Meter::Fuel,
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.committer
            .send(Pending {
                transcript,
                blobs,
                header,
                reply,
            })
            .map_err(|_| committer_gone())?;
        Ok(Some(Submitted(answer)))
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("mother", &self.identity.id())
            .finish_non_exhaustive()
    }
}
