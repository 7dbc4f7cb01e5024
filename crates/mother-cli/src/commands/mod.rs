//! One module per `mother` command.

pub mod demo;
mod demo_work;
pub mod inspect;
pub mod install;
pub mod list;
pub mod metrics;
pub mod receipts;
pub mod replay;
pub mod run;
