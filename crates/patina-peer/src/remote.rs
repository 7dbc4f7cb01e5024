//! Asking a peer: reach it (by peer id or multiaddr), run a child there
//! over the one session this node keeps with it, and check what comes
//! back — the receipt must verify, be signed by the very peer that
//! answered (its peer id *is* its key), be of the child asked for, name
//! this Mother as the caller, and be the one the summary names — before it
//! is kept in the local receipt store, where `mother receipts verify` and
//! `mother replay` find it. Pushing a child's bytes to a peer.
//!
//! The caller's deadline bounds everything: it is the run's deadline on
//! the peer, and reaching the peer, opening the session and the peer
//! fetching the child count against it too — no answer is awaited past it
//! plus the grace. This module must never keep a receipt it could not verify as
//! the answering peer's, and never retry a run (a run may have happened).

use std::time::Duration;

use patina_core::ChildId;
use patina_membrane::{CallerKey, Principal, RemoteError, RemoteRun, Session};
use patina_mother::{ChildRef, Installed, ModeSpec, Mother, RunSpec};
use patina_net::{NetHandle, PeerId, peer_id_to_ed25519, peer_in};
use patina_receipts::{ExportedReceipt, Receipt};

use crate::blobs::Offers;
use crate::sessions::{Live, Sessions};
use crate::{PeerError, PeerTarget};

/// How long a push (an install of up to the cap's bytes) may take.
const PUSH_BOUND: Duration = Duration::from_secs(120);

/// A run on a peer, as it came back and was checked.
#[derive(Debug)]
pub struct PeerRun {
    /// The peer that ran it (the receipt's signer).
    pub peer: PeerId,
    /// The answer (its receipt verified as the peer's and kept here).
    pub run: RemoteRun,
    /// Whether the receipt was new to the local store.
    pub imported: bool,
}

/// What asking a peer needs.
pub(crate) struct Asker<'a> {
    pub(crate) net: &'a NetHandle,
    pub(crate) mother: &'a Mother,
    pub(crate) sessions: &'a Sessions,
    pub(crate) offers: &'a Offers,
    pub(crate) grace: Duration,
}

impl Asker<'_> {
    /// The peer `target` names, connected.
    pub(crate) async fn reach(&self, target: &PeerTarget) -> Result<PeerId, PeerError> {
        let peer = match target {
            PeerTarget::Id(peer) => {
                self.net
                    .connect(*peer)
                    .await
                    .map_err(|e| unreachable(*peer, &e))?;
                *peer
            }
            PeerTarget::Addr(addr) => match peer_in(addr) {
                Some(peer) => {
                    let mut base = addr.clone();
                    base.pop();
                    self.net.add_address(peer, base).await?;
                    self.net
                        .connect(peer)
                        .await
                        .map_err(|e| unreachable(peer, &e))?;
                    peer
                }
                None => self.net.dial(addr.clone()).await?,
            },
        };
        if peer == self.net.local_peer_id() {
            return Err(PeerError::BadTarget(format!("{target} is this Mother")));
        }
        Ok(peer)
    }

    /// The session with `target`: the open one when its peer id is known
    /// and a session with it is open (the common case: no round trip to
    /// the swarm before the call), else reached and opened.
    async fn session_with(&self, target: &PeerTarget) -> Result<(PeerId, Live), PeerError> {
        let known = match target {
            PeerTarget::Id(peer) => Some(*peer),
            PeerTarget::Addr(addr) => peer_in(addr),
        };
        if let Some(peer) = known
            && let Some(live) = self.sessions.open_now(peer)
        {
            return Ok((peer, live));
        }
        let peer = self.reach(target).await?;
        Ok((peer, self.sessions.get(peer).await?))
    }

    /// Runs `spec` (its child a full `b3:` id) on `target`. The spec's
    /// deadline (the host default when it names none) is the run's deadline
    /// on the peer, sent unchanged (so two peers' transcripts of one call
    /// are alike), and it bounds the caller too: reaching the peer, opening
    /// the session, the peer fetching the child and the run all count
    /// against it, and no answer is awaited past it plus the grace.
    pub(crate) async fn run_on(
        &self,
        target: &PeerTarget,
        spec: RunSpec,
    ) -> Result<PeerRun, PeerError> {
        let child = child_of(&spec)?;
        let timeout = spec.limits.timeout_ms.map_or(
            patina_core::Limits::default().timeout,
            Duration::from_millis,
        );
        let bound = timeout + self.grace;
        let mut asked_peer = None;
        let asked = async {
            let (peer, live) = self.session_with(target).await?;
            asked_peer = Some((peer, live.clone()));
            let mode = spec.mode;
            let _offer = self.offers.offer(peer, child);
            let ran = self
                .call(peer, &live, "a run", move |session| async move {
                    session.run(&spec).await
                })
                .await?;
            let receipt = self.check(peer, child, mode, &ran)?;
            let imported = match receipt {
                Some(receipt) => self.keep(peer, &live, receipt).await?,
                None => false,
            };
            Ok(PeerRun {
                peer,
                run: ran,
                imported,
            })
        };
        let outcome = tokio::time::timeout(bound, asked).await;
        match outcome {
            Ok(result) => result,
            Err(_) => {
                // A peer silent this long is as good as gone: the next call
                // opens a new session.
                if let Some((peer, live)) = &asked_peer {
                    self.sessions.forget(*peer, live).await;
                }
                Err(PeerError::Timeout {
                    peer: target.to_string(),
                    after: bound,
                })
            }
        }
    }

    /// Installs `bytes` (the child `child`) on `target` by digest.
    pub(crate) async fn push(
        &self,
        target: &PeerTarget,
        child: ChildId,
        bytes: Vec<u8>,
    ) -> Result<Installed, PeerError> {
        let (peer, live) = self.session_with(target).await?;
        let _offer = self.offers.offer(peer, child);
        let install = self.call(peer, &live, "an install", move |session| async move {
            session.install(&bytes, None, &[]).await
        });
        let installed = tokio::time::timeout(PUSH_BOUND, install)
            .await
            .map_err(|_| PeerError::Timeout {
                peer: peer.to_string(),
                after: PUSH_BOUND,
            })??;
        if installed.child != child {
            return Err(PeerError::BadReceipt {
                peer,
                reason: format!("it installed {} for {child}", installed.child),
            });
        }
        Ok(installed)
    }

    /// One call on the session `live` with `peer`; a broken connection
    /// makes the session forgotten and is `peer-disconnected`, a refusal
    /// keeps the peer's kind.
    async fn call<T, F, Fut>(
        &self,
        peer: PeerId,
        live: &Live,
        during: &'static str,
        call: F,
    ) -> Result<T, PeerError>
    where
        T: Send + 'static,
        F: FnOnce(std::rc::Rc<Session>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, RemoteError>> + 'static,
    {
        // The semaphore is never closed: a failed acquire cannot happen.
        let _place = live.calls.acquire().await.ok();
        let error = match live.handle.call(call).await {
            Ok(answer) => return Ok(answer),
            Err(error) => error,
        };
        // A peer's own answer carries its kind; a failure of the connection
        // is `disconnected`, or a bare `rpc` error once the peer is gone.
        let broken = match error.kind.as_str() {
            "disconnected" => true,
            "rpc" | "io" => !self.connected(peer).await,
            _ => false,
        };
        if !broken {
            return Err(PeerError::Remote {
                peer,
                error: Box::new(error),
            });
        }
        self.sessions.forget(peer, live).await;
        Err(PeerError::Disconnected {
            peer,
            during,
            reason: error.message,
        })
    }

    /// Whether a connection with `peer` is open now.
    async fn connected(&self, peer: PeerId) -> bool {
        self.net
            .peers()
            .await
            .is_ok_and(|peers| peers.iter().any(|info| info.peer == peer))
    }

    /// The receipt of `ran`, checked as `peer`'s receipt of a run of
    /// `child` asked by this Mother (`None` for a live run).
    fn check(
        &self,
        peer: PeerId,
        child: ChildId,
        mode: ModeSpec,
        ran: &RemoteRun,
    ) -> Result<Option<Receipt>, PeerError> {
        let bad = |reason: String| PeerError::BadReceipt { peer, reason };
        let Some(receipt) = &ran.receipt else {
            return match mode {
                ModeSpec::Live => Ok(None),
                ModeSpec::Record => Err(bad("a recorded run came back without a receipt".into())),
            };
        };
        patina_receipts::verify(receipt).map_err(|e| bad(e.to_string()))?;
        let key = peer_id_to_ed25519(&peer)
            .ok_or_else(|| bad("the peer id is not an Ed25519 key".into()))?;
        if receipt.mother.bytes() != &key {
            return Err(bad(format!(
                "it is signed by {}, not by the peer that answered",
                receipt.mother
            )));
        }
        if receipt.transcript.child != child {
            return Err(bad(format!(
                "it is a run of {}, not of {child}",
                receipt.transcript.child
            )));
        }
        if ran.summary.receipt != Some(receipt.id) {
            return Err(bad("the summary names another receipt".into()));
        }
        let me = Principal::Key(CallerKey(*self.mother.identity().id().bytes())).to_string();
        let caller = receipt.caller.as_ref().map(|c| c.id.as_str());
        if caller != Some(me.as_str()) {
            return Err(bad(format!(
                "it names {} as the caller, not this Mother",
                caller.unwrap_or("nobody")
            )));
        }
        Ok(Some(receipt.clone()))
    }

    /// Keeps `receipt` in the local store, with the blobs it refers to
    /// (asked of the peer only when there are any).
    async fn keep(&self, peer: PeerId, live: &Live, receipt: Receipt) -> Result<bool, PeerError> {
        let blobs = if receipt.references().is_empty() {
            Vec::new()
        } else {
            let id = receipt.id.to_string();
            let (full, blobs) = self
                .call(peer, live, "a receipt's blobs", move |session| async move {
                    session.receipt(&id).await
                })
                .await?;
            if full.id != receipt.id {
                return Err(PeerError::BadReceipt {
                    peer,
                    reason: "asked for its blobs, it sent another receipt".into(),
                });
            }
            blobs
        };
        let export = ExportedReceipt::new(receipt, &blobs).encode();
        let imported = self.mother.import_receipt(export).await?;
        Ok(imported.new)
    }
}

/// The full child id a spec for a peer names.
fn child_of(spec: &RunSpec) -> Result<ChildId, PeerError> {
    match &spec.child {
        ChildRef::Installed(reference) => reference.parse().map_err(|_| {
            PeerError::Membrane(patina_membrane::MembraneError::BadRequest(format!(
                "a run on a peer names its child by its full id (b3:…), not `{reference}`"
            )))
        }),
        ChildRef::File(path) => Err(PeerError::Membrane(
            patina_membrane::MembraneError::BadRequest(format!(
                "a run on a peer names its child by its id, not a file ({})",
                path.display()
            )),
        )),
    }
}

fn unreachable(peer: PeerId, error: &patina_net::NetError) -> PeerError {
    PeerError::Unreachable {
        peer,
        reason: error.to_string(),
    }
}
