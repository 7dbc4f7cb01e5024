//! [`Recorder`]: turns a recorded run into a signed receipt on this Mother's
//! chain — seal, durable append, and keep the child's bytes so the receipt
//! can be replayed later.
//!
//! Its blocking work (hashing, signing, a synced SQLite write) is done one
//! of two ways ([`CommitMode`]): pipelined, by a sealer and a writer thread
//! that commit every receipt waiting in one transaction (`pipeline`); or
//! inline, with no thread of its own, each receipt sealed and appended
//! alone on a blocking thread of the caller's runtime when it is awaited.
//! Either way a caller is answered only once its receipt is durable. A
//! run's task hands its transcript over ([`Recorder::submit`]) and awaits
//! the receipt without holding a thread; only the first recording of a
//! child stores its bytes (blocking: the [`crate::Runner`] does that part
//! on a blocking thread). It must never sign anything but a transcript the
//! host produced, never append out of chain order (the store decides the
//! previous receipt inside its write), and never drop a receipt silently:
//! a failed append is an error.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError, mpsc};

use patina_host::{Child, RunReport, unix_millis};
use patina_receipts::store::{ReceiptStore, Sealed};
use patina_receipts::{
    Attribution, Blob, Identity, MotherId, Receipt, ReceiptError, ReceiptId, Transcript, canonical,
};

use patina_core::ChildId;

use crate::{BlockingWork, ChildStore, MotherError};

mod pipeline;

use pipeline::start_pipeline;

/// How a [`Recorder`] commits receipts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommitMode {
    /// A sealer and a writer thread seal and append in a pipeline, every
    /// receipt waiting in one transaction (group commit): for a Mother with
    /// many runs in flight.
    #[default]
    Pipelined,
    /// Each receipt sealed and appended by itself when it is awaited, where
    /// the awaiting Mother does its blocking work ([`crate::BlockingWork`]:
    /// a blocking thread of the caller's runtime, or the awaiting thread); no
    /// thread of the recorder's own to start and stop: for a process that
    /// records a run and exits.
    Inline,
}

/// Seals and stores the receipts of one Mother.
#[derive(Clone)]
pub struct Recorder {
    children: ChildStore,
    identity: Arc<Identity>,
    committer: Committer,
    /// Children whose bytes this recorder has seen stored in `children`.
    stored: Arc<Mutex<HashSet<ChildId>>>,
}

/// Where a [`Recorder`] sends what it has to commit.
#[derive(Clone)]
enum Committer {
    /// The sealer thread's queue.
    Pipelined(mpsc::Sender<Pending>),
    /// The store, appended to by each [`Submitted::receipt`].
    Inline(Arc<dyn ReceiptStore>),
}

/// A receipt handed to the committer: await it ([`Submitted::receipt`]).
pub struct Submitted(Commit);

enum Commit {
    Queued(tokio::sync::oneshot::Receiver<Result<Receipt, ReceiptError>>),
    Inline(Box<InlineCommit>),
}

/// A receipt to seal and append when awaited.
struct InlineCommit {
    unsealed: Unsealed,
    identity: Arc<Identity>,
    receipts: Arc<dyn ReceiptStore>,
}

impl Submitted {
    /// The receipt, once it is durable on the chain. Inline, the seal and
    /// the append run where `blocking` says: on a blocking thread that
    /// finishes them even if this future is dropped, or
    /// ([`BlockingWork::Caller`]) at once on the awaiting thread, in one
    /// poll. Either way a run whose receipt was asked for is stored.
    pub async fn receipt(self, blocking: BlockingWork) -> Result<Receipt, MotherError> {
        match self.0 {
            Commit::Queued(answer) => Ok(answer.await.map_err(|_| committer_gone())??),
            Commit::Inline(commit) => {
                blocking
                    .run(move || {
                        let InlineCommit {
                            unsealed,
                            identity,
                            receipts,
                        } = *commit;
                        Ok(append_one(&identity, receipts.as_ref(), &unsealed)?)
                    })
                    .await
            }
        }
    }
}

impl std::fmt::Debug for Submitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Commit::Queued(_) => "Submitted(queued)",
            Commit::Inline(_) => "Submitted(inline)",
        })
    }
}

/// Seals `unsealed` on the chain's head and appends it, durably (the
/// store verifies it before taking its write lock, and seals it again if
/// another writer moved the head meanwhile).
fn append_one(
    identity: &Identity,
    receipts: &dyn ReceiptStore,
    unsealed: &Unsealed,
) -> Result<Receipt, ReceiptError> {
    let mut seal = |previous| unsealed.seal(identity, previous);
    receipts.append(&identity.id(), &mut seal, &unsealed.blobs)
}

fn committer_gone() -> MotherError {
    MotherError::Task("the receipt committer stopped".into())
}

/// A recorded run not yet sealed into a receipt.
struct Unsealed {
    transcript: Transcript,
    blobs: Vec<Blob>,
    header: canonical::Header,
}

impl Unsealed {
    /// The receipt following `previous` on `identity`'s chain.
    fn seal(&self, identity: &Identity, previous: Option<ReceiptId>) -> Receipt {
        canonical::seal_with(self.transcript.clone(), identity, &self.header, previous)
    }

    /// [`Self::seal`], checked and encoded for a store's append.
    fn sealed(
        &self,
        identity: &Identity,
        previous: Option<ReceiptId>,
    ) -> Result<Sealed, ReceiptError> {
        Sealed::seal_with(self.transcript.clone(), identity, &self.header, previous)
    }
}

/// A receipt waiting for the committer.
struct Pending {
    unsealed: Unsealed,
    reply: tokio::sync::oneshot::Sender<Result<Receipt, ReceiptError>>,
}

impl Recorder {
    /// A recorder signing with `identity`, appending to `receipts` as
    /// `mode` says (pipelined: its sealer and writer threads start here)
    /// and keeping recorded children's bytes in `children`.
    pub fn new(
        children: ChildStore,
        identity: Arc<Identity>,
        receipts: Arc<dyn ReceiptStore>,
        mode: CommitMode,
    ) -> Result<Self, MotherError> {
        let committer = match mode {
            CommitMode::Pipelined => {
                Committer::Pipelined(start_pipeline(identity.clone(), receipts)?)
            }
            CommitMode::Inline => Committer::Inline(receipts),
        };
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
        let unsealed = Unsealed {
            transcript,
            blobs,
            header,
        };
        Ok(Some(Submitted(match &self.committer {
            Committer::Pipelined(queue) => {
                let (reply, answer) = tokio::sync::oneshot::channel();
                queue
                    .send(Pending { unsealed, reply })
                    .map_err(|_| committer_gone())?;
                Commit::Queued(answer)
            }
            Committer::Inline(receipts) => Commit::Inline(Box::new(InlineCommit {
                unsealed,
                identity: self.identity.clone(),
                receipts: receipts.clone(),
            })),
        })))
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("mother", &self.identity.id())
            .finish_non_exhaustive()
    }
}
