//! `patina-peer`: a Mother on the network. Mothers find each other over
//! libp2p (`patina-net`) and run children on each other: the same child
//! bytes run on a peer, under the peer's own policy, and come back with the
//! peer's signed receipt, which the caller verifies and can replay locally.
//! No central broker.
//!
//! - **Identity.** A Mother's Ed25519 key *is* its peer id: one key signs
//!   its receipts and authenticates its connections (Noise), so a receipt's
//!   signer is checked against the peer that answered.
//! - **The membrane over libp2p.** `/patina/membrane/0.1.0` carries one
//!   Cap'n Proto session per peer on one long-lived stream. Inbound
//!   sessions are served as the peer's key
//!   ([`patina_membrane::MembraneServer::serve_as`], door `peer`): the
//!   policy decides what each peer key gets; a peer it does not name gets
//!   nothing. Outbound, one session per peer is kept and reused.
//! - **Children move by content** (`/patina/blob/0.1.0`): a Mother asked to
//!   run a child it lacks fetches it from the asking peer or from a DHT
//!   provider, verified by its blake3 id before it is stored, within a size
//!   cap. Whether a caller may have a child fetched is the membrane's
//!   decision; the fetching is this crate's. A Mother provides the ids of
//!   the children it holds.
//!
//! ```no_run
//! # async fn demo(server: patina_membrane::MembraneServer, spec: patina_mother::RunSpec) -> Result<(), patina_peer::PeerError> {
//! use patina_peer::{PeerConfig, PeerNode, PeerTarget};
//! let node = PeerNode::start(server, PeerConfig::loopback()).await?;
//! let other: PeerTarget = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…".parse()?;
//! let ran = node.run_on(&other, spec).await?;        // the peer's receipt, verified and kept
//! # Ok(()) }
//! ```
//!
//! Nothing below this crate depends on it. It must never decide what a
//! caller may do (the membrane does), keep a receipt it could not verify as
//! the answering peer's, or store or run bytes whose digest it has not
//! checked.

mod blobs;
mod config;
mod error;
mod fetch;
mod hook;
mod inbound;
mod node;
mod provide;
mod remote;
mod sessions;
mod target;

pub use config::PeerConfig;
pub use error::PeerError;
pub use inbound::MEMBRANE_PROTOCOL;
pub use node::PeerNode;
pub use remote::PeerRun;
pub use target::PeerTarget;
