//! Long-lived streams: echo over TCP and over QUIC, connection events and
//! latency, the per-peer stream bound (inbound closed, outbound refused),
//! and what a node answers once it has stopped.

use std::time::Duration;

use patina_net::{Direction, Limits, NetConfig, NetHandle, PeerEvent, StreamProtocol};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::{addr_of, bounded, connect, node, node_with};

const ECHO: StreamProtocol = StreamProtocol::new("/patina-test/echo/1");

/// Echoes every stream `node` accepts on [`ECHO`], each in its own task.
fn serve_echo(node: &NetHandle) {
    let mut incoming = node.accept(ECHO).expect("accepting");
    tokio::spawn(async move {
        while let Some(mut stream) = incoming.next().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
}

async fn echo_over(transport: &str, seeds: (u8, u8)) {
    let a = node(seeds.0).await;
    let b = node(seeds.1).await;
    serve_echo(&b);
    let mut events = a.subscribe();
    let peer = a.dial(addr_of(&b, transport).await).await.unwrap();
    assert_eq!(peer, b.local_peer_id());
    let Ok(PeerEvent::Connected {
        peer: seen,
        address,
    }) = events.recv().await
    else {
        panic!("a connected event first");
    };
    assert_eq!(seen, peer);
    assert!(address.to_string().contains(transport), "{address}");

    let mut stream = a.open_stream(peer, ECHO).await.unwrap();
    assert_eq!(
        (stream.peer(), stream.direction()),
        (peer, Direction::Outbound)
    );
    // Many round trips on one long-lived stream.
    for round in 0..100u32 {
        let message = format!("round {round} over {transport}");
        stream.write_all(message.as_bytes()).await.unwrap();
        let mut back = vec![0u8; message.len()];
        stream.read_exact(&mut back).await.unwrap();
        assert_eq!(back, message.as_bytes());
    }

    // Ping measures the connection's latency soon after it opens.
    let mut rtt = None;
    for _ in 0..100 {
        let peers = a.peers().await.unwrap();
        let info = peers
            .iter()
            .find(|p| p.peer == peer)
            .expect("b is connected");
        assert!(
            info.addresses
                .iter()
                .all(|a| a.to_string().contains(transport))
        );
        rtt = info.rtt;
        if rtt.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        rtt.is_some_and(|rtt| rtt < Duration::from_secs(1)),
        "{rtt:?}"
    );

    drop(stream);
    b.shutdown().await;
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv()).await;
    assert!(matches!(event, Ok(Ok(PeerEvent::Disconnected { peer: gone })) if gone == peer));
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_echo_over_a_named_stream_on_tcp() {
    bounded(echo_over("tcp", (21, 22))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_echo_over_a_named_stream_on_quic() {
    bounded(echo_over("quic-v1", (23, 24))).await;
}

/// Streams opened all at once are every one accepted: none is lost between
/// the connection that negotiated it and the task that accepts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_inbound_streams_is_accepted_whole() {
    bounded(async {
        let a = node(60).await;
        let b = node(61).await;
        serve_echo(&b);
        let peer = connect(&a, &b).await;
        const BURST: usize = 24;
        let opened = futures::future::join_all((0..BURST).map(|_| a.open_stream(peer, ECHO))).await;
        let mut streams = Vec::new();
        for stream in opened {
            streams.push(stream.expect("the stream opens"));
        }
        for (i, stream) in streams.iter_mut().enumerate() {
            let byte = [u8::try_from(i).unwrap_or(u8::MAX)];
            stream.write_all(&byte).await.unwrap();
            let mut echoed = [0u8; 1];
            let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut echoed)).await;
            assert!(
                matches!(read, Ok(Ok(1))) && echoed == byte,
                "stream {i} of {BURST} was echoed: {read:?}"
            );
        }
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_per_peer_are_bounded() {
    bounded(async {
        let limits = Limits {
            max_streams_per_peer: 2,
            ..Limits::default()
        };
        let b = node_with(
            26,
            NetConfig {
                limits: limits.clone(),
                ..NetConfig::loopback()
            },
        )
        .await;
        let a = node(25).await;
        let peer = connect(&a, &b).await;
        let mut incoming = b.accept(ECHO).unwrap();
        assert_eq!(b.accept(ECHO).unwrap_err().kind(), "already-accepting");

        // Two inbound streams are admitted and kept; a third is refused, and
        // its opener told why.
        let mut first = a.open_stream(peer, ECHO).await.unwrap();
        let _second = a.open_stream(peer, ECHO).await.unwrap();
        let mut held = Vec::new();
        for _ in 0..2 {
            let accepted = tokio::time::timeout(Duration::from_secs(5), incoming.next()).await;
            let accepted = accepted.unwrap().unwrap();
            assert_eq!(accepted.peer(), a.local_peer_id());
            held.push(accepted);
        }
        let refused = a.open_stream(peer, ECHO).await.unwrap_err();
        assert_eq!(refused.kind(), "stream-refused", "{refused}");
        assert!(
            refused.to_string().contains("streams with this peer"),
            "names the bound: {refused}"
        );
        // The held streams still work; the refused one never reached `accept`.
        first.write_all(b"ok").await.unwrap();
        let mut two = [0u8; 2];
        held[0].read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"ok");

        // A freed place is taken again.
        drop(held.pop());
        let mut fourth = a.open_stream(peer, ECHO).await.unwrap();
        fourth.write_all(b"4").await.unwrap();
        let mut again = tokio::time::timeout(Duration::from_secs(5), incoming.next())
            .await
            .unwrap()
            .unwrap();
        let mut one = [0u8; 1];
        again.read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"4");

        // Outbound streams are bounded here too, before anything is sent.
        let c = node_with(
            27,
            NetConfig {
                limits,
                ..NetConfig::loopback()
            },
        )
        .await;
        let to_b = connect(&c, &b).await;
        let _one = c.open_stream(to_b, ECHO).await.unwrap();
        let _two = c.open_stream(to_b, ECHO).await.unwrap();
        let refused = c.open_stream(to_b, ECHO).await.unwrap_err();
        assert_eq!(refused.kind(), "stream-limit", "{refused}");

        for node in [a, b, c] {
            node.shutdown().await;
        }
    })
    .await;
}

/// Accepted streams the embedder has not taken yet are bounded: one more is
/// refused, and its opener told so, not left waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_accept_queue_refuses_with_its_reason() {
    bounded(async {
        let b = node_with(
            63,
            NetConfig {
                limits: Limits {
                    accept_queue: 1,
                    ..Limits::default()
                },
                ..NetConfig::loopback()
            },
        )
        .await;
        let a = node(62).await;
        let peer = connect(&a, &b).await;
        let mut incoming = b.accept(ECHO).unwrap();
        let _waiting = a.open_stream(peer, ECHO).await.unwrap();
        let refused = a.open_stream(peer, ECHO).await.unwrap_err();
        assert_eq!(refused.kind(), "stream-refused", "{refused}");
        assert!(
            refused.to_string().contains("accept queue is full"),
            "{refused}"
        );
        // Taken, the queue has room again.
        let taken = incoming.next().await.expect("the first was queued");
        assert_eq!(taken.peer(), a.local_peer_id());
        let _next = a.open_stream(peer, ECHO).await.unwrap();
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_protocols_and_stopped_nodes_are_errors() {
    bounded(async {
        let a = node(28).await;
        let b = node(29).await;
        let peer = connect(&a, &b).await;
        let error = a.open_stream(peer, ECHO).await.unwrap_err();
        assert_eq!(error.kind(), "unsupported-protocol", "{error}");

        let mut incoming = b.accept(ECHO).unwrap();
        b.shutdown().await;
        b.shutdown().await; // idempotent
        let ended = tokio::time::timeout(Duration::from_secs(5), incoming.next()).await;
        assert!(matches!(ended, Ok(None)), "accepting ends with the node");
        assert_eq!(b.peers().await.unwrap_err().kind(), "stopped");
        let error = a.open_stream(peer, ECHO).await.unwrap_err();
        assert!(
            ["dial", "open-stream", "timeout"].contains(&error.kind()),
            "{error}"
        );
        a.shutdown().await;
    })
    .await;
}
