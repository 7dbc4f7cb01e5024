//! Running and replaying: [`Mother::run`] (always recorded unless asked
//! live, and then the receipt comes back with the report) and
//! [`Mother::replay`].
//!
//! Every run has a `tracing` span with the child and its receipt id. This
//! module must never run a child without its grants being checked by the
//! host, never return a recorded run without its stored receipt, and never
//! replay a receipt that does not verify.

use patina_host::{ReplayReport, ReplaySource};
use patina_receipts::{Attribution, Receipt};
use tracing::Instrument;

use crate::ReceiptRef;
use crate::wire::{ReplaySummary, RunSpec};
use crate::{Mother, MotherError, RunOutput, RunSummary};

/// A replay: the receipt replayed and what the replay found.
#[derive(Debug)]
pub struct ReplayOutput {
    /// The receipt that was replayed.
    pub receipt: Receipt,
    /// The replayed run and its comparison with the receipt.
    pub replay: ReplayReport,
}

impl ReplayOutput {
    /// The serialisable summary of the replay.
    pub fn summary(&self) -> ReplaySummary {
        ReplaySummary {
            run: RunSummary::of(&self.replay.report, None),
            replay_of: self.receipt.id,
            matched: self.replay.matched(),
            exact: self.replay.exact,
            transcript_hash: self.replay.transcript_hash,
            recorded_transcript_hash: self.receipt.transcript_hash,
            divergence: self.replay.divergence.clone(),
        }
    }
}

impl Mother {
    /// Runs the child `spec` names as it asks. A recorded run (the default)
    /// comes back with its receipt, already signed and stored. `Err` means
    /// nothing ran ([`MotherError::Refused`]: the host refused it) or the
    /// run could not be recorded; a run that started and failed is `Ok`,
    /// its report's outcome says why.
    pub async fn run(&self, spec: RunSpec) -> Result<RunOutput, MotherError> {
        self.run_as(spec, &Attribution::default()).await
    }

    /// [`Self::run`] for a caller a door let in: its receipt's header names
    /// `attribution` (who asked, and any grant a person approved for this
    /// run). The Mother records it as given; deciding whether the caller may
    /// run this is the membrane's job, before it calls this.
    pub async fn run_as(
        &self,
        spec: RunSpec,
        attribution: &Attribution,
    ) -> Result<RunOutput, MotherError> {
        let caller = attribution.caller.as_ref().map(|c| c.id.clone());
        let span = tracing::info_span!("mother_run", child = %spec.child, caller);
        async {
            // The spec is checked before the child is read and compiled.
            let request = spec.request()?;
            let child = self.load(&spec.child).await?;
            self.runner().run(&child, &request, attribution).await
        }
        .instrument(span)
        .await
    }

    /// Replays the receipt `reference` names: its child's bytes re-run with
    /// every toy call, clock and random read answered from the receipt.
    pub async fn replay(&self, reference: &ReceiptRef) -> Result<ReplayOutput, MotherError> {
        let span = tracing::info_span!("replay", receipt = tracing::field::Empty);
        async {
            let reference = reference.clone();
            let (receipt, blobs, child) = self
                .blocking(move |mother| {
                    let (receipt, blobs) = mother.receipt_now(&reference)?;
                    patina_receipts::verify(&receipt).map_err(MotherError::ReplayUnverified)?;
                    let id = receipt.transcript.child;
                    let bytes = mother.children().read(&id).map_err(|source| {
                        MotherError::ReplayNeedsChild {
                            child: id,
                            source: Box::new(source),
                        }
                    })?;
                    let child = mother.host().load(&bytes)?;
                    Ok((receipt, blobs, child))
                })
                .await?;
            tracing::Span::current().record("receipt", receipt.id.to_string());
            let source = ReplaySource {
                transcript: receipt.transcript.clone(),
                blobs,
            };
            let replay = self
                .host()
                .replay_metered(&child, source, receipt.meter)
                .await
                .map_err(MotherError::Refused)?;
            tracing::info!(matched = replay.matched(), "replayed");
            Ok(ReplayOutput { receipt, replay })
        }
        .instrument(span)
        .await
    }
}
