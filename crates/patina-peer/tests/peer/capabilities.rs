//! Cap'n Proto over a libp2p stream, the membrane's transport, with
//! capabilities that travel back to their owner: a vat that gets its own
//! capability back uses it as its own, and a vat that is handed a
//! capability it already holds (a second import), drops that copy and
//! sends the first one on keeps working. That last path panicked the event
//! loop in capnp-rpc before 0.26.2 (capnproto-rust #672, Wetware #586); the
//! workspace pins 0.27.3. No method of `membrane.capnp` takes a capability
//! today, so the test brings an interface of its own that echoes one.

use std::rc::Rc;

use capnp::any_pointer;
use capnp::capability::{
    Client, DispatchCallResult, FromClientHook, FromServer, Params, Promise, Results, Server,
};
use capnp::private::capability::ClientHook;
use capnp_rpc::{RpcSystem, rpc_twoparty_capnp, twoparty};
use patina_membrane::membrane_capnp::epoch;
use patina_net::{NetConfig, NetHandle, NetStream, StreamProtocol};
use tokio_util::compat::{TokioAsyncReadCompatExt as _, TokioAsyncWriteCompatExt as _};

use crate::within;

const ECHO: StreamProtocol = StreamProtocol::new("/patina-test/echo-capability/1");
/// The echo interface's id (any 64-bit number; both ends agree).
const ECHO_INTERFACE: u64 = 0xe0e0_cafe_0000_0001;

/// Answers a call with the capability it was given.
struct Echo;

#[derive(Clone)]
struct EchoDispatch(Rc<Echo>);

impl std::ops::Deref for EchoDispatch {
    type Target = Echo;
    fn deref(&self) -> &Echo {
        &self.0
    }
}

impl Server for EchoDispatch {
    fn dispatch_call(
        self,
        interface_id: u64,
        _method_id: u16,
        params: Params<any_pointer::Owned>,
        mut results: Results<any_pointer::Owned>,
    ) -> DispatchCallResult {
        let promise = Promise::from_future(async move {
            if interface_id != ECHO_INTERFACE {
                return Err(capnp::Error::unimplemented("not the echo".into()));
            }
            let given: Client = params.get()?.get_as_capability()?;
            results.get().set_as_capability(given.hook);
            Ok(())
        });
        DispatchCallResult {
            promise,
            is_streaming: false,
        }
    }

    fn as_ptr(&self) -> usize {
        Rc::as_ptr(&self.0) as usize
    }
}

struct EchoClient(Client);

impl FromClientHook for EchoClient {
    fn new(hook: Box<dyn ClientHook>) -> Self {
        Self(Client::new(hook))
    }
    fn into_client_hook(self) -> Box<dyn ClientHook> {
        self.0.hook
    }
    fn as_client_hook(&self) -> &dyn ClientHook {
        &*self.0.hook
    }
}

impl FromServer<Echo> for EchoClient {
    type Dispatch = EchoDispatch;
    fn from_server(s: Rc<Echo>) -> EchoDispatch {
        EchoDispatch(s)
    }
}

/// Sends `cap` to the echo and answers what came back.
async fn echoed(echo: &Client, cap: &Client) -> Result<Client, capnp::Error> {
    let mut call = echo.new_call::<any_pointer::Owned, any_pointer::Owned>(ECHO_INTERFACE, 0, None);
    call.get().set_as_capability(cap.hook.add_ref());
    let answer = call.send().promise.await?;
    answer.get()?.get_as_capability()
}

/// An epoch capability of this vat's own, answering `epoch`.
struct Fixed(u64);

impl epoch::Server for Fixed {
    async fn current(
        self: capnp::capability::Rc<Self>,
        _: epoch::CurrentParams,
        mut results: epoch::CurrentResults,
    ) -> Result<(), capnp::Error> {
        results.get().set_epoch(self.0);
        Ok(())
    }
}

async fn current(cap: &Client) -> Result<u64, capnp::Error> {
    let epoch: epoch::Client = FromClientHook::new(cap.hook.add_ref());
    let answer = epoch.current_request().send().promise.await?;
    Ok(answer.get()?.get_epoch())
}

fn rpc(
    stream: NetStream,
    side: rpc_twoparty_capnp::Side,
    bootstrap: Option<Client>,
) -> RpcSystem<rpc_twoparty_capnp::Side> {
    let (reader, writer) = tokio::io::split(stream);
    let network = twoparty::VatNetwork::new(
        reader.compat(),
        writer.compat_write(),
        side,
        Default::default(),
    );
    RpcSystem::new(Box::new(network), bootstrap)
}

#[test]
fn capabilities_that_come_back_to_their_owner_over_libp2p_still_work() {
    within(|| async {
        let (a, b) = (
            NetHandle::start(&[91; 32], NetConfig::loopback())
                .await
                .unwrap(),
            NetHandle::start(&[92; 32], NetConfig::loopback())
                .await
                .unwrap(),
        );
        let mut incoming = b.accept(ECHO).unwrap();
        let addr = b.listen_addrs().await.unwrap()[0].clone();
        let peer = a
            .dial(patina_net::with_peer(addr, b.local_peer_id()))
            .await
            .unwrap();
        let outbound = a.open_stream(peer, ECHO).await.unwrap();
        let inbound = incoming.next().await.expect("B accepts");
        // Cap'n Proto is single-threaded: both vats on one LocalSet.
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async move {
                let b_echo: EchoClient = capnp_rpc::new_client(Echo);
                let served = rpc(inbound, rpc_twoparty_capnp::Side::Server, Some(b_echo.0));
                tokio::task::spawn_local(served);
                let mut a_rpc = rpc(outbound, rpc_twoparty_capnp::Side::Client, None);
                let echo: Client = a_rpc.bootstrap(rpc_twoparty_capnp::Side::Server);
                tokio::task::spawn_local(a_rpc);

                // A's own capability, sent to B and back: A calls it as its own.
                let mine = capnp_rpc::new_client::<epoch::Client, _>(Fixed(7)).client;
                let back = echoed(&echo, &mine).await.expect("B echoes A's capability");
                assert_eq!(current(&back).await.unwrap(), 7);

                // B's capability (its echo), sent back to B and returned: A
                // now holds a second import of one export. Drop that copy,
                // then send the first one on: still one working capability.
                let again = echoed(&echo, &echo).await.expect("B echoes its own");
                drop(again);
                let third = echoed(&echo, &echo)
                    .await
                    .expect("the first copy still travels");
                let fourth = echoed(&third, &mine)
                    .await
                    .expect("and still works as the echo");
                assert_eq!(current(&fourth).await.unwrap(), 7);
            })
            .await;
        a.shutdown().await;
        b.shutdown().await;
    });
}
