//! The canonical encoding of receipts, version 1: identical bytes on every
//! host for the same content.
//!
//! Rules: compact JSON (no whitespace), object members in the declaration
//! order of the model's fields (never sorted, never skipped: an absent option
//! is `null`), integers only (times in milliseconds, fuel in units; no floats
//! anywhere — component values are WAVE text), strings as UTF-8 with only `"`,
//! `\` and control characters escaped (the `serde_json` escaping rules), enums
//! externally tagged (`{"ok": …}`, `"denied"`). The exported form of a receipt
//! (`mother receipts export`) is this encoding of the whole [`Receipt`].
//!
//! Hashes are blake3 with a domain label: the transcript hash covers
//! `patina-transcript-v1\0` + the transcript; the receipt id covers
//! `patina-receipt-v1\0` + everything but the id and signature.

use serde::Serialize;

use crate::{
    Digest, Identity, MotherId, RECEIPT_VERSION, Receipt, ReceiptError, ReceiptId, Transcript,
};

const TRANSCRIPT_DOMAIN: &str = "patina-transcript-v1";
const RECEIPT_DOMAIN: &str = "patina-receipt-v1";

/// The canonical bytes of a model value.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising these plain data types into memory cannot fail: every map
    // key is a string and no custom serialiser returns an error.
    serde_json::to_vec(value).unwrap_or_default()
}

/// The transcript hash.
pub fn transcript_hash(transcript: &Transcript) -> Digest {
    Digest::of(TRANSCRIPT_DOMAIN, &encode(transcript))
}

/// What the receipt id covers, in canonical order.
#[derive(Serialize)]
struct IdInput<'a> {
    version: u32,
    mother: &'a MotherId,
    started_at_ms: u64,
    ended_at_ms: u64,
    previous: &'a Option<ReceiptId>,
    transcript_hash: &'a Digest,
    transcript: &'a Transcript,
}

/// The id of a receipt with these contents.
pub fn receipt_id(receipt: &Receipt) -> ReceiptId {
    let input = IdInput {
        version: receipt.version,
        mother: &receipt.mother,
        started_at_ms: receipt.started_at_ms,
        ended_at_ms: receipt.ended_at_ms,
        previous: &receipt.previous,
        transcript_hash: &receipt.transcript_hash,
        transcript: &receipt.transcript,
    };
    ReceiptId(Digest::of(RECEIPT_DOMAIN, &encode(&input)))
}

/// Seals a transcript into a signed receipt of `identity`.
pub fn seal(
    transcript: Transcript,
    identity: &Identity,
    started_at_ms: u64,
    ended_at_ms: u64,
    previous: Option<ReceiptId>,
) -> Receipt {
    let transcript_hash = transcript_hash(&transcript);
    let mut receipt = Receipt {
        version: RECEIPT_VERSION,
        mother: identity.id(),
        started_at_ms,
        ended_at_ms,
        previous,
        transcript,
        transcript_hash,
        id: ReceiptId(Digest([0; 32])),
        signature: String::new(),
    };
    receipt.id = receipt_id(&receipt);
    receipt.signature = identity.sign(&receipt.id);
    receipt
}

/// Parses a receipt from its canonical (or any JSON) form. Parsing does not
/// verify: call [`crate::verify`].
pub fn decode(bytes: &[u8]) -> Result<Receipt, ReceiptError> {
    let receipt: Receipt =
        serde_json::from_slice(bytes).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    if receipt.version != RECEIPT_VERSION {
        return Err(ReceiptError::Version(receipt.version, RECEIPT_VERSION));
    }
    Ok(receipt)
}

#[cfg(test)]
pub(crate) mod tests_support {
    use crate::{CallRecord, Event, EventResult, Outcome, OutcomeStatus, Payload, Transcript};
    use patina_core::ChildId;

    /// A fixed transcript: its encoding and hashes are test vectors every
    /// implementation must reproduce byte for byte.
    pub(crate) fn transcript() -> Transcript {
        Transcript {
            child: ChildId::of(b"vector child"),
            call: CallRecord {
                function: "greet".into(),
                args: vec!["\"ann\"".into()],
                argv: None,
                limits: patina_core::Limits {
                    fuel: 1_000_000,
                    timeout: std::time::Duration::from_secs(5),
                    memory: 64 << 20,
                    output: 1 << 20,
                },
                deny_missing: false,
            },
            grants: vec!["log".parse().unwrap()],
            unrecorded: vec![],
            events: vec![Event {
                seq: 0,
                toy: "patina:toys/log@0.1.0".into(),
                function: "log".into(),
                args: Payload::Text("(info, \"greeting ann\")".into()),
                result: EventResult::Ok(Payload::Text("()".into())),
            }],
            outcome: Outcome {
                status: OutcomeStatus::Returned {
                    results: Payload::Text("\"hello, ann!\"".into()),
                    exit_code: None,
                },
                stdout: Payload::Text(String::new()),
                stderr: Payload::Text(String::new()),
            },
            fuel: 12345,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::transcript as vector_transcript;
    use super::*;
    use patina_core::ChildId;

    const VECTOR_ENCODING: &str = concat!(
        r#"{"child":"b3:"#,
        "CHILD",
        r#"","call":{"function":"greet","args":["\"ann\""],"argv":null,"#,
        r#""limits":{"fuel":1000000,"timeout":5000,"memory":67108864,"output":1048576},"deny_missing":false},"grants":["log"],"unrecorded":[],"#,
        r#""events":[{"seq":0,"toy":"patina:toys/log@0.1.0","function":"log","args":{"text":"(info, \"greeting ann\")"},"result":{"ok":{"text":"()"}}}],"#,
        r#""outcome":{"status":{"returned":{"results":{"text":"\"hello, ann!\""},"exit_code":null}},"stdout":{"text":""},"stderr":{"text":""}},"fuel":12345}"#
    );

    #[test]
    fn transcript_encoding_is_the_test_vector() {
        let transcript = vector_transcript();
        let expected = VECTOR_ENCODING.replace("CHILD", &ChildId::of(b"vector child").hex());
        assert_eq!(String::from_utf8(encode(&transcript)).unwrap(), expected);
        assert_eq!(transcript_hash(&transcript).hex(), VECTOR_TRANSCRIPT_HASH);
    }

    const VECTOR_TRANSCRIPT_HASH: &str =
        "0e25889543792faa20f76fad168cae4726dcc0721918bee9efe247bedd94231c";
    const VECTOR_RECEIPT_ID: &str =
        "6d29a6b91c8dd6bb2e077dafbdfa171af9ec0f19d60466e252377852ad3c40c2";

    #[test]
    fn sealed_receipt_is_the_test_vector_and_round_trips() {
        let identity = Identity::from_seed([7; 32]);
        let receipt = seal(
            vector_transcript(),
            &identity,
            1_700_000_000_000,
            1_700_000_000_042,
            None,
        );
        assert_eq!(receipt.id.hex(), VECTOR_RECEIPT_ID);
        assert!(receipt.mother.verifies(&receipt.id, &receipt.signature));
        let bytes = encode(&receipt);
        let back = decode(&bytes).unwrap();
        assert_eq!(back, receipt);
        assert_eq!(encode(&back), bytes, "decode then encode is the identity");
    }

    #[test]
    fn other_versions_and_garbage_are_refused() {
        let identity = Identity::from_seed([7; 32]);
        let mut receipt = seal(vector_transcript(), &identity, 1, 2, None);
        receipt.version = 99;
        assert!(matches!(
            decode(&encode(&receipt)),
            Err(ReceiptError::Version(99, 1))
        ));
        assert!(matches!(
            decode(b"{not json"),
            Err(ReceiptError::Malformed(_))
        ));
        assert!(matches!(decode(b"{}"), Err(ReceiptError::Malformed(_))));
    }
}
