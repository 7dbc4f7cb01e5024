//! `mother serve [--socket PATH] [--listen ADDR]... [--http ADDR [--mount PREFIX=CHILD]...] [--mcp ADDR]`:
//! a long-running Mother serving the membrane on a Unix socket (mode 0600)
//! — to peers over libp2p when it listens (`serve_peer`), over the REST
//! bridge (`patina-bridge`) and MCP over streamable HTTP (`patina-mcp`)
//! when asked — holding the home's lock so a
//! second Mother on the same home refuses to start.
//!
//! Signals: SIGINT / SIGTERM stop accepting (on the socket and on HTTP),
//! wait (`--drain`) for runs and requests in flight, which keep their
//! receipts, and exit; SIGHUP reloads
//! `policy.toml` and advances the epoch; SIGUSR1 advances the epoch
//! (`mother epoch bump`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use patina_membrane::{HomeLock, MembraneServer, ServeConfig, SocketThread};
use patina_mother::{Mother, MotherConfig};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::ServeArgs;

pub fn run(home: PathBuf, args: ServeArgs) -> Result<ExitCode> {
    let drain = patina_core::parse_duration(&args.drain).context("--drain")?;
    std::fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
    let lock = HomeLock::take(&home)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let mother = Mother::open(MotherConfig::new(&home))?;
        let id = mother.identity().id();
        let server = MembraneServer::open(mother, ServeConfig::default())?;
        let socket = args.socket.unwrap_or_else(|| home.join("mother.sock"));
        // The socket is served on a thread of its own (its connections'
        // Cap'n Proto work on a current-thread runtime), the Mother's work
        // on this multi-thread runtime.
        let (stop_socket, socket_stopping) = tokio::sync::watch::channel(false);
        let serving = SocketThread::start(server.clone(), &socket, socket_stopping, drain)?;
        let mcp = match args.mcp {
            Some(addr) => Some(super::mcp::start_http(&server, addr).await?),
            None => None,
        };
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let http = match args.http {
            Some(addr) => Some(start_http(&server, addr, args.mount, drain, stopping).await?),
            None => None,
        };
        let peers = super::serve_peer::start(&server, &home, &args.peer).await?;
        let mut hangup = signal(SignalKind::hangup()).context("SIGHUP")?;
        let mut user1 = signal(SignalKind::user_defined1()).context("SIGUSR1")?;
        let mut terminate = signal(SignalKind::terminate()).context("SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("SIGINT")?;
        let signals = server.clone();
        tokio::task::spawn_local(async move {
            loop {
                let result = tokio::select! {
                    _ = hangup.recv() => signals.reload_policy().map(|epoch| ("policy reloaded", epoch)),
                    _ = user1.recv() => signals.bump_epoch().map(|epoch| ("epoch bumped", epoch)),
                };
                match result {
                    Ok((what, epoch)) => tracing::warn!(epoch, "{what}"),
                    Err(error) => tracing::error!(kind = error.kind(), %error, "kept the policy and the epoch"),
                }
            }
        });
        eprintln!(
            "mother {id} serving {} (epoch {}, lock {})",
            socket.display(),
            server.epoch().current(),
            lock.path().display()
        );
        let shutdown = async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
            let _ = stop.send(true);
            let _ = stop_socket.send(true);
        };
        shutdown.await;
        let left = serving
            .finished()
            .await
            .unwrap_or_else(|| server.in_flight());
        drop(mcp);
        if let Some(http) = http
            && let Ok(served) = http.await
            && !served.drained
        {
            eprintln!("stopped: some HTTP requests were still in flight after {drain:?}");
        }
        if let Some(peers) = peers {
            peers.shutdown().await;
        }
        let _ = std::fs::remove_file(&socket);
        if left > 0 {
            eprintln!("stopped: {left} runs still in flight were cancelled (none was answered)");
        } else {
            eprintln!("stopped: every run in flight finished");
        }
        drop(lock);
        Ok(ExitCode::SUCCESS)
    })
}

/// Binds `addr` and serves the REST bridge there until `stopping` turns true.
async fn start_http(
    server: &MembraneServer,
    addr: std::net::SocketAddr,
    mounts: Vec<patina_bridge::mount::Mount>,
    drain: std::time::Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<patina_bridge::Served>> {
    let config = patina_bridge::BridgeConfig {
        drain,
        ..Default::default()
    };
    let bridge =
        patina_bridge::Bridge::with_mounts(server.clone(), config, mounts).context("--mount")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let bound = listener.local_addr().context("the bound address")?;
    eprintln!("mother serving http://{bound}");
    for mount in bridge.mounts() {
        eprintln!("  {} -> bridge child {}", mount.prefix, mount.child);
    }
    Ok(tokio::spawn(patina_bridge::serve(
        listener,
        bridge,
        async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        },
    )))
}
