//! The Terminal: challenge–response login on one connection, and the
//! checks a login passes before it is handed a membrane.

use super::*;

pub(super) struct Terminal {
    pub(super) shared: Arc<Shared>,
    pub(super) connection: Rc<Connection>,
}

pub(super) fn array<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    <[u8; N]>::try_from(bytes).ok()
}

pub(super) struct LoginRefused(pub(super) LoginStatus, pub(super) String);

impl Terminal {
    pub(super) fn check(
        &self,
        request: crate::membrane_capnp::login_request::Reader<'_>,
    ) -> Result<(CallerKey, Access), LoginRefused> {
        let bad = |what: &str| LoginRefused(LoginStatus::BadRequest, what.to_owned());
        let key: [u8; 32] = request
            .get_key()
            .ok()
            .and_then(array)
            .ok_or_else(|| bad("key must be 32 bytes"))?;
        let nonce: [u8; 32] = request
            .get_nonce()
            .ok()
            .and_then(array)
            .ok_or_else(|| bad("nonce must be 32 bytes"))?;
        let server: [u8; 32] = request
            .get_server_id()
            .ok()
            .and_then(array)
            .ok_or_else(|| bad("serverId must be 32 bytes"))?;
        let signature: [u8; 64] = request
            .get_signature()
            .ok()
            .and_then(array)
            .ok_or_else(|| bad("signature must be 64 bytes"))?;
        let epoch = request.get_epoch();
        // The nonce must be one this connection was given, and is used up now.
        let mine = {
            let mut nonces = self.connection.nonces.borrow_mut();
            let found = nonces.iter().position(|n| *n == nonce);
            found.map(|index| nonces.swap_remove(index)).is_some()
        };
        if !mine {
            return Err(LoginRefused(
                LoginStatus::UnknownNonce,
                "nonce not issued on this connection, or already used".into(),
            ));
        }
        let taken = self
            .shared
            .nonces
            .lock()
            .map_err(|_| LoginRefused(LoginStatus::NotGranted, "nonce table poisoned".into()))?
            .take(&nonce);
        taken.map_err(|status| {
            LoginRefused(
                status,
                match status {
                    LoginStatus::ExpiredNonce => "nonce expired".into(),
                    _ => "nonce already used".into(),
                },
            )
        })?;
        if server != self.shared.server_id {
            return Err(LoginRefused(
                LoginStatus::WrongServer,
                format!("signed for Mother {}", hex::encode(server)),
            ));
        }
        let current = self.shared.epoch.current();
        if epoch != current {
            return Err(LoginRefused(
                LoginStatus::StaleEpoch,
                format!("signed for epoch {epoch}, the Mother is at epoch {current}"),
            ));
        }
        if !verify_login(&key, &signature, &nonce, epoch, &server) {
            return Err(LoginRefused(
                LoginStatus::BadSignature,
                "the signature is not by this key over this login".into(),
            ));
        }
        let key = CallerKey(key);
        // The Mother's own key (the home's owner holds it) is `admin`.
        let role = self.shared.role_of_key(&key).ok_or_else(|| {
            LoginRefused(
                LoginStatus::UnknownKey,
                format!("no caller {key} in the policy"),
            )
        })?;
        let access = Access::new(
            self.shared.clone(),
            current,
            Principal::Key(key),
            role,
            "socket",
        );
        Ok((key, access))
    }
}

impl terminal::Server for Terminal {
    async fn challenge(
        self: CapRc<Self>,
        _: terminal::ChallengeParams,
        mut results: terminal::ChallengeResults,
    ) -> Result<(), capnp::Error> {
        let count = self.connection.challenges.get();
        if count >= self.shared.config.challenges_per_connection {
            return Err(MembraneError::Busy("too many challenges on one connection".into()).into());
        }
        self.connection.challenges.set(count + 1);
        let nonce = self
            .shared
            .nonces
            .lock()
            .ok()
            .and_then(|mut nonces| nonces.issue())
            .ok_or_else(|| MembraneError::Busy("too many logins pending".into()))?;
        self.connection.nonces.borrow_mut().push(nonce);
        let mut challenge = results.get().init_challenge();
        challenge.set_nonce(&nonce);
        challenge.set_epoch(self.shared.epoch.current());
        challenge.set_server_id(&self.shared.server_id);
        challenge.set_domain(crate::login::DOMAIN);
        challenge.set_expires_in_ms(
            u32::try_from(self.shared.config.nonce_ttl.as_millis()).unwrap_or(u32::MAX),
        );
        Ok(())
    }

    async fn login(
        self: CapRc<Self>,
        params: terminal::LoginParams,
        mut results: terminal::LoginResults,
    ) -> Result<(), capnp::Error> {
        let request = params.get()?.get_request()?;
        let mut result = results.get().init_result();
        // A connection keeps the slot of every key it logged in as until it
        // ends (the capabilities of an earlier login stay with it): logging
        // in again as the same key takes no other slot.
        let admitted = self.check(request).and_then(|(key, access)| {
            let held = self
                .connection
                .callers
                .borrow()
                .iter()
                .any(|s| s.key() == key);
            let caller = match held {
                true => None,
                false => Some(
                    CallerSlot::take(&self.shared, key)
                        .map_err(|busy| LoginRefused(LoginStatus::NotGranted, busy.to_string()))?,
                ),
            };
            Ok((caller, access))
        });
        match admitted {
            Ok((caller, access)) => {
                tracing::info!(
                    caller = %access.principal(),
                    role = %access.role().name,
                    epoch = access.epoch(),
                    "logged in"
                );
                self.connection.logged_in.set(true);
                self.connection.slot.borrow_mut().take();
                self.connection.callers.borrow_mut().extend(caller);
                result.set_status(LoginStatus::Granted);
                result.set_role(access.role().name.as_str());
                result.set_membrane(capnp_rpc::new_client(MembraneCap {
                    access: Arc::new(access),
                }));
            }
            Err(LoginRefused(status, reason)) => {
                tracing::info!(?status, %reason, "login refused");
                result.set_status(status);
                result.set_reason(reason.as_str());
            }
        }
        Ok(())
    }
}
