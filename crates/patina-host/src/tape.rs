//! The [`Tape`] of one run: in record mode it appends every toy call, denial,
//! clock read and random read as a receipt [`Event`]; in replay mode it answers
//! each of them from a recorded transcript instead, and notes the first
//! [`Divergence`]. In live mode it does nothing.
//!
//! It is shared (behind a mutex) by the generic toy wrapper in the linker and
//! by the WASI clock and random implementations below, so a new toy is recorded
//! and replayed with no code of its own. The tape must never call a toy backend
//! in replay mode, and never hand a child a value the transcript did not hold.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use patina_receipts::{Blob, Digest, Divergence, Event, EventResult, Payload, Transcript};
use wasmtime::component::Val;
use wasmtime::component::types::ComponentFunc;

use crate::RunMode;
use crate::ambient::Ambient;
use crate::values;

/// The answer the tape gives a replayed call.
pub(crate) enum Replayed {
    /// The recorded results.
    Results(Vec<Val>),
    /// The call was denied when recorded.
    Denied,
    /// The toy failed when recorded, with this message.
    Failed(String),
}

/// A replayed call that did not match the transcript; ends the run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Diverged(pub Divergence);

#[derive(Default)]
struct State {
    recording: bool,
    replay: Option<Arc<Transcript>>,
    /// Blobs of the replayed receipt (large recorded payloads).
    replay_blobs: Vec<Blob>,
    events: Vec<Event>,
    blobs: Vec<Blob>,
    divergence: Option<Divergence>,
}

/// The event log of one run. Cheap to clone; clones share the log.
#[derive(Clone, Default)]
pub(crate) struct Tape {
    inner: Arc<Mutex<State>>,
}

fn args_text(args: &[Val]) -> String {
    format!(
        "({})",
        args.iter().map(values::wave).collect::<Vec<_>>().join(", ")
    )
}

impl Tape {
    /// A tape for `mode`.
    pub fn new(mode: &RunMode) -> Self {
        let state = match mode {
            RunMode::Live => State::default(),
            RunMode::Record => State {
                recording: true,
                ..State::default()
            },
            RunMode::Replay(source) => State {
                recording: true,
                replay: Some(Arc::new(source.transcript.clone())),
                replay_blobs: source.blobs.clone(),
                ..State::default()
            },
        };
        Self {
            inner: Arc::new(Mutex::new(state)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether calls are answered from a transcript.
    pub fn replaying(&self) -> bool {
        self.lock().replay.is_some()
    }

    /// Appends an event (record mode and replay mode alike).
    fn push(state: &mut State, toy: &str, function: &str, args: &str, result: EventResult) {
        if !state.recording {
            return;
        }
        let args = Payload::of_text(args, &mut state.blobs);
        let seq = state.events.len() as u64;
        state.events.push(Event {
            seq,
            toy: toy.to_owned(),
            function: function.to_owned(),
            args,
            result,
        });
    }

    /// Records a call that the backend answered (or failed, or denied).
    pub fn record(
        &self,
        toy: &str,
        function: &str,
        args: &[Val],
        result: Result<&[Val], EventResult>,
    ) {
        let mut state = self.lock();
        if !state.recording {
            return;
        }
        let result = match result {
            Ok(values) => EventResult::Ok(Payload::of_text(&args_text(values), &mut state.blobs)),
            Err(other) => other,
        };
        Self::push(&mut state, toy, function, &args_text(args), result);
    }

    /// The next recorded event, checked against this call; records the call
    /// too. A mismatch is the run's divergence.
    fn expect(
        &self,
        toy: &str,
        function: &str,
        args: &str,
    ) -> Result<(Event, Vec<Blob>), Divergence> {
        let mut state = self.lock();
        let index = state.events.len();
        let recorded = state
            .replay
            .as_ref()
            .and_then(|t| t.events.get(index).cloned());
        let mut blobs = Vec::new();
        let got = Event {
            seq: index as u64,
            toy: toy.to_owned(),
            function: function.to_owned(),
            args: Payload::of_text(args, &mut blobs),
            result: EventResult::Denied,
        };
        let matches = recorded
            .as_ref()
            .is_some_and(|r| r.toy == got.toy && r.function == got.function && r.args == got.args);
        let recorded = match recorded {
            Some(recorded) if matches => recorded,
            other => {
                let mut shown = got.clone();
                shown.result = EventResult::Ok(Payload::Text("…".into()));
                let divergence = Divergence::at_event(index, other.as_ref(), Some(&shown));
                state.divergence.get_or_insert(divergence.clone());
                return Err(divergence);
            }
        };
        state.blobs.extend(blobs);
        state.events.push(recorded.clone());
        Ok((recorded, state.replay_blobs.clone()))
    }

    /// Answers a toy call of type `ty` from the transcript.
    pub fn replay_call(
        &self,
        toy: &str,
        function: &str,
        args: &[Val],
        ty: &ComponentFunc,
    ) -> Result<Replayed, Divergence> {
        let (event, blobs) = self.expect(toy, function, &args_text(args))?;
        let payload = match &event.result {
            EventResult::Ok(payload) => payload,
            EventResult::Denied => return Ok(Replayed::Denied),
            EventResult::Failed(message) => return Ok(Replayed::Failed(message.clone())),
        };
        let bad = |why: String| Divergence {
            index: event.seq,
            expected: Some(event.describe()),
            got: Some(format!(
                "recorded results that do not fit the signature: {why}"
            )),
        };
        let text = payload
            .bytes(|d| find_blob(&blobs, d))
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| bad("a recorded payload is missing".into()))?;
        let types: Vec<_> = ty.results().collect();
        values::parse_value_list(&text, &types)
            .map(Replayed::Results)
            .map_err(bad)
    }

    /// Checks that a denied call was denied when recorded (replay), or records it.
    pub fn denied(&self, toy: &str, function: &str, args: &[Val]) -> Result<(), Divergence> {
        if self.replaying() {
            let (event, _) = self.expect(toy, function, &args_text(args))?;
            if event.result != EventResult::Denied {
                return Err(Divergence {
                    index: event.seq,
                    expected: Some(event.describe()),
                    got: Some(format!("{toy}#{function} denied")),
                });
            }
            return Ok(());
        }
        self.record(toy, function, args, Err(EventResult::Denied));
        Ok(())
    }

    /// A value from a clock or random source: the real one, recorded, or the
    /// recorded one in replay (`fallback` when the replay diverged here).
    pub fn ambient<T: Ambient>(
        &self,
        (toy, function, args): (&str, &str, &str),
        real: impl FnOnce() -> T,
        fallback: T,
    ) -> T {
        if self.replaying() {
            let Ok((event, blobs)) = self.expect(toy, function, args) else {
                return fallback;
            };
            let text = match &event.result {
                EventResult::Ok(payload) => payload
                    .bytes(|d| find_blob(&blobs, d))
                    .and_then(|b| String::from_utf8(b).ok()),
                _ => None,
            };
            return match text.as_deref().and_then(T::decode) {
                Some(value) => value,
                None => {
                    let mut state = self.lock();
                    state.divergence.get_or_insert(Divergence {
                        index: event.seq,
                        expected: Some(event.describe()),
                        got: Some(format!("{toy}#{function} with a value of another shape")),
                    });
                    fallback
                }
            };
        }
        let value = real();
        let mut state = self.lock();
        if state.recording {
            let result = EventResult::Ok(Payload::of_text(&value.encode(), &mut state.blobs));
            Self::push(&mut state, toy, function, args, result);
        }
        value
    }

    /// The events and blobs recorded, and the first divergence seen.
    pub fn finish(&self) -> (Vec<Event>, Vec<Blob>, Option<Divergence>) {
        let mut state = self.lock();
        (
            std::mem::take(&mut state.events),
            std::mem::take(&mut state.blobs),
            state.divergence.take(),
        )
    }
}

fn find_blob(blobs: &[Blob], digest: &Digest) -> Option<Vec<u8>> {
    blobs
        .iter()
        .find(|b| b.digest == *digest)
        .map(|b| b.bytes.clone())
}
