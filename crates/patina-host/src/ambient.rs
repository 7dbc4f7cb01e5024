//! The clocks and random sources a child sees through WASI, routed through the
//! run's [`Tape`]: real values in live and record mode (recorded as events),
//! recorded values in replay. How each kind of value is written into a
//! receipt is [`crate::ambient_value`].
//!
//! These never give a child a value the transcript did not hold during a
//! replay: a mismatch is a divergence and the child gets a zero value.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand_core::Rng as _;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

use crate::ambient_value::{RandomBytes, WallTime};
use crate::tape::Tape;

/// The wall clock a child sees.
pub(crate) struct TapedWallClock(pub Tape);

impl HostWallClock for TapedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        let real = || {
            WallTime(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default(),
            )
        };
        self.0
            .ambient(
                ("wasi:clocks/wall-clock", "now", "()"),
                real,
                WallTime(Duration::ZERO),
            )
            .0
    }
}

/// The monotonic clock a child sees: nanoseconds since the run started.
pub(crate) struct TapedMonotonicClock {
    pub tape: Tape,
    pub start: Instant,
}

impl HostMonotonicClock for TapedMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        let start = self.start;
        let real = || u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.tape
            .ambient(("wasi:clocks/monotonic-clock", "now", "()"), real, 0)
    }
}

/// Random bytes are drawn (and recorded) in chunks of this many bytes:
/// wasmtime-wasi asks its source for one word per byte of
/// `get-random-bytes`, and a receipt event per word would be absurd.
pub(crate) const RANDOM_CHUNK: usize = 256;

/// A random source a child sees (`wasi:random/random` or `wasi:random/insecure`).
/// Small reads are served from a buffer refilled one recorded chunk at a
/// time; large reads are recorded whole. The sequence of reads is the same in
/// a replay, so the same chunks are asked for in the same order.
pub(crate) struct TapedRandom {
    tape: Tape,
    interface: &'static str,
    buffer: Vec<u8>,
    used: usize,
}

impl TapedRandom {
    /// A source recorded as `interface`.
    pub fn new(tape: Tape, interface: &'static str) -> Self {
        Self {
            tape,
            interface,
            buffer: Vec::new(),
            used: 0,
        }
    }

    /// `len` fresh bytes, recorded (or replayed) as one event.
    fn draw(&self, len: usize) -> Vec<u8> {
        let real = || {
            let mut fresh = vec![0u8; len];
            wasmtime_wasi::thread_rng().fill_bytes(&mut fresh);
            RandomBytes(fresh)
        };
        let args = format!("({len})");
        let bytes = self
            .tape
            .ambient(
                (self.interface, "bytes", &args),
                real,
                RandomBytes(vec![0; len]),
            )
            .0;
        // The length is part of the recorded arguments, so a matching event has
        // the right length; anything else is refused rather than trusted.
        if bytes.len() == len {
            bytes
        } else {
            vec![0; len]
        }
    }
}

impl rand_core::TryRng for TapedRandom {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut bytes = [0u8; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut bytes = [0u8; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        if dst.len() >= RANDOM_CHUNK {
            dst.copy_from_slice(&self.draw(dst.len()));
            return Ok(());
        }
        let mut filled = 0;
        while filled < dst.len() {
            if self.used == self.buffer.len() {
                self.buffer = self.draw(RANDOM_CHUNK);
                self.used = 0;
            }
            let take = (dst.len() - filled).min(self.buffer.len() - self.used);
            dst[filled..filled + take].copy_from_slice(&self.buffer[self.used..self.used + take]);
            filled += take;
            self.used += take;
        }
        Ok(())
    }
}
