//! The exported form of a receipt: the receipt plus the blobs it refers to, so
//! a file carries everything needed to verify, keep and replay it elsewhere.
//! Encoded canonically (see [`crate::canonical`]). A bare receipt (without the
//! envelope) is read too.

use crate::{Blob, Digest, Receipt, ReceiptError, canonical};

/// A receipt with its blobs, as `mother receipts export` writes it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportedReceipt {
    /// The receipt.
    pub receipt: Receipt,
    /// Every blob the receipt refers to: digest and bytes as hex, by digest.
    pub blobs: Vec<ExportedBlob>,
}

/// One blob in an export.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedBlob {
    /// Its digest.
    pub digest: Digest,
    /// Its bytes, hex.
    pub hex: String,
}

impl ExportedReceipt {
    /// Bundles `receipt` with `blobs` (only those it refers to, sorted).
    pub fn new(receipt: Receipt, blobs: &[Blob]) -> Self {
        let find = |d: &Digest| {
            blobs
                .iter()
                .find(|b| b.digest == *d)
                .map(|b| b.bytes.clone())
        };
        let wanted = receipt.references_with(find);
        let mut blobs: Vec<ExportedBlob> = blobs
            .iter()
            .filter(|b| wanted.contains(&b.digest))
            .map(|b| ExportedBlob {
                digest: b.digest,
                hex: patina_core::hex_string(&b.bytes),
            })
            .collect();
        blobs.sort_by_key(|b| b.digest);
        blobs.dedup_by_key(|b| b.digest);
        Self { receipt, blobs }
    }

    /// The canonical bytes of the export.
    pub fn encode(&self) -> Vec<u8> {
        canonical::encode(self)
    }

    /// Reads an export, or a bare receipt, as strictly as
    /// [`canonical::decode`] (an unknown, missing or duplicated member is
    /// refused, in the envelope too). Blobs are checked against their
    /// digests; the receipt is not verified (call [`crate::verify`]).
    pub fn decode(bytes: &[u8]) -> Result<(Receipt, Vec<Blob>), ReceiptError> {
        let probe: Shape =
            serde_json::from_slice(bytes).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
        if probe.receipt.is_none() {
            return Ok((canonical::decode(bytes)?, Vec::new()));
        }
        let export: Envelope =
            serde_json::from_slice(bytes).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
        let receipt = canonical::decode(export.receipt.get().as_bytes())?;
        let mut blobs = Vec::new();
        for blob in export.blobs {
            let bytes =
                hex::decode(&blob.hex).map_err(|_| ReceiptError::Blob(blob.digest.hex()))?;
            let blob = Blob {
                digest: blob.digest,
                bytes,
            };
            if !blob.is_intact() {
                return Err(ReceiptError::Blob(blob.digest.hex()));
            }
            blobs.push(blob);
        }
        Ok((receipt, blobs))
    }
}

/// Whether a document is an export (it has a `receipt` member) or a bare
/// receipt; every other member is looked at by the strict read that follows.
#[derive(serde::Deserialize)]
struct Shape {
    receipt: Option<serde::de::IgnoredAny>,
}

/// The export envelope as read: the receipt kept as its raw text, so that
/// [`canonical::decode`] reads it strictly (its version decides its members).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(borrow)]
    receipt: &'a serde_json::value::RawValue,
    blobs: Vec<ExportedBlob>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Identity, Payload};

    #[test]
    fn exports_round_trip_with_their_blobs_and_bare_receipts_are_read() {
        let mut transcript = crate::canonical::tests_support::transcript();
        let mut blobs = Vec::new();
        transcript.outcome.stdout = Payload::of_bytes(&vec![b'z'; 10_000], &mut blobs);
        let receipt = canonical::seal(transcript, &Identity::from_seed([5; 32]), 1, 2, None);
        let export = ExportedReceipt::new(receipt.clone(), &blobs);
        let (back, back_blobs) = ExportedReceipt::decode(&export.encode()).unwrap();
        assert_eq!((back, back_blobs), (receipt.clone(), blobs.clone()));
        let (bare, none) = ExportedReceipt::decode(&canonical::encode(&receipt)).unwrap();
        assert_eq!((bare, none.len()), (receipt, 0));
        let mut damaged = export.clone();
        damaged.blobs[0].hex = hex::encode(b"other");
        assert!(matches!(
            ExportedReceipt::decode(&damaged.encode()),
            Err(ReceiptError::Blob(_))
        ));
    }

    #[test]
    fn the_envelope_is_read_strictly_too() {
        let receipt = canonical::seal(
            crate::canonical::tests_support::transcript(),
            &Identity::from_seed([5; 32]),
            1,
            2,
            None,
        );
        let text = String::from_utf8(ExportedReceipt::new(receipt, &[]).encode()).unwrap();
        let malformed = |text: String| match ExportedReceipt::decode(text.as_bytes()) {
            Err(ReceiptError::Malformed(message)) => message,
            other => panic!("expected malformed, got {other:?}"),
        };
        let extra = text.replacen(r#""blobs":[]"#, r#""blobs":[],"note":1"#, 1);
        assert!(malformed(extra).contains("unknown field `note`"));
        let damaged = text.replacen(r#""exit_code":null"#, r#""xit_code":null"#, 1);
        assert!(malformed(damaged).contains("unknown field `xit_code`"));
        let twice = text.replacen(r#""blobs":[]"#, r#""blobs":[],"blobs":[]"#, 1);
        assert!(malformed(twice).contains("duplicate field"));
    }
}
