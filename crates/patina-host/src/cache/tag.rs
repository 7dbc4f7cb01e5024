//! The tag file (`<child-hex>.tag`) beside each keyed compiled artifact: a
//! keyed blake3 tag of the artifact's bytes (bound to the child id) and the
//! identity of the file the tag was last checked on (device, inode, size,
//! modification and change times), itself under a keyed tag.
//!
//! A load whose `fstat` matches the recorded identity trusts the bytes without
//! reading them: the file is the one whose bytes were checked, unchanged (a
//! write moves its modification and change times; a replacement is another
//! inode; the change time cannot be set back without root). Any other
//! identity costs one full read and a check of the content tag, then the tag
//! file is rewritten for the new identity. This module must never accept a
//! tag file whose tags do not check out under the key, and never accept a
//! content tag made for another child id.

use std::fs::Metadata;

use patina_core::ChildId;

/// First bytes of a tag file (with its format version).
const MAGIC: &[u8; 16] = b"patina-artag-v1\n";
/// Domain of the content tag.
const CONTENT_DOMAIN: &[u8] = b"patina artifact content v1\0";
/// Domain of the identity tag.
const IDENTITY_DOMAIN: &[u8] = b"patina artifact identity v1\0";
/// Length of a tag file.
pub(super) const TAG_FILE_LEN: usize = MAGIC.len() + 32 + 1 + IDENTITY_LEN + 32;
const IDENTITY_LEN: usize = 7 * 8;

/// Which file a tag was checked on: what `fstat` says of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FileIdentity([i64; 7]);

impl FileIdentity {
    /// The identity of the file `meta` describes.
    #[cfg(unix)]
    pub(super) fn of(meta: &Metadata) -> Self {
        use std::os::unix::fs::MetadataExt as _;
        // Bit patterns: only equality matters.
        Self([
            meta.dev() as i64,
            meta.ino() as i64,
            meta.size() as i64,
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec(),
        ])
    }

    /// Without `fstat` identities no file is ever recognised: every load
    /// reads and checks the whole artifact.
    #[cfg(not(unix))]
    pub(super) fn of(_meta: &Metadata) -> Self {
        Self([-1; 7])
    }

    fn bytes(&self) -> [u8; IDENTITY_LEN] {
        let mut out = [0; IDENTITY_LEN];
        for (chunk, value) in out.chunks_exact_mut(8).zip(self.0) {
            chunk.copy_from_slice(&value.to_le_bytes());
        }
        out
    }
}

/// A parsed tag file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TagFile {
    /// Keyed tag of the child id and the artifact bytes.
    pub content: blake3::Hash,
    /// The file the content tag was last checked on, if any.
    pub identity: Option<FileIdentity>,
}

/// The content tag of artifact `bytes` of child `id`.
pub(super) fn content_tag(key: &[u8; 32], id: &ChildId, bytes: &[u8]) -> blake3::Hash {
    blake3::Hasher::new_keyed(key)
        .update(CONTENT_DOMAIN)
        .update(id.hex().as_bytes())
        .update(bytes)
        .finalize()
}

fn identity_tag(
    key: &[u8; 32],
    id: &ChildId,
    content: &blake3::Hash,
    identity: &[u8; IDENTITY_LEN],
) -> blake3::Hash {
    blake3::Hasher::new_keyed(key)
        .update(IDENTITY_DOMAIN)
        .update(id.hex().as_bytes())
        .update(content.as_bytes())
        .update(identity)
        .finalize()
}

impl TagFile {
    /// The bytes of this tag file for child `id` under `key`.
    pub(super) fn encode(&self, key: &[u8; 32], id: &ChildId) -> Vec<u8> {
        let mut out = Vec::with_capacity(TAG_FILE_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(self.content.as_bytes());
        let identity = self
            .identity
            .map(|i| i.bytes())
            .unwrap_or([0; IDENTITY_LEN]);
        out.push(u8::from(self.identity.is_some()));
        out.extend_from_slice(&identity);
        out.extend_from_slice(identity_tag(key, id, &self.content, &identity).as_bytes());
        out
    }

    /// Parses `bytes` of child `id`'s tag file; `None` unless it is well
    /// formed and its identity tag checks out under `key` (the content tag
    /// can only be checked against the artifact's bytes).
    pub(super) fn decode(key: &[u8; 32], id: &ChildId, bytes: &[u8]) -> Option<Self> {
        if bytes.len() != TAG_FILE_LEN {
            return None;
        }
        let rest = bytes.strip_prefix(MAGIC.as_slice())?;
        let (content, rest) = rest.split_at(32);
        let content = blake3::Hash::from_bytes(content.try_into().ok()?);
        let (&has_identity, rest) = rest.split_first()?;
        let (identity, tag) = rest.split_at(IDENTITY_LEN);
        let identity: [u8; IDENTITY_LEN] = identity.try_into().ok()?;
        let tag = blake3::Hash::from_bytes(tag.try_into().ok()?);
        // `blake3::Hash` compares in constant time.
        if identity_tag(key, id, &content, &identity) != tag {
            return None;
        }
        let identity = match has_identity {
            0 => None,
            1 => {
                let mut values = [0i64; 7];
                for (value, chunk) in values.iter_mut().zip(identity.chunks_exact(8)) {
                    *value = i64::from_le_bytes(chunk.try_into().ok()?);
                }
                Some(FileIdentity(values))
            }
            _ => return None,
        };
        Some(Self { content, identity })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_file_round_trips_and_refuses_another_key_id_or_edit() {
        let (key, other_key) = ([7u8; 32], [8u8; 32]);
        let (id, other_id) = (ChildId::of(b"a"), ChildId::of(b"b"));
        let tag = TagFile {
            content: content_tag(&key, &id, b"artifact"),
            identity: Some(FileIdentity([1, 2, 3, 4, 5, 6, 7])),
        };
        let bytes = tag.encode(&key, &id);
        assert_eq!(bytes.len(), TAG_FILE_LEN);
        assert_eq!(TagFile::decode(&key, &id, &bytes), Some(tag.clone()));
        assert_eq!(TagFile::decode(&other_key, &id, &bytes), None, "other key");
        assert_eq!(TagFile::decode(&key, &other_id, &bytes), None, "other id");
        for at in [MAGIC.len(), MAGIC.len() + 33, TAG_FILE_LEN - 1] {
            let mut edited = bytes.clone();
            edited[at] ^= 1;
            assert_eq!(
                TagFile::decode(&key, &id, &edited),
                None,
                "byte {at} edited"
            );
        }
        assert_eq!(TagFile::decode(&key, &id, &bytes[1..]), None, "short");
        // The content tag binds the id: the same bytes under another child's
        // name do not check out.
        assert_ne!(
            content_tag(&key, &id, b"artifact"),
            content_tag(&key, &other_id, b"artifact")
        );
        let untouched = TagFile {
            identity: None,
            ..tag
        };
        assert_eq!(
            TagFile::decode(&key, &id, &untouched.encode(&key, &id)),
            Some(untouched)
        );
    }
}
