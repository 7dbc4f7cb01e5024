//! The cross-crate tests — the host, the toys and real children together — as
//! one test binary (one link of wasmtime instead of one per file), one module
//! per area. Shared helpers are the `patina_tests` library (`support.rs`).

mod bad_input;
mod bridge;
mod byte_caps;
mod folder_watcher;
mod git_status;
mod grants;
mod http;
mod indexer;
mod isolation;
mod js_children;
mod limits;
mod replay;
mod third_party;
mod typed_calls;
mod wasi_http;
