//! The one shared wasmtime [`Engine`] of a host and the epoch ticker that
//! drives wall-clock deadlines.
//!
//! Every child of a host is compiled and run by this engine: component model,
//! pooling allocator, fuel metering and epoch interruption are always on, so a
//! run can never opt out of its limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
    WasmBacktraceDetails,
};

use crate::HostError;

/// How often the epoch advances: a running child yields to the async runtime
/// every tick, and a deadline is met within about one tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Most list elements and string bytes one dynamically served toy call may
/// carry from a child to the host: 4 MiB and 64 KiB, so that a payload one
/// byte over a 4 MiB cap of a dynamic toy still reaches the toy and is
/// refused with its typed error. Dynamic calls lift every element as one
/// `Val` (about 32 bytes of host memory each); functions a toy links typed
/// ([`patina_toy::typed`]) lift a `list<u8>` as the bytes themselves.
pub const MAX_TOY_CALL_ELEMENTS: usize = (4 << 20) + (64 << 10);

/// What one toy call may copy from the child, in wasmtime's hostcall fuel:
/// one unit per byte of a typed `list<u8>` or string, the size of a `Val`
/// per dynamically lifted value — [`MAX_TOY_CALL_ELEMENTS`] values, or about
/// 130 MiB of typed bytes. A call past it is refused before it is copied
/// ([`RunFailure::CallTooLarge`](crate::RunFailure::CallTooLarge)).
pub const TOY_CALL_BUDGET: usize = MAX_TOY_CALL_ELEMENTS * size_of::<wasmtime::component::Val>();

/// Bytes at the bottom of a pooled linear memory that are reset in place
/// (`memset`: copied back from the child's image, or zeroed) when its run
/// ends; only memory past them is handed back to the kernel (`madvise`).
/// Handing memory back makes the kernel interrupt every other core of a
/// multi-threaded server to flush its TLB: three of those a run were the
/// largest single cost of a small served run. 2 MiB covers the whole
/// memory of a typical small child (a Rust child for `wasm32-wasip2`
/// starts at 17 wasm pages, 1.06 MiB), so its slot goes back to the pool
/// without a system call. Every byte in the range is reset, written or
/// not: wasmtime's `PAGEMAP_SCAN` shortcut, which resets only the pages it
/// finds written, is left off, because it skips written pages that are
/// not in memory at that moment (swapped out, or being migrated by the
/// kernel), which would hand a run's bytes to the next run in the slot.
/// The price: each memory slot the pool has used stays resident up to
/// this much (the reset writes every page of it), and a child with a
/// larger memory pays for this `memset` as well.
const KEEP_RESIDENT_MEMORY: usize = 2 << 20;

/// [`KEEP_RESIDENT_MEMORY`] for a pooled table.
const KEEP_RESIDENT_TABLE: usize = 64 << 10;

/// Sizing of the engine's instance pool and of the largest limits a run may ask for.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Component instances alive at once (concurrent runs, plus nested ones).
    pub max_instances: u32,
    /// Largest linear memory any child may have, in bytes. A run's own memory
    /// cap must be at most this.
    pub max_memory: u64,
    /// Longest wall-clock deadline a run may ask for.
    pub max_timeout: Duration,
    /// Largest cap on captured stdout (and, apart, stderr) a run may ask
    /// for, in bytes: the captured output is held in host memory.
    pub max_output: u64,
    /// Allocate instances from a pool reserved up front (`true`, for a host
    /// that serves many runs: each instantiation is then a few µs), or on
    /// demand (`false`, for a process that runs one child and exits: the
    /// pool's reservation and teardown would cost it more than it saves).
    /// Either way a run's memory is capped by its own limit. Compiled code
    /// does not depend on it: both load the same artifacts.
    pub pooling: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            max_instances: 64,
            max_memory: 4 << 30,
            max_timeout: Duration::from_secs(3600),
            max_output: 64 << 20,
            pooling: true,
        }
    }
}

/// Builds the engine with the settings every Patina run relies on.
pub fn build_engine(config: &EngineConfig) -> Result<Engine, HostError> {
    let instances = config.max_instances.max(1);
    let max_memory = usize::try_from(config.max_memory).unwrap_or(usize::MAX);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances * 4)
        .total_memories(instances * 2)
        .total_tables(instances * 4)
        .total_stacks(instances)
        .max_memories_per_component(4)
        .max_tables_per_component(8)
        .max_memory_size(max_memory)
        .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
        .table_keep_resident(KEEP_RESIDENT_TABLE)
        // Off: it skips written pages that are not in memory (see
        // KEEP_RESIDENT_MEMORY).
        .pagemap_scan(Enabled::No);

    let strategy = if config.pooling {
        InstanceAllocationStrategy::Pooling(pool)
    } else {
        InstanceAllocationStrategy::OnDemand
    };
    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .allocation_strategy(strategy)
        // Trap messages end up in receipts: keep them independent of the
        // host's environment (WASMTIME_BACKTRACE_DETAILS).
        .wasm_backtrace_details(WasmBacktraceDetails::Disable);
    Engine::new(&wasm).map_err(|e| HostError::Engine(format!("{e:#}")))
}

/// A thread that advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts ticking `engine`.
    pub fn start(engine: &Engine) -> Result<Self, HostError> {
        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("patina-epoch".into())
            .spawn(move || {
                // Parked rather than asleep, so that dropping the ticker wakes
                // it at once instead of waiting out the tick (a process that
                // runs one child and exits would wait up to a tick for it).
                let mut next = Instant::now() + EPOCH_TICK;
                while !flag.load(Ordering::Acquire) {
                    let now = Instant::now();
                    if now < next {
                        std::thread::park_timeout(next - now);
                        continue;
                    }
                    next = now + EPOCH_TICK;
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| HostError::Engine(format!("cannot start the epoch thread: {e}")))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}
