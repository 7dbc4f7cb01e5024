//! The serving side of `/patina/blob/0.1.0`: every accepted stream gets a
//! task that answers requests on it, one after the other, from the
//! embedder's [`BlobSource`], streaming each blob in chunks.
//!
//! How many streams a peer may hold is the stream budget's to bound (each
//! stream is one task). This module must never read a blob into memory that
//! its source did not already hold, never announce a blob over the asker's
//! cap, and never let a peer's frame panic it.

use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tracing::Instrument as _;

use super::codec::{self, Frame, MAX_CHUNK, MAX_REASON};
use super::{BlobBody, BlobSource, Body};
use crate::{BlobConfig, Digest, Incoming, NetStream};

/// Serves every stream `incoming` accepts until the node stops.
pub(super) async fn serve(mut incoming: Incoming, source: Arc<dyn BlobSource>, config: BlobConfig) {
    while let Some(stream) = incoming.next().await {
        let span = stream.span().clone();
        let source = Arc::clone(&source);
        let config = config.clone();
        tokio::spawn(
            async move {
                if let Err(error) = answer(stream, source.as_ref(), &config).await {
                    tracing::debug!(%error, "blob stream ended");
                }
            }
            .instrument(span),
        );
    }
}

/// Answers the requests on one stream until the asker closes it, goes
/// quiet for the idle timeout, or breaks the protocol.
async fn answer(
    mut stream: NetStream,
    source: &dyn BlobSource,
    config: &BlobConfig,
) -> Result<(), codec::WireError> {
    loop {
        let frame =
            match tokio::time::timeout(config.idle_timeout, codec::read_frame(&mut stream)).await {
                Err(_) | Ok(Ok(None)) => return Ok(()),
                Ok(result) => result?,
            };
        let Some(Frame::Want { digest, max_len }) = frame else {
            let refusal = Frame::Refused("expected a request".into());
            codec::write_frame(&mut stream, &refusal).await?;
            stream.shutdown().await?;
            return Ok(());
        };
        let digest = Digest(digest);
        tracing::debug!(%digest, "blob asked for");
        let found = source.blob(&stream.peer(), &digest).await;
        // The answer is written within the same deadline an asker of ours
        // gives a provider: an asker that stops reading (yamux's window
        // then stalls every write) holds this task and the blob no longer.
        let bound = match &found {
            Ok(Some(body)) if body.len() <= max_len => config.deadline_for(body.len()),
            _ => config.idle_timeout,
        };
        let written = tokio::time::timeout(bound, async {
            match found {
                Ok(None) => codec::write_frame(&mut stream, &Frame::Missing).await?,
                Ok(Some(body)) if body.len() > max_len => {
                    codec::write_frame(&mut stream, &Frame::TooLarge { len: body.len() }).await?;
                }
                Ok(Some(body)) => send(&mut stream, body, config.chunk_len).await?,
                Err(error) => {
                    let reason = if error.kind() == std::io::ErrorKind::PermissionDenied {
                        error.to_string()
                    } else {
                        format!("could not read the blob: {error}")
                    };
                    let reason = reason.chars().take(MAX_REASON / 4).collect();
                    codec::write_frame(&mut stream, &Frame::Refused(reason)).await?;
                }
            }
            stream.flush().await?;
            Ok::<(), codec::WireError>(())
        })
        .await;
        match written {
            Ok(result) => result?,
            Err(_) => {
                let message = format!("the asker took in less than the answer within {bound:?}");
                return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, message).into());
            }
        }
    }
}

/// `Have` then the blob's bytes in chunks. A reader that ends early fails
/// the stream (the asker sees it cut and tries another provider).
async fn send(
    stream: &mut NetStream,
    body: BlobBody,
    chunk_len: usize,
) -> Result<(), codec::WireError> {
    let len = body.len();
    codec::write_frame(stream, &Frame::Have { len }).await?;
    match body.kind {
        Body::Shared(bytes) => codec::write_chunks(stream, &bytes, chunk_len).await?,
        Body::Reader(mut reader) => {
            let mut buf = vec![0u8; chunk_len.clamp(1, MAX_CHUNK)];
            let mut left = len;
            while left > 0 {
                let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let got = reader.read(&mut buf[..want]).await?;
                if got == 0 {
                    return Err(codec::WireError::Truncated);
                }
                codec::write_chunks(stream, &buf[..got], got).await?;
                left -= got as u64;
            }
        }
    }
    Ok(())
}
