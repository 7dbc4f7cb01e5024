//! [`ServeConfig`]: the bounds of one served membrane — logins, frames,
//! connections and runs in flight. It holds numbers only; the server and
//! its connections enforce them.

use std::time::Duration;

/// Bounds of one membrane.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// How long a connection may stay without logging in.
    pub login_timeout: Duration,
    /// Connections not yet logged in, at most (more are closed at once).
    pub max_pending_logins: usize,
    /// Challenges one connection may ask for.
    pub challenges_per_connection: u32,
    /// How long a nonce stays good.
    pub nonce_ttl: Duration,
    /// The largest frame (Cap'n Proto message) read, in bytes.
    pub max_frame_bytes: usize,
    /// The most bytes read from a connection before it logs in (a login
    /// takes a few hundred); more end the connection.
    pub max_bytes_before_login: usize,
    /// Connections open at once, at most (more are closed at once).
    pub max_connections: usize,
    /// Connections one caller key may hold open at once, logged in over
    /// the socket or proved by its transport (a peer); a login past it is
    /// refused (`notGranted`, saying so), so that one caller cannot take
    /// every connection of [`Self::max_connections`].
    pub max_connections_per_caller: usize,
    /// Runs and replays one login (or one bearer token, across its
    /// requests) may have in flight at once.
    pub max_runs_per_login: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            login_timeout: Duration::from_secs(10),
            max_pending_logins: 64,
            challenges_per_connection: 4,
            nonce_ttl: Duration::from_secs(30),
            max_frame_bytes: 64 << 20,
            max_bytes_before_login: 64 << 10,
            max_connections: 1024,
            max_connections_per_caller: 256,
            max_runs_per_login: 64,
        }
    }
}

impl ServeConfig {
    /// The reader options every frame is read with.
    pub fn reader_options(&self) -> capnp::message::ReaderOptions {
        let mut options = capnp::message::ReaderOptions::new();
        options.traversal_limit_in_words(Some(self.max_frame_bytes / 8));
        options.nesting_limit(64);
        options
    }
}
