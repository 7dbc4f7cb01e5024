//! The [`Tape`] of one run: in record mode it appends every toy call, denial,
//! clock read and random read as a receipt [`Event`]; in replay mode it answers
//! each of them from a recorded transcript instead, and notes the first
//! [`Divergence`]. In live mode it does nothing.
//!
//! It is shared by the generic toy wrapper in the linker and by the WASI clock
//! and random implementations ([`crate::ambient`], which encode their values
//! with [`crate::ambient_value`]), so a new toy is recorded
//! and replayed with no code of its own. The tape must never call a toy backend
//! in replay mode, and never hand a child a value the transcript did not hold.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use patina_receipts::{Blob, Digest, Divergence, Event, EventResult, INLINE_LIMIT, Payload, Text};
use wasmtime::component::Val;
use wasmtime::component::types::ComponentFunc;

use self::spill::{Spill, Spilled};
use crate::ambient_value::Ambient;
use crate::values::{self, write_wave_list};
use crate::{ReplaySource, RunMode};

mod exchange;
mod spill;
mod typed;

pub(crate) use exchange::Slot;

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

/// Most events one run may record.
pub(crate) const MAX_EVENTS: usize = 1_000_000;
/// Most bytes (arguments, results, names) one run may record.
pub(crate) const MAX_RECORDED_BYTES: u64 = 256 << 20;

#[derive(Default)]
struct State {
    events: Vec<Event>,
    /// Recorded events a replay matched so far (the next one to match is
    /// at this index). Without [`Inner::keep_replayed`] they are counted,
    /// not copied into `events`.
    replayed: usize,
    blobs: Vec<Blob>,
    /// Large blobs of typed calls, written aside ([`Inner::spill`]).
    spilled: Vec<Spilled>,
    /// Digests of the byte-list blobs of typed calls recorded so far (one
    /// blob per distinct bytes, however often they cross).
    value_blobs: HashSet<Digest>,
    divergence: Option<Divergence>,
    bytes: u64,
    /// The run asked to record past [`MAX_EVENTS`] or [`MAX_RECORDED_BYTES`].
    full: bool,
}

impl State {
    /// Whether one more event of about `size` bytes fits the budget; marks
    /// the tape full when it does not.
    fn admit(&mut self, size: usize) -> bool {
        let bytes = self.bytes.saturating_add(size as u64);
        if self.full || self.events.len() >= MAX_EVENTS || bytes > MAX_RECORDED_BYTES {
            self.full = true;
            return false;
        }
        self.bytes = bytes;
        true
    }
}

/// Whether `recorded` arguments are the WAVE text `args`, as recording
/// `args` would have written them (inline, or by reference when large),
/// without copying `args`.
fn recorded_args_are(recorded: &Payload, args: &str) -> bool {
    match recorded {
        Payload::Text(text) => args.len() <= INLINE_LIMIT && text == args,
        Payload::Ref { digest, len } => {
            args.len() > INLINE_LIMIT
                && *len == args.len() as u64
                && *digest == Blob::digest(args.as_bytes())
        }
        Payload::Hex(_) => false,
    }
}

/// What a run's tape holds when the run ends.
pub(crate) struct Recorded {
    pub events: Vec<Event>,
    /// In a replay: how many recorded events the run matched, in order.
    pub replayed: usize,
    pub blobs: Vec<Blob>,
    pub divergence: Option<Divergence>,
    /// The run went over the recording budget.
    pub full: bool,
}

struct Inner {
    recording: bool,
    replay: Option<Arc<ReplaySource>>,
    /// Whether a replay copies each matched event into the run's events
    /// (a run in replay mode reports them), or only counts them
    /// ([`Host::replay`](crate::Host::replay) compares and hashes the
    /// recorded transcript itself, which the matched events are).
    keep_replayed: bool,
    /// Where each intact blob of the replayed receipt is in its
    /// [`ReplaySource::blobs`], by digest: each hashed once when the tape is
    /// made (a damaged blob is left out, so its payload misfits), none
    /// copied.
    replay_blobs: HashMap<Digest, usize>,
    /// [`State::full`], readable without the lock (every toy call asks).
    full: AtomicBool,
    /// The run's one buffer the WAVE text of a call is written into before
    /// it is recorded or compared (reused call after call: no allocation).
    /// Locked before `state` when both are.
    scratch: Mutex<String>,
    /// Where a recording writes large byte lists aside (`None`: they stay
    /// in memory). Locked after `state` when both are.
    spill: Option<Mutex<Spill>>,
    state: Mutex<State>,
}

/// The event log of one run. Cheap to clone; clones share the log.
#[derive(Clone)]
pub(crate) struct Tape {
    inner: Arc<Inner>,
}

impl Tape {
    /// A tape for `mode`; in a replay, each matched event is copied into the
    /// run's events when `keep_replayed`, else only counted. A recording
    /// writes byte lists of [`spill::SPILL_MIN`] bytes or more aside in `spill_dir`
    /// until the run ends, when one is given.
    pub fn new(mode: &RunMode, keep_replayed: bool, spill_dir: Option<&std::path::Path>) -> Self {
        let (recording, replay) = match mode {
            RunMode::Live => (false, None),
            RunMode::Record => (true, None),
            RunMode::Replay(source) => (true, Some(source.clone())),
        };
        let capacity = match &replay {
            Some(r) if keep_replayed => r.transcript.events.len(),
            Some(_) => 0,
            // A recording starts with room for some events (a few KiB;
            // growing from a handful copies them again and again).
            None if recording => 64,
            None => 0,
        };
        let replay_blobs = replay
            .iter()
            .flat_map(|r| r.blobs.iter().enumerate())
            .filter(|(_, blob)| Blob::digest(&blob.bytes) == blob.digest)
            .map(|(at, blob)| (blob.digest, at))
            .collect();
        let state = State {
            events: Vec::with_capacity(capacity),
            ..State::default()
        };
        let replaying = replay.is_some();
        Self {
            inner: Arc::new(Inner {
                recording,
                replay,
                keep_replayed,
                replay_blobs,
                full: AtomicBool::new(false),
                scratch: Mutex::new(String::with_capacity(if recording { 256 } else { 0 })),
                spill: spill_dir
                    .filter(|_| recording && !replaying)
                    .map(|dir| Mutex::new(Spill::new(dir))),
                state: Mutex::new(state),
            }),
        }
    }

    /// [`State::admit`], noting a full tape where [`Self::full`] sees it.
    fn admit(&self, state: &mut State, size: usize) -> bool {
        let admitted = state.admit(size);
        if !admitted {
            self.inner.full.store(true, Ordering::Release);
        }
        admitted
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The run's scratch buffer, emptied.
    fn scratch(&self) -> MutexGuard<'_, String> {
        let mut scratch = self
            .inner
            .scratch
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        scratch.clear();
        scratch
    }

    /// The bytes of the replayed receipt's intact blob `digest`.
    fn replay_blob(&self, digest: &Digest) -> Option<&[u8]> {
        let at = *self.inner.replay_blobs.get(digest)?;
        let source = self.inner.replay.as_ref()?;
        source.blobs.get(at).map(|blob| blob.bytes.as_slice())
    }

    /// Whether calls are answered from a transcript.
    pub fn replaying(&self) -> bool {
        self.inner.replay.is_some()
    }

    fn push(state: &mut State, toy: Text, function: Text, args: Payload, result: EventResult) {
        let seq = state.events.len() as u64;
        state.events.push(Event {
            seq,
            toy,
            function,
            args,
            result,
        });
    }

    /// Records a call that the backend answered (or failed, or denied).
    /// The names are the ones the linker made once per linked function:
    /// each event shares them rather than copying them.
    pub fn record(
        &self,
        toy: &Text,
        function: &Text,
        args: &[Val],
        result: Result<&[Val], EventResult>,
    ) {
        if !self.inner.recording {
            return;
        }
        // Arguments, then results, in the run's one buffer.
        let mut text = self.scratch();
        write_wave_list(&mut text, args);
        let args_end = text.len();
        if let Ok(results) = result {
            write_wave_list(&mut text, results);
        }
        let mut state = self.lock();
        if !self.admit(&mut state, toy.len() + function.len() + text.len()) {
            return;
        }
        let (args, results) = text.split_at(args_end);
        let state = &mut *state;
        let result = match result {
            Ok(_) => EventResult::Ok(Payload::of_text(results, &mut state.blobs)),
            Err(other) => other,
        };
        let args = Payload::of_text(args, &mut state.blobs);
        Self::push(state, toy.clone(), function.clone(), args, result);
    }

    /// [`Self::next_recorded`] for a call with `args`, their WAVE text
    /// written into the run's scratch buffer.
    fn next_recorded_call(
        &self,
        toy: &str,
        function: &str,
        args: &[Val],
    ) -> Result<(u64, &EventResult), Divergence> {
        let mut text = self.scratch();
        write_wave_list(&mut text, args);
        self.next_recorded(toy, function, &text)
    }

    /// Checks the next recorded event against this call and records it;
    /// returns its sequence number and recorded answer. A mismatch is the
    /// run's divergence.
    fn next_recorded(
        &self,
        toy: &str,
        function: &str,
        args: &str,
    ) -> Result<(u64, &EventResult), Divergence> {
        self.next_matching(toy, function, args, |_| false)
    }

    /// [`Self::next_recorded`], also taking an event whose arguments are not
    /// `args` as written but for which `same_args` says yes (a typed call
    /// reads recorded arguments back to compare them).
    fn next_matching(
        &self,
        toy: &str,
        function: &str,
        args: &str,
        same_args: impl Fn(&Event) -> bool,
    ) -> Result<(u64, &EventResult), Divergence> {
        let Some(source) = &self.inner.replay else {
            return Err(Divergence {
                index: 0,
                expected: None,
                got: Some("a replay without a transcript".into()),
            });
        };
        let mut state = self.lock();
        let index = state.replayed;
        let recorded = source.transcript.events.get(index);
        match recorded {
            Some(event)
                if event.toy == toy
                    && event.function == function
                    && (recorded_args_are(&event.args, args) || same_args(event)) =>
            {
                state.replayed += 1;
                if self.inner.keep_replayed {
                    if args.len() > INLINE_LIMIT {
                        // The blob large arguments were recorded by.
                        state.blobs.push(Blob::new(args.as_bytes().to_vec()));
                    }
                    state.events.push(event.clone());
                }
                Ok((event.seq, &event.result))
            }
            other => {
                let mut blobs = Vec::new();
                let got = Event {
                    seq: index as u64,
                    toy: toy.into(),
                    function: function.into(),
                    args: Payload::of_text(args, &mut blobs),
                    result: EventResult::Ok(Payload::Text("…".into())),
                };
                let divergence = Divergence::at_event(index, other, Some(&got));
                state.divergence.get_or_insert(divergence.clone());
                Err(divergence)
            }
        }
    }

    /// The text of a recorded payload (looking references up in the replayed
    /// receipt's blobs).
    fn text(&self, payload: &Payload) -> Option<String> {
        let bytes = payload.bytes_hashed(|d| self.replay_blob(d).map(<[u8]>::to_vec))?;
        String::from_utf8(bytes).ok()
    }

    /// The divergence for recorded event `seq` whose answer does not fit.
    pub(crate) fn misfit(&self, seq: u64, why: String) -> Divergence {
        let expected = self
            .inner
            .replay
            .as_ref()
            .and_then(|r| r.transcript.events.get(seq as usize))
            .map(Event::describe);
        let divergence = Divergence {
            index: seq,
            expected,
            got: Some(why),
        };
        self.lock().divergence.get_or_insert(divergence.clone());
        divergence
    }

    /// Answers a toy call of type `ty` from the transcript.
    pub fn replay_call(
        &self,
        toy: &str,
        function: &str,
        args: &[Val],
        ty: &ComponentFunc,
    ) -> Result<Replayed, Divergence> {
        let (seq, result) = self.next_recorded_call(toy, function, args)?;
        let payload = match result {
            EventResult::Ok(payload) => payload,
            EventResult::Denied => return Ok(Replayed::Denied),
            EventResult::Failed(message) => return Ok(Replayed::Failed(message.clone())),
        };
        let looked_up;
        let text = match payload {
            Payload::Text(text) => text.as_str(),
            other => {
                looked_up = self
                    .text(other)
                    .ok_or_else(|| self.misfit(seq, "a recorded payload is missing".into()))?;
                looked_up.as_str()
            }
        };
        let types: Vec<_> = ty.results().collect();
        values::parse_value_list(text, &types)
            .map(Replayed::Results)
            .map_err(|why| {
                self.misfit(
                    seq,
                    format!("recorded results that do not fit the signature: {why}"),
                )
            })
    }

    /// Checks that a denied call was denied when recorded (replay), or records it.
    pub fn denied(&self, toy: &Text, function: &Text, args: &[Val]) -> Result<(), Divergence> {
        if !self.replaying() {
            self.record(toy, function, args, Err(EventResult::Denied));
            return Ok(());
        }
        match self.next_recorded_call(toy, function, args)? {
            (_, EventResult::Denied) => Ok(()),
            (seq, _) => Err(self.misfit(seq, format!("{toy}#{function} denied"))),
        }
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
            let Ok((seq, result)) = self.next_recorded(toy, function, args) else {
                return fallback;
            };
            let text = match result {
                EventResult::Ok(payload) => self.text(payload),
                _ => None,
            };
            return match text.as_deref().and_then(T::decode) {
                Some(value) => value,
                None => {
                    self.misfit(
                        seq,
                        format!("{toy}#{function} with a value of another shape"),
                    );
                    fallback
                }
            };
        }
        let value = real();
        if self.inner.recording {
            let text = value.encode();
            let mut state = self.lock();
            if !self.admit(
                &mut state,
                toy.len() + function.len() + args.len() + text.len(),
            ) {
                return value;
            }
            let result = EventResult::Ok(Payload::of_string(text, &mut state.blobs));
            let args = Payload::of_text(args, &mut state.blobs);
            Self::push(&mut state, toy.into(), function.into(), args, result);
        }
        value
    }

    /// Whether the run has gone over the recording budget.
    pub fn full(&self) -> bool {
        self.inner.full.load(Ordering::Acquire)
    }

    /// What the tape recorded, and the first divergence seen; the payloads
    /// written aside are read back here. An error when one cannot be (the
    /// transcript would refer to bytes it does not have).
    pub fn finish(&self) -> Result<Recorded, String> {
        let mut state = self.lock();
        let mut blobs = std::mem::take(&mut state.blobs);
        let spilled = std::mem::take(&mut state.spilled);
        if let (Some(spill), false) = (&self.inner.spill, spilled.is_empty()) {
            let mut spill = spill.lock().unwrap_or_else(PoisonError::into_inner);
            blobs.reserve(spilled.len());
            for spilled in &spilled {
                blobs.push(spill.read(spilled)?);
            }
        }
        Ok(Recorded {
            events: std::mem::take(&mut state.events),
            replayed: state.replayed,
            blobs,
            divergence: state.divergence.take(),
            full: state.full,
        })
    }
}

#[cfg(test)]
mod tests;
