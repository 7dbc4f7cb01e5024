//! Content by digest (`/patina/blob/0.1.0`): a node answers requests for
//! bytes by blake3 digest from the [`BlobSource`] its embedder supplies, and
//! fetches bytes from providers — found on the DHT or given — in chunks,
//! refusing a blob over the configured cap and verifying the digest before
//! anything is returned. A provider that fails or serves other bytes is
//! passed over for the next one; the error names what each one did.
//!
//! The wire format lives in [`codec`] alone. This module must never return
//! bytes whose digest it has not checked, never buffer more than the cap,
//! and never let a peer's bytes panic it.

pub mod codec;
mod fetch;
mod serve;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use libp2p::{PeerId, StreamProtocol};
use tokio::io::AsyncRead;

pub use codec::{MAX_CHUNK, WireError};
pub use fetch::{Attempt, FetchError, ProviderError};

use crate::{Digest, NetError, NetHandle};

/// The protocol of content by digest.
pub const BLOB_PROTOCOL: StreamProtocol = StreamProtocol::new("/patina/blob/0.1.0");

/// The bytes of one blob as a source hands them over: all in memory, or a
/// reader of a known length (a file).
pub struct BlobBody {
    len: u64,
    kind: Body,
}

enum Body {
    Shared(Arc<[u8]>),
    Reader(Pin<Box<dyn AsyncRead + Send>>),
}

impl BlobBody {
    /// Bytes held in memory.
    pub fn shared(bytes: Arc<[u8]>) -> Self {
        Self {
            len: bytes.len() as u64,
            kind: Body::Shared(bytes),
        }
    }

    /// `len` bytes to be read from `reader` (a reader that ends early, or
    /// fails, aborts the answer; the asker sees a truncated stream).
    pub fn reader(len: u64, reader: impl AsyncRead + Send + 'static) -> Self {
        Self {
            len,
            kind: Body::Reader(Box::pin(reader)),
        }
    }

    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Where a node's served blobs come from (a Mother supplies its child store).
/// The bytes need not match the digest: the asker checks, this layer does not
/// trust its own source either.
///
/// The source is told who asks (the peer Noise authenticated), so the layer
/// above can decide whether that peer may have the bytes: this crate decides
/// nothing. A refusal is an error of kind
/// [`std::io::ErrorKind::PermissionDenied`]; the asker gets its text as the
/// reason (`Refused`), any other error as "could not read the blob".
#[async_trait::async_trait]
pub trait BlobSource: Send + Sync + 'static {
    /// The blob with this digest for `asker`, `None` if there is none.
    async fn blob(&self, asker: &PeerId, digest: &Digest) -> std::io::Result<Option<BlobBody>>;
}

/// A [`BlobSource`] in memory, keyed by the digest of what is inserted.
#[derive(Clone, Default)]
pub struct MemoryBlobs {
    blobs: Arc<RwLock<HashMap<Digest, Arc<[u8]>>>>,
}

impl MemoryBlobs {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `bytes`; answers their digest.
    pub fn insert(&self, bytes: impl Into<Arc<[u8]>>) -> Digest {
        let bytes = bytes.into();
        let digest = Digest::of(&bytes);
        self.blobs
            .write()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(digest, bytes);
        digest
    }
}

#[async_trait::async_trait]
impl BlobSource for MemoryBlobs {
    async fn blob(&self, _asker: &PeerId, digest: &Digest) -> std::io::Result<Option<BlobBody>> {
        let blobs = self
            .blobs
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        Ok(blobs.get(digest).cloned().map(BlobBody::shared))
    }
}

impl NetHandle {
    /// Answers `/patina/blob/0.1.0` from `source` from now on, until the node
    /// stops. Once per node.
    pub fn serve_blobs(&self, source: Arc<dyn BlobSource>) -> Result<(), NetError> {
        let incoming = self.accept(BLOB_PROTOCOL)?;
        let config = self.config().blob.clone();
        self.runtime().spawn(serve::serve(incoming, source, config));
        Ok(())
    }

    /// The blob with this digest, from providers found on the DHT.
    pub async fn fetch_blob(&self, digest: Digest) -> Result<Vec<u8>, FetchError> {
        let wanted = self.config().dht.providers_wanted;
        let providers = self
            .find_providers(digest, wanted)
            .await
            .map_err(|error| FetchError::Lookup { digest, error })?;
        self.fetch_blob_from(digest, &providers).await
    }

    /// The blob with this digest, from `providers` tried in order until one
    /// serves bytes with that digest.
    pub async fn fetch_blob_from(
        &self,
        digest: Digest,
        providers: &[PeerId],
    ) -> Result<Vec<u8>, FetchError> {
        fetch::from_providers(self, digest, providers).await
    }
}
