//! The public-address filter end to end: a fake resolver (standing in for DNS)
//! maps test names to a local server's loopback address, and the toy must
//! refuse them with `denied(name)` before anything reaches the server.

use std::net::{IpAddr, SocketAddr};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use super::*;

/// A resolver answering from a fixed table; unknown names are not found.
#[derive(Debug)]
struct FakeDns(Vec<(&'static str, IpAddr)>);

impl Resolver for FakeDns {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let mut out = self.empty();
        for (_, ip) in self.0.iter().filter(|(name, _)| *name == host) {
            out.push(SocketAddr::new(*ip, port));
        }
        if out.is_empty() {
            Err(ureq::Error::HostNotFound)
        } else {
            Ok(out)
        }
    }
}

fn toy() -> HttpToy {
    HttpToy::with_dns(Arc::new(FakeDns(vec![
        ("rebind.test", "127.0.0.1".parse().unwrap()),
        ("rebind6.test", "::1".parse().unwrap()),
        ("mapped.test", "::ffff:127.0.0.1".parse().unwrap()),
        ("svc.localhost", "127.0.0.1".parse().unwrap()),
    ])))
}

#[tokio::test]
async fn a_granted_name_resolving_to_loopback_is_denied_and_sends_nothing() {
    let server = Server::start(|_| Reply::ok(b"internal"));
    let port = server.port;
    for name in ["rebind.test", "rebind6.test", "mapped.test"] {
        let grant = format!("http:http://{name}:{port}");
        let url = format!("http://{name}:{port}/secret");
        let result = fetch_with(toy(), &[&grant], req("GET", &url, &[], None)).await;
        assert_eq!(result.unwrap_err(), denied(name), "{name}");
    }
    assert!(server.seen().is_empty(), "nothing reached the local server");
}

#[tokio::test]
async fn the_fake_resolver_is_used_and_localhost_names_reach_loopback() {
    // Control for the test above: the same table, the same server, reached
    // through a `*.localhost` name, which may resolve to loopback.
    let server = Server::start(|_| Reply::ok(b"local"));
    let port = server.port;
    let grant = format!("http:http://svc.localhost:{port}");
    let url = format!("http://svc.localhost:{port}/");
    let got = fetch_with(toy(), &[&grant], req("GET", &url, &[], None))
        .await
        .unwrap();
    assert_eq!(got.body, b"local");
    assert_eq!(server.seen().len(), 1);

    // A name the table does not know fails as a lookup, not as `denied`.
    let grant = format!("http:http://unknown.test:{port}");
    let url = format!("http://unknown.test:{port}/");
    let result = fetch_with(toy(), &[&grant], req("GET", &url, &[], None)).await;
    assert_eq!(case(result), "transport");
}
