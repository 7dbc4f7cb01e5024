//! Content by digest: 64 MiB round-trips in chunks and is verified; a
//! provider serving other bytes is caught and the next one used; a blob over
//! the cap is refused; hostile servers and askers are answered with errors.

use std::sync::Arc;
use std::time::Duration;

use patina_net::blob::codec::{self, Frame};
use patina_net::{
    BLOB_PROTOCOL, BlobBody, BlobConfig, BlobSource, Digest, FetchError, MemoryBlobs, NetConfig,
    NetHandle, PeerId, ProviderError,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::{bounded, bytes, connect, heavy, node, node_with};

/// A provider that answers every digest with the same other bytes.
struct Liar(Arc<[u8]>);

#[async_trait::async_trait]
impl BlobSource for Liar {
    async fn blob(&self, _asker: &PeerId, _digest: &Digest) -> std::io::Result<Option<BlobBody>> {
        Ok(Some(BlobBody::shared(Arc::clone(&self.0))))
    }
}

/// A node serving `source`.
async fn server(seed: u8, source: Arc<dyn BlobSource>) -> NetHandle {
    let node = node(seed).await;
    node.serve_blobs(source).unwrap();
    node
}

fn attempts(error: FetchError) -> Vec<ProviderError> {
    match error {
        FetchError::AllFailed { attempts, .. } => attempts.into_iter().map(|a| a.error).collect(),
        other => panic!("expected every provider to fail: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_mib_round_trip_in_chunks_and_verified() {
    let _heavy = heavy().await;
    bounded(async {
        let store = MemoryBlobs::new();
        let blob = bytes(64 << 20, 64);
        let digest = store.insert(blob.clone());
        let b = server(31, Arc::new(store)).await;
        // The default configuration admits 64 MiB.
        let a = node(32).await;
        let peer = connect(&a, &b).await;
        let fetched = a.fetch_blob_from(digest, &[peer]).await.unwrap();
        assert!(fetched == blob, "the same 64 MiB");
        let missing = Digest::of(b"nobody has this");
        let error = a.fetch_blob_from(missing, &[peer]).await.unwrap_err();
        assert!(matches!(attempts(error)[..], [ProviderError::Missing]));
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}

/// A source with one blob served from a reader, to cover that path.
struct FromReader(Vec<u8>);

#[async_trait::async_trait]
impl BlobSource for FromReader {
    async fn blob(&self, _asker: &PeerId, digest: &Digest) -> std::io::Result<Option<BlobBody>> {
        Ok((*digest == Digest::of(&self.0)).then(|| {
            let reader = std::io::Cursor::new(self.0.clone());
            BlobBody::reader(self.0.len() as u64, reader)
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_bytes_are_caught_and_the_next_provider_used() {
    bounded(async {
        let blob = bytes(3 << 20, 7);
        let digest = Digest::of(&blob);
        let liar = server(33, Arc::new(Liar(bytes(3 << 20, 8).into()))).await;
        let empty = server(34, Arc::new(MemoryBlobs::new())).await;
        let honest = server(35, Arc::new(FromReader(blob.clone()))).await;
        let a = node(36).await;
        let (liar_id, empty_id, honest_id) = (
            connect(&a, &liar).await,
            connect(&a, &empty).await,
            connect(&a, &honest).await,
        );

        let fetched = a
            .fetch_blob_from(digest, &[liar_id, empty_id, honest_id])
            .await
            .unwrap();
        assert!(fetched == blob);

        let error = a
            .fetch_blob_from(digest, &[liar_id, empty_id])
            .await
            .unwrap_err();
        let text = error.to_string();
        assert_eq!(error.kind(), "blob-fetch-failed");
        assert!(
            text.contains(&liar_id.to_string()) && text.contains(&empty_id.to_string()),
            "{text}"
        );
        let wrong = Digest::of(&bytes(3 << 20, 8));
        assert!(matches!(
            attempts(error)[..],
            [ProviderError::WrongBytes { got }, ProviderError::Missing] if got == wrong
        ));
        assert!(matches!(
            a.fetch_blob_from(digest, &[]).await,
            Err(FetchError::NoProviders { .. })
        ));
        for node in [a, liar, empty, honest] {
            node.shutdown().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_over_the_cap_is_refused() {
    bounded(async {
        let store = MemoryBlobs::new();
        let digest = store.insert(bytes(2_000, 3));
        let b = server(37, Arc::new(store)).await;
        let small = NetConfig {
            blob: BlobConfig {
                max_len: 1_000,
                ..BlobConfig::default()
            },
            ..NetConfig::loopback()
        };
        let a = node_with(38, small).await;
        let peer = connect(&a, &b).await;
        let error = a.fetch_blob_from(digest, &[peer]).await.unwrap_err();
        assert!(matches!(
            attempts(error)[..],
            [ProviderError::TooLarge {
                len: 2_000,
                cap: 1_000
            }]
        ));
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}

/// A source that serves its blobs only to one peer and refuses everyone else.
struct OnlyFor(PeerId, MemoryBlobs);

#[async_trait::async_trait]
impl BlobSource for OnlyFor {
    async fn blob(&self, asker: &PeerId, digest: &Digest) -> std::io::Result<Option<BlobBody>> {
        if *asker != self.0 {
            let reason = format!("{asker} may not have {digest}");
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                reason,
            ));
        }
        self.1.blob(asker, digest).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_is_told_who_asks_and_may_refuse() {
    bounded(async {
        let (friend, stranger) = (node(45).await, node(46).await);
        let store = MemoryBlobs::new();
        let digest = store.insert(b"for friends".to_vec());
        let holder = server(47, Arc::new(OnlyFor(friend.local_peer_id(), store))).await;
        let from_friend = connect(&friend, &holder).await;
        let from_stranger = connect(&stranger, &holder).await;
        let got = friend.fetch_blob_from(digest, &[from_friend]).await;
        assert_eq!(got.unwrap(), b"for friends");
        let error = stranger
            .fetch_blob_from(digest, &[from_stranger])
            .await
            .unwrap_err();
        let found = attempts(error);
        // The reason as the source gave it (cut to the wire's bound).
        let expected = format!("{} may not have b3:", stranger.local_peer_id());
        assert!(
            matches!(&found[..], [ProviderError::Refused(reason)] if reason.starts_with(&expected)),
            "{found:?}"
        );
        for node in [friend, stranger, holder] {
            node.shutdown().await;
        }
    })
    .await;
}

/// A hand-written server: answers the first request on each stream with `answer`.
fn hostile_server(node: &NetHandle, answer: Vec<u8>) {
    let mut incoming = node.accept(BLOB_PROTOCOL).unwrap();
    tokio::spawn(async move {
        while let Some(mut stream) = incoming.next().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let _ = codec::read_frame(&mut stream).await;
                let _ = stream.write_all(&answer).await;
                let _ = stream.flush().await;
                tokio::time::sleep(Duration::from_secs(2)).await;
            });
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_servers_and_askers_get_errors_not_panics() {
    bounded(async {
        let digest = Digest::of(b"ten bytes!");
        // Announces 10 bytes, sends 20.
        let mut overrun = codec::encode(&Frame::Have { len: 10 });
        overrun.extend(codec::encode(&Frame::Chunk(vec![1; 20])));
        // Announces a length over the cap it was told.
        let lies_about_cap = codec::encode(&Frame::Have { len: u64::MAX });
        let garbage = crate::bytes(300, 99);
        let cases: [(u8, Vec<u8>); 3] = [(41, overrun), (42, lies_about_cap), (43, garbage)];
        let a = node(40).await;
        let mut peers = Vec::new();
        let mut servers = Vec::new();
        for (seed, answer) in cases {
            let server = node(seed).await;
            hostile_server(&server, answer);
            peers.push(connect(&a, &server).await);
            servers.push(server);
        }
        let error = a.fetch_blob_from(digest, &peers).await.unwrap_err();
        let found = attempts(error);
        assert!(
            matches!(found[0], ProviderError::Overrun { len: 10 }),
            "{:?}",
            found[0]
        );
        assert!(
            matches!(found[1], ProviderError::TooLarge { len: u64::MAX, .. }),
            "{:?}",
            found[1]
        );
        assert!(
            matches!(found[2], ProviderError::Protocol(_)),
            "{:?}",
            found[2]
        );

        // An asker that sends garbage gets a refusal or a closed stream; the
        // server goes on serving the next asker.
        let store = MemoryBlobs::new();
        let good = store.insert(b"still served".to_vec());
        let honest = server(44, Arc::new(store)).await;
        let to_honest = connect(&a, &honest).await;
        for junk in [
            vec![0xff; 64],
            codec::encode(&Frame::Have { len: 1 }),
            vec![3, 0xff, 0xff, 0xff, 0xff],
        ] {
            let mut stream = a.open_stream(to_honest, BLOB_PROTOCOL).await.unwrap();
            stream.write_all(&junk).await.unwrap();
            stream.flush().await.unwrap();
            let mut rest = Vec::new();
            let read =
                tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
            assert!(read.is_ok(), "the server closes a broken stream");
        }
        assert_eq!(
            a.fetch_blob_from(good, &[to_honest]).await.unwrap(),
            b"still served"
        );
        a.shutdown().await;
        honest.shutdown().await;
        for server in servers {
            server.shutdown().await;
        }
    })
    .await;
}

/// A provider that announces a blob and then trickles a byte now and then
/// never stalls long enough for the idle timeout, but the fetch still ends
/// by its deadline (the idle timeout plus the length at the slowest rate).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_provider_is_given_up_at_the_fetchs_deadline() {
    bounded(async {
        let trickler = node(48).await;
        let mut incoming = trickler.accept(BLOB_PROTOCOL).unwrap();
        tokio::spawn(async move {
            while let Some(mut stream) = incoming.next().await {
                tokio::spawn(async move {
                    let _ = codec::read_frame(&mut stream).await;
                    let _ = stream
                        .write_all(&codec::encode(&Frame::Have { len: 1_000 }))
                        .await;
                    for _ in 0..1_000 {
                        let chunk = codec::encode(&Frame::Chunk(vec![7]));
                        if stream.write_all(&chunk).await.is_err() || stream.flush().await.is_err()
                        {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                });
            }
        });
        let impatient = NetConfig {
            blob: BlobConfig {
                idle_timeout: Duration::from_secs(1),
                min_rate: 1_000,
                ..BlobConfig::default()
            },
            ..NetConfig::loopback()
        };
        let a = node_with(47, impatient).await;
        let peer = connect(&a, &trickler).await;
        let error = a
            .fetch_blob_from(Digest::of(&[7; 1_000]), &[peer])
            .await
            .unwrap_err();
        let found = attempts(error);
        assert!(
            matches!(
                found[..],
                [ProviderError::TooSlow { got, len: 1_000, min_rate: 1_000, .. }] if got < 1_000
            ),
            "{found:?}"
        );
        a.shutdown().await;
        trickler.shutdown().await;
    })
    .await;
}

/// An asker that asks for a blob and never reads it holds the serving task
/// only until the answer's deadline; the server then drops the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asker_that_never_reads_is_dropped_at_the_answers_deadline() {
    bounded(async {
        let store = MemoryBlobs::new();
        const LEN: usize = 2 << 20;
        let digest = store.insert(bytes(LEN, 5));
        let quick = NetConfig {
            blob: BlobConfig {
                idle_timeout: Duration::from_secs(1),
                min_rate: 4 << 20,
                ..BlobConfig::default()
            },
            ..NetConfig::loopback()
        };
        let b = node_with(50, quick).await;
        b.serve_blobs(Arc::new(store)).unwrap();
        let a = node(49).await;
        let peer = connect(&a, &b).await;
        let mut stream = a.open_stream(peer, BLOB_PROTOCOL).await.unwrap();
        let want = Frame::Want {
            digest: digest.0,
            max_len: 64 << 20,
        };
        stream.write_all(&codec::encode(&want)).await.unwrap();
        stream.flush().await.unwrap();
        // Not reading: the server's writes stall on the stream's window
        // until its deadline (1 s + 2 MiB at 4 MiB/s) has passed.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut got)).await;
        assert!(read.is_ok(), "the stream ends: {read:?}");
        assert!(
            got.len() < LEN,
            "the server gave up mid-answer: {} bytes",
            got.len()
        );
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}
