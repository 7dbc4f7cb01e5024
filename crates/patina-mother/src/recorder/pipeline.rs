//! The pipelined committer of a [`super::Recorder`]: a sealer thread and a
//! writer thread. The sealer takes every receipt waiting, seals and
//! verifies them in chain order from the head it expects, and hands the
//! batch to the writer, which appends it in one transaction with one fsync
//! (group commit) while the sealer works on the next batch; each caller is
//! answered only once its receipt is durable. It must never append out of
//! chain order nor leave a caller without an answer: a writer that stops
//! stops the sealer, and every waiting caller is told.

use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};

use patina_receipts::store::{BatchItem, ReceiptStore, Sealed};
use patina_receipts::{Identity, ReceiptId};

use super::Pending;
use crate::MotherError;

/// The most receipts one transaction takes.
const MAX_BATCH: usize = 256;

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
                let sealed = p.unsealed.sealed(&identity, head).ok();
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
                move |previous| p.unsealed.seal(identity, previous)
            })
            .collect();
        let mut batch: Vec<BatchItem<'_>> = seals
            .iter_mut()
            .zip(&pending)
            .zip(sealed)
            .map(|((seal, p), sealed)| BatchItem {
                seal,
                blobs: &p.unsealed.blobs,
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

/// Starts the sealer and the writer threads of a pipelined recorder and
/// returns the sealer's queue.
pub(super) fn start_pipeline(
    identity: Arc<Identity>,
    receipts: Arc<dyn ReceiptStore>,
) -> Result<mpsc::Sender<Pending>, MotherError> {
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
    std::thread::Builder::new()
        .name("patina-receipts".into())
        .spawn(move || write_loop(identity, receipts, batches, progress))
        .map_err(|error| MotherError::io("starting the receipt committer", error))?;
    Ok(committer)
}
