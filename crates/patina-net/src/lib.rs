//! `patina-net`: the libp2p floor of a Mother. One node per Mother, its key
//! made from the Mother's Ed25519 seed (the peer id *is* the Mother's key);
//! TCP and QUIC with Noise and Yamux; identify, ping, a private Kademlia DHT,
//! mDNS when asked; long-lived streams for named protocols (bounded per peer
//! and per protocol); content by blake3 digest (`/patina/blob/0.1.0`).
//!
//! [`NetHandle::start`] spawns the node's swarm task on the current tokio
//! runtime and returns a `Send + Clone` handle:
//!
//! ```no_run
//! # async fn demo(seed: [u8; 32], other: libp2p::Multiaddr) -> Result<(), patina_net::NetError> {
//! use patina_net::{NetConfig, NetHandle, StreamProtocol};
//! let net = NetHandle::start(&seed, NetConfig::loopback()).await?;
//! let peer = net.dial(other).await?;
//! let stream = net.open_stream(peer, StreamProtocol::new("/patina/membrane/0.1.0")).await?;
//! // `stream` is tokio (and futures) AsyncRead + AsyncWrite: run Cap'n Proto over it.
//! # drop(stream); net.shutdown().await; Ok(()) }
//! ```
//!
//! This crate knows nothing of wasm, children, receipts or policy, and must
//! never learn: what a stream carries, and whether a peer may do anything,
//! is decided above it (the membrane). It never panics on a peer's bytes.

mod admission;
mod behaviour;
pub mod blob;
mod config;
mod digest;
mod driver;
mod error;
mod handle;
mod identity;
mod listen;
mod stream;

pub use admission::Refusal;
pub use behaviour::{IDENTIFY_VERSION, KAD_PROTOCOL};
pub use blob::{BLOB_PROTOCOL, BlobBody, BlobSource, FetchError, MemoryBlobs, ProviderError};
pub use config::{BlobConfig, DhtConfig, Limits, NetConfig};
pub use digest::Digest;
pub use error::NetError;
pub use handle::{NetHandle, PeerEvent, PeerInfo};
pub use identity::{
    ed25519_to_peer_id, keypair_from_seed, peer_id_from_seed, peer_id_to_ed25519, peer_in,
    with_peer,
};
pub use stream::{Direction, Incoming, NetStream};

pub use libp2p::{Multiaddr, PeerId, StreamProtocol};
