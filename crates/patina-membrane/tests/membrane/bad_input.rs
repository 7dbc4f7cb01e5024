//! Callers that misbehave: garbage and oversized frames, no login, a
//! disconnect mid-run, random bytes to the frame decoder, and the bounds.

use super::*;

#[test]
fn garbage_and_oversized_frames_end_only_their_connection() {
    within(|| async {
        let config = ServeConfig {
            max_frame_bytes: 64 << 10,
            max_bytes_before_login: 4 << 10,
            ..ServeConfig::default()
        };
        let (_world, server) = setup(config).await;

        // Within a frame's bound but more than a login takes, before any
        // login: the connection ends at the allowance, nothing is held.
        let (mut raw, far) = tokio::io::duplex(1 << 16);
        let serving = tokio::task::spawn_local(server.serve(far));
        let mut frame = 0u32.to_le_bytes().to_vec();
        frame.extend_from_slice(&(2u32 << 10).to_le_bytes()); // 2,048 words: 16 KiB
        frame.extend_from_slice(&vec![0u8; 16 << 10]);
        let _ = raw.write_all(&frame).await;
        let error = serving.await.unwrap().unwrap_err();
        assert!(error.to_string().contains("before logging in"), "{error}");

        // Garbage: a segment table that makes no sense.
        let (mut raw, far) = tokio::io::duplex(1 << 16);
        let serving = tokio::task::spawn_local(server.serve(far));
        raw.write_all(&[0xff; 64]).await.unwrap();
        let error = serving.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), "rpc", "{error:?}");

        // Oversized: one segment of 1 GiB announced.
        let (mut raw, far) = tokio::io::duplex(1 << 16);
        let serving = tokio::task::spawn_local(server.serve(far));
        let mut header = 0u32.to_le_bytes().to_vec();
        header.extend_from_slice(&(128u32 << 20).to_le_bytes());
        raw.write_all(&header).await.unwrap();
        let error = serving.await.unwrap().unwrap_err();
        assert!(error.to_string().contains("too large"), "{error}");

        // A real message above the bound: bytes to install bigger than a frame.
        let session = login(&server, &ADMIN).await;
        let error = session
            .install(&vec![0u8; 100 << 10], None, &[])
            .await
            .unwrap_err();
        assert!(
            error.kind == "disconnected" || error.kind == "rpc",
            "the connection is closed: {error:?}"
        );

        // The server still serves everyone else.
        let session = login(&server, &RUNNER).await;
        session.run(&wave("add(1, 1)", "calc")).await.unwrap();
    });
}

#[test]
fn a_client_that_never_logs_in_is_dropped_and_pending_logins_are_bounded() {
    within(|| async {
        let config = ServeConfig {
            login_timeout: Duration::from_millis(300),
            max_pending_logins: 2,
            ..ServeConfig::default()
        };
        let (_world, server) = setup(config).await;
        let (idle_a, serving_a) = pipe(&server);
        let (_idle_b, _serving_b) = pipe(&server);
        tokio::task::yield_now().await;
        let (_third, serving_c) = pipe(&server);
        let error = serving_c.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), "busy", "{error:?}");

        let started = std::time::Instant::now();
        let error = serving_a.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), "login-timeout", "{error:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let error = idle_a.challenge().await.unwrap_err();
        assert!(
            error.kind == "disconnected" || error.kind == "rpc",
            "{error:?}"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        // Both slots are free again.
        let session = login(&server, &RUNNER).await;
        session.list().await.unwrap();
    });
}

#[test]
fn a_client_that_disconnects_mid_run_leaves_its_receipt_and_the_server_lives() {
    within(|| async {
        let (world, server) = setup(ServeConfig::default()).await;
        let before = world.mother.receipts_of(None, None).await.unwrap().len();
        let session = login(&server, &RUNNER).await;
        let mut slow = wave("spin()", "limits");
        slow.limits.timeout_ms = Some(600);
        let running = tokio::task::spawn_local(async move {
            let _ = session.run(&slow).await;
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        running.abort();
        let _ = running.await;
        assert!(server.in_flight() >= 1, "the run goes on");
        assert_eq!(server.drain(Duration::from_secs(10)).await, 0);
        let after = world.mother.receipts_of(None, None).await.unwrap();
        assert_eq!(after.len(), before + 1, "the run kept its receipt");
        patina_receipts::verify(&after[0]).unwrap();

        let session = login(&server, &RUNNER).await;
        let own = session.receipts(None, None, 0).await.unwrap();
        assert_eq!(own.len(), 1, "and it is the caller's own");
    });
}

/// A small deterministic generator (xorshift), so the test is stable.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn the_frame_decoder_never_panics_on_random_bytes() {
    // A valid frame to mutate: an RPC Call message.
    let mut message = capnp::message::Builder::new_default();
    {
        let root: capnp_rpc::rpc_capnp::message::Builder<'_> = message.init_root();
        let mut call = root.init_call();
        call.set_question_id(1);
        call.set_interface_id(0x1234);
        call.set_method_id(1);
        call.init_params()
            .init_content()
            .set_as("some text")
            .unwrap();
    }
    let valid = capnp::serialize::write_message_to_words(&message);
    assert!(patina_membrane::decode_frame(&valid).is_ok());

    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let mut decoded = 0;
    for round in 0..20_000 {
        let bytes: Vec<u8> = if round % 2 == 0 {
            let len = (random.next() % 600) as usize;
            (0..len).map(|_| random.next() as u8).collect()
        } else {
            let mut bytes = valid.clone();
            for _ in 0..1 + random.next() % 8 {
                let at = (random.next() as usize) % bytes.len();
                bytes[at] = random.next() as u8;
            }
            bytes.truncate(bytes.len() - (random.next() % 3) as usize * 8);
            bytes
        };
        if patina_membrane::decode_frame(&bytes).is_ok() {
            decoded += 1;
        }
    }
    assert!(decoded > 0, "some mutations still decode");
}

#[test]
fn runs_per_login_and_open_connections_are_bounded() {
    within(|| async {
        let config = ServeConfig {
            max_runs_per_login: 1,
            max_connections: 2,
            ..ServeConfig::default()
        };
        let (_world, server) = setup(config).await;
        let session = Rc::new(login(&server, &RUNNER).await);
        let mut slow = wave("spin()", "limits");
        slow.limits.timeout_ms = Some(500);
        let first = {
            let session = session.clone();
            tokio::task::spawn_local(async move { session.run(&slow).await })
        };
        tokio::time::sleep(Duration::from_millis(150)).await;
        let error = session.run(&wave("add(1, 1)", "calc")).await.unwrap_err();
        assert_eq!(error.kind, "busy", "{error:?}");
        assert!(error.message.contains("in flight"), "{error}");
        first.await.unwrap().unwrap();
        session.run(&wave("add(1, 1)", "calc")).await.unwrap();

        let _second = login(&server, &READER).await;
        let (_third, serving) = pipe(&server);
        let error = serving.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), "busy", "{error:?}");
        assert!(
            error.to_string().contains("connections are open"),
            "{error}"
        );
    });
}

#[test]
fn one_caller_holds_at_most_its_share_of_connections() {
    within(|| async {
        let config = ServeConfig {
            max_connections_per_caller: 2,
            ..ServeConfig::default()
        };
        let (_world, server) = setup(config).await;
        let first = login(&server, &RUNNER).await;
        let second = login(&server, &RUNNER).await;
        let Err(refused) = pipe(&server).0.login(&RUNNER).await else {
            panic!("a third connection of one caller logged in");
        };
        assert_eq!(refused.kind, "not-granted", "{refused:?}");
        assert!(
            refused.message.contains("limit of open connections"),
            "{refused}"
        );
        // Another caller is not held up, and the first caller's own
        // connections keep working.
        login(&server, &READER).await.epoch().await.unwrap();
        first.epoch().await.unwrap();
        second.epoch().await.unwrap();
        // Closing one gives its slot back once the server sees it closed.
        drop(second);
        let mut again = None;
        for _ in 0..100 {
            match pipe(&server).0.login(&RUNNER).await {
                Ok(session) => {
                    again = Some(session);
                    break;
                }
                Err(error) => {
                    assert_eq!(error.kind, "not-granted", "{error:?}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        again
            .expect("the slot was given back")
            .epoch()
            .await
            .unwrap();
    });
}

/// A raw Terminal on its own connection (the client library logs in once
/// per connection; another client may log in again on the same one).
fn raw_terminal(server: &MembraneServer) -> patina_membrane::membrane_capnp::terminal::Client {
    use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
    let (a, b) = tokio::io::duplex(1 << 20);
    tokio::task::spawn_local(server.serve(a));
    let (reader, writer) = tokio::io::split(b);
    let network = capnp_rpc::twoparty::VatNetwork::new(
        reader.compat(),
        writer.compat_write(),
        capnp_rpc::rpc_twoparty_capnp::Side::Client,
        ServeConfig::default().reader_options(),
    );
    let mut rpc = capnp_rpc::RpcSystem::new(Box::new(network), None);
    let terminal = rpc.bootstrap(capnp_rpc::rpc_twoparty_capnp::Side::Server);
    tokio::task::spawn_local(rpc);
    terminal
}

/// Logs in on `terminal` as `seed` (`bad`: with a broken signature) and
/// returns the status.
async fn raw_login(
    terminal: &patina_membrane::membrane_capnp::terminal::Client,
    seed: &[u8; 32],
    bad: bool,
) -> patina_membrane::membrane_capnp::LoginStatus {
    let response = terminal.challenge_request().send().promise.await.unwrap();
    let challenge = response.get().unwrap().get_challenge().unwrap();
    let challenge = patina_membrane::Challenge {
        nonce: challenge.get_nonce().unwrap().to_vec(),
        epoch: challenge.get_epoch(),
        server_id: challenge.get_server_id().unwrap().to_vec(),
        domain: challenge.get_domain().unwrap().to_string().unwrap(),
    };
    let mut signed = patina_membrane::LoginRequest::sign(seed, &challenge).unwrap();
    if bad {
        signed.signature[0] ^= 1;
    }
    let mut call = terminal.login_request();
    {
        let mut out = call.get().init_request();
        out.set_key(&signed.key);
        out.set_nonce(&signed.nonce);
        out.set_epoch(signed.epoch);
        out.set_server_id(&signed.server_id);
        out.set_signature(&signed.signature);
    }
    let response = call.send().promise.await.unwrap();
    response
        .get()
        .unwrap()
        .get_result()
        .unwrap()
        .get_status()
        .unwrap()
}

#[test]
fn logging_in_again_on_one_connection_neither_takes_nor_gives_back_a_slot() {
    use patina_membrane::membrane_capnp::LoginStatus;
    within(|| async {
        let config = ServeConfig {
            max_connections_per_caller: 1,
            ..ServeConfig::default()
        };
        let (_world, server) = setup(config).await;
        let terminal = raw_terminal(&server);
        assert_eq!(
            raw_login(&terminal, &RUNNER, false).await,
            LoginStatus::Granted
        );
        // Again as the same key: its one slot is this connection's already.
        assert_eq!(
            raw_login(&terminal, &RUNNER, false).await,
            LoginStatus::Granted
        );
        // A refused login on it gives nothing back: the first login's
        // capabilities still work, so the slot is still taken.
        assert_eq!(
            raw_login(&terminal, &RUNNER, true).await,
            LoginStatus::BadSignature
        );
        let Err(refused) = pipe(&server).0.login(&RUNNER).await else {
            panic!("a second connection of a one-connection caller logged in");
        };
        assert!(
            refused.message.contains("limit of open connections"),
            "{refused}"
        );
    });
}
