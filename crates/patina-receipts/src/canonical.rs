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
                stdout: Payload::Text(Text::default()),
                stderr: Payload::Text(Text::default()),
            },
            fuel: 12345,
        }
    }
}

#[cfg(test)]
mod tests;
