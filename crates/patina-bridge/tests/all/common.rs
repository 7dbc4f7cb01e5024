//! The harness: a Mother in a temporary home with `calc`, `limits` and
//! `hello-log` installed, a policy with a few roles, the bridge on
//! 127.0.0.1 (port chosen by the system) on its own runtime, and a client
//! that answers every status (4xx and 5xx included) as a value.

use std::time::Duration;

use patina_bridge::{Bridge, BridgeConfig, Served};
use patina_membrane::{MembraneServer, ServeConfig};
use patina_mother::{InstallSpec, Mother, MotherConfig};
use serde_json::Value as Json;

/// Roles the tests use besides the built-in ones.
pub const POLICY: &str = r#"
[roles.caller]
methods = ["runtime.list", "runtime.describe", "runtime.run", "receipts.get", "receipts.export", "receipts.replay"]
children = ["calc", "limits", "hello-log", "kinds"]
grants = ["log"]
limits = { fuel = 1000000000000000, timeout_ms = 4000, memory = 134217728 }
live = true

[roles.blind]
methods = ["runtime.run"]
children = ["calc"]

[roles.edge]
methods = ["runtime.run"]
children = ["calc", "echo", "web-gateway"]
grants = ["invoke:calc"]
limits = { fuel = 50000000, timeout_ms = 4000, memory = 33554432 }

[roles.edge-ungranted]
methods = ["runtime.run"]
children = ["echo", "web-gateway"]

[roles.metrics-only]
methods = ["runtime.metrics"]

[roles.same]
methods = ["runtime.run"]
children = ["calc", "web-gateway"]
grants = ["invoke:calc"]

[roles.slow]
methods = ["runtime.run"]
children = ["calc"]
rate = { runs_per_second = 0.2, burst = 2 }
"#;

/// A Mother served over HTTP.
pub struct Bridged {
    pub url: String,
    pub mother: Mother,
    pub server: MembraneServer,
    runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<Served>>,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

/// One answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The error kind of an error answer.
    pub fn kind(&self) -> String {
        self.json()["error"]["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("no error kind: {}", self.body))
            .to_owned()
    }

    pub fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn install(runtime: &tokio::runtime::Runtime, mother: &Mother, name: &str, bytes: Vec<u8>) {
    runtime
        .block_on(mother.install(
            bytes,
            InstallSpec {
                name: Some(name.into()),
                grants: Vec::new(),
            },
        ))
        .unwrap_or_else(|e| panic!("installing {name}: {e}"));
}

impl Bridged {
    pub fn start() -> Self {
        Self::with(BridgeConfig::default())
    }

    pub fn with(config: BridgeConfig) -> Self {
        Self::build(config, &[])
    }

    /// A bridge with `mounts` (`PREFIX=CHILD[,GRANT...]`), the bridge
    /// children `echo` (http-echo) and `web-gateway` installed too.
    pub fn with_mounts(mounts: &[&str]) -> Self {
        Self::build(BridgeConfig::default(), mounts)
    }

    fn build(config: BridgeConfig, mounts: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::write(home.join("policy.toml"), POLICY).expect("policy");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mother = Mother::open(MotherConfig::new(&home)).expect("mother");
        for name in ["calc", "limits", "hello-log"] {
            let child = children_artifacts::by_name(name).expect(name);
            install(&runtime, &mother, name, child.bytes.to_vec());
        }
        install(&runtime, &mother, "kinds", crate::kinds::component());
        if !mounts.is_empty() {
            for (name, child) in [("echo", "http-echo"), ("web-gateway", "web-gateway")] {
                let child = children_artifacts::by_name(child).expect(child);
                install(&runtime, &mother, name, child.bytes.to_vec());
            }
        }
        let mounts = mounts
            .iter()
            .map(|m| m.parse().unwrap_or_else(|e| panic!("{m}: {e}")))
            .collect();
        let server = runtime
            .block_on(async { MembraneServer::open(mother.clone(), ServeConfig::default()) })
            .expect("membrane");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let bridge = Bridge::with_mounts(server.clone(), config, mounts).expect("mounts");
        let serving = runtime.spawn(patina_bridge::serve(listener, bridge, async move {
            let _ = stopped.await;
        }));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Self {
            url,
            mother,
            server,
            runtime,
            stop: Some(stop),
            serving: Some(serving),
            agent,
            _dir: dir,
        }
    }

    /// A new token of `role`.
    pub fn token(&self, role: &str) -> String {
        self.server
            .tokens()
            .create(role, "test", None)
            .expect("token")
            .1
    }

    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// `GET path` with `token`.
    pub fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = self.agent.get(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        answer(request.call())
    }

    /// `GET path` with one header of the caller's choosing.
    pub fn get_with_header(&self, path: &str, name: &str, value: &str) -> Answer {
        answer(
            self.agent
                .get(format!("{}{path}", self.url))
                .header(name, value)
                .call(),
        )
    }

    /// `POST path` with `token` and a JSON `body`.
    pub fn post(&self, path: &str, token: Option<&str>, body: &str) -> Answer {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.url))
            .header("Content-Type", "application/json");
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        answer(request.send(body))
    }

    /// `method path` with `token` and a `body` (none when empty).
    pub fn send(&self, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> Answer {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if body.is_empty() {
            answer(self.agent.run(request.body(()).expect("a request")))
        } else {
            answer(
                self.agent
                    .run(request.body(body.to_vec()).expect("a request")),
            )
        }
    }

    /// A call of `function` of `child` with `args` (and a query).
    pub fn call(&self, token: &str, child: &str, function: &str, args: &str) -> Answer {
        self.post(
            &format!("/v1/children/{child}/call/{function}"),
            Some(token),
            args,
        )
    }

    /// Stops serving (as SIGTERM does) and waits for the drain.
    pub fn shutdown(&mut self) -> Served {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let serving = self.serving.take().expect("serving");
        self.runtime.block_on(serving).expect("the server task")
    }
}

impl Drop for Bridged {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Sends only the head of `POST path` declaring a body of `length` bytes
/// and reads the raw answer: a bridge that refuses by `Content-Length`
/// answers without reading a byte of the body. (Writing a large body to a
/// server that already answered and closed races with its close: the
/// client may see a broken pipe instead of the answer.)
pub fn post_head_only(url: &str, path: &str, token: &str, length: usize) -> String {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connecting to the bridge");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("a read timeout");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    .expect("writing the request's head");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

pub fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = result.unwrap_or_else(|e| panic!("request failed: {e}"));
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = response
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("reading the body: {e}"));
    Answer {
        status,
        headers,
        body,
    }
}
