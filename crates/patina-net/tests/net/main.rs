//! Integration tests of `patina-net`: real nodes on 127.0.0.1 only (TCP and
//! QUIC), every wait bounded, every test stopping by itself.

mod blobs;
mod dht;
mod identity;
mod streams;

use std::time::Duration;

use patina_net::{Multiaddr, NetConfig, NetHandle, PeerId};

/// The bound on any one test.
pub const TEST_BOUND: Duration = Duration::from_secs(60);

/// Runs `test` within [`TEST_BOUND`] (with traces on stderr when `RUST_LOG` says so).
pub async fn bounded<T>(test: impl Future<Output = T>) -> T {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
    tokio::time::timeout(TEST_BOUND, test)
        .await
        .expect("the test finished within its bound")
}

/// The two heavy tests (64 MiB through Noise, twenty nodes) take turns, so
/// that neither starves the other of the machine's cores into a timeout.
pub async fn heavy() -> tokio::sync::MutexGuard<'static, ()> {
    static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    HEAVY.lock().await
}

/// A node on loopback with the seed `[seed; 32]`.
pub async fn node(seed: u8) -> NetHandle {
    node_with(seed, NetConfig::loopback()).await
}

/// A node with the seed `[seed; 32]` and `config` (which must listen on loopback).
pub async fn node_with(seed: u8, config: NetConfig) -> NetHandle {
    assert!(
        config
            .listen
            .iter()
            .all(|a| a.to_string().starts_with("/ip4/127.0.0.1/")),
        "tests listen on 127.0.0.1 only"
    );
    NetHandle::start(&[seed; 32], config)
        .await
        .expect("the node starts")
}

/// The listen address of `node` on `transport` (`tcp` or `quic-v1`), with `/p2p/<peer>`.
pub async fn addr_of(node: &NetHandle, transport: &str) -> Multiaddr {
    let addrs = node.listen_addrs().await.expect("listening");
    let addr = addrs
        .into_iter()
        .find(|a| a.to_string().contains(&format!("/{transport}")))
        .expect("a listen address on that transport");
    format!("{addr}/p2p/{}", node.local_peer_id())
        .parse()
        .expect("a multiaddr")
}

/// Dials `to` from `from` over TCP.
pub async fn connect(from: &NetHandle, to: &NetHandle) -> PeerId {
    from.dial(addr_of(to, "tcp").await)
        .await
        .expect("the dial succeeds")
}

/// Deterministic bytes (xorshift64*), so a failure replays.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}
