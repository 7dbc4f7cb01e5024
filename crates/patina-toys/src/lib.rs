//! Patina's toys behind one facade: the toy SDK ([`patina_toy`], re-exported
//! whole) and each toy pack, one crate per backend, each behind a cargo
//! feature of the same name (all on by default):
//!
//! | feature | crate | toy |
//! |---|---|---|
//! | `log` | `patina-toy-log` | [`LogToy`] |
//! | `measure` | `patina-toy-measure` | [`MeasureToy`] |
//! | `fs` | `patina-toy-fs` | [`FsToy`] |
//! | `fs-watch` | `patina-toy-fs-watch` | [`FsWatchToy`] |
//! | `git` | `patina-toy-git` | [`GitToy`] |
//! | `blob` | `patina-toy-blob` | [`BlobToy`] |
//! | `kv` | `patina-toy-kv` | [`KvToy`] |
//! | `http` | `patina-toy-http` | [`HttpToy`] |
//! | `invoke` | `patina-toy-invoke` | [`InvokeToy`] |
//!
//! [`log_only`] and [`standard`] make the two registries a Mother and the
//! tests start from. This crate holds no backend of its own: a toy lives in
//! its crate under `crates/toys/`, a third party's in its own crate against
//! `patina-toy` alone.

pub use patina_toy::*;

#[cfg(feature = "blob")]
pub use patina_toy_blob::{self as blob, BlobToy, MAX_BLOB};
#[cfg(feature = "fs")]
pub use patina_toy_fs::{self as fs, FsToy, MAX_LIST as MAX_FS_LIST, MAX_READ as MAX_FS_READ};
#[cfg(feature = "fs-watch")]
pub use patina_toy_fs_watch::{self as fs_watch, FsWatchToy, MAX_WAIT_MS};
#[cfg(feature = "git")]
pub use patina_toy_git::{self as git, GitToy};
#[cfg(feature = "http")]
pub use patina_toy_http::{self as http, HttpToy, MAX_BODY as MAX_HTTP_BODY};
#[cfg(feature = "invoke")]
pub use patina_toy_invoke::{
    self as invoke, Invocation, InvokeAnswer, InvokeError, InvokeRequest, InvokeToy, Invoker,
    InvokerSlot, MAX_DEPTH,
};
#[cfg(feature = "kv")]
pub use patina_toy_kv::{self as kv, KvToy};
#[cfg(feature = "log")]
pub use patina_toy_log::LogToy;
#[cfg(feature = "measure")]
pub use patina_toy_measure::{self as measure, MeasureToy, MetricsStore};

/// A registry with the `log` toy only: what a host that offers children
/// nothing but logging links (the tests' usual start).
#[cfg(feature = "log")]
pub fn log_only() -> ToyRegistry {
    let mut registry = ToyRegistry::empty();
    registry.register(std::sync::Arc::new(LogToy::new()));
    registry
}

/// Every toy pack compiled in (all, by default) but `invoke`, which needs a
/// host to run callees (see [`InvokeToy`]): log, measure, fs, fs-watch, git,
/// blob, kv and http, their state kept under `state`. The `http` toy is also
/// the backend of the host's `wasi:http` ([`ToyRegistry::set_outgoing_http`]),
/// so both ways out obey the same `http:` grants.
pub fn standard(state: &ToyStateDir) -> Result<ToyRegistry, ToyError> {
    // With some packs left out, `state` or `mut` may go unused.
    #[allow(unused_mut)]
    let mut registry = ToyRegistry::empty();
    let _ = state;
    #[cfg(feature = "log")]
    registry.register(std::sync::Arc::new(LogToy::new()));
    #[cfg(feature = "measure")]
    registry.register(std::sync::Arc::new(MeasureToy::new(std::sync::Arc::new(
        MetricsStore::open(&state.metrics())?,
    ))));
    #[cfg(feature = "fs")]
    registry.register(std::sync::Arc::new(FsToy::new()));
    #[cfg(feature = "fs-watch")]
    registry.register(std::sync::Arc::new(FsWatchToy::new(state.snapshots())));
    #[cfg(feature = "git")]
    registry.register(std::sync::Arc::new(GitToy::new()));
    #[cfg(feature = "blob")]
    registry.register(std::sync::Arc::new(BlobToy::new(state.blobs())));
    #[cfg(feature = "kv")]
    registry.register(std::sync::Arc::new(KvToy::open(state.kv())?));
    #[cfg(feature = "http")]
    {
        let http = std::sync::Arc::new(HttpToy::new());
        registry.register(http.clone());
        registry.set_outgoing_http(http);
    }
    Ok(registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interfaces(registry: &ToyRegistry) -> Vec<String> {
        registry.iter().map(|t| t.interface().to_string()).collect()
    }

    #[cfg(feature = "log")]
    #[test]
    fn log_only_has_the_log_toy_only() {
        let registry = log_only();
        assert_eq!(registry.kinds(), ["log"]);
        assert_eq!(interfaces(&registry), ["patina:toys/log@0.1.0"]);
    }

    #[cfg(all(
        feature = "log",
        feature = "measure",
        feature = "fs",
        feature = "fs-watch",
        feature = "git",
        feature = "blob",
        feature = "kv",
        feature = "http"
    ))]
    #[test]
    fn standard_offers_every_pack_but_invoke_and_fs_enables_two_toys() {
        let dir = tempfile::tempdir().unwrap();
        let registry = standard(&ToyStateDir::new(dir.path())).unwrap();
        assert_eq!(
            registry.kinds(),
            ["blob", "fs", "git", "http", "kv", "log", "measure"]
        );
        let fs: Vec<String> = registry
            .by_kind("fs")
            .map(|t| t.interface().to_string())
            .collect();
        assert_eq!(fs, ["patina:toys/fs@0.1.0", "patina:toys/fs-watch@0.1.0"]);
        assert!(registry.by_kind("invoke").next().is_none());
        assert_eq!(interfaces(&registry).len(), 8);
        let backend = registry
            .outgoing_http()
            .expect("wasi:http goes through the http toy");
        assert_eq!(backend.grant_kind(), "http");
    }
}
