//! Shared vocabulary of Patina: the words every other crate speaks.
//!
//! - [`ChildId`]: the blake3 digest of a component's bytes, the only identity a child has.
//! - [`ToyName`]: a versioned WIT interface name such as `patina:toys/log@0.1.0`.
//! - [`Grant`]: a toy plus its scope in canonical text form (`log`, `fs:/data:ro`, `net:127.0.0.1:8080`).
//! - [`Limits`]: the fuel, wall-clock and memory bounds of one run.
//!
//! This crate must never do I/O, spawn threads or depend on a wasm runtime: it is
//! the floor every other layer (and every other host implementation) can share.
//! Parsing here is lexical; anything that needs the file system (canonicalising a
//! granted directory) happens once in the host, on top of these types.

mod child_id;
mod grant;
mod hex_text;
mod limits;
mod text;
mod toy_name;

pub use child_id::{ChildId, ChildIdError, is_valid_child_name};
pub use grant::{FsAccess, FsScope, Grant, GrantError, NetScope};
pub use hex_text::{HexText, hex_string, hex32, hex64};
pub use limits::{Limits, LimitsError, parse_duration, parse_size};
pub use text::line_at;
pub use toy_name::{ToyName, ToyNameError};
