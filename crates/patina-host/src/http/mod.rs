//! `wasi:http` for children: part of the WASI base, with no authority.
//!
//! Every child is linked against `wasi:http/types` and
//! `wasi:http/outgoing-handler` (wasmtime-wasi-http), so components that
//! import them without using them (a JavaScript child built by
//! componentize-js, a Python child) run like any other. Every outgoing
//! request goes through the run's [`patina_toy::OutgoingHttp`] backend under
//! the run's `http:` grants — none, none reached — and is recorded
//! ([`outgoing`]). A child that *exports* `wasi:http/incoming-handler` is a
//! bridge child: [`crate::Call::Http`] hands it one request ([`incoming`]).
//!
//! This module must never let a request reach the network except through
//! the backend, and never give a child an answer that was not recorded (or,
//! in a replay, that the receipt did not hold).

pub(crate) mod incoming;
pub(crate) mod outgoing;

use wasmtime::component::Linker;

use crate::RunRefused;
use crate::state::RunState;

/// The `wasi:http` interfaces in the base: linked for every child.
const BASE_INTERFACES: [&str; 2] = ["wasi:http/types", "wasi:http/outgoing-handler"];

/// Whether `import` (`wasi:http/types@0.2.10`, ...) is one of the base's
/// `wasi:http` interfaces.
pub(crate) fn is_base_http(import: &str) -> bool {
    let unversioned = import.split('@').next().unwrap_or(import);
    BASE_INTERFACES.contains(&unversioned)
}

/// Adds `wasi:http/types` and `wasi:http/outgoing-handler` to `linker`.
pub(crate) fn link(linker: &mut Linker<RunState>) -> Result<(), RunRefused> {
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)
        .map_err(|e| RunRefused::Link(crate::child::one_line(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_types_and_the_outgoing_handler_are_base() {
        assert!(is_base_http("wasi:http/types@0.2.10"));
        assert!(is_base_http("wasi:http/outgoing-handler@0.2.0"));
        assert!(!is_base_http("wasi:http/incoming-handler@0.2.0"));
        assert!(!is_base_http("acme:http/types@0.2.0"));
    }
}
