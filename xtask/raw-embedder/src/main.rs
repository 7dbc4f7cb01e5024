//! `raw-embedder ARTIFACT`: the baseline process of `cargo xtask bench`'s
//! process-per-call figures — the least a wasmtime 48 embedder does to call a
//! component: `Component::deserialize_file` (mmap) of a precompiled artifact,
//! an empty WASI context (no environment, no preopens, no sockets), a fresh
//! store, instantiate, call `add(2, 3)`, print the result.
//!
//! The engine has the code-generation settings a Patina host compiles with
//! (component model, fuel, epoch interruption), so it loads the very artifact
//! a Mother wrote; everything else is wasmtime's default. It must never do
//! anything a minimal embedder would not (no cache checks, no receipts), or the
//! ratio it anchors means nothing. The artifact must be one this machine
//! compiled: deserializing runs its native code.

use anyhow::{Result, anyhow, bail};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

struct State {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn main() -> Result<()> {
    let Some(artifact) = std::env::args_os().nth(1) else {
        bail!("usage: raw-embedder ARTIFACT.cwasm");
    };
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true);
    let engine = Engine::new(&config)?;
    // SAFETY: the caller names an artifact this machine's Patina host
    // compiled (see the module docs); wasmtime checks its header and version.
    let component = unsafe { Component::deserialize_file(&engine, &artifact) }
        .map_err(|e| anyhow!("loading {}: {e:#}", artifact.to_string_lossy()))?;
    let mut linker = Linker::<State>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    let state = State {
        wasi: WasiCtxBuilder::new().build(),
        table: ResourceTable::new(),
    };
    let mut store = Store::new(&engine, state);
    store.set_fuel(u64::MAX)?;
    store.set_epoch_deadline(u64::MAX);
    let instance = linker.instantiate(&mut store, &component)?;
    let add = instance.get_typed_func::<(i32, i32), (i32,)>(&mut store, "add")?;
    let (sum,) = add.call(&mut store, (2, 3))?;
    println!("{sum}");
    Ok(())
}
