//! Typed toy functions: the fast path for functions that move bytes.
//!
//! A toy's functions are served dynamically by default
//! ([`ToyInstance::call`](crate::ToyInstance::call), one component value per
//! argument — and per byte of a `list<u8>`). A function that moves bytes is
//! better linked typed: [`Toy::link_typed`](crate::Toy::link_typed) hands the
//! toy a [`TypedLinker`], and the function gets its arguments as Rust values
//! (`Vec<u8>` for a `list<u8>`), lifted by wasmtime straight from the child's
//! memory. Its calls are recorded and replayed by the linker's one wrapper:
//! [`Encode`] writes arguments and results as the same WAVE text the dynamic
//! path writes, except that a byte list over [`INLINE_BYTES`] is a blob of
//! the receipt, and [`Decode`] reads a recorded answer back in a replay.
//!
//! Here: the traits and their impls for Rust's standard types, the
//! [`RunStore`] every run's store holds, the [`CallTape`] it records through,
//! and the [`TypedLinker`]. Never anything a particular toy owns.

mod decode;
mod encode;
mod linker;
mod store;
#[cfg(test)]
mod tests;

pub use decode::{BlobLookup, Decode, Field, WaveError, WaveReader, decode_all};
pub use encode::{
    BlobDigest, BlobKeep, BlobKnown, Encode, INLINE_BYTES, ValueBlob, WaveWriter, hex,
};
pub use linker::{LinkTypedError, ToyFuture, TypedLinker, tape_decode, tape_encode, tape_text};
pub use store::{CallTape, Encoded, RecordedAnswer, RunStore, TapeMode};
