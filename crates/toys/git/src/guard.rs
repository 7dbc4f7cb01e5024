//! Guards around one git call: the blocking work runs on its own thread,
//! under a watchdog (an answer `err("timed out")` when it does not finish in
//! time) and `catch_unwind` (a gix panic on a hostile repository becomes an
//! answer, not the end of the run); and the text sent back to the child is
//! bounded (error messages cut to [`MAX_MESSAGE`] bytes with gix's
//! `input="..."` fragments elided, answer strings to [`MAX_FIELD`] bytes).
//!
//! It must never let a stuck or panicking worker end or hang the run, and
//! never echo raw file contents gix quotes in its errors.

use std::time::{Duration, Instant};

/// Longest time one call may take, whatever the run's deadline.
pub const MAX_CALL: Duration = Duration::from_secs(30);

/// Longest error message answered, in bytes.
pub const MAX_MESSAGE: usize = 200;

/// Longest answered string field (path, summary, author), in bytes.
pub const MAX_FIELD: usize = 1024;

/// The answer to a call whose worker panicked.
pub const PANICKED: &str = "internal error reading the repository";

/// The answer to a call whose worker did not finish in time.
pub const TIMED_OUT: &str = "timed out";

/// How long a call starting now may run: the least of [`MAX_CALL`] and the
/// time left before `deadline`.
pub fn call_limit(deadline: Instant) -> Duration {
    MAX_CALL.min(deadline.saturating_duration_since(Instant::now()))
}

/// What became of guarded work.
#[derive(Debug, PartialEq, Eq)]
pub enum Guarded<T> {
    /// It finished (or panicked, answered as [`PANICKED`]).
    Answer(Result<T, String>),
    /// It did not finish within the limit; its thread is left behind.
    TimedOut,
}

/// Runs `work` on a thread of its own and waits at most `limit` for it
/// (blocking the caller). A worker still running after `limit` is leaked:
/// a thread blocked in `open(2)` on a FIFO cannot be cancelled.
pub fn run<T: Send + 'static>(
    limit: Duration,
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Guarded<T> {
    let (send, receive) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("patina-git".into())
        .spawn(move || {
            let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                .unwrap_or_else(|_| Err(PANICKED.to_owned()));
            // The waiter may have given up; nobody to tell then.
            let _ = send.send(answer);
        });
    if let Err(e) = spawned {
        return Guarded::Answer(Err(format!("cannot start the git worker: {e}")));
    }
    match receive.recv_timeout(limit) {
        Ok(answer) => Guarded::Answer(answer),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Guarded::TimedOut,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Guarded::Answer(Err(PANICKED.to_owned()))
        }
    }
}

/// `text` cut to at most `max` bytes on a char boundary.
pub fn cap(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// An error message fit to answer: gix's `input="..."` fragments (which may
/// quote file contents) replaced by `input=<elided>`, cut to [`MAX_MESSAGE`]
/// bytes.
pub fn clean_message(text: &str) -> String {
    const MARK: &str = "input=\"";
    let mut out = String::with_capacity(text.len().min(MAX_MESSAGE + 16));
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        out.push_str("input=<elided>");
        let after = &rest[at + MARK.len()..];
        let mut escaped = false;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                end = i + 1;
                break;
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    if out.len() > MAX_MESSAGE {
        let mut cut = cap(out, MAX_MESSAGE - 3);
        cut.push_str("...");
        cut
    } else {
        out
    }
}
