//! [`Caller`]: who is calling, under which role and epoch — the one place
//! every capability's call is gated — and the slots that bound runs in flight.

use super::*;

/// Who is calling, with what authority, issued under which epoch.
pub(super) struct Caller {
    pub(super) key: CallerKey,
    pub(super) role: Arc<Role>,
    pub(super) epoch: u64,
    pub(super) shared: Arc<Shared>,
    /// Runs and replays of this login in flight.
    pub(super) runs: Rc<Cell<usize>>,
}

impl Caller {
    /// The check of every call: the epoch, then the method.
    pub(super) fn gate(&self, method: &str) -> Result<(), MembraneError> {
        self.shared.epoch.check(self.epoch)?;
        if self.role.allows(method) {
            Ok(())
        } else {
            Err(MembraneError::Denied {
                role: self.role.name.clone(),
                method: method.to_owned(),
            })
        }
    }

    pub(super) fn span(&self, method: &'static str) -> tracing::Span {
        tracing::info_span!("call", method, caller = %self.key, role = %self.role.name)
    }

    /// Runs the Mother's `work` on the multi-thread runtime.
    pub(super) async fn on_mother<T, F>(&self, work: F) -> Result<T, MembraneError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, MotherError>> + Send + 'static,
    {
        self.shared
            .runtime
            .spawn(work.in_current_span())
            .await
            .map_err(|e| MembraneError::Mother(MotherError::Task(e.to_string())))?
            .map_err(MembraneError::Mother)
    }

    /// Blocking `work` on the Mother, off both runtimes' async threads.
    pub(super) async fn blocking<T, F>(&self, work: F) -> Result<T, MembraneError>
    where
        T: Send + 'static,
        F: FnOnce(&Mother) -> Result<T, MembraneError> + Send + 'static,
    {
        let mother = self.shared.mother.clone();
        self.shared
            .runtime
            .spawn_blocking(move || work(&mother))
            .await
            .map_err(|e| MembraneError::Mother(MotherError::Task(e.to_string())))?
    }

    /// Whether the role may use the child `reference` names.
    pub(super) async fn check_child(&self, reference: &str) -> Result<ChildId, MembraneError> {
        let allowed = match &self.role.children {
            Children::Any => None,
            Children::Only(list) => Some(list.clone()),
        };
        let reference = reference.to_owned();
        let role = self.role.name.clone();
        self.blocking(move |mother| {
            let id = mother.children().resolve(&reference)?;
            if let Some(list) = allowed {
                let ok = list.iter().any(|entry| {
                    mother
                        .children()
                        .resolve(entry)
                        .is_ok_and(|allowed| allowed == id)
                });
                if !ok {
                    return Err(MembraneError::ChildDenied {
                        role,
                        child: reference,
                    });
                }
            }
            Ok(id)
        })
        .await
    }

    pub(super) fn may_see_child(&self, id: &ChildId, names: &[String]) -> bool {
        match &self.role.children {
            Children::Any => true,
            Children::Only(list) => list
                .iter()
                .any(|entry| *entry == id.to_string() || names.contains(entry)),
        }
    }

    pub(super) fn check_receipt(&self, receipt: &Receipt) -> Result<(), MembraneError> {
        if self.role.receipts == ReceiptScope::All {
            return Ok(());
        }
        let owner = self
            .shared
            .owners
            .lock()
            .ok()
            .and_then(|owners| owners.map.get(&receipt.id.to_string()).copied());
        if owner == Some(self.key) {
            Ok(())
        } else {
            Err(MembraneError::ReceiptDenied {
                role: self.role.name.clone(),
                receipt: receipt.id.short().to_string(),
            })
        }
    }

    /// A slot for one more run of this login, or `busy`.
    pub(super) fn run_slot(&self) -> Result<RunSlot, MembraneError> {
        let now = self.runs.get();
        if now >= self.shared.config.max_runs_per_login {
            return Err(MembraneError::Busy(format!(
                "{now} runs of this login are in flight"
            )));
        }
        self.runs.set(now + 1);
        Ok(RunSlot(self.runs.clone()))
    }

    pub(super) fn check_rate(&self) -> Result<(), MembraneError> {
        let Some(rate) = self.role.rate else {
            return Ok(());
        };
        let mut rates = self
            .shared
            .rates
            .lock()
            .map_err(|_| MembraneError::Busy("rate table poisoned".into()))?;
        let now = Instant::now();
        let bucket = rates.entry(self.key).or_insert(Bucket {
            tokens: f64::from(rate.burst),
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate.per_second;
        bucket.tokens = (bucket.tokens + refill).min(f64::from(rate.burst));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(MembraneError::RateLimited {
                role: self.role.name.clone(),
                per_second: rate.per_second,
                burst: rate.burst,
            })
        }
    }

    /// Applies the role's ceilings to `spec`: every grant at or below the
    /// grant ceiling, every limit at or below its ceiling (a limit left out
    /// becomes the lower of the default and the ceiling).
    pub(super) fn attenuate(&self, spec: &mut RunSpec) -> Result<(), MembraneError> {
        let grants = patina_mother::parse_grants(&spec.grants)?;
        for grant in &grants {
            self.role.check_grant(grant)?;
        }
        let defaults = patina_core::Limits::default();
        let ceiling = self.role.limits;
        let checks: [(&'static str, &mut Option<u64>, Option<u64>, u64); 3] = [
            ("fuel", &mut spec.limits.fuel, ceiling.fuel, defaults.fuel),
            (
                "timeout_ms",
                &mut spec.limits.timeout_ms,
                ceiling.timeout_ms,
                u64::try_from(defaults.timeout.as_millis()).unwrap_or(u64::MAX),
            ),
            (
                "memory",
                &mut spec.limits.memory,
                ceiling.memory,
                defaults.memory,
            ),
        ];
        for (limit, asked, ceiling, default) in checks {
            let Some(ceiling) = ceiling else { continue };
            match *asked {
                Some(value) if value > ceiling => {
                    return Err(MembraneError::LimitAboveCeiling {
                        limit,
                        asked: value,
                        ceiling,
                        role: self.role.name.clone(),
                    });
                }
                Some(_) => {}
                None if default > ceiling => *asked = Some(ceiling),
                None => {}
            }
        }
        Ok(())
    }
}

/// One run of a login in flight (released when its call ends).
pub(super) struct RunSlot(pub(super) Rc<Cell<usize>>);

impl Drop for RunSlot {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// Counts a run in flight for graceful shutdown.
pub(super) struct InFlight(pub(super) Arc<Shared>);

impl InFlight {
    pub(super) fn new(shared: &Arc<Shared>) -> Self {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}
