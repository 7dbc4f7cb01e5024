//! [`Payload`]: a value in a receipt — inline when small, by blake3 reference
//! when large (the bytes then live in the store as a [`Blob`]).

use crate::{Digest, Text};

/// Payloads longer than this many bytes are stored by reference.
pub const INLINE_LIMIT: usize = 4096;

/// Domain label of blob digests.
const BLOB_DOMAIN: &str = "patina-blob-v1";

/// A value recorded in a receipt.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Payload {
    /// Small UTF-8 text, inline.
    Text(Text),
    /// Small binary data, inline as lowercase hex.
    Hex(String),
    /// Large data, by reference: its digest and length.
    Ref {
        /// Digest of the bytes (see [`Blob::digest`]).
        digest: Digest,
        /// Length in bytes.
        len: u64,
    },
}

/// The digests written as `<blob:HEX>` in WAVE `text` (malformed ones are
/// skipped: they refer to nothing).
pub fn value_blob_references(text: &str) -> impl Iterator<Item = Digest> + '_ {
    text.match_indices("<blob:").filter_map(|(at, _)| {
        let hex = text.get(at + 6..at + 70)?;
        if text.get(at + 70..at + 71) != Some(">") {
            return None;
        }
        hex.parse().ok()
    })
}

/// Bytes a [`Payload::Ref`] points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    /// The digest the bytes hash to.
    pub digest: Digest,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl Blob {
    /// The digest of `bytes` as a blob.
    pub fn digest(bytes: &[u8]) -> Digest {
        Digest::of(BLOB_DOMAIN, bytes)
    }

    /// A blob of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self {
            digest: Self::digest(&bytes),
            bytes,
        }
    }

    /// Whether the bytes still hash to the digest.
    pub fn is_intact(&self) -> bool {
        Self::digest(&self.bytes) == self.digest
    }
}

impl Payload {
    /// Records `bytes`, inline if small (text when UTF-8), else by reference,
    /// pushing the blob to `blobs`.
    pub fn of_bytes(bytes: &[u8], blobs: &mut Vec<Blob>) -> Self {
        if bytes.len() > INLINE_LIMIT {
            let blob = Blob::new(bytes.to_vec());
            let payload = Self::Ref {
                digest: blob.digest,
                len: bytes.len() as u64,
            };
            blobs.push(blob);
            return payload;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::Text(text.into()),
            Err(_) => Self::Hex(patina_core::hex_string(bytes)),
        }
    }

    /// Records text (a WAVE value, say), by reference when large (as
    /// [`Self::of_bytes`] records its bytes, without checking them again).
    pub fn of_text(text: &str, blobs: &mut Vec<Blob>) -> Self {
        if text.len() > INLINE_LIMIT {
            return Self::of_bytes(text.as_bytes(), blobs);
        }
        Self::Text(text.into())
    }

    /// Like [`Self::of_text`], taking the string (no copy when it is inline).
    pub fn of_string(text: String, blobs: &mut Vec<Blob>) -> Self {
        if text.len() <= INLINE_LIMIT {
            return Self::Text(text.into());
        }
        let blob = Blob::new(text.into_bytes());
        let payload = Self::Ref {
            digest: blob.digest,
            len: blob.bytes.len() as u64,
        };
        blobs.push(blob);
        payload
    }

    /// The bytes, looking references up with `blob`.
    pub fn bytes(&self, blob: impl Fn(&Digest) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
        match self {
            Self::Text(text) => Some(text.as_bytes().to_vec()),
            Self::Hex(hex) => hex::decode(hex).ok(),
            Self::Ref { digest, len } => blob(digest)
                .filter(|bytes| bytes.len() as u64 == *len && Blob::digest(bytes) == *digest),
        }
    }

    /// The bytes, looking references up with `blob`, which must give only
    /// bytes already checked against their digest (a map of verified
    /// blobs): the length is checked, the hash is not computed again.
    pub fn bytes_hashed(&self, blob: impl Fn(&Digest) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
        match self {
            Self::Ref { digest, len } => blob(digest).filter(|bytes| bytes.len() as u64 == *len),
            inline => inline.bytes(|_| None),
        }
    }

    /// The digests of the byte-list blobs (`<blob:HEX>`, see
    /// `docs/receipts.md`) the WAVE text of this payload refers to; the
    /// text of a reference is looked up with `blob`.
    pub fn value_references(&self, blob: impl Fn(&Digest) -> Option<Vec<u8>>) -> Vec<Digest> {
        let looked_up;
        let text: &str = match self {
            Self::Text(text) => text,
            Self::Ref { digest, .. } => match blob(digest).map(String::from_utf8) {
                Some(Ok(text)) => {
                    looked_up = text;
                    &looked_up
                }
                _ => return Vec::new(),
            },
            Self::Hex(_) => return Vec::new(),
        };
        value_blob_references(text).collect()
    }

    /// The digest this payload refers to, if it is a reference.
    pub fn reference(&self) -> Option<Digest> {
        match self {
            Self::Ref { digest, .. } => Some(*digest),
            _ => None,
        }
    }

    /// A short human rendering (references shown by digest and size).
    pub fn display(&self) -> String {
        match self {
            Self::Text(text) => text.to_string(),
            Self::Hex(hex) => format!("0x{hex}"),
            Self::Ref { digest, len } => format!("<{len} bytes, blob {}>", &digest.hex()[..12]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_list_blobs_are_found_in_text_and_in_text_kept_by_reference() {
        let digest = Blob::digest(b"bytes");
        let token = format!("<blob:{}>", digest.hex());
        let text = format!("(ok({token}), \"<blob:zz>\", <blob:{}", digest.hex());
        assert_eq!(value_blob_references(&text).collect::<Vec<_>>(), [digest]);
        assert_eq!(
            Payload::Text(text.clone().into()).value_references(|_| None),
            [digest]
        );
        let mut blobs = Vec::new();
        let long = format!("({token}, \"{}\")", "x".repeat(INLINE_LIMIT));
        let by_reference = Payload::of_text(&long, &mut blobs);
        assert!(by_reference.reference().is_some());
        let find = |d: &Digest| {
            blobs
                .iter()
                .find(|b| b.digest == *d)
                .map(|b| b.bytes.clone())
        };
        assert_eq!(by_reference.value_references(find), [digest]);
        assert!(by_reference.value_references(|_| None).is_empty());
    }

    #[test]
    fn small_payloads_are_inline_and_large_ones_referenced() {
        let mut blobs = Vec::new();
        assert_eq!(
            Payload::of_text("hello", &mut blobs),
            Payload::Text("hello".into())
        );
        assert_eq!(
            Payload::of_bytes(&[0xff, 0], &mut blobs),
            Payload::Hex("ff00".into())
        );
        assert!(blobs.is_empty());
        let big = vec![b'x'; INLINE_LIMIT + 1];
        let payload = Payload::of_bytes(&big, &mut blobs);
        assert_eq!(blobs.len(), 1);
        assert_eq!(payload.reference(), Some(blobs[0].digest));
        let mut more = Vec::new();
        let same = Payload::of_string(String::from_utf8(big.clone()).unwrap(), &mut more);
        assert_eq!(
            (same, more),
            (payload.clone(), blobs.clone()),
            "owned and borrowed text record alike"
        );
        let found = payload.bytes(|d| {
            blobs
                .iter()
                .find(|b| b.digest == *d)
                .map(|b| b.bytes.clone())
        });
        assert_eq!(found, Some(big));
        assert_eq!(
            payload.bytes(|_| Some(b"wrong".to_vec())),
            None,
            "a damaged blob is not accepted"
        );
        // From a map of verified blobs: the length is still checked.
        assert_eq!(
            payload.bytes_hashed(|_| Some(b"short".to_vec())),
            None,
            "a blob of another length is not accepted"
        );
        assert_eq!(
            payload.bytes_hashed(|_| Some(blobs[0].bytes.clone())),
            Some(blobs[0].bytes.clone())
        );
        assert_eq!(
            Payload::Text("inline".into()).bytes_hashed(|_| None),
            Some(b"inline".to_vec())
        );
    }
}
