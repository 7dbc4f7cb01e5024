//! [`BeforeLogin`]: a connection's reading side that lets through at most
//! a few bytes until the connection has logged in. A login (a challenge,
//! then a signed answer) is a few hundred bytes; the frames a caller may
//! send once logged in go up to `max_frame_bytes` (an install of a large
//! child). Without this bound, every one of the pending connections could
//! make the server hold a frame of that size before anyone knew who it was.
//!
//! It only counts and refuses; it never reads past the allowance, and it
//! decides nothing about what a logged-in caller may do.

use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Connection;

/// `stream`, reading at most `allowance` bytes before `connection` logs in.
pub(super) struct BeforeLogin<S> {
    stream: S,
    connection: Rc<Connection>,
    left: usize,
}

impl<S> BeforeLogin<S> {
    pub(super) fn new(stream: S, connection: Rc<Connection>, allowance: usize) -> Self {
        Self {
            stream,
            connection,
            left: allowance,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for BeforeLogin<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.connection.logged_in.get() {
            return Pin::new(&mut self.stream).poll_read(cx, buf);
        }
        if self.left == 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "more bytes than a login takes before logging in",
            )));
        }
        // Before a login only a few bytes come: read them through a small
        // buffer of our own, never more than the allowance.
        let mut scratch = [0u8; 1024];
        let room = buf.remaining().min(self.left).min(scratch.len());
        let mut small = ReadBuf::new(&mut scratch[..room]);
        match Pin::new(&mut self.stream).poll_read(cx, &mut small) {
            Poll::Ready(Ok(())) => {
                let read = small.filled().len();
                buf.put_slice(small.filled());
                self.left -= read;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for BeforeLogin<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
