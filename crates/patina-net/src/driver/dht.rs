//! The swarm task's side of the DHT: the answers to `provide`,
//! `find_providers` and `bootstrap`, taken from Kademlia's query events.
//!
//! A provider search stops as soon as it has found what was asked; each
//! provider found is dialled while the query still knows its addresses.
//! This module must never answer a handle twice, nor leave one unanswered
//! when its query ends.

use libp2p::PeerId;
use libp2p::kad::{self, GetProvidersOk, QueryId, QueryResult};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};

use super::{Driver, Reply};
use crate::NetError;

/// A provider search under way.
pub(super) struct Find {
    limit: usize,
    found: Vec<PeerId>,
    reply: Reply<Vec<PeerId>>,
}

impl Find {
    pub(super) fn new(limit: usize, reply: Reply<Vec<PeerId>>) -> Self {
        Self {
            limit: limit.max(1),
            found: Vec::new(),
            reply,
        }
    }
}

impl Driver {
    pub(super) fn on_kad(&mut self, event: kad::Event) {
        let kad::Event::OutboundQueryProgressed {
            id,
            result,
            step,
            stats,
        } = event
        else {
            return;
        };
        tracing::debug!(query = ?id, step = step.count, last = step.last, took = ?stats.duration(), succeeded = stats.num_successes(), failed = stats.num_failures(), pending = stats.num_pending(), "query progressed");
        match result {
            QueryResult::GetProviders(found) => {
                let Some(find) = self.finds.get_mut(&id) else {
                    return;
                };
                match found {
                    Ok(GetProvidersOk::FoundProviders { providers, .. }) => {
                        let local = *self.swarm.local_peer_id();
                        for peer in providers {
                            // No more than asked for: a reply that names
                            // thousands of providers gets that many dials
                            // no more.
                            if find.found.len() >= find.limit {
                                break;
                            }
                            if peer == local || find.found.contains(&peer) {
                                continue;
                            }
                            find.found.push(peer);
                            // Dial now, while the query still knows the
                            // provider's addresses (they die with it).
                            let opts = DialOpts::peer_id(peer)
                                .condition(PeerCondition::DisconnectedAndNotDialing)
                                .build();
                            let _ = self.swarm.dial(opts);
                        }
                        if find.found.len() >= find.limit {
                            if let Some(mut query) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                                query.finish();
                            }
                            self.answer_find(id, Ok(()));
                        }
                    }
                    Ok(GetProvidersOk::FinishedWithNoAdditionalRecord { .. }) => {
                        self.answer_find(id, Ok(()));
                    }
                    Err(error) => self.answer_find(id, Err(error.to_string())),
                }
                if step.last {
                    self.answer_find(id, Ok(()));
                }
            }
            QueryResult::StartProviding(result) => {
                if let Some(reply) = self.provides.remove(&id) {
                    let _ = reply.send(
                        result
                            .map(|_| ())
                            .map_err(|e| NetError::Dht(format!("provide: {e}"))),
                    );
                }
            }
            QueryResult::Bootstrap(result) => {
                if step.last
                    && let Some(reply) = self.bootstraps.remove(&id)
                {
                    let _ = reply.send(
                        result
                            .map(|_| ())
                            .map_err(|e| NetError::Dht(format!("bootstrap: {e}"))),
                    );
                }
            }
            _ => {}
        }
    }

    /// Answers a provider search with what it found; an error only when it
    /// found nobody.
    fn answer_find(&mut self, id: QueryId, outcome: Result<(), String>) {
        let Some(find) = self.finds.remove(&id) else {
            return;
        };
        let answer = match outcome {
            Err(error) if find.found.is_empty() => {
                Err(NetError::Dht(format!("find providers: {error}")))
            }
            _ => Ok(find.found),
        };
        let _ = find.reply.send(answer);
    }
}
