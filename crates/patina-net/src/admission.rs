//! Stream admission: the first byte of every stream this crate opens is the
//! accepting node's answer — admitted, or refused and why — so that the
//! opener knows its stream reached the other side's accept queue before it
//! sends anything.
//!
//! Why a byte of our own: `libp2p-stream` hands an inbound stream to the
//! accepting task over a channel of one slot, and drops the stream when that
//! slot is still taken (two streams negotiated on a connection before the
//! accepting task ran: rust-libp2p issue 5651). Without an answer the opener
//! learns of the drop only when its first write or read fails, deep inside
//! whatever protocol it runs. With one, [`await_admission`] sees the stream
//! end before the answer and opens it again, and a stream refused on
//! purpose (a bound of the accepting node) is a typed error naming the
//! bound, not a stream that closes for no stated reason.
//!
//! Wire: the acceptor writes `ADMITTED` (one byte), or `REFUSED` and one
//! byte of [`Refusal`], then closes. This module must never read or write a
//! byte past that answer: everything after it belongs to the protocol.

use std::fmt;
use std::io;
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};
use futures::{AsyncReadExt as _, AsyncWriteExt as _};

/// The answer to an admitted stream.
const ADMITTED: u8 = 0xA1;
/// The first byte of a refusal; a [`Refusal`] code follows.
const REFUSED: u8 = 0xA0;

/// Why an accepting node refused a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The bound on live streams with one peer on this protocol.
    PeerLimit,
    /// The bound on live inbound streams on this protocol from all peers.
    ProtocolLimit,
    /// The queue of accepted streams the embedder has not taken yet is full.
    QueueFull,
}

impl Refusal {
    fn code(self) -> u8 {
        match self {
            Self::PeerLimit => 1,
            Self::ProtocolLimit => 2,
            Self::QueueFull => 3,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::PeerLimit),
            2 => Some(Self::ProtocolLimit),
            3 => Some(Self::QueueFull),
            _ => None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PeerLimit => "its bound on streams with this peer",
            Self::ProtocolLimit => "its bound on streams of this protocol from all peers",
            Self::QueueFull => "its accept queue is full",
        })
    }
}

/// What the opener read where the answer should be.
#[derive(Debug)]
pub(crate) enum Answer {
    /// Admitted: the protocol may start.
    Admitted,
    /// Refused on purpose.
    Refused(Refusal),
    /// The stream ended (or was reset) before any answer: it never reached
    /// the accepting task. Worth opening again.
    Dropped(io::Error),
    /// Bytes that are no answer: a peer that does not speak this.
    Malformed(String),
}

/// Tells the opener its stream was admitted.
pub(crate) async fn admit<S: AsyncWrite + Unpin>(
    stream: &mut S,
    within: Duration,
) -> io::Result<()> {
    answer(stream, &[ADMITTED], within).await
}

/// Tells the opener why its stream is refused, then closes it.
pub(crate) async fn refuse<S: AsyncWrite + Unpin>(mut stream: S, why: Refusal, within: Duration) {
    if answer(&mut stream, &[REFUSED, why.code()], within)
        .await
        .is_ok()
    {
        let _ = tokio::time::timeout(within, stream.close()).await;
    }
}

async fn answer<S: AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
    within: Duration,
) -> io::Result<()> {
    let write = async {
        stream.write_all(bytes).await?;
        stream.flush().await
    };
    tokio::time::timeout(within, write)
        .await
        .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}

/// Reads the accepting node's answer (the caller bounds the time).
pub(crate) async fn await_admission<S: AsyncRead + Unpin>(stream: &mut S) -> Answer {
    let mut first = [0u8; 1];
    if let Err(error) = stream.read_exact(&mut first).await {
        return Answer::Dropped(error);
    }
    match first[0] {
        ADMITTED => Answer::Admitted,
        REFUSED => {
            let mut code = [0u8; 1];
            match stream.read_exact(&mut code).await {
                Ok(()) => match Refusal::from_code(code[0]) {
                    Some(why) => Answer::Refused(why),
                    None => Answer::Malformed(format!("an unknown refusal code {}", code[0])),
                },
                Err(error) => Answer::Malformed(format!("a refusal cut short: {error}")),
            }
        }
        other => Answer::Malformed(format!("{other:#04x} where an admission was expected")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUND: Duration = Duration::from_secs(1);

    async fn answered(bytes: &[u8]) -> Answer {
        await_admission(&mut futures::io::Cursor::new(bytes.to_vec())).await
    }

    #[tokio::test]
    async fn the_opener_reads_exactly_what_the_acceptor_wrote() {
        let mut wire = futures::io::Cursor::new(Vec::new());
        admit(&mut wire, BOUND).await.unwrap();
        wire.write_all(b"protocol").await.unwrap();
        let mut wire = futures::io::Cursor::new(wire.into_inner());
        assert!(matches!(await_admission(&mut wire).await, Answer::Admitted));
        let mut rest = Vec::new();
        wire.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"protocol", "not a byte past the answer is read");

        for why in [
            Refusal::PeerLimit,
            Refusal::ProtocolLimit,
            Refusal::QueueFull,
        ] {
            let mut wire = futures::io::Cursor::new(Vec::new());
            refuse(&mut wire, why, BOUND).await;
            let got = answered(&wire.into_inner()).await;
            assert!(matches!(got, Answer::Refused(w) if w == why), "{got:?}");
        }
    }

    #[tokio::test]
    async fn a_missing_or_strange_answer_is_told_apart() {
        assert!(matches!(answered(b"").await, Answer::Dropped(_)));
        let got = answered(b"x").await;
        assert!(
            matches!(&got, Answer::Malformed(m) if m.contains("0x78")),
            "{got:?}"
        );
        let got = answered(&[REFUSED]).await;
        assert!(
            matches!(&got, Answer::Malformed(m) if m.contains("cut short")),
            "{got:?}"
        );
        let got = answered(&[REFUSED, 9]).await;
        assert!(
            matches!(&got, Answer::Malformed(m) if m.contains("code 9")),
            "{got:?}"
        );
    }

    #[test]
    fn every_refusal_survives_its_code() {
        for why in [
            Refusal::PeerLimit,
            Refusal::ProtocolLimit,
            Refusal::QueueFull,
        ] {
            assert_eq!(Refusal::from_code(why.code()), Some(why));
        }
        assert_eq!(Refusal::from_code(0), None);
        assert_eq!(Refusal::from_code(ADMITTED), None);
    }
}
