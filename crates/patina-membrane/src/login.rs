//! The Terminal's login: challenge–response with Ed25519.
//!
//! The server hands out a fresh 32-byte nonce with its current epoch and
//! its id; the client signs `domain ‖ nonce ‖ epoch (u64, big endian) ‖
//! server id`. [`Nonces`] keeps the nonces issued and not yet used, a
//! bounded number of them for a bounded time, so a nonce is good for one
//! login only, here only, and only for a while. This module checks the
//! login; whether the key may do anything is the policy's business.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::membrane_capnp::LoginStatus;

/// The domain string every login signature is made under.
pub const DOMAIN: &str = crate::membrane_capnp::LOGIN_DOMAIN;

/// What a login signature covers.
pub fn login_message(nonce: &[u8; 32], epoch: u64, server: &[u8; 32]) -> Vec<u8> {
    let mut message = Vec::with_capacity(DOMAIN.len() + 72);
    message.extend_from_slice(DOMAIN.as_bytes());
    message.extend_from_slice(nonce);
    message.extend_from_slice(&epoch.to_be_bytes());
    message.extend_from_slice(server);
    message
}

/// Signs a login with the secret `seed` (a Mother's identity seed or a key file's).
pub fn sign_login(seed: &[u8; 32], nonce: &[u8; 32], epoch: u64, server: &[u8; 32]) -> [u8; 64] {
    SigningKey::from_bytes(seed)
        .sign(&login_message(nonce, epoch, server))
        .to_bytes()
}

/// The public key of `seed`.
pub fn public_key(seed: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(seed).verifying_key().to_bytes()
}

/// Whether `signature` by `key` covers the login message.
pub fn verify_login(
    key: &[u8; 32],
    signature: &[u8; 64],
    nonce: &[u8; 32],
    epoch: u64,
    server: &[u8; 32],
) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(key) else {
        return false;
    };
    key.verify(
        &login_message(nonce, epoch, server),
        &Signature::from_bytes(signature),
    )
    .is_ok()
}

/// Nonces issued and not yet used.
#[derive(Debug)]
pub struct Nonces {
    pending: HashMap<[u8; 32], Instant>,
    max: usize,
    ttl: Duration,
}

impl Nonces {
    /// At most `max` outstanding nonces, each good for `ttl`.
    pub fn new(max: usize, ttl: Duration) -> Self {
        Self {
            pending: HashMap::new(),
            max,
            ttl,
        }
    }

    /// How long a nonce stays good.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A fresh nonce, or `None` when too many logins are pending.
    pub fn issue(&mut self) -> Option<[u8; 32]> {
        let now = Instant::now();
        let ttl = self.ttl;
        self.pending
            .retain(|_, issued| now.duration_since(*issued) < ttl);
        if self.pending.len() >= self.max {
            return None;
        }
        let mut nonce = [0u8; 32];
        getrandom::fill(&mut nonce).ok()?;
        self.pending.insert(nonce, now);
        Some(nonce)
    }

    /// Uses `nonce` up: `Ok` once per issued, fresh nonce.
    pub fn take(&mut self, nonce: &[u8; 32]) -> Result<(), LoginStatus> {
        match self.pending.remove(nonce) {
            None => Err(LoginStatus::UnknownNonce),
            Some(issued) if issued.elapsed() >= self.ttl => Err(LoginStatus::ExpiredNonce),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_covers_every_part() {
        let seed = [7u8; 32];
        let key = public_key(&seed);
        let (nonce, server) = ([1u8; 32], [2u8; 32]);
        let signature = sign_login(&seed, &nonce, 5, &server);
        assert!(verify_login(&key, &signature, &nonce, 5, &server));
        assert!(!verify_login(&key, &signature, &nonce, 6, &server));
        assert!(!verify_login(&key, &signature, &[0; 32], 5, &server));
        assert!(!verify_login(&key, &signature, &nonce, 5, &[3; 32]));
        assert!(!verify_login(
            &public_key(&[8; 32]),
            &signature,
            &nonce,
            5,
            &server
        ));
    }

    #[test]
    fn a_nonce_is_good_once_and_bounded() {
        let mut nonces = Nonces::new(2, Duration::from_secs(60));
        let a = nonces.issue().unwrap();
        let _b = nonces.issue().unwrap();
        assert!(nonces.issue().is_none(), "bounded");
        assert!(nonces.take(&a).is_ok());
        assert_eq!(nonces.take(&a), Err(LoginStatus::UnknownNonce));
        assert!(nonces.issue().is_some());
        let mut short = Nonces::new(2, Duration::ZERO);
        let c = short.issue().unwrap();
        assert_eq!(short.take(&c), Err(LoginStatus::ExpiredNonce));
    }
}
