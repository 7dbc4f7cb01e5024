//! `patina-membrane`: the one door into a running Mother. Cap'n Proto RPC
//! (`capnp/membrane.capnp`) over any byte stream — a Unix socket, a libp2p
//! stream, an in-process pipe: the same code.
//!
//! A connection's bootstrap is a Terminal; a caller logs in with its
//! Ed25519 key (challenge–response, [`login`]) and gets a Membrane
//! attenuated by the Mother's [`policy`]; `graft()` gives the Runtime,
//! Receipts and Epoch capabilities its role allows. A transport that proved
//! the caller's key itself (a libp2p peer) gets the Membrane without a login
//! ([`MembraneServer::serve_as`]); the doors in the Mother's own process
//! (the HTTP bridge, MCP) hold an [`Access`] for a bearer token
//! ([`TokenStore`]) or a role the home's owner chose. Every capability is
//! issued under the [`EpochGuard`]'s epoch and goes stale when it advances.
//! A Mother on a network of peers has a [`Network`] attached (`patina-peer`):
//! it fetches children by id for the callers whose role may have them
//! stored, and carries the `network.*` methods; the membrane decides both.
//!
//! This crate is the only place a caller's authority is decided, in
//! [`Access`]: the Mother below it trusts whatever reaches it, the doors
//! above it (the CLI's `--connect`, peers, HTTP, MCP) only translate. Every
//! run's receipt names its caller ([`Principal`]) in its header.
//!
//! ```no_run
//! # async fn demo(mother: patina_mother::Mother, seed: [u8; 32]) -> Result<(), Box<dyn std::error::Error>> {
//! use patina_membrane::{Connection, MembraneServer, Policy, ServeConfig, EpochGuard};
//! let server = MembraneServer::new(mother, Policy::default(), EpochGuard::new(1), ServeConfig::default());
//! let (a, b) = tokio::io::duplex(1 << 16);
//! let local = tokio::task::LocalSet::new();
//! local.spawn_local(server.serve(a));
//! let session = local.run_until(Connection::open(b).login(&seed)).await?;
//! # Ok(()) }
//! ```

mod access;
mod ceiling;
mod client;
mod epoch;
mod error;
mod handle;
pub mod login;
mod network;
pub mod policy;
mod principal;
mod server;
mod shared;
mod tokens;
mod unix;

/// The code `capnp compile` generates from `capnp/membrane.capnp`
/// (committed; `cargo xtask capnp` regenerates it).
#[allow(missing_docs, clippy::all, clippy::pedantic, unused_qualifications)]
#[rustfmt::skip]
pub mod membrane_capnp;

pub use access::{Access, MAX_LISTED_RECEIPTS, Metrics};
pub use ceiling::Ceiling;
pub use client::{
    Challenge, Connection, LoginRequest, RemoteReplay, RemoteRun, Session, status_kind,
};
pub use epoch::{EpochGuard, read_epoch, write_epoch};
pub use error::{MembraneError, RemoteError};
pub use handle::SessionHandle;
pub use network::{Network, NetworkFuture, NetworkInfo, PeerSummary};
pub use policy::{CallerKey, Policy, PolicyError, Role};
pub use principal::Principal;
pub use server::{MembraneServer, ServeConfig};
pub use tokens::{TOKEN_PREFIX, TokenError, TokenInfo, TokenStore};
pub use unix::{HomeLock, SocketThread, bind, serve_unix};

/// A child's description as the membrane sends it and `mother inspect
/// --json` prints it: `{child, size, command, imports (each with how this
/// Mother serves it), exports, wit}`.
pub fn describe_json(inspection: &patina_mother::Inspection) -> serde_json::Value {
    let imports: Vec<serde_json::Value> = inspection
        .description
        .imports
        .iter()
        .zip(&inspection.statuses)
        .map(|(item, status)| {
            let mut value = serde_json::to_value(item).unwrap_or_default();
            if let (Some(object), Ok(serde_json::Value::Object(extra))) =
                (value.as_object_mut(), serde_json::to_value(status))
            {
                object.extend(extra);
            }
            value
        })
        .collect();
    serde_json::json!({
        "child": inspection.child.id(),
        "size": inspection.size,
        "command": inspection.child.is_command(),
        "imports": imports,
        "exports": inspection.description.exports,
        "wit": inspection.description.wit,
    })
}

/// The two halves of `stream` as the RPC system reads and writes them,
/// each buffered: a Cap'n Proto frame goes out in one write (its segment
/// table and segments are separate writes otherwise, each a syscall on a
/// socket and a wake-up of the reader) and comes in with as few reads.
/// The write queue flushes after every frame, so nothing waits in a buffer.
pub(crate) fn buffered<S>(stream: S) -> (FrameReader<S>, FrameWriter<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite,
{
    use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
    let (reader, writer) = tokio::io::split(stream);
    (
        tokio::io::BufReader::with_capacity(FRAME_BUFFER, reader).compat(),
        tokio::io::BufWriter::with_capacity(FRAME_BUFFER, writer).compat_write(),
    )
}

/// The reading half of a connection, buffered.
pub(crate) type FrameReader<S> =
    tokio_util::compat::Compat<tokio::io::BufReader<tokio::io::ReadHalf<S>>>;
/// The writing half of a connection, buffered.
pub(crate) type FrameWriter<S> =
    tokio_util::compat::Compat<tokio::io::BufWriter<tokio::io::WriteHalf<S>>>;

/// The buffer of each direction of a connection, in bytes: a run's answer
/// with its receipt fits in one.
const FRAME_BUFFER: usize = 16 << 10;

/// Decodes one frame (a Cap'n Proto message as the RPC layer reads it) with
/// the membrane's bounds and walks all of it: what a peer's bytes go
/// through before any method sees them. For tests and fuzzing; never panics.
pub fn decode_frame(mut bytes: &[u8]) -> Result<u64, capnp::Error> {
    let options = ServeConfig::default().reader_options();
    let message = capnp::serialize::read_message(&mut bytes, options)?;
    let root: capnp_rpc::rpc_capnp::message::Reader<'_> = message.get_root()?;
    let size = root.total_size()?;
    // Walk the RPC message as far as its fields go.
    if let Ok(capnp_rpc::rpc_capnp::message::Which::Call(call)) = root.which() {
        let call = call?;
        let _ = call.get_params()?.get_content().target_size()?;
    }
    Ok(size.word_count)
}
