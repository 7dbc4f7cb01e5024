//! The shared agent's connection pool across runs: connections are reused
//! between runs for an origin both runs' grants admit, and never by a run
//! whose grant does not admit the origin the connection was made for — not
//! even when the address is the same (a name and an IP literal, or two
//! names, are different origins), and not through a redirect.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use super::*;

/// A keep-alive HTTP/1.1 server on 127.0.0.1: every answer names the
/// connection it came on (`conn N`, counted from 1); `/redirect?to=URL`
/// answers `302` to `URL`.
struct KeepAlive {
    port: u16,
    connections: Arc<AtomicUsize>,
    /// (connection, path) of every request received.
    seen: Arc<Mutex<Vec<(usize, String)>>>,
}

impl KeepAlive {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (count, log) = (Arc::clone(&connections), Arc::clone(&seen));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                let log = Arc::clone(&log);
                std::thread::spawn(move || serve_connection(stream, n, &log));
            }
        });
        Self {
            port,
            connections,
            seen,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<(usize, String)> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve_connection(stream: TcpStream, n: usize, log: &Mutex<Vec<(usize, String)>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header.trim_end().is_empty() {
                break;
            }
        }
        log.lock().unwrap().push((n, path.clone()));
        let (status, location, body) = match path.strip_prefix("/redirect?to=") {
            Some(to) => ("302 Found", Some(to.to_owned()), String::new()),
            None => ("200 OK", None, format!("conn {n}")),
        };
        let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
        if let Some(location) = location {
            out.push_str(&format!("Location: {location}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&body);
        if stream.write_all(out.as_bytes()).is_err() {
            return;
        }
    }
}

/// Two loopback names (and IP literals), as a resolver would answer them.
#[derive(Debug)]
struct LoopbackNames;

impl Resolver for LoopbackNames {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        // IP literals come here too, as to the system resolver.
        let ip: IpAddr = match host.parse() {
            Ok(literal) => literal,
            Err(_) if matches!(host, "svc.localhost" | "other.localhost") => {
                "127.0.0.1".parse().unwrap()
            }
            Err(_) => return Err(ureq::Error::HostNotFound),
        };
        let mut out = self.empty();
        out.push(std::net::SocketAddr::new(ip, uri.port_u16().unwrap_or(80)));
        Ok(out)
    }
}

fn body(got: Result<Got, (String, Option<Val>)>) -> String {
    String::from_utf8(got.unwrap().body).unwrap()
}

#[tokio::test]
async fn pooled_connections_serve_only_runs_whose_grant_admits_their_origin() {
    let server = KeepAlive::start();
    let port = server.port;
    let toy = HttpToy::with_dns(Arc::new(LoopbackNames));
    let by_name = format!("http:http://svc.localhost:{port}");
    let by_ip = format!("http:http://127.0.0.1:{port}");
    let other_name = format!("http:http://other.localhost:{port}");
    let name_url = |path: &str| format!("http://svc.localhost:{port}{path}");
    let ip_url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let get = |url: String| req("GET", &url, &[], None);

    // Two runs granted the name: the second reuses the first's connection.
    let first = fetch_on(&toy, &[&by_name], get(name_url("/a"))).await;
    assert_eq!(body(first), "conn 1");
    let second = fetch_on(&toy, &[&by_name], get(name_url("/b"))).await;
    assert_eq!(body(second), "conn 1", "the pooled connection is reused");
    assert_eq!(server.connections(), 1);

    // A run granted only the address may not use the name's connection:
    // refused before the agent is asked for one, nothing sent.
    let refused = fetch_on(&toy, &[&by_ip], get(name_url("/c"))).await;
    assert_eq!(refused.unwrap_err(), denied("svc.localhost"));
    // Nor through a redirect from an origin it may reach.
    let to_name = format!("/redirect?to={}", name_url("/d"));
    let refused = fetch_on(&toy, &[&by_ip], get(ip_url(&to_name))).await;
    assert_eq!(refused.unwrap_err(), denied("svc.localhost"));
    // Its own origin — the same address — gets a connection of its own.
    let own = fetch_on(&toy, &[&by_ip], get(ip_url("/e"))).await;
    assert_eq!(body(own), "conn 2", "a new connection, not the name's");

    // Another name for the same address is another origin too.
    let other = format!("http://other.localhost:{port}/f");
    assert_eq!(
        body(fetch_on(&toy, &[&other_name], get(other)).await),
        "conn 3"
    );

    let paths: Vec<(usize, String)> = server.seen();
    assert_eq!(
        paths,
        vec![
            (1, "/a".to_owned()),
            (1, "/b".to_owned()),
            (2, to_name),
            (2, "/e".to_owned()),
            (3, "/f".to_owned()),
        ],
        "nothing of the refused requests reached the server"
    );
}
