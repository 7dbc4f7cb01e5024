//! The tape as typed toy functions see it ([`CallTape`]): their calls are
//! recorded and replayed here as the dynamic ones are in the parent module,
//! with arguments and results already written as WAVE text by the toy SDK,
//! and the byte lists they refer to kept as blobs of the receipt.
//!
//! It must never answer a replayed call with anything but the transcript's
//! event at that index.

use patina_receipts::{Blob, Digest, Event, EventResult, Payload};
use patina_toy::ToyError;
use patina_toy::typed::{CallTape, Encoded, RecordedAnswer, TapeMode, ValueBlob};

use super::{Diverged, State, Tape};
use crate::linker::{DeniedCall, ToyCallFailed, TranscriptFull};

fn blob_of(value: ValueBlob) -> Blob {
    Blob {
        digest: Digest(value.digest),
        bytes: value.bytes,
    }
}

impl Tape {
    /// The arguments' text and the event result of a typed call (or an
    /// exchange) about to be recorded, its blobs kept — each distinct bytes
    /// once — or `None` when it does not fit the run's budget.
    pub(super) fn admit_call(
        &self,
        state: &mut State,
        toy: &str,
        function: &str,
        args: Encoded,
        result: Result<Encoded, String>,
    ) -> Option<(String, EventResult)> {
        let (result_text, result_blobs) = match result {
            Ok(Encoded { text, blobs }) => (Ok(text), blobs),
            Err(message) => (Err(message), Vec::new()),
        };
        // One blob per distinct bytes: what the run already holds is only
        // referred to again.
        let mut blobs: Vec<ValueBlob> = Vec::new();
        for blob in args.blobs.into_iter().chain(result_blobs) {
            let digest = Digest(blob.digest);
            if !state.value_blobs.contains(&digest)
                && !blobs.iter().any(|b| b.digest == blob.digest)
            {
                blobs.push(blob);
            }
        }
        let size = toy.len()
            + function.len()
            + args.text.len()
            + result_text.as_ref().map_or_else(String::len, String::len)
            + blobs.iter().map(|b| b.bytes.len()).sum::<usize>();
        if !self.admit(state, size) {
            return None;
        }
        for blob in blobs {
            state.value_blobs.insert(Digest(blob.digest));
            state.blobs.push(blob_of(blob));
        }
        let result = match result_text {
            Ok(text) => EventResult::Ok(Payload::of_string(text, &mut state.blobs)),
            Err(message) => EventResult::Failed(message),
        };
        Some((args.text, result))
    }
}

impl CallTape for Tape {
    fn mode(&self) -> TapeMode {
        match (self.inner.recording, self.replaying()) {
            (_, true) => TapeMode::Replay,
            (true, false) => TapeMode::Record,
            (false, false) => TapeMode::Live,
        }
    }

    fn check_room(&self) -> Result<(), wasmtime::Error> {
        if self.full() {
            Err(wasmtime::Error::new(TranscriptFull))
        } else {
            Ok(())
        }
    }

    fn blob_digest(&self, bytes: &[u8]) -> [u8; 32] {
        Blob::digest(bytes).0
    }

    fn has_blob(&self, digest: &[u8; 32]) -> bool {
        self.lock().value_blobs.contains(&Digest(*digest))
    }

    fn keep_blob(&self, digest: &[u8; 32], bytes: &[u8]) -> bool {
        self.spill(Digest(*digest), bytes)
    }

    fn blob(&self, digest: &[u8; 32]) -> Option<Vec<u8>> {
        self.replay_blob(&Digest(*digest)).map(<[u8]>::to_vec)
    }

    fn record(&self, toy: &str, function: &str, args: Encoded, result: Result<Encoded, String>) {
        if !self.inner.recording {
            return;
        }
        let mut state = self.lock();
        if let Some((args, result)) = self.admit_call(&mut state, toy, function, args, result) {
            let args = Payload::of_string(args, &mut state.blobs);
            Self::push(&mut state, toy.into(), function.into(), args, result);
        }
    }

    fn replay(
        &self,
        toy: &str,
        function: &str,
        args: &str,
        same_args: &dyn Fn(&str) -> bool,
    ) -> Result<(u64, RecordedAnswer), wasmtime::Error> {
        let same = |event: &Event| self.text(&event.args).is_some_and(|text| same_args(&text));
        let (seq, result) = self
            .next_matching(toy, function, args, same)
            .map_err(|divergence| wasmtime::Error::new(Diverged(divergence)))?;
        let answer = self
            .answer_of(seq, args, result)
            .map_err(|divergence| wasmtime::Error::new(Diverged(divergence)))?;
        Ok((seq, answer))
    }

    fn misfit(&self, seq: u64, why: String) -> wasmtime::Error {
        wasmtime::Error::new(Diverged(Tape::misfit(self, seq, why)))
    }

    fn toy_failed(&self, toy: &str, error: ToyError) -> wasmtime::Error {
        wasmtime::Error::new(ToyCallFailed {
            toy: toy.to_owned(),
            source: error,
        })
    }

    fn denied(&self, toy: &str) -> wasmtime::Error {
        wasmtime::Error::new(DeniedCall {
            import: toy.to_owned(),
        })
    }
}

#[cfg(test)]
mod same_text {
    use patina_toy::typed::{Encode, INLINE_BYTES, WaveWriter};
    use wasmtime::component::Val;

    use crate::values::wave_list;

    fn typed<T: Encode>(value: &T) -> String {
        let digest = |bytes: &[u8]| patina_receipts::Blob::digest(bytes).0;
        let mut writer = WaveWriter::new(&digest);
        writer.value(value);
        writer.finish().0
    }

    fn string(s: &str) -> Val {
        Val::String(s.into())
    }

    /// A typed call is written exactly as the dynamic path writes the same
    /// values (so receipts of either replay with the other), byte lists up
    /// to the inline limit included.
    #[test]
    fn typed_text_is_the_dynamic_text() {
        let strings = [
            "",
            "quote \" \\ ' \t\n\r\0",
            "é λ 🦀 \u{7f} \u{200b} \u{301}",
        ];
        for s in strings {
            assert_eq!(typed(&(s.to_owned(),)), wave_list(&[string(s)]), "{s:?}");
        }
        let bytes: Vec<u8> = (0..INLINE_BYTES).map(|i| i as u8).collect();
        assert_eq!(
            typed(&(bytes.clone(),)),
            wave_list(&[Val::List(bytes.iter().map(|b| Val::U8(*b)).collect())])
        );
        let result: Result<Option<Vec<u8>>, String> = Ok(Some(vec![1, 2]));
        assert_eq!(
            typed(&(result,)),
            wave_list(&[Val::Result(Ok(Some(Box::new(Val::Option(Some(
                Box::new(Val::List(vec![Val::U8(1), Val::U8(2)]))
            ))))))])
        );
        let unit: Result<(), String> = Err("no".into());
        assert_eq!(
            typed(&(unit,)),
            wave_list(&[Val::Result(Err(Some(Box::new(string("no")))))])
        );
        let ok: Result<(), String> = Ok(());
        assert_eq!(typed(&(ok,)), wave_list(&[Val::Result(Ok(None))]));
        let headers = vec![("a".to_owned(), "b".to_owned())];
        assert_eq!(
            typed(&(headers, 7u16, u64::MAX, -3i64)),
            wave_list(&[
                Val::List(vec![Val::Tuple(vec![string("a"), string("b")])]),
                Val::U16(7),
                Val::U64(u64::MAX),
                Val::S64(-3),
            ])
        );
        let mut record = WaveWriter::new(&|_: &[u8]| [0; 32]);
        record.raw("(");
        record.record(&[
            ("status", &200u16),
            ("body", &None::<Vec<u8>>),
            ("url", &"u"),
        ]);
        record.raw(", ");
        record.case("too-large", Some(&5u64));
        record.raw(")");
        assert_eq!(
            record.finish().0,
            wave_list(&[
                Val::Record(vec![
                    ("status".into(), Val::U16(200)),
                    ("body".into(), Val::Option(None)),
                    ("url".into(), string("u")),
                ]),
                Val::Variant("too-large".into(), Some(Box::new(Val::U64(5)))),
            ])
        );
    }
}
