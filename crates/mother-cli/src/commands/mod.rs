//! One module per `mother` command.

#[cfg(feature = "demo")]
pub mod demo;
pub mod inspect;
pub mod install;
pub mod list;
pub mod metrics;
pub mod receipts;
pub mod replay;
pub mod run;
