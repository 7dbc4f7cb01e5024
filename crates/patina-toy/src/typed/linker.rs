//! [`TypedLinker`]: how a toy links the functions it serves with typed
//! lifting — `list<u8>` as `Vec<u8>`, never one dynamic value per byte — and
//! the one wrapper that records and replays every such call, as the host's
//! dynamic wrapper does for the others. A toy names its functions and their
//! Rust signatures; it never sees the tape.
//!
//! It must never call a toy in a replay, hand a child a value its
//! transcript did not hold, or link a function of another interface.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use wasmtime::component::{ComponentNamedList, Lift, LinkerInstance, Lower};

use super::decode::{Decode, decode_all};
use super::encode::{Encode, WaveWriter};
use super::store::{CallTape, Encoded, RecordedAnswer, RunStore, TapeMode};
use crate::{ToyError, ToyInstance};

/// The future a typed toy function returns, borrowing its instance.
pub type ToyFuture<'a, R> = Pin<Box<dyn Future<Output = Result<R, ToyError>> + Send + 'a>>;

/// A failure to link a typed function (its name or type is not one the
/// linker accepts).
#[derive(Debug, thiserror::Error)]
#[error("cannot link `{function}` of `{toy}`: {reason}")]
pub struct LinkTypedError {
    /// The toy's interface, as the child imports it.
    pub toy: String,
    /// The function.
    pub function: String,
    /// What went wrong.
    pub reason: String,
}

/// The typed side of linking one toy into one child.
pub struct TypedLinker<'a, 'l> {
    instance: &'a mut LinkerInstance<'l, RunStore>,
    import: Arc<str>,
    slot: usize,
    linked: Vec<String>,
}

/// `value` as the transcript text `tape` records, with the blobs it refers
/// to (those the run already holds are referred to, not copied again).
pub fn tape_encode<T: Encode>(value: &T, tape: &dyn CallTape) -> Encoded {
    let digest = |bytes: &[u8]| tape.blob_digest(bytes);
    let known = |digest: &[u8; 32]| tape.has_blob(digest);
    let keep = |digest: &[u8; 32], bytes: &[u8]| tape.keep_blob(digest, bytes);
    let mut writer = WaveWriter::new(&digest)
        .skipping_known(&known)
        .keeping(&keep);
    writer.value(value);
    let (text, blobs) = writer.finish();
    Encoded { text, blobs }
}

/// The WAVE text of `value` alone, for comparing a replayed call with its
/// event: byte lists are referred to but never copied into blobs.
pub fn tape_text<T: Encode>(value: &T, tape: &dyn CallTape) -> String {
    let digest = |bytes: &[u8]| tape.blob_digest(bytes);
    let mut writer = WaveWriter::new(&digest).skipping_known(&|_| true);
    writer.value(value);
    writer.finish().0
}

/// `text` (recorded) read back as a `T`, blobs looked up in the replayed
/// receipt.
pub fn tape_decode<T: Decode>(text: &str, tape: &dyn CallTape) -> Result<T, super::WaveError> {
    let lookup = |digest: &[u8; 32]| tape.blob(digest);
    decode_all(text, &lookup)
}

impl<'a, 'l> TypedLinker<'a, 'l> {
    /// A linker for the toy imported as `import`, whose instance sits in
    /// `slot` of the run's store. For hosts.
    pub fn new(instance: &'a mut LinkerInstance<'l, RunStore>, import: &str, slot: usize) -> Self {
        Self {
            instance,
            import: import.into(),
            slot,
            linked: Vec::new(),
        }
    }

    /// The functions linked so far (the host links the others dynamically).
    pub fn linked(&self) -> &[String] {
        &self.linked
    }

    /// Links `function`, served by `call` on the toy's instance of type `I`
    /// with typed parameters `P` and results `R` (tuples, as the WIT
    /// function's parameter and result lists). Every call is recorded and
    /// replayed like a dynamic one.
    pub fn func<I, P, R, F>(&mut self, function: &str, call: F) -> Result<(), LinkTypedError>
    where
        I: ToyInstance,
        P: ComponentNamedList + Lift + Encode + Decode + PartialEq + Send + Sync + 'static,
        R: ComponentNamedList + Lower + Encode + Decode + Send + Sync + 'static,
        F: for<'i> Fn(&'i mut I, P) -> ToyFuture<'i, R> + Send + Sync + 'static,
    {
        let (import, slot) = (self.import.clone(), self.slot);
        let name: Arc<str> = function.into();
        let call = Arc::new(call);
        let failed = |reason: String| LinkTypedError {
            toy: self.import.to_string(),
            function: function.to_owned(),
            reason,
        };
        self.instance
            .func_wrap_async(function, move |mut store, params: P| {
                let (import, name, call) = (import.clone(), name.clone(), call.clone());
                Box::new(async move {
                    let tape = store.data().tape().clone();
                    tape.check_room()?;
                    let mode = tape.mode();
                    if mode == TapeMode::Replay {
                        let args = tape_text(&params, &*tape);
                        let same = |recorded: &str| {
                            tape_decode::<P>(recorded, &*tape).is_ok_and(|p| p == params)
                        };
                        let (seq, answer) = tape.replay(&import, &name, &args, &same)?;
                        return match answer {
                            RecordedAnswer::Results(text) => tape_decode::<R>(&text, &*tape)
                                .map_err(|why| {
                                    tape.misfit(
                                        seq,
                                        format!(
                                            "recorded results that do not fit the signature: {why}"
                                        ),
                                    )
                                }),
                            RecordedAnswer::Denied => Err(tape.denied(&import)),
                            RecordedAnswer::Failed(message) => {
                                Err(tape.toy_failed(&import, ToyError::Replayed(message)))
                            }
                        };
                    }
                    let args = (mode == TapeMode::Record).then(|| tape_encode(&params, &*tape));
                    let Some(instance) = store.data_mut().toy::<I>(slot) else {
                        return Err(tape.toy_failed(
                            &import,
                            ToyError::Backend(format!("no `{import}` instance for `{name}`")),
                        ));
                    };
                    let answer = call(instance, params).await;
                    if let Some(args) = args {
                        let result = match &answer {
                            Ok(results) => Ok(tape_encode(results, &*tape)),
                            Err(error) => Err(error.to_string()),
                        };
                        tape.record(&import, &name, args, result);
                    }
                    answer.map_err(|error| tape.toy_failed(&import, error))
                })
            })
            .map_err(|e| failed(format!("{e:#}")))?;
        self.linked.push(function.to_owned());
        Ok(())
    }
}
