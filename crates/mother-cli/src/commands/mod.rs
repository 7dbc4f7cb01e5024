//! One module per `mother` command.

pub mod admin;
#[cfg(feature = "demo")]
pub mod demo;
pub mod inspect;
pub mod install;
pub mod list;
pub mod mcp;
pub mod metrics;
pub mod network;
pub mod receipts;
pub mod replay;
pub mod run;
pub mod serve;
pub mod serve_peer;
pub mod token;
