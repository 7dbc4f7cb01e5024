//! One module per `mother` command.

pub mod demo;
pub mod inspect;
pub mod install;
pub mod list;
pub mod receipts;
pub mod replay;
pub mod run;
