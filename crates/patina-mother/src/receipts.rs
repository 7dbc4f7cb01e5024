//! Reading, checking and moving receipts: [`Mother::receipt`],
//! [`Mother::receipts`], [`Mother::verify_receipt`],
//! [`Mother::export_receipt`] and [`Mother::import_receipt`].
//!
//! Every store access runs on a blocking thread. This module must never keep
//! a receipt that does not verify (the store's `import` checks it and its
//! blobs first) and never call a chain intact when a link is missing from
//! this Mother's own chain.

use std::path::PathBuf;

use patina_receipts::store::ListFilter;
use patina_receipts::{Blob, Digest, ExportedReceipt, Receipt, ReceiptError, ReceiptId, verify};

use crate::ReceiptRef;
use crate::{Mother, MotherError};

/// How a receipt links to the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainLink {
    /// It has no previous receipt.
    First,
    /// It follows this receipt of the same Mother, held here.
    Follows(ReceiptId),
    /// It follows this receipt of another Mother's chain, not held here.
    FollowsNotHeld(ReceiptId),
}

impl std::fmt::Display for ChainLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::First => f.write_str("first of its chain"),
            Self::Follows(previous) => write!(f, "follows {}", previous.short()),
            Self::FollowsNotHeld(previous) => {
                write!(f, "follows {} (not held here)", previous.short())
            }
        }
    }
}

/// A receipt that verified, and its link.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The receipt.
    pub receipt: Receipt,
    /// How it links to its previous receipt.
    pub link: ChainLink,
}

/// A receipt an import kept (or already held).
#[derive(Clone, Debug)]
pub struct Imported {
    /// The receipt.
    pub receipt: Receipt,
    /// `false` when it was already held.
    pub new: bool,
}

impl Mother {
    /// The receipt `reference` names — a file (an export or a bare receipt)
    /// or a stored id or unique prefix — with the blobs it refers to. Not
    /// verified: see [`Mother::verify_receipt`].
    pub async fn receipt(
        &self,
        reference: &ReceiptRef,
    ) -> Result<(Receipt, Vec<Blob>), MotherError> {
        let reference = reference.clone();
        self.blocking(move |mother| mother.receipt_now(&reference))
            .await
    }

    pub(crate) fn receipt_now(
        &self,
        reference: &ReceiptRef,
    ) -> Result<(Receipt, Vec<Blob>), MotherError> {
        let prefix = match reference {
            ReceiptRef::File(path) => {
                let bytes = std::fs::read(path).map_err(|source| MotherError::Read {
                    path: path.clone(),
                    source,
                })?;
                return Ok(ExportedReceipt::decode(&bytes)?);
            }
            ReceiptRef::Stored(prefix) => prefix,
        };
        let store = self.receipts();
        let id = store.resolve(prefix)?;
        let receipt = store
            .get(&id)?
            .ok_or_else(|| ReceiptError::NotFound(prefix.clone()))?;
        let mut blobs = Vec::new();
        let stored = |digest: &Digest| store.blob(digest).ok().flatten();
        for digest in receipt.references_with(stored) {
            if let Some(bytes) = store.blob(&digest)? {
                blobs.push(Blob { digest, bytes });
            }
        }
        Ok((receipt, blobs))
    }

    /// Receipts, newest first: at most `limit`, only those of the child
    /// `child` names (an installed name, id or id prefix) if given.
    pub async fn receipts_of(
        &self,
        child: Option<String>,
        limit: Option<usize>,
    ) -> Result<Vec<Receipt>, MotherError> {
        self.receipts_by(child, None, limit).await
    }

    /// Receipts, newest first: at most `limit`, only those of the child
    /// `child` names if given, and only those whose header names `caller`
    /// (a [`patina_receipts::Caller`] id, e.g. `token:3f9a…`) if given.
    pub async fn receipts_by(
        &self,
        child: Option<String>,
        caller: Option<String>,
        limit: Option<usize>,
    ) -> Result<Vec<Receipt>, MotherError> {
        self.blocking(move |mother| {
            let child = match &child {
                Some(reference) => Some(mother.children().resolve(reference)?),
                None => None,
            };
            Ok(mother.receipts().list(&ListFilter {
                child,
                caller,
                limit,
                ..ListFilter::default()
            })?)
        })
        .await
    }

    /// Checks the receipt `reference` names: signature, hashes, and its link
    /// to the previous receipt (which must be held here when the receipt is
    /// this Mother's own, and be the same Mother's when it is held).
    pub async fn verify_receipt(&self, reference: &ReceiptRef) -> Result<Verified, MotherError> {
        let reference = reference.clone();
        self.blocking(move |mother| {
            let (receipt, _) = mother.receipt_now(&reference)?;
            verify(&receipt)?;
            let link = match receipt.previous {
                None => ChainLink::First,
                Some(previous) => match mother.receipts().get(&previous)? {
                    Some(prior) if prior.mother == receipt.mother => ChainLink::Follows(previous),
                    Some(_) => {
                        return Err(chain_error(
                            &receipt,
                            format!("its previous receipt {previous} is another Mother's"),
                        ));
                    }
                    None if receipt.mother == mother.identity().id() => {
                        return Err(chain_error(
                            &receipt,
                            format!(
                                "its previous receipt {previous} is missing from this Mother's store"
                            ),
                        ));
                    }
                    None => ChainLink::FollowsNotHeld(previous),
                },
            };
            Ok(Verified { receipt, link })
        })
        .await
    }

    /// The receipt `reference` names with its blobs, ready to move.
    pub async fn export_receipt(
        &self,
        reference: &ReceiptRef,
    ) -> Result<ExportedReceipt, MotherError> {
        let (receipt, blobs) = self.receipt(reference).await?;
        Ok(ExportedReceipt::new(receipt, &blobs))
    }

    /// Keeps an exported receipt (a peer's, say) once it and its blobs
    /// verify. It joins no local chain.
    pub async fn import_receipt(&self, export: Vec<u8>) -> Result<Imported, MotherError> {
        self.blocking(move |mother| mother.import_now(&export))
            .await
    }

    /// [`Mother::import_receipt`] of the file at `path`.
    pub async fn import_receipt_file(&self, path: PathBuf) -> Result<Imported, MotherError> {
        self.blocking(move |mother| {
            let bytes = std::fs::read(&path).map_err(|source| MotherError::Read {
                path: path.clone(),
                source,
            })?;
            mother.import_now(&bytes)
        })
        .await
    }

    fn import_now(&self, export: &[u8]) -> Result<Imported, MotherError> {
        let (receipt, blobs) = ExportedReceipt::decode(export)?;
        // `import` verifies the receipt and its blobs before keeping anything.
        let new = self.receipts().import(&receipt, &blobs)?;
        tracing::info!(receipt = %receipt.id, new, "imported");
        Ok(Imported { receipt, new })
    }
}

fn chain_error(receipt: &Receipt, reason: String) -> MotherError {
    MotherError::Receipt(ReceiptError::Chain {
        at: receipt.id.to_string(),
        reason,
    })
}
