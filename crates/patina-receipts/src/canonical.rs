//! The canonical encoding of receipts: identical bytes on every host for the
//! same content.
//!
//! Rules: compact JSON (no whitespace), object members in the declaration
//! order of the model's fields (never sorted, never skipped: an absent option
//! is `null`), integers only (times in milliseconds, fuel in units; no floats
//! anywhere — component values are WAVE text), strings as UTF-8 with only `"`,
//! `\` and control characters escaped (the `serde_json` escaping rules), enums
//! externally tagged (`{"ok": …}`, `"denied"`). The exported form of a receipt
//! (`mother receipts export`) is this encoding of the whole [`Receipt`]; the
//! member layout of each version is in [`crate::wire`].
//!
//! Hashes are blake3 with a domain label: the transcript hash covers
//! `patina-transcript-v1\0` + the transcript (the transcript is the same in
//! both versions); the receipt id covers `patina-receipt-v1\0` (version 1)
//! or `patina-receipt-v2\0` (version 2) + everything but the id and
//! signature, in the receipt's member order. The **portable hash** is the
//! transcript hash of the transcript with `fuel` set to 0: what a host
//! without a fuel meter ([`Meter::None`]) is compared on.

use serde::Serialize;

use crate::{
    Approval, Attribution, Caller, Digest, Identity, Meter, MotherId, READABLE_VERSIONS,
    RECEIPT_VERSION, Receipt, ReceiptError, ReceiptId, Transcript,
};

const TRANSCRIPT_DOMAIN: &str = "patina-transcript-v1";
const RECEIPT_DOMAIN_V1: &str = "patina-receipt-v1";
const RECEIPT_DOMAIN_V2: &str = "patina-receipt-v2";

/// The canonical bytes of a model value.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising these plain data types into memory cannot fail: every map
    // key is a string and no custom serialiser returns an error.
    serde_json::to_vec(value).unwrap_or_default()
}

/// The canonical bytes of a transcript: [`encode`] of it, written faster
/// (its events by hand, see `encoding.rs`).
pub fn encode_transcript(transcript: &Transcript) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024 + 160 * transcript.events.len());
    crate::encoding::write_transcript(&mut out, transcript);
    out
}

/// The transcript hash.
pub fn transcript_hash(transcript: &Transcript) -> Digest {
    Digest::of(TRANSCRIPT_DOMAIN, &encode_transcript(transcript))
}

/// The portable hash: the transcript hash with the fuel left out (set to
/// 0), equal on every host, metered or not, for a deterministic run.
pub fn portable_hash(transcript: &Transcript) -> Digest {
    if transcript.fuel == 0 {
        return transcript_hash(transcript);
    }
    let mut unmetered = transcript.clone();
    unmetered.fuel = 0;
    transcript_hash(&unmetered)
}

/// What the id of a version 1 receipt covers, in canonical order, but the
/// transcript (its last member, appended as bytes by [`id_of`]).
#[derive(Serialize)]
struct IdHeaderV1<'a> {
    version: u32,
    mother: &'a MotherId,
    started_at_ms: u64,
    ended_at_ms: u64,
    previous: &'a Option<ReceiptId>,
    transcript_hash: &'a Digest,
}

/// What the id of a version 2 receipt covers, in canonical order, but the
/// transcript (its last member, appended as bytes by [`id_of`]).
#[derive(Serialize)]
struct IdHeaderV2<'a> {
    version: u32,
    mother: &'a MotherId,
    started_at_ms: u64,
    ended_at_ms: u64,
    previous: &'a Option<ReceiptId>,
    caller: &'a Option<Caller>,
    approvals: &'a [Approval],
    meter: Meter,
    transcript_hash: &'a Digest,
}

/// The id of a receipt with these contents (per its version's rules).
pub fn receipt_id(receipt: &Receipt) -> ReceiptId {
    id_of(receipt, &encode_transcript(&receipt.transcript))
}

/// The id of `receipt`, whose transcript's canonical bytes are
/// `transcript`: the header members, then `"transcript":` and those bytes,
/// as one JSON object — the bytes `encode` gives of the header with the
/// transcript as its last member — hashed in parts, without joining them.
fn id_of(receipt: &Receipt, transcript: &[u8]) -> ReceiptId {
    let (domain, mut header) = if receipt.version == 1 {
        let header = IdHeaderV1 {
            version: receipt.version,
            mother: &receipt.mother,
            started_at_ms: receipt.started_at_ms,
            ended_at_ms: receipt.ended_at_ms,
            previous: &receipt.previous,
            transcript_hash: &receipt.transcript_hash,
        };
        (RECEIPT_DOMAIN_V1, encode(&header))
    } else {
        let header = IdHeaderV2 {
            version: receipt.version,
            mother: &receipt.mother,
            started_at_ms: receipt.started_at_ms,
            ended_at_ms: receipt.ended_at_ms,
            previous: &receipt.previous,
            caller: &receipt.caller,
            approvals: &receipt.approvals,
            meter: receipt.meter,
            transcript_hash: &receipt.transcript_hash,
        };
        (RECEIPT_DOMAIN_V2, encode(&header))
    };
    // The header object's closing brace comes after the transcript.
    header.pop();
    let parts: [&[u8]; 4] = [&header, b",\"transcript\":", transcript, b"}"];
    ReceiptId(Digest::of_parts(domain, &parts))
}

/// The header of a receipt about to be sealed: when the run happened, who
/// asked for it, and how its work was counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Start, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// End, in milliseconds since the Unix epoch.
    pub ended_at_ms: u64,
    /// Who asked, and what was approved for this run.
    pub attribution: Attribution,
    /// How the host counted the run's work.
    pub meter: Meter,
}

/// Seals a transcript into a signed receipt of `identity` (the current
/// version), with no caller and fuel metering.
pub fn seal(
    transcript: Transcript,
    identity: &Identity,
    started_at_ms: u64,
    ended_at_ms: u64,
    previous: Option<ReceiptId>,
) -> Receipt {
    let header = Header {
        started_at_ms,
        ended_at_ms,
        ..Header::default()
    };
    seal_with(transcript, identity, &header, previous)
}

/// Seals a transcript into a signed receipt of `identity` (the current
/// version) with `header`.
pub fn seal_with(
    transcript: Transcript,
    identity: &Identity,
    header: &Header,
    previous: Option<ReceiptId>,
) -> Receipt {
    // The transcript is encoded once, for its hash and for the id.
    let transcript_bytes = encode_transcript(&transcript);
    let transcript_hash = Digest::of(TRANSCRIPT_DOMAIN, &transcript_bytes);
    let mut receipt = Receipt {
        version: RECEIPT_VERSION,
        mother: identity.id(),
        started_at_ms: header.started_at_ms,
        ended_at_ms: header.ended_at_ms,
        previous,
        caller: header.attribution.caller.clone(),
        approvals: header.attribution.approvals.clone(),
        meter: header.meter,
        transcript,
        transcript_hash,
        id: ReceiptId(Digest([0; 32])),
        signature: String::new(),
    };
    receipt.id = id_of(&receipt, &transcript_bytes);
    receipt.signature = identity.sign(&receipt.id);
    receipt
}

/// Just the version of a receipt, read leniently, so that a receipt of a
/// version this build does not know gets [`ReceiptError::Version`].
#[derive(serde::Deserialize)]
struct VersionProbe {
    version: u32,
}

/// Parses a receipt from its canonical form (or any JSON with exactly its
/// members). Strict: an unknown, missing or duplicated member is refused.
/// Parsing does not verify: call [`crate::verify`].
pub fn decode(bytes: &[u8]) -> Result<Receipt, ReceiptError> {
    if let Ok(probe) = serde_json::from_slice::<VersionProbe>(bytes)
        && !READABLE_VERSIONS.contains(&probe.version)
    {
        return Err(ReceiptError::Version(probe.version, RECEIPT_VERSION));
    }
    serde_json::from_slice(bytes).map_err(|e| ReceiptError::Malformed(e.to_string()))
}

#[cfg(test)]
pub(crate) mod tests_support {
    use crate::{
        CallRecord, Event, EventResult, Outcome, OutcomeStatus, Payload, Text, Transcript,
    };
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
                stdout: Payload::Text(Text::new()),
                stderr: Payload::Text(Text::new()),
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
    /// The id of the vector receipt in version 1 (pinned since version 1).
    const VECTOR_RECEIPT_ID_V1: &str =
        "6d29a6b91c8dd6bb2e077dafbdfa171af9ec0f19d60466e252377852ad3c40c2";
    /// The id of the vector receipt in version 2, no caller.
    const VECTOR_RECEIPT_ID_V2: &str =
        "2bbe8feca27fb6c25e0702c7a0d4d00118e240f1ebda97824621a9a956fd6164";
    /// The id of the vector receipt in version 2 with a caller and an approval.
    const VECTOR_RECEIPT_ID_V2_CALLER: &str =
        "b2e45de77b2ed0c678ae46798c551883dce5a7abd6abdc7aec0a27817f3d2850";

    fn vector_receipt() -> Receipt {
        let identity = Identity::from_seed([7; 32]);
        seal(
            vector_transcript(),
            &identity,
            1_700_000_000_000,
            1_700_000_000_042,
            None,
        )
    }

    fn vector_header_with_caller() -> Header {
        Header {
            started_at_ms: 1_700_000_000_000,
            ended_at_ms: 1_700_000_000_042,
            attribution: Attribution {
                caller: Some(Caller {
                    id: format!("ed25519:{}", "ab".repeat(32)),
                    role: "agent".into(),
                    door: "mcp".into(),
                }),
                approvals: vec![Approval {
                    grant: "fs:/notes:ro".into(),
                    by: "mcp-elicitation".into(),
                }],
            },
            meter: Meter::Fuel,
        }
    }

    /// The vector receipt written as version 1 (as a build before version
    /// 2 sealed it).
    fn vector_receipt_v1() -> Receipt {
        let identity = Identity::from_seed([7; 32]);
        let mut receipt = vector_receipt();
        receipt.version = 1;
        receipt.id = receipt_id(&receipt);
        receipt.signature = identity.sign(&receipt.id);
        receipt
    }

    #[test]
    fn sealed_receipt_is_the_test_vector_and_round_trips() {
        let receipt = vector_receipt();
        assert_eq!(receipt.version, 2);
        assert_eq!(receipt.id.hex(), VECTOR_RECEIPT_ID_V2);
        assert!(receipt.mother.verifies(&receipt.id, &receipt.signature));
        let bytes = encode(&receipt);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains(
                r#""previous":null,"caller":null,"approvals":[],"meter":"fuel","transcript":{"#
            ),
            "{text}"
        );
        let back = decode(&bytes).unwrap();
        assert_eq!(back, receipt);
        assert_eq!(encode(&back), bytes, "decode then encode is the identity");
        crate::verify(&back).unwrap();
    }

    #[test]
    fn a_caller_and_approvals_are_covered_by_the_id() {
        let identity = Identity::from_seed([7; 32]);
        let header = vector_header_with_caller();
        let receipt = seal_with(vector_transcript(), &identity, &header, None);
        assert_eq!(receipt.id.hex(), VECTOR_RECEIPT_ID_V2_CALLER);
        assert_eq!(receipt.transcript_hash.hex(), VECTOR_TRANSCRIPT_HASH);
        let back = decode(&encode(&receipt)).unwrap();
        assert_eq!(back.attribution(), header.attribution);
        crate::verify(&back).unwrap();
        // Another role in the header: the id no longer matches.
        let mut forged = back.clone();
        if let Some(caller) = &mut forged.caller {
            caller.role = "admin".into();
        }
        assert!(matches!(
            crate::verify(&forged),
            Err(ReceiptError::Tampered {
                what: crate::Tampered::Header { .. },
                ..
            })
        ));
    }

    #[test]
    fn version_1_receipts_keep_their_pinned_id_and_still_verify() {
        let receipt = vector_receipt_v1();
        assert_eq!(receipt.id.hex(), VECTOR_RECEIPT_ID_V1);
        let bytes = encode(&receipt);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains(r#""previous":null,"transcript":{"#), "{text}");
        assert!(
            !text.contains("caller") && !text.contains("meter"),
            "{text}"
        );
        let back = decode(&bytes).unwrap();
        assert_eq!(back, receipt);
        assert_eq!(encode(&back), bytes);
        crate::verify(&back).unwrap();
    }

    /// What the id of a version 2 receipt covers, written by serde in one
    /// piece: the reference [`id_of`]'s spliced bytes must equal.
    #[derive(Serialize)]
    struct WholeIdInputV2<'a> {
        version: u32,
        mother: &'a MotherId,
        started_at_ms: u64,
        ended_at_ms: u64,
        previous: &'a Option<ReceiptId>,
        caller: &'a Option<Caller>,
        approvals: &'a [Approval],
        meter: Meter,
        transcript_hash: &'a Digest,
        transcript: &'a Transcript,
    }

    #[test]
    fn the_id_spliced_from_header_and_transcript_bytes_is_the_whole_encoding() {
        let identity = Identity::from_seed([7; 32]);
        let receipt = seal_with(
            vector_transcript(),
            &identity,
            &vector_header_with_caller(),
            Some(ReceiptId(Digest([3; 32]))),
        );
        let whole = WholeIdInputV2 {
            version: receipt.version,
            mother: &receipt.mother,
            started_at_ms: receipt.started_at_ms,
            ended_at_ms: receipt.ended_at_ms,
            previous: &receipt.previous,
            caller: &receipt.caller,
            approvals: &receipt.approvals,
            meter: receipt.meter,
            transcript_hash: &receipt.transcript_hash,
            transcript: &receipt.transcript,
        };
        let expected = ReceiptId(Digest::of(RECEIPT_DOMAIN_V2, &encode(&whole)));
        assert_eq!(receipt.id, expected);
        assert_eq!(receipt_id(&receipt), expected);
        assert_eq!(
            encode_transcript(&receipt.transcript),
            encode(&receipt.transcript)
        );
    }

    #[test]
    fn the_portable_hash_leaves_the_fuel_out() {
        let transcript = vector_transcript();
        let mut unmetered = transcript.clone();
        unmetered.fuel = 0;
        assert_eq!(portable_hash(&transcript), transcript_hash(&unmetered));
        assert_eq!(portable_hash(&transcript), portable_hash(&unmetered));
        assert_ne!(portable_hash(&transcript), transcript_hash(&transcript));
    }

    /// `bytes` with the first `from` replaced by `to`.
    fn edit(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text.contains(from), "{from} not in {text}");
        text.replacen(from, to, 1).into_bytes()
    }

    fn refusal(bytes: &[u8]) -> String {
        match decode(bytes) {
            Err(ReceiptError::Malformed(message)) => message,
            other => panic!("expected a malformed receipt, got {other:?}"),
        }
    }

    #[test]
    fn the_decoder_refuses_unknown_missing_and_duplicated_members() {
        let mut export = vector_receipt();
        export.transcript.call.argv = None;
        let bytes = encode(&export);
        // A damaged key: unknown, and the member it was is now missing.
        let damaged = edit(&bytes, r#""exit_code":null"#, r#""xit_code":null"#);
        assert!(refusal(&damaged).contains("unknown field `xit_code`"));
        // A member left out (an absent option is `null`, never missing).
        let missing = edit(&bytes, r#","exit_code":null"#, "");
        assert!(refusal(&missing).contains("missing field `exit_code`"));
        let missing = edit(&bytes, r#""argv":null,"#, "");
        assert!(refusal(&missing).contains("missing field `argv`"));
        let missing = edit(&bytes, r#""previous":null,"#, "");
        assert!(refusal(&missing).contains("missing field `previous`"));
        // A member twice.
        let twice = edit(&bytes, r#""fuel":12345"#, r#""fuel":12345,"fuel":1"#);
        assert!(refusal(&twice).contains("duplicate field `fuel`"));
        let twice = edit(&bytes, r#""version":2,"#, r#""version":2,"version":2,"#);
        assert!(refusal(&twice).contains("duplicate field `version`"));
        // An extra member anywhere.
        let extra = edit(&bytes, r#""seq":0,"#, r#""seq":0,"note":"hi","#);
        assert!(refusal(&extra).contains("unknown field `note`"));
        let extra = edit(&bytes, r#""fuel":1000000,"#, r#""fuel":1000000,"cpu":1,"#);
        assert!(refusal(&extra).contains("unknown field `cpu`"));
        // A version 2 member left out, or one added to a version 1 receipt.
        let missing = edit(&bytes, r#""meter":"fuel","#, "");
        assert!(refusal(&missing).contains("missing field `meter`"));
        let v1 = encode(&vector_receipt_v1());
        let widened = edit(
            &v1,
            r#""previous":null,"#,
            r#""previous":null,"caller":null,"#,
        );
        assert!(refusal(&widened).contains("`caller` is not a member of a version 1 receipt"));
    }

    #[test]
    fn other_versions_and_garbage_are_refused() {
        let identity = Identity::from_seed([7; 32]);
        let mut receipt = seal(vector_transcript(), &identity, 1, 2, None);
        receipt.version = 99;
        assert!(matches!(
            decode(&encode(&receipt)),
            Err(ReceiptError::Version(99, 2))
        ));
        assert!(matches!(
            decode(b"{not json"),
            Err(ReceiptError::Malformed(_))
        ));
        assert!(matches!(decode(b"{}"), Err(ReceiptError::Malformed(_))));
    }
}
