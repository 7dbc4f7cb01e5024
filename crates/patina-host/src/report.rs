//! [`RunReport`]: everything one run produced — results or the error that
//! stopped it, captured output, log lines, fuel, and (when recorded) the
//! events — and its [`Transcript`], the part a receipt signs.

use std::time::{Duration, SystemTime};

use patina_core::{ChildId, Grant, Limits};
use patina_receipts::{
    Blob, CallRecord, Divergence, Event, Outcome, OutcomeStatus, Payload, Transcript,
};
use patina_toy::LogLine;
use wasmtime::component::Val;

use crate::http::incoming::transcript_text;
use crate::{HttpCall, HttpReply, RunFailure, values};

/// What a call returned.
#[derive(Clone, Debug)]
pub struct Returned {
    /// The function's results.
    pub results: Vec<Val>,
    /// For a command: its exit status (0 for `ok`, 1 for `err`, or the status it exited with).
    pub exit_code: Option<i32>,
}

/// Everything one run produced.
#[derive(Debug)]
pub struct RunReport {
    /// The child that ran.
    pub child: ChildId,
    /// The full name of the function called.
    pub function: String,
    /// The arguments it was called with.
    pub args: Vec<Val>,
    /// For a command child: the whole argv.
    pub argv: Option<Vec<String>>,
    /// The canonical grants of the run.
    pub grants: Vec<Grant>,
    /// Authority not recorded call by call (preopened directories).
    pub unrecorded: Vec<String>,
    /// The limits it ran under.
    pub limits: Limits,
    /// Whether ungranted imports were deny stubs.
    pub deny_missing: bool,
    /// The results, or why the run ended without any.
    pub outcome: Result<Returned, RunFailure>,
    /// Captured stdout.
    pub stdout: Vec<u8>,
    /// Captured stderr.
    pub stderr: Vec<u8>,
    /// Lines logged through the `log` toy.
    pub logs: Vec<LogLine>,
    /// Lines dropped past the log cap.
    pub logs_dropped: u64,
    /// Problems after the call that did not change its outcome, e.g. a toy
    /// that could not save what the run produced (its `finish`). Not part of
    /// the transcript: a replay, which instantiates no toy, has none.
    pub warnings: Vec<String>,
    /// Fuel the run consumed.
    pub fuel_consumed: u64,
    /// When the run started and ended.
    pub started_at: SystemTime,
    /// When the run ended.
    pub ended_at: SystemTime,
    /// Wall-clock time of instantiation and call.
    pub elapsed: Duration,
    /// Whether events were recorded (not a live run).
    pub recorded: bool,
    /// Every toy call, denial, clock and random read, in order (when recorded).
    pub events: Vec<Event>,
    /// Large recorded payloads, by digest.
    pub blobs: Vec<Blob>,
    /// The request handed to a bridge child ([`Call::Http`](crate::Call::Http)).
    pub http_call: Option<HttpCall>,
    /// A bridge child's response, when its run returned one.
    pub http_reply: Option<HttpReply>,
}

impl RunReport {
    /// The results as WAVE text (empty when the function returns nothing).
    pub fn wave(&self) -> Option<String> {
        self.outcome
            .as_ref()
            .ok()
            .map(|r| values::results_wave(&r.results))
    }

    /// The results as JSON (`null` when the function returns nothing).
    pub fn json(&self) -> Option<serde_json::Value> {
        self.outcome
            .as_ref()
            .ok()
            .map(|r| values::results_json(&r.results))
    }

    /// The divergence that stopped a replay, if this run was one and did.
    pub fn divergence(&self) -> Option<&Divergence> {
        match &self.outcome {
            Err(RunFailure::Diverged(divergence)) => Some(divergence),
            _ => None,
        }
    }

    /// The transcript of this run and the blobs it refers to, or `None` for
    /// a live run (nothing was recorded).
    pub fn transcript(&self) -> Option<(Transcript, Vec<Blob>)> {
        self.build_transcript(self.events.clone(), self.blobs.clone())
    }

    /// Like [`Self::transcript`], but moves the events and blobs out of the
    /// report instead of copying them (they are left empty).
    pub fn take_transcript(&mut self) -> Option<(Transcript, Vec<Blob>)> {
        let (events, blobs) = (
            std::mem::take(&mut self.events),
            std::mem::take(&mut self.blobs),
        );
        self.build_transcript(events, blobs)
    }

    fn build_transcript(
        &self,
        events: Vec<Event>,
        mut blobs: Vec<Blob>,
    ) -> Option<(Transcript, Vec<Blob>)> {
        if !self.recorded {
            return None;
        }
        let status = match &self.outcome {
            Ok(returned) => {
                // A bridge child's result is its response.
                let results = match &self.http_reply {
                    Some(reply) => transcript_text(reply, &mut blobs),
                    None => values::results_wave(&returned.results),
                };
                OutcomeStatus::Returned {
                    results: Payload::of_text(&results, &mut blobs),
                    exit_code: returned.exit_code,
                }
            }
            Err(error) => OutcomeStatus::Failed {
                kind: error.kind().to_owned(),
                message: error.to_string(),
            },
        };
        let outcome = Outcome {
            status,
            stdout: Payload::of_bytes(&self.stdout, &mut blobs),
            stderr: Payload::of_bytes(&self.stderr, &mut blobs),
        };
        let transcript = Transcript {
            child: self.child,
            call: CallRecord {
                function: self.function.clone(),
                args: match &self.http_call {
                    Some(call) => vec![transcript_text(call, &mut blobs)],
                    None => self.args.iter().map(values::wave).collect(),
                },
                argv: self.argv.clone(),
                limits: self.limits,
                deny_missing: self.deny_missing,
            },
            grants: self.grants.clone(),
            unrecorded: self.unrecorded.clone(),
            events,
            outcome,
            fuel: self.fuel_consumed,
        };
        blobs.sort_by_key(|b| b.digest);
        blobs.dedup_by_key(|b| b.digest);
        Some((transcript, blobs))
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
