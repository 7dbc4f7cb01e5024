//! Receipt stores: where a Mother keeps its own receipt chain, the receipts it
//! imported from peers, and the blobs large payloads point at.
//!
//! [`ReceiptStore`] is the contract every backend keeps; [`SqliteStore`] (the
//! default, [`open_sqlite`]) and, with the `sled` feature, `SledStore`
//! (`open_sled`) implement it. The checks every backend must make the same way
//! (chain links on append, verification and blob completeness on import,
//! receipt-id prefixes) live here, so the backends only move bytes.
//!
//! A store must never keep a receipt that does not verify or whose blobs are
//! missing, never fork a Mother's chain, never report an append before it is
//! durable, and never panic on what it reads back: a damaged row is an error.

use std::path::Path;

use patina_core::ChildId;

use crate::canonical::Header;
use crate::{
    Blob, Digest, Identity, MotherId, Receipt, ReceiptError, ReceiptId, Tampered, Transcript,
};

#[cfg(feature = "sled")]
mod sled;
mod sqlite;
#[cfg(test)]
pub(crate) mod suite;

#[cfg(feature = "sled")]
pub use self::sled::{SledStore, open_sled};
pub use sqlite::{SqliteOptions, SqliteStore, open_sqlite, open_sqlite_with};

/// Filter for [`ReceiptStore::list`].
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Only receipts of runs of this child.
    pub child: Option<ChildId>,
    /// Only receipts of runs of one of these children (empty: none). With
    /// `child`, both hold.
    pub children: Option<Vec<ChildId>>,
    /// Only receipts whose header names this caller ([`crate::Caller::id`]).
    pub caller: Option<String>,
    /// At most this many receipts (the newest).
    pub limit: Option<usize>,
}

impl ListFilter {
    /// Whether `receipt` passes the child, children and caller filters.
    pub fn admits(&self, receipt: &Receipt) -> bool {
        self.child
            .is_none_or(|child| child == receipt.transcript.child)
            && self
                .children
                .as_ref()
                .is_none_or(|children| children.contains(&receipt.transcript.child))
            && self
                .caller
                .as_ref()
                .is_none_or(|caller| receipt.caller.as_ref().is_some_and(|c| c.id == *caller))
    }
}

/// Where receipts are kept.
///
/// Implementations must be safe to use from several threads at once; the
/// SQLite store is also safe from several processes at once, the sled store
/// from one process only (sled locks its directory: share one handle).
/// One receipt of an [`ReceiptStore::append_batch`]: its `seal` (as for
/// [`ReceiptStore::append`]), its blobs and, optionally, the receipt already
/// sealed (and verified) ahead of the write for the head its writer
/// expected.
pub struct BatchItem<'a> {
    /// Makes the receipt from the id of the chain's head.
    pub seal: &'a mut dyn FnMut(Option<ReceiptId>) -> Receipt,
    /// The blobs it refers to.
    pub blobs: &'a [Blob],
    /// The receipt sealed ahead: appended as it is when it follows the head
    /// found inside the write (a store may also ignore it); otherwise
    /// `seal` makes the receipt again there.
    pub sealed: Option<Sealed>,
}

/// A receipt sealed and verified before its append (so the signature
/// checks of a batch run outside the store's write lock, or on another
/// thread). Only [`Sealed::verified`] and [`Sealed::seal_with`] (a receipt
/// this process has just sealed, its signature checked) make one: a store
/// appends it without verifying it again.
/// Its canonical encoding (what a store keeps) is made then too.
#[derive(Clone, Debug)]
pub struct Sealed {
    receipt: Receipt,
    body: Vec<u8>,
}

impl Sealed {
    /// `receipt`, once [`crate::verify`] accepts it.
    pub fn verified(receipt: Receipt) -> Result<Self, ReceiptError> {
        crate::verify(&receipt)?;
        let body = crate::canonical::encode(&receipt);
        Ok(Self { receipt, body })
    }

    /// The receipt `identity` seals here and now
    /// ([`crate::canonical::seal_with`]). Its transcript hash and id are the
    /// ones sealing has just computed from these very bytes, so only the
    /// signature is checked again (a fault while signing is never stored
    /// nor sent): what [`Self::verified`] would check, without encoding and
    /// hashing the receipt a second time.
    pub fn seal_with(
        transcript: Transcript,
        identity: &Identity,
        header: &Header,
        previous: Option<ReceiptId>,
    ) -> Result<Self, ReceiptError> {
        let receipt = crate::canonical::seal_with(transcript, identity, header, previous);
        if !receipt.mother.verifies(&receipt.id, &receipt.signature) {
            return Err(ReceiptError::Tampered {
                id: receipt.id.to_string(),
                what: Tampered::Signature {
                    mother: receipt.mother.to_string(),
                },
            });
        }
        let body = crate::canonical::encode(&receipt);
        Ok(Self { receipt, body })
    }

    /// The receipt.
    pub fn receipt(&self) -> &Receipt {
        &self.receipt
    }

    /// The receipt and its encoding, if it is the next of `mother`'s chain
    /// whose head is `head` ([`seal_next`]'s checks, the verification
    /// already done).
    pub(crate) fn follows(
        self,
        mother: &MotherId,
        head: Option<ReceiptId>,
    ) -> Option<(Receipt, Vec<u8>)> {
        (self.receipt.mother == *mother && self.receipt.previous == head)
            .then_some((self.receipt, self.body))
    }
}

pub trait ReceiptStore: Send + Sync {
    /// Appends the next receipt of `mother`'s own chain.
    ///
    /// Calls `seal(head)` with the id of `mother`'s latest receipt in this
    /// store (`None` if none) and stores what it returns together with
    /// `blobs`. The sealed receipt is verified, and the blobs hashed, before
    /// the store's write transaction (or lock) is taken; inside it only the
    /// head is read again: if another writer moved it meanwhile, `seal` is
    /// called again on the new head (only the last receipt counts), and after
    /// [`OPTIMISTIC_TRIES`] such races it is called inside the lock.
    /// Returns only once the receipt is durable. Refuses
    /// ([`ReceiptError::Chain`]) a sealed receipt whose `previous` is not the
    /// head it was given or whose `mother` differs, one that does not verify
    /// ([`ReceiptError::Tampered`]), and one that refers to a blob neither in
    /// `blobs` nor already stored ([`ReceiptError::Blob`]).
    fn append(
        &self,
        mother: &MotherId,
        seal: &mut dyn FnMut(Option<ReceiptId>) -> Receipt,
        blobs: &[Blob],
    ) -> Result<Receipt, ReceiptError>;

    /// Appends several receipts of `mother`'s own chain at once (group
    /// commit): in order, each sealed on the one before it, one result per
    /// item; an item that is refused leaves the others alone. Returns only
    /// once every appended receipt is durable. The default appends them one
    /// by one (ignoring [`BatchItem::sealed`]); the SQLite store writes them
    /// in one transaction (one fsync), taking each receipt sealed ahead that
    /// follows the head as it is (it was verified when it was made) and
    /// sealing the others inside the write.
    fn append_batch(
        &self,
        mother: &MotherId,
        batch: &mut [BatchItem<'_>],
    ) -> Vec<Result<Receipt, ReceiptError>> {
        batch
            .iter_mut()
            .map(|item| self.append(mother, &mut *item.seal, item.blobs))
            .collect()
    }

    /// Keeps a receipt made elsewhere (a peer's, say) once [`crate::verify`]
    /// accepts it, with the blobs it references: each blob must be intact and
    /// every [`Receipt::references`] digest must be in `blobs` or already
    /// stored, else [`ReceiptError::Blob`]. The receipt joins no local chain.
    /// Returns `false` if it was already there.
    fn import(&self, receipt: &Receipt, blobs: &[Blob]) -> Result<bool, ReceiptError>;

    /// The receipt with this id, as stored (not verified: that is the
    /// caller's job).
    fn get(&self, id: &ReceiptId) -> Result<Option<Receipt>, ReceiptError>;

    /// A full id or a unique hex prefix (at least 4 digits) → the id.
    /// [`ReceiptError::NotFound`], [`ReceiptError::Ambiguous`] or
    /// [`ReceiptError::BadId`] otherwise.
    fn resolve(&self, prefix: &str) -> Result<ReceiptId, ReceiptError>;

    /// Receipts, newest first (by insertion order), local and imported.
    fn list(&self, filter: &ListFilter) -> Result<Vec<Receipt>, ReceiptError>;

    /// The id of `mother`'s latest receipt in its local chain.
    fn head(&self, mother: &MotherId) -> Result<Option<ReceiptId>, ReceiptError>;

    /// The bytes of a blob. A stored blob that no longer hashes to its digest
    /// is an error ([`ReceiptError::Blob`]), never returned.
    fn blob(&self, digest: &Digest) -> Result<Option<Vec<u8>>, ReceiptError>;

    /// Checks `mother`'s chain from its first receipt to its head: every
    /// receipt verifies, the first has no `previous`, each next one's
    /// `previous` is the one before. Returns the number of receipts
    /// (0 for a Mother without a chain here).
    fn verify_chain(&self, mother: &MotherId) -> Result<u64, ReceiptError>;
}

/// Most candidates an [`ReceiptError::Ambiguous`] lists.
pub(crate) const MAX_CANDIDATES: usize = 10;

/// A parsed [`ReceiptStore::resolve`] argument.
pub(crate) enum Lookup {
    /// All 64 digits.
    Full(ReceiptId),
    /// 4 to 63 lowercase hex digits.
    Prefix(String),
}

/// Parses a receipt id or prefix.
pub(crate) fn parse_lookup(text: &str) -> Result<Lookup, ReceiptError> {
    let bad = || ReceiptError::BadId(text.to_owned());
    if text.len() < 4 || text.len() > 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let lower = text.to_ascii_lowercase();
    if lower.len() == 64 {
        return lower.parse().map(Lookup::Full).map_err(|_| bad());
    }
    Ok(Lookup::Prefix(lower))
}

/// The one id among `matches` (the ids starting with `prefix`), or why not.
pub(crate) fn pick(prefix: &str, matches: Vec<ReceiptId>) -> Result<ReceiptId, ReceiptError> {
    match matches.as_slice() {
        [id] => Ok(*id),
        [] => Err(ReceiptError::NotFound(prefix.to_owned())),
        many => Err(ReceiptError::Ambiguous {
            prefix: prefix.to_owned(),
            candidates: many.iter().map(ReceiptId::hex).collect(),
        }),
    }
}

/// How many times an append seals outside the write lock before it seals
/// inside it (each retry follows a writer that moved the head meanwhile).
pub const OPTIMISTIC_TRIES: usize = 4;

/// Calls `seal(head)` and checks that what it made may extend `mother`'s
/// chain: same Mother, linked to `head`, verifying.
pub(crate) fn seal_next(
    mother: &MotherId,
    head: Option<ReceiptId>,
    seal: &mut dyn FnMut(Option<ReceiptId>) -> Receipt,
) -> Result<Receipt, ReceiptError> {
    let receipt = seal(head);
    let at = receipt.id.to_string();
    if receipt.mother != *mother {
        return Err(ReceiptError::Chain {
            at,
            reason: format!("sealed by {} for the chain of {mother}", receipt.mother),
        });
    }
    if receipt.previous != head {
        return Err(ReceiptError::Chain {
            at,
            reason: link_reason(head, receipt.previous),
        });
    }
    crate::verify(&receipt)?;
    Ok(receipt)
}

fn link_reason(expected: Option<ReceiptId>, found: Option<ReceiptId>) -> String {
    let name = |id: Option<ReceiptId>| id.map_or_else(|| "nothing".to_owned(), |id| id.to_string());
    format!(
        "it follows {} but the chain's head is {}",
        name(found),
        name(expected)
    )
}

/// Checks that `blobs` are intact (hashing each: done before the write lock).
pub(crate) fn check_intact(blobs: &[Blob]) -> Result<(), ReceiptError> {
    match blobs.iter().find(|b| !b.is_intact()) {
        Some(damaged) => Err(ReceiptError::Blob(damaged.digest.to_string())),
        None => Ok(()),
    }
}

/// Checks that `blobs` (already found intact by [`check_intact`]) and those
/// already stored (`stored(digest)`) cover every blob `receipt` refers to.
/// `E` is the caller's error type, so a backend's own lookup errors pass through.
pub(crate) fn check_blobs<E: From<ReceiptError>>(
    receipt: &Receipt,
    blobs: &[Blob],
    stored: &mut dyn FnMut(&Digest) -> Result<bool, E>,
) -> Result<(), E> {
    let given = |d: &Digest| {
        blobs
            .iter()
            .find(|b| b.digest == *d)
            .map(|b| b.bytes.clone())
    };
    for digest in receipt.references_with(given) {
        if !blobs.iter().any(|b| b.digest == digest) && !stored(&digest)? {
            return Err(ReceiptError::Blob(digest.to_string()).into());
        }
    }
    Ok(())
}

/// Checks a stored blob against its digest.
pub(crate) fn intact_blob(digest: &Digest, bytes: Vec<u8>) -> Result<Vec<u8>, ReceiptError> {
    if Blob::digest(&bytes) == *digest {
        Ok(bytes)
    } else {
        Err(ReceiptError::Blob(digest.to_string()))
    }
}

/// Decodes a stored body; `at` names the row (`#seq`, or the key) in the error.
pub(crate) fn decode_stored(
    at: impl std::fmt::Display,
    body: &[u8],
) -> Result<Receipt, ReceiptError> {
    crate::canonical::decode(body)
        .map_err(|e| ReceiptError::Malformed(format!("stored receipt {at} does not decode: {e}")))
}

/// Checks one link of `mother`'s chain: `receipt`, stored under `key`,
/// verifies, is `mother`'s and is stored under its own id.
pub(crate) fn check_link(
    mother: &MotherId,
    key: &ReceiptId,
    receipt: &Receipt,
) -> Result<(), ReceiptError> {
    let chain = |reason: String| ReceiptError::Chain {
        at: key.to_string(),
        reason,
    };
    if receipt.id != *key {
        return Err(chain(format!(
            "it is stored under {key} but its id is {}",
            receipt.id
        )));
    }
    crate::verify(receipt)?;
    if receipt.mother != *mother {
        return Err(chain(format!(
            "it is {}'s receipt, not {mother}'s",
            receipt.mother
        )));
    }
    Ok(())
}

/// Checks that `receipt` follows `previous` (the chain's receipt before it).
pub(crate) fn check_follows(
    previous: Option<ReceiptId>,
    receipt: &Receipt,
) -> Result<(), ReceiptError> {
    if receipt.previous == previous {
        return Ok(());
    }
    let name = |id: Option<ReceiptId>| id.map_or_else(|| "nothing".to_owned(), |id| id.to_string());
    Err(ReceiptError::Chain {
        at: receipt.id.to_string(),
        reason: format!(
            "it follows {} but comes after {}",
            name(receipt.previous),
            name(previous)
        ),
    })
}

/// A backend failure as a [`ReceiptError::Store`].
pub(crate) fn store_error(context: &str, error: impl std::fmt::Display) -> ReceiptError {
    ReceiptError::Store(format!("{context}: {error}"))
}

/// Creates the store directory.
pub(crate) fn create_dir(dir: &Path) -> Result<(), ReceiptError> {
    std::fs::create_dir_all(dir).map_err(|source| ReceiptError::Io {
        context: format!("creating {}", dir.display()),
        source,
    })
}

#[cfg(test)]
mod sealed_tests {
    use super::*;

    #[test]
    fn sealing_here_gives_what_verifying_gives() {
        let identity = Identity::from_seed([9; 32]);
        let transcript = crate::canonical::tests_support::transcript();
        let header = Header {
            started_at_ms: 10,
            ended_at_ms: 20,
            ..Header::default()
        };
        let previous = Some(ReceiptId(Digest([4; 32])));
        let here = Sealed::seal_with(transcript.clone(), &identity, &header, previous).unwrap();
        let checked = Sealed::verified(crate::canonical::seal_with(
            transcript, &identity, &header, previous,
        ))
        .unwrap();
        assert_eq!(here.receipt, checked.receipt);
        assert_eq!(here.body, checked.body);
        assert_eq!(here.body, crate::canonical::encode(&here.receipt));
        crate::verify(here.receipt()).unwrap();
    }
}
