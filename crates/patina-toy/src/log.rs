//! The log sink: where the lines a child logs during one run are kept, bounded,
//! until the host returns them with the run's outcome. The `log` toy (in
//! `patina-toy-log`) writes into it; the host reads it. It never writes to the
//! Mother's stdout/stderr itself (the caller decides how to show the lines).

use std::sync::{Arc, Mutex, PoisonError};

/// Longest message kept, in bytes; longer ones are cut and marked.
pub const MAX_MESSAGE: usize = 64 << 10;
/// Most lines kept per run; later ones are counted but dropped.
pub const MAX_LINES: usize = 10_000;
/// Most bytes of messages kept per run; later lines are counted but dropped.
pub const MAX_BYTES: usize = 16 << 20;

/// Severity of a log line.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// `trace`
    Trace,
    /// `debug`
    Debug,
    /// `info`
    Info,
    /// `warn`
    Warn,
    /// `error`
    Error,
}

impl LogLevel {
    /// The level named by the WIT case `case`, if it is one.
    pub fn from_case(case: &str) -> Option<Self> {
        Some(match case {
            "trace" => Self::Trace,
            "debug" => Self::Debug,
            "info" => Self::Info,
            "warn" => Self::Warn,
            "error" => Self::Error,
            _ => return None,
        })
    }

    /// The WIT case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// One line a child logged.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogLine {
    /// Severity.
    pub level: LogLevel,
    /// The text (cut to [`MAX_MESSAGE`] bytes).
    pub message: String,
    /// Whether the message was cut.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// The log lines of one run, shared between the toy instance and the host.
#[derive(Clone, Debug, Default)]
pub struct LogSink {
    inner: Arc<Mutex<SinkState>>,
}

#[derive(Debug, Default)]
struct SinkState {
    lines: Vec<LogLine>,
    bytes: usize,
    dropped: u64,
}

impl LogSink {
    /// A new, empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a line, cutting an over-long message and dropping lines past
    /// [`MAX_LINES`] or [`MAX_BYTES`].
    pub fn push(&self, level: LogLevel, message: &str) {
        let (message, truncated) = cut(message, MAX_MESSAGE);
        let mut state = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if state.lines.len() >= MAX_LINES || state.bytes + message.len() > MAX_BYTES {
            state.dropped += 1;
            return;
        }
        state.bytes += message.len();
        state.lines.push(LogLine {
            level,
            message: message.to_owned(),
            truncated,
        });
    }

    /// The lines so far, and how many were dropped past [`MAX_LINES`] or
    /// [`MAX_BYTES`].
    pub fn snapshot(&self) -> (Vec<LogLine>, u64) {
        let state = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        (state.lines.clone(), state.dropped)
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn cut(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    (&s[..s.floor_char_boundary(max)], true)
}
