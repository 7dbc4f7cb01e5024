//! Replay: re-run the same child bytes with every toy call, clock and random
//! read answered from a recorded transcript, and say whether the run came out
//! the same — same events, outcome and fuel, hence the same transcript hash —
//! or where it first diverged. A receipt of a host without a fuel meter
//! (`Meter::None`: `fuel` 0) is compared on the portable hash: everything
//! but the fuel.
//!
//! Replay never calls a toy backend, never runs other bytes than the
//! receipt's child, and never claims exactness for a run that used authority
//! the transcript does not hold call by call (a preopened directory).

use std::sync::Arc;

use patina_receipts::{Digest, Divergence, Meter, canonical, divergence_past_events};

use crate::request::replay_request;
use crate::{Child, Host, ReplaySource, RunRefused, RunReport};

/// What a replay found.
#[derive(Debug)]
pub struct ReplayReport {
    /// The replayed run itself.
    pub report: RunReport,
    /// The transcript hash of the replayed run (for a receipt of a host
    /// without a meter, its portable hash: fuel 0, as the receipt has it).
    pub transcript_hash: Digest,
    /// Where it first differed from the receipt (`None`: it matched).
    pub divergence: Option<Divergence>,
    /// `false` when the recorded run used authority that is not recorded call
    /// by call, so a match cannot prove the replay exact.
    pub exact: bool,
}

impl ReplayReport {
    /// Whether the replay reproduced the recorded run.
    pub fn matched(&self) -> bool {
        self.divergence.is_none()
    }
}

impl Host {
    /// Replays a recorded run of `child` (recorded with fuel metering).
    /// Refuses other bytes than the receipt's child before running anything.
    pub async fn replay(
        &self,
        child: &Child,
        source: ReplaySource,
    ) -> Result<ReplayReport, RunRefused> {
        self.replay_metered(child, source, Meter::Fuel).await
    }

    /// Replays a recorded run of `child` whose receipt counted its work with
    /// `meter`. With [`Meter::Fuel`] the fuel must match too; with
    /// [`Meter::None`] (a host that cannot count fuel, whose receipt says 0)
    /// the replay is compared on the portable hash: events and outcome, the
    /// fuel this host burned left out.
    pub async fn replay_metered(
        &self,
        child: &Child,
        source: ReplaySource,
        meter: Meter,
    ) -> Result<ReplayReport, RunRefused> {
        let exact = source.transcript.unrecorded.is_empty();
        let source = Arc::new(source);
        // The tape checks each call against the recorded event at its place
        // as the child makes it, and counts the events that matched: they
        // are the replayed run's events, so they are neither copied nor
        // compared a second time.
        let mut report = self
            .run_keeping(child, &replay_request(source.clone()), false)
            .await?;
        let Some((mut replayed, _)) = report.take_transcript() else {
            return Err(RunRefused::Engine("a replay ran without recording".into()));
        };
        if meter == Meter::None {
            // What an unmetered host would have written: the portable form.
            replayed.fuel = 0;
        }
        let recorded = &source.transcript;
        let matched = report.replayed.min(recorded.events.len());
        let divergence = report.divergence().cloned().or_else(|| {
            if matched < recorded.events.len() {
                // The run ended a call (or more) short.
                return Some(Divergence::at_event(
                    matched,
                    recorded.events.get(matched),
                    None,
                ));
            }
            divergence_past_events(recorded, &replayed)
        });
        let transcript_hash = if divergence.is_none() {
            // The replayed transcript is the recorded one.
            canonical::transcript_hash(recorded)
        } else {
            replayed.events = recorded.events[..matched].to_vec();
            canonical::transcript_hash(&replayed)
        };
        Ok(ReplayReport {
            transcript_hash,
            report,
            divergence,
            exact,
        })
    }
}
