//! The canonical encoding's tests: the pinned vectors, strict decoding,
//! and the id spliced from header and transcript bytes.

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
