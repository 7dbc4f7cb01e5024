//! [`RunFailure`]: how a run that started ended without results.
//!
//! It is the `Err` of [`RunReport::outcome`](crate::RunReport::outcome):
//! cloneable and serialisable (tagged by its `kind`), so a report's outcome
//! can be sent, stored and compared. A receipt records its `kind()` and
//! message, so neither may ever depend on the host it ran on (no paths, no
//! timings other than the limits asked for).

use patina_receipts::Divergence;

/// One of a child's captured output streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl OutputStream {
    /// `stdout` or `stderr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }
}

impl std::fmt::Display for OutputStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a run that started ended without results. Serialised with its
/// [`kind`](Self::kind) as the `kind` field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RunFailure {
    /// The fuel budget ran out.
    #[error("out of fuel: the run used its whole budget of {budget} units")]
    OutOfFuel {
        /// The budget it had.
        budget: u64,
    },
    /// The wall-clock deadline passed.
    #[error("deadline exceeded: the run was stopped after {timeout_ms} ms")]
    DeadlineExceeded {
        /// The deadline, in milliseconds.
        timeout_ms: u64,
    },
    /// The child tried to grow its memory past the cap.
    #[error("memory limit exceeded: the child asked for {requested} bytes, the cap is {cap}")]
    MemoryLimitExceeded {
        /// Bytes the child asked for.
        requested: u64,
        /// The cap.
        cap: u64,
    },
    /// The child called a function of an import that was linked as a deny stub.
    #[error("denied: {import}")]
    Denied {
        /// The denied import (interface or function).
        import: String,
    },
    /// A toy failed in a way its interface cannot express.
    #[error("toy `{toy}`: {message}")]
    Toy {
        /// The toy's interface, as the child imports it.
        toy: String,
        /// What failed (the toy's error, or its recorded message in a replay).
        message: String,
    },
    /// A toy call carried more data from the child than the host copies in
    /// one call ([`TOY_CALL_BUDGET`](crate::TOY_CALL_BUDGET) units of wasmtime's
    /// hostcall fuel: a byte of a typed argument is one unit, a dynamically
    /// lifted value the size of a `Val`); the toy was not called.
    #[error(
        "a toy call carried more data than the host copies in one call (a budget of {budget} units: one per byte of a typed argument)"
    )]
    CallTooLarge {
        /// The host's budget for one call.
        budget: u64,
    },
    /// The child trapped (a panic, `unreachable`, an out-of-bounds access, ...).
    #[error("the child trapped: {message}")]
    Trap {
        /// The trap, on one line.
        message: String,
    },
    /// Captured stdout or stderr went over the output cap.
    #[error("the child wrote more than the {cap}-byte output cap to {stream}")]
    OutputLimitExceeded {
        /// The stream that filled up.
        stream: OutputStream,
        /// The cap.
        cap: u64,
    },
    /// A bridge child's run ended without a usable HTTP response: it set
    /// none, set an error code, or its body failed or went over the cap.
    #[error("no HTTP response: {reason}")]
    HttpReply {
        /// What went wrong, on one line.
        reason: String,
    },
    /// A replay did something the receipt did not record.
    #[error(transparent)]
    #[serde(rename = "divergence")]
    Diverged(Divergence),
    /// The run recorded more events or bytes than a transcript may hold.
    #[error(
        "transcript limit exceeded: a run may record at most {events} events and {bytes} bytes"
    )]
    TranscriptLimitExceeded {
        /// Most events.
        events: usize,
        /// Most bytes.
        bytes: u64,
    },
}

impl RunFailure {
    /// A stable, machine-readable name of the failure's kind (`out-of-fuel`,
    /// ...); also the `kind` field of its serialised form.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::OutOfFuel { .. } => "out-of-fuel",
            Self::DeadlineExceeded { .. } => "deadline-exceeded",
            Self::MemoryLimitExceeded { .. } => "memory-limit-exceeded",
            Self::Denied { .. } => "denied",
            Self::Toy { .. } => "toy",
            Self::CallTooLarge { .. } => "call-too-large",
            Self::Trap { .. } => "trap",
            Self::OutputLimitExceeded { .. } => "output-limit-exceeded",
            Self::HttpReply { .. } => "http-reply",
            Self::Diverged(_) => "divergence",
            Self::TranscriptLimitExceeded { .. } => "transcript-limit-exceeded",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serialised_kind_is_kind_and_reads_back() {
        let failures = [
            RunFailure::OutOfFuel { budget: 7 },
            RunFailure::DeadlineExceeded { timeout_ms: 200 },
            RunFailure::MemoryLimitExceeded {
                requested: 101,
                cap: 100,
            },
            RunFailure::Denied {
                import: "patina:toys/log@0.1.0".into(),
            },
            RunFailure::Toy {
                toy: "patina:toys/kv@0.1.0".into(),
                message: "toy backend failed: full".into(),
            },
            RunFailure::CallTooLarge { budget: 9 },
            RunFailure::Trap {
                message: "wasm trap: unreachable".into(),
            },
            RunFailure::OutputLimitExceeded {
                stream: OutputStream::Stderr,
                cap: 10,
            },
            RunFailure::HttpReply {
                reason: "the child set no response".into(),
            },
            RunFailure::Diverged(Divergence {
                index: 3,
                expected: Some("a".into()),
                got: None,
            }),
            RunFailure::TranscriptLimitExceeded {
                events: 1,
                bytes: 2,
            },
        ];
        for failure in failures {
            let json = serde_json::to_value(&failure).expect("serialises");
            assert_eq!(json["kind"], failure.kind(), "{json}");
            let back: RunFailure = serde_json::from_value(json).expect("reads back");
            assert_eq!(back, failure);
        }
        let full = RunFailure::OutputLimitExceeded {
            stream: OutputStream::Stdout,
            cap: 5,
        };
        assert_eq!(
            full.to_string(),
            "the child wrote more than the 5-byte output cap to stdout"
        );
    }
}
