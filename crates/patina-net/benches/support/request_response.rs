//! The baseline of the network benchmarks: a bare libp2p request-response
//! round trip (a new stream per request) over TCP + Noise + Yamux between
//! two swarms keyed like Mothers, with no Patina code on the path. Shared
//! by `patina-net`'s and `patina-peer`'s benches (`#[path]`), so both
//! compare with the same thing.

use std::io;
use std::time::Duration;

use futures::StreamExt as _;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, StreamProtocol, Swarm, SwarmBuilder, noise, tcp, yamux};
use patina_net::keypair_from_seed;

const RAW: StreamProtocol = StreamProtocol::new("/patina-bench/raw/1");

/// Length-prefixed bytes.
#[derive(Clone, Default)]
pub struct Raw;

async fn read_raw<T: futures::AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<Vec<u8>> {
    use futures::AsyncReadExt as _;
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > 1 << 20 {
        return Err(io::Error::other("too long"));
    }
    let mut bytes = vec![0u8; len];
    io.read_exact(&mut bytes).await?;
    Ok(bytes)
}

async fn write_raw<T: futures::AsyncWrite + Unpin + Send>(
    io: &mut T,
    bytes: Vec<u8>,
) -> io::Result<()> {
    use futures::AsyncWriteExt as _;
    io.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    io.write_all(&bytes).await?;
    io.close().await
}

impl request_response::Codec for Raw {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: futures::AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        read_raw(io).await
    }
    async fn read_response<T: futures::AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        read_raw(io).await
    }
    async fn write_request<T: futures::AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()> {
        write_raw(io, req).await
    }
    async fn write_response<T: futures::AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()> {
        write_raw(io, res).await
    }
}

pub type RawSwarm = Swarm<request_response::Behaviour<Raw>>;

fn raw_swarm(seed: u8) -> RawSwarm {
    SwarmBuilder::with_existing_identity(keypair_from_seed(&[seed; 32]))
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                Raw,
                [(RAW, ProtocolSupport::Full)],
                request_response::Config::default(),
            )
        })
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

/// A client swarm connected to a server that answers every request with
/// `reply` bytes (`None`: the request itself), on 127.0.0.1; the server
/// runs as a task until aborted.
pub async fn pair(
    seeds: (u8, u8),
    reply: Option<usize>,
) -> (RawSwarm, PeerId, tokio::task::JoinHandle<()>) {
    let mut b = raw_swarm(seeds.1);
    b.listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("addr"))
        .expect("listen");
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = b.select_next_some().await {
            break address;
        }
    };
    let peer = *b.local_peer_id();
    let server = tokio::spawn(async move {
        loop {
            if let SwarmEvent::Behaviour(request_response::Event::Message {
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            }) = b.select_next_some().await
            {
                let answer = reply.map_or(request, |len| vec![7u8; len]);
                let _ = b.behaviour_mut().send_response(channel, answer);
            }
        }
    });
    let mut a = raw_swarm(seeds.0);
    a.dial(addr).expect("dial");
    while !matches!(
        a.select_next_some().await,
        SwarmEvent::ConnectionEstablished { .. }
    ) {}
    (a, peer, server)
}

/// One request of `request` to `peer`, driven until its answer of
/// `expect` bytes is back.
pub async fn round_trip(swarm: &mut RawSwarm, peer: &PeerId, request: Vec<u8>, expect: usize) {
    swarm.behaviour_mut().send_request(peer, request);
    loop {
        match swarm.select_next_some().await {
            SwarmEvent::Behaviour(request_response::Event::Message {
                message: request_response::Message::Response { response, .. },
                ..
            }) => break assert_eq!(response.len(), expect),
            SwarmEvent::Behaviour(request_response::Event::OutboundFailure { error, .. }) => {
                panic!("request failed: {error}")
            }
            _ => {}
        }
    }
}
