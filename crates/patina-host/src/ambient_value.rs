//! [`Ambient`]: how a value a child reads from its environment — the wall
//! clock, the monotonic clock, random bytes — is written into a receipt as
//! WAVE text of a result list, and read back in a replay.
//!
//! Both the tape (which records and replays these values) and the WASI
//! clocks and random sources (which produce them) use it; it depends on
//! neither. It must never accept text of another shape: a value that does not
//! decode is a divergence, never a guess.

use std::time::Duration;

/// A value read from the environment, as recorded in a receipt.
pub(crate) trait Ambient: Sized {
    /// The value as WAVE text of a result list.
    fn encode(&self) -> String;
    /// The value back from that text.
    fn decode(text: &str) -> Option<Self>;
}

/// `wasi:clocks/wall-clock#now`: `({seconds: S, nanoseconds: N})`.
pub(crate) struct WallTime(pub Duration);

impl Ambient for WallTime {
    fn encode(&self) -> String {
        format!(
            "({{seconds: {}, nanoseconds: {}}})",
            self.0.as_secs(),
            self.0.subsec_nanos()
        )
    }

    fn decode(text: &str) -> Option<Self> {
        let inner = text.strip_prefix("({seconds: ")?.strip_suffix("})")?;
        let (secs, nanos) = inner.split_once(", nanoseconds: ")?;
        let nanos: u32 = nanos.parse().ok().filter(|n| *n < 1_000_000_000)?;
        Some(Self(Duration::new(secs.parse().ok()?, nanos)))
    }
}

/// `wasi:clocks/monotonic-clock#now`: `(N)` nanoseconds.
impl Ambient for u64 {
    fn encode(&self) -> String {
        format!("({self})")
    }

    fn decode(text: &str) -> Option<Self> {
        text.strip_prefix('(')?.strip_suffix(')')?.parse().ok()
    }
}

/// Random bytes: `("hex")`.
pub(crate) struct RandomBytes(pub Vec<u8>);

impl Ambient for RandomBytes {
    fn encode(&self) -> String {
        let digits = patina_core::hex_string(&self.0);
        let mut text = String::with_capacity(digits.len() + 4);
        text.push_str("(\"");
        text.push_str(&digits);
        text.push_str("\")");
        text
    }

    fn decode(text: &str) -> Option<Self> {
        let digits = text.strip_prefix("(\"")?.strip_suffix("\")")?;
        hex::decode(digits).ok().map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_values_read_back() {
        let t = WallTime(Duration::new(1_700_000_000, 123));
        assert_eq!(WallTime::decode(&t.encode()).map(|w| w.0), Some(t.0));
        assert_eq!(u64::decode(&42u64.encode()), Some(42));
        assert_eq!(
            RandomBytes::decode(&RandomBytes(vec![0xab, 1]).encode()).map(|r| r.0),
            Some(vec![0xab, 1])
        );
        assert!(WallTime::decode("({seconds: 1, nanoseconds: 2000000000})").is_none());
        assert!(u64::decode("(x)").is_none());
        assert!(RandomBytes::decode("(\"zz\")").is_none());
    }
}
