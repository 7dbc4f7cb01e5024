//! [`SessionHandle`]: a `Send + Clone` handle to one logged-in [`Session`],
//! for doors whose frameworks want `Send` futures (MCP, HTTP).
//!
//! Cap'n Proto RPC is single-threaded, so a [`Session`] lives on a thread of
//! its own (a current-thread runtime with a `LocalSet`); the handle sends it
//! jobs and awaits their answers. Each job runs as its own local task, so
//! many calls are in flight on the one session at once. The thread ends when
//! the last handle is dropped.
//!
//! This module moves calls; it must never look at or change what they ask
//! for: the membrane on the other side of the session decides.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::{RemoteError, Session};

type Job = Box<dyn FnOnce(Rc<Session>) -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// A `Send + Clone` handle to a [`Session`] that runs on a thread of its own.
#[derive(Clone)]
pub struct SessionHandle {
    jobs: mpsc::UnboundedSender<Job>,
    role: Arc<str>,
}

impl std::fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHandle")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

fn gone() -> RemoteError {
    RemoteError::new("io", "the membrane session has ended")
}

impl SessionHandle {
    /// Starts a session thread: `connect` runs there (inside its
    /// `LocalSet`, so it may spawn local tasks — an in-process membrane's
    /// `serve`, say) and returns the logged-in session.
    pub async fn spawn<F, Fut>(connect: F) -> Result<Self, RemoteError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Session, RemoteError>> + 'static,
    {
        let (ready_tx, ready_rx) = oneshot::channel::<Result<Arc<str>, RemoteError>>();
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        std::thread::Builder::new()
            .name("membrane-session".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(RemoteError::new("io", e.to_string())));
                        return;
                    }
                };
                let local = tokio::task::LocalSet::new();
                local.block_on(&runtime, async move {
                    let session = match connect().await {
                        Ok(session) => Rc::new(session),
                        Err(error) => {
                            let _ = ready_tx.send(Err(error));
                            return;
                        }
                    };
                    if ready_tx.send(Ok(Arc::from(session.role()))).is_err() {
                        return;
                    }
                    while let Some(job) = queue.recv().await {
                        tokio::task::spawn_local(job(session.clone()));
                    }
                });
            })
            .map_err(|e| RemoteError::new("io", format!("starting a session thread: {e}")))?;
        let role = ready_rx.await.map_err(|_| gone())??;
        Ok(Self { jobs, role })
    }

    /// The caller's role.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// Runs `call` on the session and returns its answer.
    pub async fn call<T, F, Fut>(&self, call: F) -> Result<T, RemoteError>
    where
        T: Send + 'static,
        F: FnOnce(Rc<Session>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, RemoteError>> + 'static,
    {
        let (answer_tx, answer_rx) = oneshot::channel();
        let job: Job = Box::new(move |session| {
            Box::pin(async move {
                let _ = answer_tx.send(call(session).await);
            })
        });
        self.jobs.send(job).map_err(|_| gone())?;
        answer_rx.await.map_err(|_| gone())?
    }
}
