//! Serving on a Unix socket: [`HomeLock`] (one serving Mother per home),
//! [`serve_unix`] (the accept loop, until a shutdown signal) and
//! [`SocketThread`] (that loop on a thread of its own, as `mother serve`
//! runs it).
//!
//! The socket is created mode 0600 (the umask is narrowed around `bind`,
//! then the mode is set again), so only the home's owner can connect; the
//! login still decides who the caller is. This module must never remove a
//! socket it did not create: the lock is taken before the old socket file
//! is replaced.

use std::future::Future;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::{MembraneError, MembraneServer};

/// An exclusive lock on a Mother's home (`mother.lock`), held while serving.
#[derive(Debug)]
pub struct HomeLock {
    _file: std::fs::File,
    path: PathBuf,
}

impl HomeLock {
    /// Takes the lock of `home`, or says which process holds it.
    pub fn take(home: &Path) -> Result<Self, MembraneError> {
        let path = home.join("mother.lock");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| MembraneError::io(format!("opening {}", path.display()), e))?;
        // SAFETY: flock on a file descriptor this function owns.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if locked != 0 {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            return Err(MembraneError::Busy(format!(
                "another Mother (pid {}) serves {}",
                holder.trim(),
                home.display()
            )));
        }
        use std::io::Write;
        file.set_len(0)
            .and_then(|()| write!(file, "{}", std::process::id()))
            .map_err(|e| MembraneError::io(format!("writing {}", path.display()), e))?;
        Ok(Self { _file: file, path })
    }

    /// The pid written in `home`'s lock file, if a Mother holds it now.
    pub fn holder(home: &Path) -> Option<u32> {
        let path = home.join("mother.lock");
        let file = std::fs::File::open(&path).ok()?;
        // SAFETY: as above; a shared probe released at once.
        let free = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } == 0;
        if free {
            // SAFETY: unlocks the probe just taken.
            unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
            return None;
        }
        std::fs::read_to_string(&path).ok()?.trim().parse().ok()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Binds `path` (replacing a stale socket file) with mode 0600.
pub fn bind(path: &Path) -> Result<tokio::net::UnixListener, MembraneError> {
    if path.exists() {
        std::fs::remove_file(path)
            .map_err(|e| MembraneError::io(format!("removing the old {}", path.display()), e))?;
    }
    // SAFETY: umask only changes this process's file-creation mask.
    let old = unsafe { libc::umask(0o177) };
    let listener = tokio::net::UnixListener::bind(path);
    // SAFETY: restores the mask.
    unsafe { libc::umask(old) };
    let listener =
        listener.map_err(|e| MembraneError::io(format!("binding {}", path.display()), e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| MembraneError::io(format!("chmod {}", path.display()), e))?;
    Ok(listener)
}

/// Accepts connections on `listener` until `shutdown` resolves, each served
/// on its own local task. Must run inside a `tokio::task::LocalSet`. Then
/// stops accepting, and waits up to `drain` for runs in flight to finish
/// (they keep their receipts); returns how many did not.
pub async fn serve_unix(
    server: &MembraneServer,
    listener: tokio::net::UnixListener,
    shutdown: impl Future<Output = ()>,
    drain: std::time::Duration,
) -> usize {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let serving = server.serve(stream);
                    tokio::task::spawn_local(async move {
                        let _ = serving.await;
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
    drop(listener);
    tracing::info!(
        in_flight = server.in_flight(),
        "shutting down: no new connections"
    );
    server.drain(drain).await
}

/// [`serve_unix`] on a thread of its own: a current-thread runtime whose own
/// driver polls the socket and every connection, so the Cap'n Proto work of
/// all connections (single-threaded anyway) is woken by its sockets without
/// a hop through another thread's poller; the Mother's work still goes to
/// the multi-thread runtime the server was created on.
#[derive(Debug)]
pub struct SocketThread {
    done: tokio::sync::oneshot::Receiver<usize>,
}

impl SocketThread {
    /// Binds `path` (as [`bind`]) and serves `server` there until
    /// `shutdown` turns true, then waits up to `drain` for runs in flight.
    /// Returns once the socket is bound, or with the reason it is not.
    pub fn start(
        server: MembraneServer,
        path: &Path,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
        drain: std::time::Duration,
    ) -> Result<Self, MembraneError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| MembraneError::io("starting the socket's runtime".to_owned(), e))?;
        let listener = {
            let _serving = runtime.enter();
            bind(path)?
        };
        let (finished, done) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("membrane-socket".into())
            .spawn(move || {
                let local = tokio::task::LocalSet::new();
                let left = local.block_on(&runtime, async move {
                    let stop = async move {
                        let _ = shutdown.wait_for(|stop| *stop).await;
                    };
                    serve_unix(&server, listener, stop, drain).await
                });
                let _ = finished.send(left);
            })
            .map_err(|e| MembraneError::io("starting the socket's thread".to_owned(), e))?;
        Ok(Self { done })
    }

    /// Waits until serving has stopped; returns how many runs in flight
    /// did not finish within the drain (`None` if the thread died first).
    pub async fn finished(self) -> Option<usize> {
        self.done.await.ok()
    }
}
