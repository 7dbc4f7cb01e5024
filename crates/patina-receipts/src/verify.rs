//! [`verify`]: recompute every hash of a receipt and check its signature,
//! naming the first part that does not match.

use crate::canonical::{receipt_id, transcript_hash};
use crate::{READABLE_VERSIONS, Receipt, ReceiptError};

/// The part of a receipt that failed verification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Tampered {
    /// An unknown format version.
    #[error("unknown version {0}")]
    Version(u32),
    /// The transcript does not hash to the stored transcript hash: an event,
    /// the call, the grants, the outcome or the fuel was changed.
    #[error("the transcript was altered (it hashes to {computed}, the receipt says {stored})")]
    Transcript {
        /// The hash in the receipt.
        stored: String,
        /// The hash of the transcript as it is.
        computed: String,
    },
    /// The header (Mother, times, previous link) does not match the id.
    #[error("the header was altered (the contents hash to {computed}, the receipt says {stored})")]
    Header {
        /// The id in the receipt.
        stored: String,
        /// The id of the contents as they are.
        computed: String,
    },
    /// The signature is not the Mother's signature of the id.
    #[error("the signature is not {mother}'s signature of this receipt")]
    Signature {
        /// The Mother the receipt names.
        mother: String,
    },
}

/// Checks that `receipt` is intact and signed by the Mother it names.
pub fn verify(receipt: &Receipt) -> Result<(), ReceiptError> {
    let tampered = |what| ReceiptError::Tampered {
        id: receipt.id.to_string(),
        what,
    };
    if !READABLE_VERSIONS.contains(&receipt.version) {
        return Err(tampered(Tampered::Version(receipt.version)));
    }
    let computed = transcript_hash(&receipt.transcript);
    if computed != receipt.transcript_hash {
        return Err(tampered(Tampered::Transcript {
            stored: receipt.transcript_hash.hex(),
            computed: computed.hex(),
        }));
    }
    let id = receipt_id(receipt);
    if id != receipt.id {
        return Err(tampered(Tampered::Header {
            stored: receipt.id.hex(),
            computed: id.hex(),
        }));
    }
    if !receipt.mother.verifies(&receipt.id, &receipt.signature) {
        return Err(tampered(Tampered::Signature {
            mother: receipt.mother.to_string(),
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::seal;
    use crate::{EventResult, Identity, Payload};
    use patina_core::ChildId;

    fn sealed() -> Receipt {
        let transcript = crate::canonical::tests_support::transcript();
        seal(transcript, &Identity::from_seed([3; 32]), 10, 20, None)
    }

    fn what(receipt: &Receipt) -> Tampered {
        match verify(receipt) {
            Err(ReceiptError::Tampered { what, .. }) => what,
            other => panic!("expected tampering, got {other:?}"),
        }
    }

    #[test]
    fn an_intact_receipt_verifies() {
        verify(&sealed()).unwrap();
    }

    #[test]
    fn every_kind_of_tampering_is_named() {
        let mut r = sealed();
        r.transcript.events[0].result = EventResult::Ok(Payload::Text("(42)".into()));
        assert!(matches!(what(&r), Tampered::Transcript { .. }));

        let mut r = sealed();
        r.transcript.fuel += 1;
        assert!(matches!(what(&r), Tampered::Transcript { .. }));

        let mut r = sealed();
        r.transcript.child = ChildId::of(b"another child");
        r.transcript_hash = transcript_hash(&r.transcript);
        assert!(
            matches!(what(&r), Tampered::Header { .. }),
            "rehashing the transcript does not help"
        );

        let mut r = sealed();
        r.ended_at_ms += 1;
        assert!(matches!(what(&r), Tampered::Header { .. }));

        let mut r = sealed();
        r.ended_at_ms += 1;
        r.id = receipt_id(&r);
        assert!(
            matches!(what(&r), Tampered::Signature { .. }),
            "recomputing the id does not help"
        );

        let mut r = sealed();
        r.mother = Identity::from_seed([4; 32]).id();
        r.id = receipt_id(&r);
        assert!(matches!(what(&r), Tampered::Signature { .. }));
    }
}
