//! [`RunState`]: the per-run data of a wasmtime store — the empty WASI context,
//! its resource table, the memory limiter, and the granted toys' instances.
//! It lives exactly as long as one run and is never shared between runs.

use patina_toy::ToyInstance;

use crate::tape::Tape;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Most table elements a child may have (tables hold function references).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Store data of one run.
pub struct RunState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) toys: Vec<Box<dyn ToyInstance>>,
    pub(crate) tape: Tape,
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The error a memory growth past the cap ends the run with.
#[derive(Debug, thiserror::Error)]
#[error("memory limit exceeded: asked for {requested} bytes, the cap is {cap}")]
pub struct MemoryCapReached {
    /// Total bytes of linear memory the child would have had.
    pub requested: u64,
    /// The cap.
    pub cap: u64,
}

/// Caps the total linear memory of a run and remembers when the cap was hit.
pub struct MemoryLimiter {
    cap: u64,
    total: u64,
    pub(crate) reached: Option<MemoryCapReached>,
}

impl MemoryLimiter {
    /// A limiter with `cap` bytes for all memories of the run together.
    pub fn new(cap: u64) -> Self {
        Self {
            cap,
            total: 0,
            reached: None,
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
            self.reached = Some(reached);
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
        let mut limiter = MemoryLimiter::new(100);
        assert!(limiter.memory_growing(0, 60, None).unwrap());
        assert!(limiter.memory_growing(0, 40, None).unwrap());
        let err = limiter.memory_growing(40, 41, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "memory limit exceeded: asked for 101 bytes, the cap is 100"
        );
        let reached = limiter.reached.as_ref().unwrap();
        assert_eq!((reached.requested, reached.cap), (101, 100));
    }
}
