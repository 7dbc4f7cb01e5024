//! Exchanges: calls whose place in the transcript is taken when the child
//! makes them, but whose arguments and answer are only known later — a
//! `wasi:http` request is handed over (`outgoing-handler.handle`) before the
//! child has written its body, and is answered on another task while the
//! child runs on. The tape keeps the event's index at the call
//! ([`Tape::reserve`]), so its order among the other events is the child's
//! order, never the network's; the event is completed when the exchange ends
//! ([`Tape::complete`]), or checked against the recording in a replay
//! ([`Tape::recorded_answer`]).
//!
//! An exchange whose answer the child never waited for stays recorded as
//! [`UNFINISHED`]. This module must never answer a replayed exchange with
//! anything but the transcript's event at its index.

use patina_receipts::{Blob, Divergence, Event, EventResult, Payload};
use patina_toy::typed::{Encoded, RecordedAnswer};

use super::Tape;

/// The recorded result of an exchange the run ended before completing.
pub(crate) const UNFINISHED: &str = "the run ended before this exchange did";

/// Where a reserved exchange stands in the transcript.
#[derive(Clone, Debug)]
pub(crate) enum Slot {
    /// A live run: nothing is recorded.
    Live,
    /// A recording: the event at this index is to be completed.
    Record(usize),
    /// A replay: the recorded event at this index answers it.
    Replay(usize),
    /// No room left, or the replay diverged here: the run is ending.
    Refused,
}

impl Tape {
    /// Takes the next place in the transcript for an exchange with
    /// `toy`'s `function`.
    pub fn reserve(&self, toy: &str, function: &str) -> Slot {
        if !self.inner.recording {
            return Slot::Live;
        }
        if self.replaying() {
            return match self.next_matching(toy, function, "(…)", |_| true) {
                Ok((seq, _)) => Slot::Replay(seq as usize),
                Err(_) => Slot::Refused,
            };
        }
        let mut state = self.lock();
        if !self.admit(&mut state, toy.len() + function.len()) {
            return Slot::Refused;
        }
        let seq = state.events.len();
        Self::push(
            &mut state,
            toy.into(),
            function.into(),
            Payload::Text("(…)".into()),
            EventResult::Failed(UNFINISHED.into()),
        );
        Slot::Record(seq)
    }

    /// Completes the recorded exchange at `seq` with its arguments and
    /// answer (`Err`: the message of a failure). Nothing happens when the
    /// run is over (its events were taken) or over its budget.
    pub fn complete(&self, seq: usize, args: Encoded, result: Result<Encoded, String>) {
        let mut state = self.lock();
        if seq >= state.events.len() {
            return;
        }
        let Some((args, result)) = self.admit_call(&mut state, "", "", args, result) else {
            return;
        };
        let args = Payload::of_string(args, &mut state.blobs);
        if let Some(event) = state.events.get_mut(seq) {
            event.args = args;
            event.result = result;
        }
    }

    /// The recorded answer of the replayed exchange at `seq`, once its
    /// arguments are known: they must be `args` as written, or read back
    /// equal by `same_args`. A mismatch is the run's divergence.
    pub fn recorded_answer(
        &self,
        seq: usize,
        args: &str,
        same_args: &dyn Fn(&str) -> bool,
    ) -> Result<RecordedAnswer, Divergence> {
        let recorded = self
            .inner
            .replay
            .as_ref()
            .and_then(|r| r.transcript.events.get(seq))
            .cloned();
        let Some(Event {
            args: recorded_args,
            result,
            ..
        }) = recorded
        else {
            return Err(self.misfit(seq as u64, "no recorded exchange".into()));
        };
        let mut blobs = Vec::new();
        let written = Payload::of_text(args, &mut blobs);
        let same = written == recorded_args
            || self
                .text(&recorded_args)
                .is_some_and(|text| same_args(&text));
        if !same {
            return Err(self.misfit(seq as u64, format!("an exchange with {args}")));
        }
        self.answer_of(seq as u64, args, &result)
    }

    /// A recorded answer as typed calls take it, with the blobs its
    /// arguments and results refer to carried into this run's recording.
    pub(super) fn answer_of(
        &self,
        seq: u64,
        args: &str,
        result: &EventResult,
    ) -> Result<RecordedAnswer, Divergence> {
        Ok(match result {
            EventResult::Ok(payload) => {
                let text = self
                    .text(payload)
                    .ok_or_else(|| self.misfit(seq, "a recorded payload is missing".into()))?;
                if self.inner.keep_replayed {
                    // The replayed run's transcript refers to the same blobs.
                    let blobs: Vec<Blob> = patina_receipts::value_blob_references(args)
                        .chain(patina_receipts::value_blob_references(&text))
                        .filter_map(|digest| {
                            let bytes = self.replay_blob(&digest)?.to_vec();
                            Some(Blob { digest, bytes })
                        })
                        .collect();
                    self.lock().blobs.extend(blobs);
                }
                RecordedAnswer::Results(text)
            }
            EventResult::Denied => RecordedAnswer::Denied,
            EventResult::Failed(message) => RecordedAnswer::Failed(message.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use patina_receipts::{CallRecord, Outcome, OutcomeStatus, Transcript};

    use super::*;
    use crate::{ReplaySource, RunMode};

    fn encoded(text: &str) -> Encoded {
        Encoded {
            text: text.into(),
            blobs: Vec::new(),
        }
    }

    fn transcript(events: Vec<Event>) -> Transcript {
        Transcript {
            child: patina_core::ChildId::of(b"c"),
            call: CallRecord {
                function: "f".into(),
                args: Vec::new(),
                argv: None,
                limits: patina_core::Limits::default(),
                deny_missing: false,
            },
            grants: Vec::new(),
            unrecorded: Vec::new(),
            events,
            outcome: Outcome {
                status: OutcomeStatus::Returned {
                    results: Payload::Text(Default::default()),
                    exit_code: None,
                },
                stdout: Payload::Text(Default::default()),
                stderr: Payload::Text(Default::default()),
            },
            fuel: 0,
        }
    }

    /// The exchange keeps the place it was reserved at, whatever was
    /// recorded before it completed; one never completed says so.
    #[test]
    fn an_exchange_keeps_its_place_and_replays_from_it() {
        let tape = Tape::new(&RunMode::Record, true, None);
        let Slot::Record(first) = tape.reserve("wasi:http/outgoing-handler", "handle") else {
            panic!("a recording reserves");
        };
        let Slot::Record(second) = tape.reserve("wasi:http/outgoing-handler", "handle") else {
            panic!("a recording reserves");
        };
        tape.record(&"acme:x/y".into(), &"z".into(), &[], Ok(&[]));
        tape.complete(first, encoded("(1)"), Ok(encoded("(ok(2))")));
        let recorded = tape.finish().unwrap();
        tape.complete(second, encoded("(3)"), Ok(encoded("(4)")));
        let described: Vec<String> = recorded.events.iter().map(Event::describe).collect();
        assert_eq!(
            described,
            [
                "wasi:http/outgoing-handler#handle(1) -> (ok(2))".to_owned(),
                format!("wasi:http/outgoing-handler#handle(…) -> failed: {UNFINISHED}"),
                "acme:x/y#z() -> ()".to_owned(),
            ]
        );

        let source = ReplaySource {
            transcript: transcript(recorded.events),
            blobs: Vec::new(),
        };
        let replay = Tape::new(&RunMode::Replay(Arc::new(source)), true, None);
        let Slot::Replay(at) = replay.reserve("wasi:http/outgoing-handler", "handle") else {
            panic!("the replay has the exchange");
        };
        assert_eq!(
            replay.recorded_answer(at, "(1)", &|_| false),
            Ok(RecordedAnswer::Results("(ok(2))".into()))
        );
        let other = replay.recorded_answer(at, "(9)", &|_| false).unwrap_err();
        assert_eq!(other.index, 0);
        let Slot::Replay(unfinished) = replay.reserve("wasi:http/outgoing-handler", "handle")
        else {
            panic!("the replay has the second exchange");
        };
        assert_eq!(
            replay.recorded_answer(unfinished, "(…)", &|_| false),
            Ok(RecordedAnswer::Failed(UNFINISHED.into()))
        );
        assert!(matches!(replay.reserve("acme:x/y", "z"), Slot::Replay(2)));
        assert!(
            matches!(
                replay.reserve("wasi:http/outgoing-handler", "handle"),
                Slot::Refused
            ),
            "there is no fourth event"
        );
    }
}
