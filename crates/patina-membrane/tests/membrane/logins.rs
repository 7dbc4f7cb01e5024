//! Every way a login can be wrong, each refused for its own reason.

use super::*;

#[test]
fn logins_are_checked_every_way() {
    within(|| async {
        let (world, server) = setup(ServeConfig::default()).await;
        let server_id = world.mother.identity().id().bytes().to_vec();

        // A key the policy does not know.
        let error = pipe(&server).0.login(&STRANGER).await.err().unwrap();
        assert_eq!(error.kind, "unknown-key", "{error:?}");

        // A signature by another key than the one claimed (wrong key).
        let connection = pipe(&server).0;
        let challenge = connection.challenge().await.unwrap();
        assert_eq!(challenge.server_id, server_id);
        assert_eq!(challenge.domain, patina_membrane::login::DOMAIN);
        let mut forged = LoginRequest::sign(&STRANGER, &challenge).unwrap();
        forged.key = patina_membrane::login::public_key(&ADMIN).to_vec();
        let error = connection.login_with(&forged).await.err().unwrap();
        assert_eq!(error.kind, "bad-signature", "{error:?}");

        // A replayed login: the same signed request twice, then on another connection.
        let (connection, _) = pipe(&server);
        let challenge = connection.challenge().await.unwrap();
        let request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        let (again, _) = pipe(&server);
        let error = again.login_with(&request).await.err().unwrap();
        assert_eq!(
            error.kind, "unknown-nonce",
            "another connection's nonce: {error:?}"
        );
        let session = connection.login_with(&request).await.unwrap();
        assert_eq!(session.role(), "runner");
        let (replay, _) = pipe(&server);
        let error = replay.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "unknown-nonce", "a used nonce: {error:?}");

        // Signed for another server, or for another epoch.
        let connection = pipe(&server).0;
        let mut challenge = connection.challenge().await.unwrap();
        challenge.server_id = vec![7; 32];
        let request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        let error = connection.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "wrong-server", "{error:?}");
        let connection = pipe(&server).0;
        let mut challenge = connection.challenge().await.unwrap();
        challenge.epoch += 1;
        let request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        let error = connection.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "stale-epoch", "{error:?}");

        // Signed under another domain.
        let connection = pipe(&server).0;
        let challenge = connection.challenge().await.unwrap();
        let mut request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        let mut message = b"another protocol".to_vec();
        message.extend_from_slice(&challenge.nonce);
        message.extend_from_slice(&challenge.epoch.to_be_bytes());
        message.extend_from_slice(&challenge.server_id);
        use ed25519_dalek::Signer;
        request.signature = ed25519_dalek::SigningKey::from_bytes(&RUNNER)
            .sign(&message)
            .to_bytes()
            .to_vec();
        let error = connection.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "bad-signature", "{error:?}");

        // Fields of the wrong size, and a nonce that was never issued.
        let connection = pipe(&server).0;
        let challenge = connection.challenge().await.unwrap();
        let mut request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        request.key.truncate(5);
        let error = connection.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "bad-request", "{error:?}");
        let connection = pipe(&server).0;
        let mut challenge = connection.challenge().await.unwrap();
        challenge.nonce = vec![0; 32];
        let request = LoginRequest::sign(&RUNNER, &challenge).unwrap();
        let error = connection.login_with(&request).await.err().unwrap();
        assert_eq!(error.kind, "unknown-nonce", "{error:?}");

        // Too many challenges on one connection.
        let connection = pipe(&server).0;
        for _ in 0..ServeConfig::default().challenges_per_connection {
            connection.challenge().await.unwrap();
        }
        let error = connection.challenge().await.unwrap_err();
        assert_eq!(error.kind, "busy", "{error:?}");

        // The Mother's own key is admin without being in the policy.
        let seed = world.mother.identity().seed();
        assert_eq!(login(&server, &seed).await.role(), "admin");
    });
}
