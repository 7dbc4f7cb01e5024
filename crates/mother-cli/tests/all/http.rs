//! `mother serve --http`: the REST bridge as a process, reached with a
//! Rust HTTP client. The point of it: the same child, unchanged, gives the
//! same result and the same transcript hash embedded (`mother run`),
//! through `mother serve`'s socket (`mother --connect run`), over REST and
//! through the `web-gateway` bridge child mounted on the bridge (`--mount`);
//! `mother inspect --json-schema`'s result schema validates the REST
//! result; a token revoked while serving is refused from the next request;
//! SIGTERM stops both doors cleanly.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{json, mother, text};

/// A `mother serve --http` process (killed if the test ends first) and
/// the base URL it printed.
struct Http {
    child: Option<Child>,
    url: String,
    stderr: std::thread::JoinHandle<String>,
}

impl Drop for Http {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn serve_http(home: &Path, more: &[&str]) -> Http {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mother"))
        .env("PATINA_HOME", home)
        .env_remove("PATINA_LOG")
        .args(["serve", "--http", "127.0.0.1:0", "--drain", "5s"])
        .args(more)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mother serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let (found, url) = std::sync::mpsc::channel();
    // Reads every line (so the pipe never fills), and hands over the URL.
    let stderr = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("mother serving ") {
                let _ = found.send(url.to_owned());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let url = url
        .recv_timeout(Duration::from_secs(60))
        .expect("mother serve --http prints its address");
    let socket = home.join("mother.sock");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(std::time::Instant::now() < deadline, "the socket accepts");
        std::thread::sleep(Duration::from_millis(50));
    }
    Http {
        child: Some(child),
        url,
        stderr,
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// `POST url` with a bearer token: (status, JSON body).
fn post(url: &str, token: &str, body: &str) -> (u16, Value) {
    let mut response = agent()
        .post(url)
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body)
        .expect("the request");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("the body");
    (status, serde_json::from_str(&text).expect("JSON"))
}

/// The transcript hash of receipt `id`, from `mother [--connect] receipts export`.
fn transcript_hash(home: &Path, connect: bool, id: &str) -> String {
    let mut args = vec!["receipts", "export", id];
    if connect {
        args.insert(0, "--connect");
    }
    let export = mother(home, &args);
    assert!(export.status.success(), "{}", text(&export.stderr));
    json(&export)["receipt"]["transcript_hash"]
        .as_str()
        .expect("a transcript hash")
        .to_owned()
}

#[test]
fn the_same_child_answers_the_same_embedded_through_the_socket_over_rest_and_a_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    for (name, bytes) in [
        ("calc", children_artifacts::CALC_BYTES),
        ("web-gateway", children_artifacts::WEB_GATEWAY_BYTES),
    ] {
        let wasm = dir.path().join(format!("{name}.wasm"));
        std::fs::write(&wasm, bytes).unwrap();
        let installed = mother(&home, &["install", wasm.to_str().unwrap(), "--name", name]);
        assert!(installed.status.success(), "{}", text(&installed.stderr));
    }
    std::fs::write(
        home.join("policy.toml"),
        "[roles.edge]\nmethods = [\"runtime.run\"]\nchildren = [\"web-gateway\"]\ngrants = [\"invoke:calc\"]\n",
    )
    .unwrap();
    let args = r#"[{"x": 3, "y": -4}, 7]"#;

    // Embedded, before the Mother serves.
    let embedded = mother(
        &home,
        &["run", "calc", "types.scale", "--args-json", args, "--json"],
    );
    assert!(embedded.status.success(), "{}", text(&embedded.stderr));
    let embedded = json(&embedded);
    let schemas = json(&mother(&home, &["inspect", "calc", "--json-schema"]));
    let token = mother(&home, &["token", "create", "--role", "runner"]);
    assert!(token.status.success(), "{}", text(&token.stderr));
    let token = text(&token.stdout).trim().to_owned();
    let edge = mother(&home, &["token", "create", "--role", "edge"]);
    assert!(edge.status.success(), "{}", text(&edge.stderr));
    let edge = text(&edge.stdout).trim().to_owned();

    let server = serve_http(&home, &["--mount", "/app=web-gateway,invoke:calc"]);
    let socket = mother(
        &home,
        &[
            "--connect",
            "run",
            "calc",
            "types.scale",
            "--args-json",
            args,
            "--json",
        ],
    );
    assert!(socket.status.success(), "{}", text(&socket.stderr));
    let socket = json(&socket);
    let (status, rest) = post(
        &format!("{}/v1/children/calc/call/types.scale", server.url),
        &token,
        args,
    );
    assert_eq!(status, 200, "{rest}");
    let (status, gateway) = post(&format!("{}/app/calc/types.scale", server.url), &edge, args);
    assert_eq!(status, 200, "{gateway}");

    let want = json!({"x": 21, "y": -28});
    assert_eq!(embedded["result"], want);
    assert_eq!(socket["result"], want);
    assert_eq!(rest["result"], want);
    assert_eq!(gateway["result"], want);
    let embedded_hash = transcript_hash(&home, true, embedded["receipt"].as_str().unwrap());
    let socket_hash = transcript_hash(&home, true, socket["receipt"].as_str().unwrap());
    assert_eq!(socket_hash, embedded_hash);
    assert_eq!(rest["receipt"]["transcript_hash"], embedded_hash.as_str());
    let gateway_hash = transcript_hash(&home, true, gateway["receipt"].as_str().unwrap());
    assert_eq!(gateway_hash, embedded_hash, "the gateway's call of calc");
    // Receipts of one run, told apart only by their headers.
    assert_ne!(rest["receipt"]["id"], embedded["receipt"]);

    // The schema `mother inspect --json-schema` prints holds the REST result.
    let scale = schemas["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "patina:calc/types.scale")
        .expect("types.scale has schemas");
    let result = jsonschema::draft202012::new(&scale["result"]).unwrap();
    assert!(result.is_valid(&rest["result"]));
    assert!(
        jsonschema::draft202012::new(&scale["arguments"])
            .unwrap()
            .is_valid(&serde_json::from_str(args).unwrap())
    );

    // SIGTERM: both doors stop, the process exits cleanly.
    let mut server = server;
    let mut child = server.child.take().unwrap();
    // SAFETY: signals the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let stderr = std::mem::replace(&mut server.stderr, std::thread::spawn(String::new))
        .join()
        .unwrap();
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(std::net::TcpStream::connect(server.url.trim_start_matches("http://")).is_err());
}

#[test]
fn a_token_revoked_while_serving_is_refused_from_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let wasm = dir.path().join("calc.wasm");
    std::fs::write(&wasm, children_artifacts::CALC_BYTES).unwrap();
    assert!(
        mother(
            &home,
            &["install", wasm.to_str().unwrap(), "--name", "calc"]
        )
        .status
        .success()
    );
    let created = mother(&home, &["token", "create", "--role", "runner"]);
    let token = text(&created.stdout).trim().to_owned();
    let id = token.split('_').nth(1).unwrap().to_owned();
    let server = serve_http(&home, &[]);
    let url = format!("{}/v1/children/calc/call/add", server.url);
    assert_eq!(post(&url, &token, "[1, 2]").0, 200);
    let revoked = mother(&home, &["token", "revoke", &id]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let (status, body) = post(&url, &token, "[1, 2]");
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["kind"], "unauthenticated");
    // No token at all.
    let none = agent()
        .get(format!("{}/v1/children", server.url))
        .call()
        .unwrap();
    assert_eq!(none.status().as_u16(), 401);
}
