//! The asking side of `/patina/blob/0.1.0`: one provider at a time, in
//! order, until one serves bytes whose blake3 digest is the one asked for.
//!
//! Bytes are gathered in memory up to the announced length (never past the
//! cap) and returned only after the digest matches. This module must never
//! trust a provider's length, chunk count or bytes.

use std::fmt;
use std::time::Duration;

use libp2p::PeerId;
use tokio::io::AsyncWriteExt as _;
use tracing::Instrument as _;

use super::BLOB_PROTOCOL;
use super::codec::{self, Frame, WireError};
use crate::{Digest, NetError, NetHandle};

/// What one provider did instead of serving the blob.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// No stream could be opened to it.
    #[error("unreachable: {0}")]
    Unreachable(NetError),
    /// It has no such blob.
    #[error("does not have it")]
    Missing,
    /// The blob is larger than this node takes.
    #[error("has it, {len} bytes, over the cap of {cap}")]
    TooLarge {
        /// The length it announced.
        len: u64,
        /// This node's cap.
        cap: u64,
    },
    /// It served bytes with another digest.
    #[error("served other bytes ({got})")]
    WrongBytes {
        /// The digest of what it served.
        got: Digest,
    },
    /// It sent more bytes than it announced.
    #[error("sent more than the {len} bytes it announced")]
    Overrun {
        /// What it announced.
        len: u64,
    },
    /// It refused, with its reason.
    #[error("refused: {0}")]
    Refused(String),
    /// It broke the protocol (a malformed or unexpected frame, a cut stream).
    #[error("broke the protocol: {0}")]
    Protocol(String),
    /// It sent nothing for too long.
    #[error("stalled for {0:?}")]
    Stalled(Duration),
    /// It served too slowly: the whole blob was not there by its deadline.
    #[error(
        "served {got} of {len} bytes by the deadline of {after:?} (at least {min_rate} bytes a second)"
    )]
    TooSlow {
        /// Bytes received.
        got: u64,
        /// Bytes announced.
        len: u64,
        /// The deadline, from the announcement.
        after: Duration,
        /// The slowest rate admitted.
        min_rate: u64,
    },
}

impl From<WireError> for ProviderError {
    fn from(error: WireError) -> Self {
        Self::Protocol(error.to_string())
    }
}

/// One provider tried, and what it did.
#[derive(Debug)]
pub struct Attempt {
    /// The provider.
    pub peer: PeerId,
    /// What it did.
    pub error: ProviderError,
}

/// Why a fetch returned no bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The DHT lookup of providers failed.
    #[error("finding providers of {digest}: {error}")]
    Lookup {
        /// The digest.
        digest: Digest,
        /// Why.
        error: NetError,
    },
    /// Nobody provides it.
    #[error("no provider of {digest}")]
    NoProviders {
        /// The digest.
        digest: Digest,
    },
    /// Every provider failed; each attempt says how.
    #[error("no provider served {digest}: {}", Attempts(.attempts))]
    AllFailed {
        /// The digest.
        digest: Digest,
        /// Each provider tried, in order.
        attempts: Vec<Attempt>,
    },
}

impl FetchError {
    /// A stable, short name of the error's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Lookup { .. } => "blob-lookup",
            Self::NoProviders { .. } => "no-providers",
            Self::AllFailed { .. } => "blob-fetch-failed",
        }
    }
}

struct Attempts<'a>(&'a [Attempt]);

impl fmt::Display for Attempts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, attempt) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            write!(f, "{sep}{} {}", attempt.peer, attempt.error)?;
        }
        Ok(())
    }
}

pub(super) async fn from_providers(
    net: &NetHandle,
    digest: Digest,
    providers: &[PeerId],
) -> Result<Vec<u8>, FetchError> {
    if providers.is_empty() {
        return Err(FetchError::NoProviders { digest });
    }
    let mut attempts = Vec::new();
    for &peer in providers {
        let span = tracing::debug_span!("fetch_blob", %peer, %digest);
        match from_one(net, peer, digest).instrument(span.clone()).await {
            Ok(bytes) => return Ok(bytes),
            Err(error) => {
                span.in_scope(|| tracing::debug!(%error, "provider failed"));
                attempts.push(Attempt { peer, error });
            }
        }
    }
    Err(FetchError::AllFailed { digest, attempts })
}

/// The most reserved before any chunk has come.
const PREALLOCATE: u64 = 4 << 20;

/// Fetches from one provider; the bytes only if their digest is `digest`.
async fn from_one(net: &NetHandle, peer: PeerId, digest: Digest) -> Result<Vec<u8>, ProviderError> {
    let config = &net.config().blob;
    let (cap, idle, min_rate) = (config.max_len, config.idle_timeout, config.min_rate.max(1));
    let mut stream = net
        .open_stream(peer, BLOB_PROTOCOL)
        .await
        .map_err(ProviderError::Unreachable)?;
    let want = Frame::Want {
        digest: digest.0,
        max_len: cap,
    };
    codec::write_frame(&mut stream, &want)
        .await
        .map_err(WireError::from)?;
    stream.flush().await.map_err(WireError::from)?;

    let len = match next(&mut stream, idle).await? {
        Frame::Have { len } if len > cap => return Err(ProviderError::TooLarge { len, cap }),
        Frame::Have { len } => len,
        Frame::TooLarge { len } => return Err(ProviderError::TooLarge { len, cap }),
        Frame::Missing => return Err(ProviderError::Missing),
        Frame::Refused(reason) => return Err(ProviderError::Refused(reason)),
        other => return Err(unexpected(&other)),
    };
    // Grown as chunks come: a peer that announces the cap and sends nothing
    // gets no cap-sized allocation.
    let reserve = len.min(PREALLOCATE);
    let mut bytes = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
    let mut hasher = blake3::Hasher::new();
    let after = config.deadline_for(len);
    let deadline = tokio::time::Instant::now() + after;
    while (bytes.len() as u64) < len {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let too_slow = || ProviderError::TooSlow {
            got: bytes.len() as u64,
            len,
            after,
            min_rate,
        };
        if left.is_zero() {
            return Err(too_slow());
        }
        let frame = match next(&mut stream, idle.min(left)).await {
            Err(ProviderError::Stalled(_)) if left < idle => return Err(too_slow()),
            other => other?,
        };
        match frame {
            Frame::Chunk(chunk) => {
                if (bytes.len() + chunk.len()) as u64 > len {
                    return Err(ProviderError::Overrun { len });
                }
                hasher.update(&chunk);
                bytes.extend_from_slice(&chunk);
            }
            other => return Err(unexpected(&other)),
        }
    }
    let got = Digest::from(hasher.finalize());
    if got != digest {
        return Err(ProviderError::WrongBytes { got });
    }
    Ok(bytes)
}

/// The next frame, within `idle`; a clean end here is a cut answer.
async fn next(stream: &mut crate::NetStream, idle: Duration) -> Result<Frame, ProviderError> {
    match tokio::time::timeout(idle, codec::read_frame(stream)).await {
        Err(_) => Err(ProviderError::Stalled(idle)),
        Ok(Ok(Some(frame))) => Ok(frame),
        Ok(Ok(None)) => Err(WireError::Truncated.into()),
        Ok(Err(error)) => Err(error.into()),
    }
}

fn unexpected(frame: &Frame) -> ProviderError {
    let name = match frame {
        Frame::Want { .. } => "a request",
        Frame::Have { .. } => "a second header",
        Frame::Chunk(_) => "a chunk before its header",
        Frame::Missing => "`missing` mid-answer",
        Frame::TooLarge { .. } => "`too large` mid-answer",
        Frame::Refused(_) => "`refused` mid-answer",
    };
    ProviderError::Protocol(format!("unexpected frame: {name}"))
}
