//! [`RunStore`]: the data of one run's wasmtime store, shared by the host
//! and the toys' typed functions, and [`CallTape`], the run's tape as the
//! typed functions see it (the host implements it).
//!
//! It is defined here, below the host, because a typed host function names
//! its store's type: a toy that links typed functions ([`TypedLinker`](super::TypedLinker))
//! can only do so against a type it can name. What only a host needs (the
//! WASI context) is behind the `host` feature, so that a toy crate never
//! compiles `wasmtime-wasi` (or `wasmtime-wasi-http`). It must never give a toy another toy's
//! instance, or a way past the tape.

use std::any::Any;
use std::sync::Arc;

use crate::{ToyError, ToyInstance};

use super::encode::ValueBlob;

/// How the run's tape treats toy calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapeMode {
    /// Calls go to the toys; nothing is recorded.
    Live,
    /// Calls go to the toys and are recorded.
    Record,
    /// Calls are answered from a recorded transcript; no toy is called.
    Replay,
}

/// A call's arguments or results as transcript WAVE text, with the blobs
/// the text refers to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Encoded {
    /// The WAVE text of the value list.
    pub text: String,
    /// The blobs referred to as `<blob:HEX>`.
    pub blobs: Vec<ValueBlob>,
}

/// What a replayed call was answered with when it was recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordedAnswer {
    /// These results (WAVE text of the result list).
    Results(String),
    /// The call was denied.
    Denied,
    /// The toy failed, with this message.
    Failed(String),
}

/// The tape of a run, as typed toy functions use it. Errors come back as
/// `wasmtime::Error`s the host made, so that it can tell why a run ended.
pub trait CallTape: Any + Send + Sync {
    /// Whether calls are live, recorded or replayed.
    fn mode(&self) -> TapeMode;

    /// Fails once the run went over its recording budget.
    fn check_room(&self) -> Result<(), wasmtime::Error>;

    /// The digest naming a blob of `bytes`.
    fn blob_digest(&self, bytes: &[u8]) -> [u8; 32];

    /// Whether this run's recording already holds a blob of `digest`.
    fn has_blob(&self, digest: &[u8; 32]) -> bool;

    /// Takes the bytes of a new blob of `digest` into the recording without
    /// the caller copying them (a host that writes large payloads aside, out
    /// of memory); `false` (the default) when it did not, and the caller
    /// hands them over with the call's [`Encoded`] instead.
    fn keep_blob(&self, digest: &[u8; 32], bytes: &[u8]) -> bool {
        let _ = (digest, bytes);
        false
    }

    /// The bytes of a blob of the replayed receipt, by digest.
    fn blob(&self, digest: &[u8; 32]) -> Option<Vec<u8>>;

    /// Records a call of `toy`'s `function` that its toy answered (`Ok`) or
    /// failed with a message (`Err`).
    fn record(&self, toy: &str, function: &str, args: Encoded, result: Result<Encoded, String>);

    /// Checks the next recorded event against this call — the same toy and
    /// function, and arguments whose recorded text is `args` or for which
    /// `same_args` says yes — and gives its sequence number and answer.
    fn replay(
        &self,
        toy: &str,
        function: &str,
        args: &str,
        same_args: &dyn Fn(&str) -> bool,
    ) -> Result<(u64, RecordedAnswer), wasmtime::Error>;

    /// The error ending a replay whose recorded event `seq` does not fit.
    fn misfit(&self, seq: u64, why: String) -> wasmtime::Error;

    /// The error ending a run whose call to `toy` failed.
    fn toy_failed(&self, toy: &str, error: ToyError) -> wasmtime::Error;

    /// The error ending a run whose call to `toy` was denied.
    fn denied(&self, toy: &str) -> wasmtime::Error;
}

/// The data of one run's store.
pub struct RunStore {
    toys: Vec<Box<dyn ToyInstance>>,
    tape: Arc<dyn CallTape>,
    #[cfg(feature = "host")]
    table: wasmtime::component::ResourceTable,
    #[cfg(feature = "host")]
    limiter: Box<dyn wasmtime::ResourceLimiter + Send + Sync>,
    #[cfg(feature = "host")]
    wasi: wasmtime_wasi::WasiCtx,
    #[cfg(feature = "host")]
    http: wasmtime_wasi_http::WasiHttpCtx,
    #[cfg(feature = "host")]
    http_hooks: Box<dyn wasmtime_wasi_http::WasiHttpHooks>,
}

impl RunStore {
    /// The run's tape.
    pub fn tape(&self) -> &Arc<dyn CallTape> {
        &self.tape
    }

    /// The instance of the toy linked in `slot`, if it is an `I`.
    pub fn toy<I: ToyInstance>(&mut self, slot: usize) -> Option<&mut I> {
        let instance: &mut dyn Any = self.toys.get_mut(slot)?.as_mut();
        instance.downcast_mut::<I>()
    }
}

#[cfg(feature = "host")]
impl RunStore {
    /// The store data of a run: its WASI context, the hooks of its
    /// `wasi:http` (where outgoing requests go), memory limiter, the
    /// instances of its granted toys (in link slot order) and its tape.
    pub fn new(
        wasi: wasmtime_wasi::WasiCtx,
        http_hooks: Box<dyn wasmtime_wasi_http::WasiHttpHooks>,
        limiter: Box<dyn wasmtime::ResourceLimiter + Send + Sync>,
        toys: Vec<Box<dyn ToyInstance>>,
        tape: Arc<dyn CallTape>,
    ) -> Self {
        Self {
            toys,
            tape,
            table: wasmtime::component::ResourceTable::new(),
            limiter,
            wasi,
            http: wasmtime_wasi_http::WasiHttpCtx::new(),
            http_hooks,
        }
    }

    /// The instances of the run's toys, in link slot order.
    pub fn toys_mut(&mut self) -> &mut [Box<dyn ToyInstance>] {
        &mut self.toys
    }

    /// The run's memory limiter (for `Store::limiter`).
    pub fn limiter(&mut self) -> &mut (dyn wasmtime::ResourceLimiter + Send + Sync) {
        self.limiter.as_mut()
    }
}

#[cfg(feature = "host")]
impl wasmtime_wasi_http::WasiHttpView for RunStore {
    fn http(&mut self) -> wasmtime_wasi_http::WasiHttpCtxView<'_> {
        wasmtime_wasi_http::WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: self.http_hooks.as_mut(),
        }
    }
}

#[cfg(feature = "host")]
impl wasmtime_wasi::WasiView for RunStore {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
