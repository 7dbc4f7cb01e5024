//! `mother mcp [--role ROLE] [--name NAME]`: an MCP server on stdin/stdout
//! for one agent, which acts as the caller `local:NAME` under the policy
//! role ROLE (default `agent`: list, describe and run only the children
//! `[roles.agent]` names, no grants unless the policy file gives some);
//! and the HTTP side of `mother serve --mcp ADDR`. The logic is in
//! `patina-mcp`; this only opens the home and wires the transports.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use patina_mcp::{HttpConfig, McpConfig, McpServer};
use patina_membrane::{MembraneServer, Principal, ServeConfig, read_epoch};
use patina_mother::{Mother, MotherConfig};

#[derive(Debug, Args)]
pub struct McpArgs {
    /// The policy role the agent acts under (`mother policy check` lists them).
    #[arg(long, default_value = "agent")]
    pub role: String,
    /// The agent's name: its receipts name the caller `local:NAME`
    /// (`mother receipts list --caller local:NAME`).
    #[arg(long, default_value = "agent")]
    pub name: String,
}

pub fn run(home: PathBuf, args: McpArgs) -> Result<ExitCode> {
    let principal: Principal = format!("local:{}", args.name)
        .parse()
        .context("--name (letters, digits, `-`, `_`, `.`; at most 64)")?;
    std::fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let mother = Mother::open(MotherConfig::new(&home))?;
        let membrane = MembraneServer::open(mother, ServeConfig::default())?;
        tracing::info!(caller = %principal, role = %args.role, "mcp on stdio");
        let server = McpServer::for_local(
            membrane.clone(),
            principal,
            &args.role,
            McpConfig::default(),
        )?;
        let follower = tokio::spawn(follow_home(membrane, home));
        let served = patina_mcp::serve_stdio(server).await;
        follower.abort();
        served?;
        Ok(ExitCode::SUCCESS)
    })
}

/// How often `mother mcp` looks at the home for changes other commands made.
const HOME_POLL: Duration = Duration::from_secs(1);

/// Applies what other `mother` commands change in the home while an agent
/// is served here, as `mother serve` does on its signals: an edited
/// `policy.toml` (`mother policy allow`, or by hand) is loaded again, and an
/// epoch advanced in the home's `epoch` file (`mother epoch bump`) is taken
/// up. Either makes every capability issued before stale; the agent's next
/// request is served under the role as the policy has it then.
async fn follow_home(membrane: MembraneServer, home: PathBuf) {
    let policy = home.join("policy.toml");
    let epoch_file = home.join("epoch");
    let stamp = |path: &Path| {
        std::fs::metadata(path)
            .ok()
            .map(|meta| (meta.modified().ok(), meta.len()))
    };
    let mut seen = stamp(&policy);
    loop {
        tokio::time::sleep(HOME_POLL).await;
        let now = stamp(&policy);
        if now != seen {
            seen = now;
            match membrane.reload_policy() {
                Ok(epoch) => tracing::info!(epoch, "policy.toml changed: loaded again"),
                Err(error) => {
                    tracing::warn!(%error, "policy.toml changed and does not load: the old policy stays");
                }
            }
        }
        match read_epoch(&epoch_file) {
            Ok(on_file) if on_file > membrane.epoch().current() => {
                if let Err(error) = membrane.epoch().advance_to(on_file) {
                    tracing::warn!(%error, "could not take up the home's epoch");
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not read the home's epoch"),
        }
    }
}

/// MCP over streamable HTTP beside `mother serve`, until the returned
/// sender is dropped or fires.
pub async fn start_http(
    membrane: &MembraneServer,
    addr: SocketAddr,
) -> Result<tokio::sync::oneshot::Sender<()>> {
    if !addr.ip().is_loopback() {
        bail!("--mcp serves a loopback address only (127.0.0.1:PORT), not {addr}");
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let bound = listener
        .local_addr()
        .context("the MCP listener's address")?;
    eprintln!("mcp http://{bound}/mcp");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let membrane = membrane.clone();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) =
            patina_mcp::serve_http(membrane, listener, HttpConfig::default(), shutdown).await
        {
            tracing::error!(kind = error.kind(), %error, "MCP over HTTP stopped");
        }
    });
    Ok(stop)
}
