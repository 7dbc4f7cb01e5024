//! A `mother serve` process on a fresh home of its own, and a session on
//! its Unix socket logged in with the home's key (the home's `admin`): what
//! the served, peer and bridge hosts start. It only starts and connects;
//! what is run through it is the adapters' business.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use patina_membrane::{Connection, Session};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use super::home::Home;

/// How long `mother serve` may take to open its socket (and print its
/// addresses, with `--json`).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `mother serve` and a session on its socket.
pub struct ServeProcess {
    /// Logged in with the home's own key.
    pub session: Session,
    /// What it printed on stdout first, with `--json` (its peer id and
    /// listen addresses); empty otherwise.
    pub printed: String,
    /// The REST bridge's address, `http://127.0.0.1:PORT`, with `--http`.
    pub http: Option<String>,
    _process: Child,
    _home: Home,
}

impl ServeProcess {
    /// Starts `mother serve FLAGS` on `home`, waits for its socket (and,
    /// if `flags` has `--json`, its first line) and logs in.
    pub async fn start(home: Home, flags: &[&str]) -> Result<Self> {
        let root = home.root().to_owned();
        let socket = root.join("mother.sock");
        let prints = flags.contains(&"--json");
        let bridges = flags.contains(&"--http");
        let args: Vec<&str> = std::iter::once("serve")
            .chain(flags.iter().copied())
            .collect();
        let mut command = home.command(&args);
        if prints {
            command.stdout(std::process::Stdio::piped());
        }
        if bridges {
            command.stderr(std::process::Stdio::piped());
        }
        let mut process = command.spawn().context("starting `mother serve`")?;
        let mut printed = String::new();
        if let Some(stdout) = process.stdout.take() {
            let mut lines = BufReader::new(stdout).lines();
            printed = tokio::time::timeout(START_TIMEOUT, lines.next_line())
                .await
                .with_context(|| {
                    format!("`mother serve` printed nothing within {START_TIMEOUT:?}")
                })?
                .context("reading what `mother serve` printed")?
                .context("`mother serve` exited before printing its addresses")?;
            // The rest is not read: keep the pipe drained so it never blocks.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        }
        let http = match process.stderr.take() {
            Some(stderr) => Some(bridge_addr(stderr).await?),
            None => None,
        };
        wait_for(&socket).await?;
        let seed = home.seed();
        let session = Connection::unix(&socket)
            .await
            .map_err(|e| anyhow::anyhow!("connecting: {}: {}", e.kind, e.message))?
            .login(&seed)
            .await
            .map_err(|e| anyhow::anyhow!("logging in: {}: {}", e.kind, e.message))?;
        Ok(Self {
            session,
            printed,
            http,
            _process: process,
            _home: home,
        })
    }
}

/// Reads `mother serve`'s stderr up to the line that names the address the
/// bridge bound (`mother serving http://ADDR`), then keeps draining it.
async fn bridge_addr(stderr: tokio::process::ChildStderr) -> Result<String> {
    let mut lines = BufReader::new(stderr).lines();
    let found = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await? {
            if let Some(addr) = line.strip_prefix("mother serving http://") {
                return Ok(Some(format!("http://{}", addr.trim())));
            }
        }
        Ok::<_, std::io::Error>(None)
    })
    .await
    .with_context(|| format!("`mother serve --http` named no address within {START_TIMEOUT:?}"))?
    .context("reading `mother serve`'s stderr")?
    .context("`mother serve --http` exited before naming its address")?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(found)
}

async fn wait_for(socket: &Path) -> Result<()> {
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    while !socket.exists() {
        if tokio::time::Instant::now() > deadline {
            bail!(
                "`mother serve` did not open {} within {START_TIMEOUT:?}",
                socket.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
