//! A JavaScript child built by componentize-js with its **default options**
//! (so it imports `wasi:http/types` and `wasi:http/outgoing-handler` for
//! `fetch`, used or not): its pure functions answer with no grant, its
//! `fetch` of a loopback server works with an `http:` grant, is recorded,
//! and replays exactly after the server is gone; without the grant the
//! fetch is refused, and the refusal is recorded.
//!
//! The child is built from `children/js/js-fetcher` (pinned `package.json`
//! and `package-lock.json`) with node and npm, once per test process, into
//! `CARGO_TARGET_TMPDIR`. Where node or npm is missing, each test says so
//! loudly on stderr and returns — unless `PATINA_REQUIRE_JS_CHILDREN` is set
//! (CI sets it), when a missing toolchain fails the test. A build that
//! fails with node present always fails the test.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use patina_host::{Child, Host, HostConfig, ReplaySource};
use patina_tests::run;
use patina_toys::HttpToy;

use crate::http::{serve, wait_gone};
use crate::wasi_http::{answer, exchanges};

/// Set (to anything) to make a missing node or npm fail the JS tests.
const REQUIRE: &str = "PATINA_REQUIRE_JS_CHILDREN";

/// A JS child's bytes, or why it could not be built.
type Built = Result<Arc<[u8]>, String>;

/// Built JS children by name.
static BUILT: OnceLock<Mutex<HashMap<String, Built>>> = OnceLock::new();

/// One host for the JS tests, with an artifact cache in the target
/// directory: a 12 MB child is compiled once, not once per test.
fn js_host() -> Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| {
        let mut toys = patina_toys::log_only();
        let http = Arc::new(HttpToy::new());
        toys.register(http.clone());
        toys.set_outgoing_http(http);
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("js-artifacts");
        Host::new(HostConfig::with_toys(toys, Some(cache))).expect("host")
    })
    .clone()
}

/// The JS child `name` loaded, or `None` (said loudly) when node or npm is
/// missing and the environment does not require them.
fn js_child(host: &Host, name: &str) -> Option<Child> {
    let built = BUILT.get_or_init(Mutex::default);
    let bytes = {
        let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
        built
            .entry(name.to_owned())
            .or_insert_with(|| build(name))
            .clone()
    };
    match bytes {
        Ok(bytes) => Some(host.load(&bytes).expect("the JS child loads")),
        Err(reason) if std::env::var_os(REQUIRE).is_some() => {
            panic!("cannot build the JS child `{name}` and {REQUIRE} is set: {reason}")
        }
        Err(reason) => {
            eprintln!(
                "\n*** SKIPPED (not tested!): the JS child `{name}` cannot be built here: {reason}.\n\
                 *** Install node and npm (or set {REQUIRE} to make this a failure).\n"
            );
            None
        }
    }
}

/// Whether `program --version` runs.
fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds `children/js/<name>` (npm ci, then its `build` script) into the
/// test target directory, reusing the last build when its sources are the
/// same. `Err` only when node or npm is missing; a failed build panics.
fn build(name: &str) -> Built {
    for tool in ["node", "npm"] {
        if !runs(tool) {
            return Err(format!("`{tool}` is not installed (or not on PATH)"));
        }
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../children/js")
        .join(name);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("js-children")
        .join(name);
    let files = sources(&source);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for (path, bytes) in &files {
        path.hash(&mut hasher);
        bytes.hash(&mut hasher);
    }
    let key = format!("{:016x}", hasher.finish());
    let output = dir.join(format!("{name}.wasm"));
    if std::fs::read_to_string(dir.join("built-from")).is_ok_and(|k| k == key)
        && let Ok(bytes) = std::fs::read(&output)
    {
        return Ok(bytes.into());
    }
    for (path, bytes) in &files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("build dir");
        std::fs::write(&target, bytes).expect("copy a source");
    }
    let lock = std::fs::read(source.join("package-lock.json")).expect("a lock file");
    if std::fs::read(dir.join("node_modules/.installed-from")).ok() != Some(lock.clone()) {
        npm(&dir, &["ci", "--no-audit", "--no-fund"]);
        std::fs::write(dir.join("node_modules/.installed-from"), &lock).expect("mark");
    }
    npm(&dir, &["run", "build"]);
    let bytes = std::fs::read(&output).expect("the build wrote the component");
    std::fs::write(dir.join("built-from"), key).expect("mark the build");
    Ok(bytes.into())
}

/// Runs `npm args` in `dir`; a failure fails the test with npm's output.
fn npm(dir: &Path, args: &[&str]) {
    eprintln!(
        "building a JS child: npm {} (in {})",
        args.join(" "),
        dir.display()
    );
    let out = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("npm runs");
    assert!(
        out.status.success(),
        "npm {} failed:\n{}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The child's source files (relative path, bytes), without installed
/// packages or build output, in a fixed order.
fn sources(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(relative) = dirs.pop() {
        let entries = std::fs::read_dir(root.join(&relative)).expect("the JS child's sources");
        for entry in entries.flatten() {
            let name = entry.file_name();
            let path = relative.join(&name);
            if name == "node_modules" || path.extension().is_some_and(|e| e == "wasm") {
                continue;
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
            } else {
                files.push((path.clone(), std::fs::read(root.join(&path)).expect("read")));
            }
        }
    }
    files.sort();
    files
}

#[tokio::test]
async fn a_default_componentize_js_child_computes_with_no_grant() {
    let host = js_host();
    let Some(js) = js_child(&host, "js-fetcher") else {
        return;
    };
    let imports: Vec<String> = js
        .describe()
        .expect("describes")
        .imports
        .iter()
        .map(|i| i.name.clone())
        .collect();
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("wasi:http/outgoing-handler@")),
        "componentize-js's default build imports wasi:http: {imports:?}"
    );
    let report = run(&host, &js, "add(2, 3)", &[])
        .await
        .expect("no grant needed");
    assert_eq!(report.wave().as_deref(), Some("5"), "{:?}", report.outcome);
}

#[tokio::test]
async fn a_js_fetch_works_with_a_grant_is_recorded_and_replays_without_the_server() {
    let host = js_host();
    let Some(js) = js_child(&host, "js-fetcher") else {
        return;
    };
    let port = serve(
        1,
        Arc::new(|_, path, _| (200, vec![], format!("js saw {path}").into())),
    );
    let url = format!("http://127.0.0.1:{port}/hello");
    let call = format!("fetch-text({url:?})");
    let grant = format!("http:http://127.0.0.1:{port}");
    let report = run(&host, &js, &call, &[&grant]).await.unwrap();
    assert_eq!(
        report.wave().as_deref(),
        Some(r#"ok("200 js saw /hello")"#),
        "{:?}",
        report.outcome
    );
    let recorded = exchanges(&report);
    assert_eq!(recorded.len(), 1, "one exchange: {recorded:?}");
    assert!(recorded[0].args.display().contains(&url));
    assert!(answer(&recorded[0]).starts_with("(ok({status: 200,"));

    let (transcript, blobs) = report.transcript().unwrap();
    wait_gone(port);
    let replay = host
        .replay(&js, ReplaySource { transcript, blobs })
        .await
        .unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert_eq!(
        replay.report.wave().as_deref(),
        Some(r#"ok("200 js saw /hello")"#)
    );
}

#[tokio::test]
async fn a_js_fetch_without_a_grant_is_refused_and_recorded() {
    let host = js_host();
    let Some(js) = js_child(&host, "js-fetcher") else {
        return;
    };
    let call = "fetch-text(\"http://127.0.0.1:9/nothing\")";
    let report = run(&host, &js, call, &[])
        .await
        .expect("runs with no grant");
    let wave = report.wave().unwrap_or_default();
    assert!(
        wave.starts_with("err("),
        "the fetch fails: {wave} {:?}",
        report.outcome
    );
    let recorded = exchanges(&report);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(answer(&recorded[0]), r#"(err(denied("127.0.0.1")))"#);
    let (transcript, blobs) = report.transcript().unwrap();
    let replay = host
        .replay(&js, ReplaySource { transcript, blobs })
        .await
        .unwrap();
    assert!(
        replay.matched(),
        "a denial replays: {:?}",
        replay.divergence
    );
}
