//! The wire format of `/patina/blob/0.1.0`, and nothing else: a frame is a
//! one-byte tag, a big-endian `u32` payload length and the payload.
//!
//! | tag | frame | payload |
//! |---|---|---|
//! | 1 | `Want` (asker) | 32-byte digest, `u64` largest length the asker takes |
//! | 2 | `Have` (server) | `u64` length of the blob; `Chunk`s follow |
//! | 3 | `Chunk` (server) | 1 ..= [`MAX_CHUNK`] bytes of the blob |
//! | 4 | `Missing` (server) | empty: the server has no such blob |
//! | 5 | `TooLarge` (server) | `u64` length of the blob, over the asker's cap |
//! | 6 | `Refused` (server) | UTF-8 reason, at most [`MAX_REASON`] bytes |
//!
//! Every length is checked against its tag's bound *before* anything is
//! allocated or read. A peer's bytes must never panic this module, nor make
//! it allocate more than one chunk; a malformed frame is a [`WireError`].

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// The largest chunk payload on the wire (1 MiB).
pub const MAX_CHUNK: usize = 1 << 20;
/// The longest reason in a `Refused` frame.
pub const MAX_REASON: usize = 512;

const WANT: u8 = 1;
const HAVE: u8 = 2;
const CHUNK: u8 = 3;
const MISSING: u8 = 4;
const TOO_LARGE: u8 = 5;
const REFUSED: u8 = 6;

/// One frame of the blob protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Asks for the blob with this digest, if it is at most `max_len` bytes.
    Want {
        /// The blake3 digest of the blob.
        digest: [u8; 32],
        /// The largest blob the asker takes.
        max_len: u64,
    },
    /// The blob is `len` bytes; chunks follow.
    Have {
        /// Its length.
        len: u64,
    },
    /// Some bytes of the blob.
    Chunk(Vec<u8>),
    /// No such blob here.
    Missing,
    /// The blob is `len` bytes, more than the asker takes.
    TooLarge {
        /// Its length.
        len: u64,
    },
    /// The server could not serve it.
    Refused(String),
}

/// A frame that breaks the format (or the stream under it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// A tag no frame has.
    #[error("unknown frame tag {0}")]
    UnknownTag(u8),
    /// A payload length outside its tag's bound.
    #[error("frame tag {tag} with a {len}-byte payload")]
    BadLength {
        /// The tag.
        tag: u8,
        /// The length read.
        len: u32,
    },
    /// A `Refused` reason that is not UTF-8.
    #[error("a reason that is not UTF-8")]
    BadText,
    /// The stream ended inside a frame.
    #[error("the stream ended inside a frame")]
    Truncated,
    /// The stream failed.
    #[error("stream: {0}")]
    Io(#[from] std::io::Error),
}

/// Whether `len` is an allowed payload length for `tag`.
fn admits(tag: u8, len: usize) -> Result<bool, WireError> {
    Ok(match tag {
        WANT => len == 40,
        HAVE | TOO_LARGE => len == 8,
        CHUNK => (1..=MAX_CHUNK).contains(&len),
        MISSING => len == 0,
        REFUSED => len <= MAX_REASON,
        other => return Err(WireError::UnknownTag(other)),
    })
}

fn u64_of(bytes: &[u8]) -> u64 {
    let mut be = [0u8; 8];
    be.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(be)
}

/// Decodes one payload (its length checked again: slicing below relies on it).
fn decode(tag: u8, payload: Vec<u8>) -> Result<Frame, WireError> {
    if !admits(tag, payload.len())? {
        let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        return Err(WireError::BadLength { tag, len });
    }
    Ok(match tag {
        WANT => {
            let mut digest = [0u8; 32];
            digest.copy_from_slice(&payload[..32]);
            Frame::Want {
                digest,
                max_len: u64_of(&payload[32..]),
            }
        }
        HAVE => Frame::Have {
            len: u64_of(&payload),
        },
        TOO_LARGE => Frame::TooLarge {
            len: u64_of(&payload),
        },
        CHUNK => Frame::Chunk(payload),
        MISSING => Frame::Missing,
        REFUSED => Frame::Refused(String::from_utf8(payload).map_err(|_| WireError::BadText)?),
        other => return Err(WireError::UnknownTag(other)),
    })
}

/// Reads one frame; `None` when the stream ends cleanly between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Option<Frame>, WireError> {
    let mut head = [0u8; 5];
    let first = reader.read(&mut head[..1]).await?;
    if first == 0 {
        return Ok(None);
    }
    read_exact(reader, &mut head[1..]).await?;
    let tag = head[0];
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    let size = usize::try_from(len).map_err(|_| WireError::BadLength { tag, len })?;
    if !admits(tag, size)? {
        return Err(WireError::BadLength { tag, len });
    }
    let mut payload = vec![0u8; size];
    read_exact(reader, &mut payload).await?;
    decode(tag, payload).map(Some)
}

async fn read_exact<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8]) -> Result<(), WireError> {
    match reader.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(WireError::Truncated),
        Err(e) => Err(WireError::Io(e)),
    }
}

/// The head of a frame: tag and payload length.
fn head(tag: u8, len: usize) -> [u8; 5] {
    // Every payload written here is bounded far below 4 GiB.
    let len = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    [tag, len[0], len[1], len[2], len[3]]
}

/// The bytes of `frame` on the wire.
pub fn encode(frame: &Frame) -> Vec<u8> {
    let (tag, payload): (u8, Vec<u8>) = match frame {
        Frame::Want { digest, max_len } => {
            let mut p = digest.to_vec();
            p.extend_from_slice(&max_len.to_be_bytes());
            (WANT, p)
        }
        Frame::Have { len } => (HAVE, len.to_be_bytes().to_vec()),
        Frame::TooLarge { len } => (TOO_LARGE, len.to_be_bytes().to_vec()),
        Frame::Chunk(bytes) => (CHUNK, bytes.clone()),
        Frame::Missing => (MISSING, Vec::new()),
        Frame::Refused(reason) => (REFUSED, bounded_reason(reason).as_bytes().to_vec()),
    };
    let mut out = head(tag, payload.len()).to_vec();
    out.extend_from_slice(&payload);
    out
}

/// `reason` cut to at most [`MAX_REASON`] bytes, on a character boundary.
fn bounded_reason(reason: &str) -> &str {
    let mut end = reason.len().min(MAX_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// Writes one frame (a `Chunk` over [`MAX_CHUNK`] must be split by the caller:
/// use [`write_chunk`]).
pub async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    frame: &Frame,
) -> std::io::Result<()> {
    writer.write_all(&encode(frame)).await
}

/// Writes `bytes` as `Chunk` frames of at most `chunk_len` (≤ [`MAX_CHUNK`])
/// bytes each, without copying them into frames.
pub async fn write_chunks<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    chunk_len: usize,
) -> std::io::Result<()> {
    for chunk in bytes.chunks(chunk_len.clamp(1, MAX_CHUNK)) {
        writer.write_all(&head(CHUNK, chunk.len())).await?;
        writer.write_all(chunk).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64*), so failures replay.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next() as u8).collect()
        }
    }

    fn frames(rng: &mut Rng) -> Frame {
        match rng.below(6) {
            0 => Frame::Want {
                digest: rng.bytes(32).try_into().unwrap(),
                max_len: rng.next(),
            },
            1 => Frame::Have { len: rng.next() },
            2 => {
                let len = 1 + rng.below(300) as usize;
                Frame::Chunk(rng.bytes(len))
            }
            3 => Frame::Missing,
            4 => Frame::TooLarge { len: rng.next() },
            _ => Frame::Refused("no ✓ room".repeat(rng.below(5) as usize)),
        }
    }

    async fn read_all(mut bytes: &[u8]) -> Result<Vec<Frame>, WireError> {
        let mut out = Vec::new();
        while let Some(frame) = read_frame(&mut bytes).await? {
            out.push(frame);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn every_frame_round_trips() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let sent: Vec<Frame> = (0..500).map(|_| frames(&mut rng)).collect();
        let wire: Vec<u8> = sent.iter().flat_map(encode).collect();
        assert_eq!(read_all(&wire).await.unwrap(), sent);
    }

    #[tokio::test]
    async fn random_bytes_never_panic_and_never_allocate_past_a_chunk() {
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        let mut errors = 0;
        for _ in 0..5_000 {
            let len = rng.below(64) as usize;
            let mut bytes = rng.bytes(len);
            // Half the time start with a plausible tag, to get past the first check.
            if !bytes.is_empty() && rng.below(2) == 0 {
                bytes[0] = 1 + rng.below(6) as u8;
            }
            if read_all(&bytes).await.is_err() {
                errors += 1;
            }
        }
        assert!(
            errors > 1_000,
            "most random streams are malformed: {errors}"
        );
    }

    #[tokio::test]
    async fn lengths_are_checked_before_reading() {
        let huge = [CHUNK, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            read_all(&huge).await,
            Err(WireError::BadLength {
                tag: CHUNK,
                len: u32::MAX
            })
        ));
        let empty_chunk = [CHUNK, 0, 0, 0, 0];
        assert!(matches!(
            read_all(&empty_chunk).await,
            Err(WireError::BadLength { .. })
        ));
        let short_want = [WANT, 0, 0, 0, 39];
        assert!(matches!(
            read_all(&short_want).await,
            Err(WireError::BadLength { .. })
        ));
        assert!(matches!(
            read_all(&[9, 0, 0, 0, 0]).await,
            Err(WireError::UnknownTag(9))
        ));
        assert!(matches!(
            read_all(&[HAVE, 0, 0]).await,
            Err(WireError::Truncated)
        ));
        assert!(matches!(
            read_all(&[HAVE, 0, 0, 0, 8, 1]).await,
            Err(WireError::Truncated)
        ));
        let bad_text = [REFUSED, 0, 0, 0, 1, 0xff];
        assert!(matches!(read_all(&bad_text).await, Err(WireError::BadText)));
    }

    #[tokio::test]
    async fn long_reasons_are_cut_and_chunks_split() {
        let long = Frame::Refused("é".repeat(MAX_REASON));
        let back = read_all(&encode(&long)).await.unwrap();
        let Frame::Refused(reason) = &back[0] else {
            panic!("{back:?}")
        };
        assert!(reason.len() <= MAX_REASON && reason.chars().all(|c| c == 'é'));

        let bytes: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut wire = Vec::new();
        write_chunks(&mut wire, &bytes, 4096).await.unwrap();
        let chunks = read_all(&wire).await.unwrap();
        assert_eq!(chunks.len(), 3);
        let joined: Vec<u8> = chunks
            .into_iter()
            .flat_map(|f| match f {
                Frame::Chunk(c) => c,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(joined, bytes);
    }
}
