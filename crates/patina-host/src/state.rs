//! The memory limiter of one run, and the verdict it leaves for the run's
//! report. A run's store holds [`patina_toy::typed::RunStore`] (its WASI
//! context, resource table, this limiter, the granted toys' instances and
//! the tape), which lives exactly as long as one run and is never shared.

use std::sync::{Arc, OnceLock};

use wasmtime::ResourceLimiter;

/// The store data of one run.
pub(crate) use patina_toy::typed::RunStore as RunState;

/// Most table elements a child may have (tables hold function references).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// The error a memory growth past the cap ends the run with.
#[derive(Debug, thiserror::Error)]
#[error("memory limit exceeded: asked for {requested} bytes, the cap is {cap}")]
pub struct MemoryCapReached {
    /// Total bytes of linear memory the child would have had.
    pub requested: u64,
    /// The cap.
    pub cap: u64,
}

/// Caps the total linear memory of a run and remembers when the cap was hit
/// (in [`MemoryLimiter::verdict`], which the run keeps a handle on).
pub struct MemoryLimiter {
    cap: u64,
    total: u64,
    reached: Arc<OnceLock<MemoryCapReached>>,
}

impl MemoryLimiter {
    /// A limiter with `cap` bytes for all memories of the run together,
    /// noting the first growth past it in `reached`.
    pub fn new(cap: u64, reached: Arc<OnceLock<MemoryCapReached>>) -> Self {
        Self {
            cap,
            total: 0,
            reached,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current) as u64;
        let requested = self.total.saturating_add(growth);
        if requested > self.cap {
            let reached = MemoryCapReached {
                requested,
                cap: self.cap,
            };
            let error = wasmtime::Error::msg(reached.to_string());
            let _ = self.reached.set(reached);
            return Err(error);
        }
        self.total = requested;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_counts_all_memories_together() {
        let verdict = Arc::default();
        let mut limiter = MemoryLimiter::new(100, Arc::clone(&verdict));
        assert!(limiter.memory_growing(0, 60, None).unwrap());
        assert!(limiter.memory_growing(0, 40, None).unwrap());
        let err = limiter.memory_growing(40, 41, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "memory limit exceeded: asked for 101 bytes, the cap is 100"
        );
        let reached = verdict.get().unwrap();
        assert_eq!((reached.requested, reached.cap), (101, 100));
    }
}
