//! `patina-receipts`: the signed, versioned record of one run, and replay's
//! yardstick.
//!
//! A [`Receipt`] holds a [`Transcript`] — child id, call, canonical grants,
//! every toy-call [`Event`], the [`Outcome`] and the fuel consumed, which is
//! exactly what must match on every host for a deterministic run — plus who ran
//! it (the Mother's Ed25519 key), when, who asked for it (the caller a door
//! let in, and any grant a person approved for that one run), and the
//! Mother's previous receipt (a hash chain). Two blake3 hashes over the [canonical encoding](canonical):
//! the **transcript hash** (transcript only) and the **receipt id**
//! (everything), which the Mother signs.
//!
//! This crate never runs wasm and never talks to peers: it defines, encodes,
//! signs, verifies, compares and stores receipts. Verification never trusts a
//! stored hash: it recomputes every one and says which part was tampered with.

pub mod canonical;
mod divergence;
mod encoding;
mod error;
mod export;
mod identity;
mod ids;
mod model;
mod payload;
pub mod store;
mod text;
mod verify;
mod wire;

pub use canonical::{Header, portable_hash};
pub use divergence::{Divergence, divergence_past_events, first_divergence};
pub use error::ReceiptError;
pub use export::{ExportedBlob, ExportedReceipt};
pub use identity::{Identity, MotherId};
pub use ids::{Digest, ReceiptId};
pub use model::{
    Approval, Attribution, CallRecord, Caller, Event, EventResult, Meter, Outcome, OutcomeStatus,
    READABLE_VERSIONS, RECEIPT_VERSION, Receipt, Transcript,
};
pub use payload::{Blob, INLINE_LIMIT, Payload, value_blob_references};
pub use text::Text;
pub use verify::{Tampered, verify};
