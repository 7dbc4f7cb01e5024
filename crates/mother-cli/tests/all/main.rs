//! The `mother` binary's tests as one test binary (one link instead of one
//! per file), one module per area; `common` holds the shared helpers.

mod cli;
mod common;
mod http;
mod invoke;
mod mcp;
mod metrics;
mod peers;
mod receipts;
mod serve;
