//! The one `mother serve` process the served, bridge and peer hosts share:
//! its Unix socket is the served door, its `--http` bridge the REST door,
//! and its `--listen` address on 127.0.0.1 makes it the Mother that asks
//! the peer. Three doors into one Mother compile each child once instead of
//! three times (a 12–18 MB JavaScript or Python child costs tens of seconds
//! to compile on a debug build) and still test three doors: every run is
//! recorded with the door it came through. Started on first use, so a
//! suite run without those hosts starts nothing.

use std::rc::Rc;

use anyhow::{Context, Result};
use patina_membrane::TokenStore;
use tokio::sync::Mutex;

use super::home::Home;
use super::served::Served;

/// Where the shared Mother listens for peers (TCP on 127.0.0.1 only).
pub const LOOPBACK: &str = "/ip4/127.0.0.1/tcp/0";

/// The shared `mother serve`, and what its doors need.
#[derive(Clone)]
pub struct Front {
    /// The process and a session on its socket (one host at a time uses it).
    pub served: Rc<Mutex<Served>>,
    /// Its key, as another home's `policy.toml` names a caller.
    pub key: String,
    /// Its REST bridge, `http://127.0.0.1:PORT`.
    pub http: url::Url,
    /// A bearer token of the `admin` role for the bridge.
    pub token: String,
}

impl Front {
    /// Starts `mother serve --json --listen 127.0.0.1 --http 127.0.0.1:0` on
    /// a fresh home, with a bridge token made before it starts.
    pub async fn start(mother: &std::path::Path) -> Result<Self> {
        let home = Home::new("served", mother)?;
        let key = home.key();
        let (_, token) = TokenStore::open(home.root().join("tokens.toml"))
            .and_then(|store| store.create("admin", "conformance", None))
            .context("a token for the bridge")?;
        let served = Served::start(
            home,
            &["--json", "--listen", LOOPBACK, "--http", "127.0.0.1:0"],
        )
        .await?;
        let http = served
            .http()
            .context("`mother serve --http` named no address")?
            .parse()
            .context("the bridge's address")?;
        Ok(Self {
            served: Rc::new(Mutex::new(served)),
            key,
            http,
            token,
        })
    }
}
