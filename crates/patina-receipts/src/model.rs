//! The receipt model: [`Transcript`] (what must match across hosts) inside a
//! [`Receipt`] (who, when, who asked, chain link, hashes, signature). Field
//! order is part of the canonical encoding: never reorder fields within a
//! version.
//!
//! Every model type is read strictly: an unknown member, a missing one (an
//! absent option is written `null`, never left out) or a duplicated one is
//! refused, so a receipt never carries bytes its signature does not cover.
//! How a receipt of each version is written and read is in [`crate::wire`].

use patina_core::{ChildId, Grant, Limits};

use crate::{Digest, MotherId, Payload, ReceiptId, Text};

/// The receipt format version this build writes.
pub const RECEIPT_VERSION: u32 = 2;

/// Every receipt format version this build reads and verifies: version 1
/// (no caller, approvals or meter in the header) and version 2.
pub const READABLE_VERSIONS: &[u32] = &[1, 2];

/// Reads an `Option` member that must be present (as `null` when absent).
pub(crate) fn required<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer)
}

/// Who asked for a run, as the door that let the caller in names it. Part of
/// a receipt's header (covered by its id and signature), never of the
/// transcript, which stays identical on every host.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caller {
    /// The caller's identity: `ed25519:<hex>` for a key (a local client or
    /// a peer Mother), `token:<id>` for an HTTP or MCP bearer token.
    pub id: String,
    /// The policy role the caller acted under.
    pub role: String,
    /// The door it came through: `socket`, `peer`, `http`, `mcp`, ...
    pub door: String,
}

/// A grant a person approved for this one run at the caller's client (MCP
/// elicitation), beyond what the caller's role allows by itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The grant approved, in its canonical text form.
    pub grant: String,
    /// How it was approved, e.g. `mcp-elicitation`.
    pub by: String,
}

/// What a receipt says about who asked for the run: its header's caller and
/// approvals. Empty for a run the Mother's owner started in process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attribution {
    /// Who asked.
    pub caller: Option<Caller>,
    /// Grants approved for this run alone.
    pub approvals: Vec<Approval>,
}

/// How the host that ran a child counted its work.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Meter {
    /// Fuel, about one unit per wasm instruction (wasmtime hosts): the
    /// transcript's `fuel` is what the run consumed.
    #[default]
    Fuel,
    /// No meter (a host whose engine cannot count, such as the JavaScript
    /// host): the transcript's `fuel` is 0.
    None,
}

/// The call a run made.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallRecord {
    /// Full name of the exported function (`add`, `ops.greet`, `wasi:cli/run@0.2.0.run`).
    pub function: String,
    /// Arguments, each as WAVE text.
    pub args: Vec<String>,
    /// For a command child: the whole argv, program name first.
    #[serde(deserialize_with = "required")]
    pub argv: Option<Vec<String>>,
    /// The limits the run had (fuel budget, deadline, memory and output caps).
    pub limits: Limits,
    /// Whether ungranted imports were linked to deny stubs.
    pub deny_missing: bool,
}

impl CallRecord {
    /// The call as a WAVE call expression, `function(arg, ...)`.
    pub fn wave_call(&self) -> String {
        format!("{}({})", self.function, self.args.join(", "))
    }
}

/// What a toy call answered.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventResult {
    /// The results, as WAVE text of the result list (`(…)`).
    Ok(Payload),
    /// The call hit a deny stub.
    Denied,
    /// The toy failed; the message is what the child saw.
    Failed(String),
}

/// One toy call (or clock / random read), in call order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Position in the transcript, from 0.
    pub seq: u64,
    /// The interface called, e.g. `patina:toys/log@0.1.0` or `wasi:clocks/wall-clock`.
    pub toy: Text,
    /// The function called.
    pub function: Text,
    /// The arguments, as WAVE text of the argument list (`(…)`).
    pub args: Payload,
    /// The answer.
    pub result: EventResult,
}

impl Event {
    /// `toy.function(args) -> result`, for people.
    pub fn describe(&self) -> String {
        let result = match &self.result {
            EventResult::Ok(payload) => payload.display(),
            EventResult::Denied => "denied".into(),
            EventResult::Failed(message) => format!("failed: {message}"),
        };
        format!(
            "{}#{}{} -> {result}",
            self.toy,
            self.function,
            self.args.display()
        )
    }
}

/// How the run ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum OutcomeStatus {
    /// The function returned.
    Returned {
        /// The results as WAVE text (empty for none).
        results: Payload,
        /// A command's exit status.
        #[serde(deserialize_with = "required")]
        exit_code: Option<i32>,
    },
    /// The run stopped with an error.
    Failed {
        /// The error's kind (`out-of-fuel`, `trap`, ...).
        kind: String,
        /// Its message.
        message: String,
    },
}

/// The outcome of a run: status plus captured output.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// Returned or failed.
    pub status: OutcomeStatus,
    /// Captured stdout.
    pub stdout: Payload,
    /// Captured stderr.
    pub stderr: Payload,
}

/// What must be identical on every host for a deterministic run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transcript {
    /// The child that ran.
    pub child: ChildId,
    /// The call.
    pub call: CallRecord,
    /// Canonical grants.
    pub grants: Vec<Grant>,
    /// Authority the run had that is not recorded call by call (a WASI
    /// preopened directory): a replay of such a run cannot promise exactness.
    pub unrecorded: Vec<String>,
    /// Every toy call, clock and random read, in order.
    pub events: Vec<Event>,
    /// How it ended.
    pub outcome: Outcome,
    /// Fuel consumed.
    pub fuel: u64,
}

/// A signed record of one run.
///
/// Serialised and read through [`crate::wire`]: a version 1 receipt has no
/// `caller`, `approvals` or `meter` member (they read as none, none and
/// fuel), a version 2 receipt has all three.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Format version (one of [`READABLE_VERSIONS`]; new receipts are
    /// [`RECEIPT_VERSION`]).
    pub version: u32,
    /// The Mother that ran it (its public key).
    pub mother: MotherId,
    /// Start, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// End, in milliseconds since the Unix epoch.
    pub ended_at_ms: u64,
    /// The Mother's previous receipt (a hash chain), if any.
    pub previous: Option<ReceiptId>,
    /// Who asked for the run (version 2): `None` for the Mother's owner.
    pub caller: Option<Caller>,
    /// Grants a person approved for this run alone (version 2).
    pub approvals: Vec<Approval>,
    /// How the host counted the run's work (version 2; version 1 is fuel).
    pub meter: Meter,
    /// The transcript.
    pub transcript: Transcript,
    /// Digest of the transcript's canonical encoding.
    pub transcript_hash: Digest,
    /// Digest of everything above.
    pub id: ReceiptId,
    /// Ed25519 signature of the id by `mother`, hex.
    pub signature: String,
}

impl Receipt {
    /// The header's caller and approvals.
    pub fn attribution(&self) -> Attribution {
        Attribution {
            caller: self.caller.clone(),
            approvals: self.approvals.clone(),
        }
    }

    /// Every blob digest the receipt refers to, byte-list blobs written in
    /// inline event text included (see [`Self::references_with`]).
    pub fn references(&self) -> Vec<Digest> {
        self.references_with(|_| None)
    }

    /// Every blob digest the receipt refers to: payloads by reference, and
    /// the byte-list blobs (`<blob:HEX>`) named in event text, in the call's
    /// arguments and in the returned results (a bridge child's request and
    /// response) — text kept by reference is looked up with `blob` to find
    /// those.
    pub fn references_with(&self, blob: impl Fn(&Digest) -> Option<Vec<u8>>) -> Vec<Digest> {
        let t = &self.transcript;
        let mut refs: Vec<Digest> = Vec::new();
        // The text behind one digest is looked up and scanned once, however
        // many events refer to it: a receipt of 100,000 events naming one
        // large blob costs one scan of it, not 100,000.
        let mut scanned = std::collections::HashSet::new();
        let mut add = |payload: &crate::Payload, refs: &mut Vec<Digest>| {
            let digest = payload.reference();
            refs.extend(digest);
            if digest.is_none_or(|digest| scanned.insert(digest)) {
                refs.extend(payload.value_references(&blob));
            }
        };
        for event in &t.events {
            add(&event.args, &mut refs);
            if let EventResult::Ok(result) = &event.result {
                add(result, &mut refs);
            }
        }
        for arg in &t.call.args {
            refs.extend(crate::value_blob_references(arg));
        }
        if let OutcomeStatus::Returned { results, .. } = &t.outcome.status {
            add(results, &mut refs);
        }
        refs.extend(t.outcome.stdout.reference());
        refs.extend(t.outcome.stderr.reference());
        refs.sort();
        refs.dedup();
        refs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Blob, Identity, canonical};

    /// A bridge child's request (the call) and response (the results) name
    /// their bodies as byte-list blobs; the receipt keeps those.
    #[test]
    fn call_arguments_and_results_name_their_byte_list_blobs() {
        let (request, response) = (Blob::new(vec![1; 300]), Blob::new(vec![2; 300]));
        let mut transcript = canonical::tests_support::transcript();
        transcript.call.args = vec![format!("{{body: <blob:{}>}}", request.digest)];
        transcript.outcome.status = OutcomeStatus::Returned {
            results: Payload::Text(
                format!("{{status: 200, body: <blob:{}>}}", response.digest).into(),
            ),
            exit_code: None,
        };
        let receipt = canonical::seal(transcript, &Identity::from_seed([1; 32]), 1, 2, None);
        let references = receipt.references();
        assert!(references.contains(&request.digest), "{references:?}");
        assert!(references.contains(&response.digest), "{references:?}");
    }

    /// Many events naming one blob (text kept by reference that itself
    /// names a byte-list blob): the blob is looked up and scanned once.
    #[test]
    fn a_blob_many_events_name_is_looked_up_once() {
        let inner = Blob::new(vec![3; 300]);
        let text = Blob::new(format!("(<blob:{}>)", inner.digest).into_bytes());
        let mut transcript = canonical::tests_support::transcript();
        transcript.events = (0..1_000)
            .map(|seq| Event {
                seq,
                toy: "patina:toys/blob@0.1.0".into(),
                function: "put".into(),
                args: Payload::Ref {
                    digest: text.digest,
                    len: text.bytes.len() as u64,
                },
                result: EventResult::Ok(Payload::Text("(ok)".into())),
            })
            .collect();
        let receipt = canonical::seal(transcript, &Identity::from_seed([1; 32]), 1, 2, None);
        let lookups = std::cell::Cell::new(0);
        let references = receipt.references_with(|digest| {
            lookups.set(lookups.get() + 1);
            (*digest == text.digest).then(|| text.bytes.clone())
        });
        assert_eq!(lookups.get(), 1);
        assert_eq!(references.len(), 2, "{references:?}");
        assert!(references.contains(&text.digest) && references.contains(&inner.digest));
    }
}
