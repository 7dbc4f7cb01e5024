//! A Mother's identity: an Ed25519 key pair. The secret key file is created
//! once, with mode 0600, and the same key later becomes the Mother's libp2p
//! peer id. [`MotherId`] is the public half, as receipts name it.
//!
//! This module must never write the secret key anywhere but its own file, and
//! never accept a key file that others can read.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use patina_core::{hex32, hex64};

use crate::{ReceiptError, ReceiptId};

/// Domain label of receipt signatures.
const SIGNATURE_DOMAIN: &[u8] = b"patina-receipt-signature-v1\0";
/// Text prefix of a [`MotherId`].
const PREFIX: &str = "ed25519:";

/// The public key of a Mother, printed `ed25519:<64 hex digits>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MotherId([u8; 32]);

impl MotherId {
    /// Whether `signature` (hex) is this Mother's signature of `id`.
    pub fn verifies(&self, id: &ReceiptId, signature: &str) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        let mut bytes = [0u8; 64];
        if hex::decode_to_slice(signature, &mut bytes).is_err() {
            return false;
        }
        key.verify(&signed_message(id), &Signature::from_bytes(&bytes))
            .is_ok()
    }

    /// The raw public key.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for MotherId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(hex32(PREFIX, &self.0).as_str())
    }
}

impl fmt::Debug for MotherId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MotherId({self})")
    }
}

impl FromStr for MotherId {
    type Err = ReceiptError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ReceiptError::Malformed(format!(
                "`{s}` is not a Mother id (`ed25519:` + 64 hex digits)"
            ))
        };
        let digits = s.strip_prefix(PREFIX).ok_or_else(bad)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| bad())?;
        Ok(Self(bytes))
    }
}

impl serde::Serialize for MotherId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(hex32(PREFIX, &self.0).as_str())
    }
}

impl<'de> serde::Deserialize<'de> for MotherId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

fn signed_message(id: &ReceiptId) -> Vec<u8> {
    let mut message = SIGNATURE_DOMAIN.to_vec();
    message.extend_from_slice(&id.0.0);
    message
}

/// A Mother's signing key.
pub struct Identity {
    key: SigningKey,
}

impl Identity {
    /// The identity with this secret seed (tests and key import).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// A new random identity.
    pub fn generate() -> Result<Self, ReceiptError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| ReceiptError::Identity {
            path: "-".into(),
            reason: format!("no system randomness: {e}"),
        })?;
        Ok(Self::from_seed(seed))
    }

    /// Loads the identity at `path`, creating it (mode 0600) if it does not
    /// exist. Creation is atomic: the key is written to a private temporary
    /// file and moved into place only if no key is there yet, so two Mothers
    /// starting at once end up with the same key and a crash never leaves a
    /// half-written one.
    pub fn load_or_create(path: &Path) -> Result<Self, ReceiptError> {
        let err = |reason: String| ReceiptError::Identity {
            path: path.display().to_string(),
            reason,
        };
        if !path.exists() {
            let identity = Self::generate()?;
            match write_private_new(path, identity.key.as_bytes()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(err(e.to_string())),
            }
        }
        check_private(path).map_err(err)?;
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| err(format!("expected 32 bytes, found {}", bytes.len())))?;
        Ok(Self::from_seed(seed))
    }

    /// The public identity.
    pub fn id(&self) -> MotherId {
        MotherId(self.key.verifying_key().to_bytes())
    }

    /// The secret seed (to derive the libp2p key from the same identity).
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Signs a receipt id; the signature as hex.
    pub fn sign(&self, id: &ReceiptId) -> String {
        hex64(&self.key.sign(&signed_message(id)).to_bytes())
            .as_str()
            .to_owned()
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| e.to_string())?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "mode {:o} lets others read the secret key; run `chmod 600` on it",
            mode & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), String> {
    Ok(())
}

/// Writes `bytes` to a new file at `path` with mode 0600; `AlreadyExists` if
/// a file is already there (it is left untouched).
fn write_private_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // tempfile creates its files readable by the owner only.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map(drop).map_err(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Digest;

    #[test]
    fn signatures_verify_only_for_their_id_and_key() {
        let alice = Identity::from_seed([1; 32]);
        let bob = Identity::from_seed([2; 32]);
        let id = ReceiptId(Digest::of("test", b"x"));
        let other = ReceiptId(Digest::of("test", b"y"));
        let signature = alice.sign(&id);
        assert!(alice.id().verifies(&id, &signature));
        assert!(!alice.id().verifies(&other, &signature));
        assert!(!bob.id().verifies(&id, &signature));
        assert!(!alice.id().verifies(&id, "zz"));
        assert_eq!(
            alice.id().to_string().parse::<MotherId>().unwrap(),
            alice.id()
        );
    }

    #[test]
    fn mothers_starting_at_once_share_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity.key");
        let ids: Vec<MotherId> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| Identity::load_or_create(&path).unwrap().id()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity.key");
        let first = Identity::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(Identity::load_or_create(&path).unwrap().id(), first.id());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Identity::load_or_create(&path),
            Err(ReceiptError::Identity { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            Identity::load_or_create(&path),
            Err(ReceiptError::Identity { .. })
        ));
    }
}
