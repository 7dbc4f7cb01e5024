//! The WASI context of one run: empty by default, with only granted authority
//! added — preopened directories for `fs` grants (each the very directory
//! that was resolved: see [`crate::preopen`]), socket addresses for `net`
//! grants — and clocks and random sources that go through the run's tape so
//! they are recorded and replayed like toy calls.
//!
//! It must never inherit anything from the host process: no environment, no
//! stdio, no directories, no network.

use std::net::SocketAddr;
use std::sync::Arc;

use patina_core::{ChildId, FsAccess, FsScope, GrantError, NetScope};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx};

use crate::RunRefused;
use crate::ambient::{TapedMonotonicClock, TapedRandom, TapedWallClock};
use crate::grants::ResolvedGrants;
use crate::tape::Tape;

/// The most random bytes one `get-random-bytes` call may ask for.
const MAX_RANDOM_READ: u64 = 1 << 20;

/// Where a run's WASI context sends its output and records its reads.
pub(crate) struct WasiSetup<'a> {
    pub grants: &'a ResolvedGrants,
    pub argv: Option<&'a [String]>,
    pub stdout: &'a MemoryOutputPipe,
    pub stderr: &'a MemoryOutputPipe,
    pub tape: &'a Tape,
    pub child: ChildId,
}

/// The empty WASI context of a run, with only the granted authority added.
pub(crate) fn wasi_context(setup: WasiSetup<'_>) -> Result<WasiCtx, RunRefused> {
    let WasiSetup {
        grants,
        argv,
        stdout,
        stderr,
        tape,
        child,
    } = setup;
    let mut builder = WasiCtx::builder();
    builder
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_ip_name_lookup(false);
    if let Some(argv) = argv {
        builder.args(argv);
    }
    builder
        .wall_clock(TapedWallClock(tape.clone()))
        .monotonic_clock(TapedMonotonicClock {
            tape: tape.clone(),
            start: std::time::Instant::now(),
        })
        .secure_random(TapedRandom::new(tape.clone(), "wasi:random/random"))
        .insecure_random(TapedRandom::new(tape.clone(), "wasi:random/insecure"))
        // Bounds one random read (each is recorded in full).
        .max_random_size(MAX_RANDOM_READ)
        // Seeds hash tables, not secrets: a fixed per-child value keeps runs
        // (hash-map iteration order included) reproducible on every host.
        .insecure_random_seed(u128::from_le_bytes(
            child.digest()[..16].try_into().unwrap_or([0; 16]),
        ));
    for preopen in &grants.preopens {
        let perms = match preopen.access {
            FsAccess::ReadOnly => FsPerms::ReadOnly,
            FsAccess::ReadWrite => FsPerms::ReadWrite,
        };
        let guest = preopen.dir.to_string_lossy().into_owned();
        // Opened here and handed over by the open file's name, so wasmtime
        // opens the directory that was resolved, whatever its path says now.
        let pinned = crate::preopen::pin(&preopen.dir).map_err(|why| {
            let scope = FsScope {
                path: preopen.dir.display().to_string(),
                access: preopen.access,
            };
            RunRefused::Grant(GrantError::BadScope {
                grant: format!("fs:{scope}"),
                reason: why,
            })
        })?;
        builder
            .preopened_dir(pinned.path(), guest, perms)
            .map_err(|e| {
                RunRefused::Link(format!("cannot preopen {}: {e}", preopen.dir.display()))
            })?;
    }
    // TCP and UDP stay off entirely unless some address was granted.
    let any_net = !grants.net.is_empty();
    builder.allow_tcp(any_net).allow_udp(any_net);
    let allowed: Arc<[NetScope]> = grants.net.clone().into();
    builder.socket_addr_check(move |addr: SocketAddr, usage| {
        let ok = socket_allowed(&allowed, addr, usage);
        Box::pin(async move { ok })
    });
    Ok(builder.build())
}

/// Whether the `net` grants allow `usage` of `addr`. An outbound connection
/// implicitly binds an ephemeral port on the unspecified address; that bind is
/// allowed whenever some address was granted (it reaches nothing by itself).
/// Every other use needs the address itself granted.
fn socket_allowed(allowed: &[NetScope], addr: SocketAddr, usage: SocketAddrUse) -> bool {
    let implicit_bind = matches!(usage, SocketAddrUse::TcpBind | SocketAddrUse::UdpBind)
        && addr.ip().is_unspecified()
        && addr.port() == 0;
    if implicit_bind {
        return !allowed.is_empty();
    }
    allowed.iter().any(|scope| scope.allows(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_need_their_address_granted() {
        let scope: NetScope = NetScope::parse(&"net:127.0.0.1:8080".parse().unwrap()).unwrap();
        let granted = [scope];
        let target: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
        assert!(socket_allowed(&granted, target, SocketAddrUse::TcpConnect));
        assert!(socket_allowed(&granted, any, SocketAddrUse::TcpBind));
        assert!(!socket_allowed(
            &granted,
            "127.0.0.1:8081".parse().unwrap(),
            SocketAddrUse::TcpConnect
        ));
        assert!(!socket_allowed(
            &granted,
            "0.0.0.0:8080".parse().unwrap(),
            SocketAddrUse::TcpBind
        ));
        assert!(!socket_allowed(&[], any, SocketAddrUse::TcpBind));
        assert!(!socket_allowed(&[], target, SocketAddrUse::TcpConnect));
    }
}
