//! The WASI base: the interfaces linked for every child so that any ordinary
//! component runs, with no authority behind them (no environment, no
//! preopened directory, every socket address denied, every `wasi:http`
//! request refused unless an `http:` grant allows its host).
//!
//! It only names them; it must never decide what a grant adds, and never
//! count an interface outside these packages as base.

use patina_core::ToyName;

/// The WASI packages linked for every child, with no authority behind them.
const BASE_PACKAGES: [&str; 6] = [
    "wasi:io",
    "wasi:clocks",
    "wasi:random",
    "wasi:cli",
    "wasi:filesystem",
    "wasi:sockets",
];

/// Whether `import` is a WASI base interface (`wasi:cli/stdout@0.2.6`, ...).
pub(crate) fn is_base(import: &str) -> bool {
    let package = import
        .split_once('/')
        .map_or(import, |(package, _)| package);
    (BASE_PACKAGES.contains(&package) || crate::http::is_base_http(import))
        && import.parse::<ToyName>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_interfaces_are_wasi_without_authority_packages() {
        assert!(is_base("wasi:cli/environment@0.2.3"));
        assert!(is_base("wasi:filesystem/preopens@0.2.0"));
        assert!(is_base("wasi:io/streams@0.2.6"));
        assert!(is_base("wasi:http/outgoing-handler@0.2.3"));
        assert!(is_base("wasi:http/types@0.2.10"));
        assert!(!is_base("wasi:http/incoming-handler@0.2.3"));
        assert!(!is_base("patina:toys/log@0.1.0"));
        assert!(!is_base("wasi-cli"));
        assert!(!is_base("acme:wasi/cli"));
    }
}
