//! How a [`Receipt`] is written and read, per format version.
//!
//! Version 1 has, in order: `version`, `mother`, `started_at_ms`,
//! `ended_at_ms`, `previous`, `transcript`, `transcript_hash`, `id`,
//! `signature`. Version 2 adds `caller`, `approvals` and `meter` after
//! `previous`. Writing picks the layout from [`Receipt::version`]; reading
//! is strict: a member that is unknown, duplicated, missing (an absent
//! option is `null`, never left out) or not part of the receipt's version
//! is refused. This module must never accept a receipt with a byte its
//! signature would not cover.

use serde::{Deserialize, Serialize};

use crate::model::required;
use crate::{
    Approval, Caller, Digest, Meter, MotherId, READABLE_VERSIONS, Receipt, ReceiptId, Transcript,
};

#[derive(Serialize)]
struct V1<'a> {
    version: u32,
    mother: &'a MotherId,
    started_at_ms: u64,
    ended_at_ms: u64,
    previous: &'a Option<ReceiptId>,
    transcript: &'a Transcript,
    transcript_hash: &'a Digest,
    id: &'a ReceiptId,
    signature: &'a str,
}

#[derive(Serialize)]
struct V2<'a> {
    version: u32,
    mother: &'a MotherId,
    started_at_ms: u64,
    ended_at_ms: u64,
    previous: &'a Option<ReceiptId>,
    caller: &'a Option<Caller>,
    approvals: &'a [Approval],
    meter: Meter,
    transcript: &'a Transcript,
    transcript_hash: &'a Digest,
    id: &'a ReceiptId,
    signature: &'a str,
}

impl Serialize for Receipt {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.version == 1 {
            V1 {
                version: self.version,
                mother: &self.mother,
                started_at_ms: self.started_at_ms,
                ended_at_ms: self.ended_at_ms,
                previous: &self.previous,
                transcript: &self.transcript,
                transcript_hash: &self.transcript_hash,
                id: &self.id,
                signature: &self.signature,
            }
            .serialize(serializer)
        } else {
            V2 {
                version: self.version,
                mother: &self.mother,
                started_at_ms: self.started_at_ms,
                ended_at_ms: self.ended_at_ms,
                previous: &self.previous,
                caller: &self.caller,
                approvals: &self.approvals,
                meter: self.meter,
                transcript: &self.transcript,
                transcript_hash: &self.transcript_hash,
                id: &self.id,
                signature: &self.signature,
            }
            .serialize(serializer)
        }
    }
}

/// A member that some versions have and others must not: absent, or
/// present with its value (`null` included).
#[derive(Default)]
enum Member<T> {
    #[default]
    Absent,
    Present(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Member<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self::Present)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    version: u32,
    mother: MotherId,
    started_at_ms: u64,
    ended_at_ms: u64,
    #[serde(deserialize_with = "required")]
    previous: Option<ReceiptId>,
    #[serde(default)]
    caller: Member<Option<Caller>>,
    #[serde(default)]
    approvals: Member<Vec<Approval>>,
    #[serde(default)]
    meter: Member<Meter>,
    transcript: Transcript,
    transcript_hash: Digest,
    id: ReceiptId,
    signature: String,
}

impl<'de> Deserialize<'de> for Receipt {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let wire = Wire::deserialize(deserializer)?;
        if !READABLE_VERSIONS.contains(&wire.version) {
            return Err(D::Error::custom(format!(
                "receipt version {} is not one this build reads",
                wire.version
            )));
        }
        let v1 = wire.version == 1;
        let (caller, approvals, meter) = match (wire.caller, wire.approvals, wire.meter) {
            (Member::Absent, Member::Absent, Member::Absent) if v1 => {
                (None, Vec::new(), Meter::Fuel)
            }
            (Member::Present(c), Member::Present(a), Member::Present(m)) if !v1 => (c, a, m),
            (caller, approvals, meter) => {
                let members = [
                    ("caller", matches!(caller, Member::Present(_))),
                    ("approvals", matches!(approvals, Member::Present(_))),
                    ("meter", matches!(meter, Member::Present(_))),
                ];
                let odd = members
                    .iter()
                    .find(|(_, present)| *present == v1)
                    .map_or("caller", |(name, _)| *name);
                return Err(if v1 {
                    D::Error::custom(format!("`{odd}` is not a member of a version 1 receipt"))
                } else {
                    D::Error::missing_field(odd)
                });
            }
        };
        Ok(Receipt {
            version: wire.version,
            mother: wire.mother,
            started_at_ms: wire.started_at_ms,
            ended_at_ms: wire.ended_at_ms,
            previous: wire.previous,
            caller,
            approvals,
            meter,
            transcript: wire.transcript,
            transcript_hash: wire.transcript_hash,
            id: wire.id,
            signature: wire.signature,
        })
    }
}
