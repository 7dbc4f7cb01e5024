//! Shared helpers of the cross-crate tests: a host, the example children, and
//! a one-line way to run a call. Tests only; never used by the product.

use patina_core::Grant;
use patina_host::{Call, Child, Host, HostConfig, RunRefused, RunReport, RunRequest};

/// A host with the log toy only and no disk cache.
pub fn host() -> Host {
    Host::new(HostConfig::with_toys(patina_toys::log_only(), None)).expect("host")
}

/// A host offering exactly the toys of `toys`, and no disk cache.
pub fn host_with(toys: patina_toys::ToyRegistry) -> Host {
    Host::new(HostConfig::with_toys(toys, None)).expect("host")
}

/// Loads one of the example children by name (`calc`, `hello-log`, `hello-cmd`, `limits`).
pub fn child(host: &Host, name: &str) -> Child {
    let built = children_artifacts::by_name(name).unwrap_or_else(|| panic!("no child {name}"));
    host.load(built.bytes).expect("load child")
}

/// Compiles component text (WAT) to a component and loads it.
pub fn wat_child(host: &Host, text: &str) -> Child {
    let bytes = wat::parse_str(text).expect("valid WAT");
    host.load(&bytes).expect("load WAT component")
}

/// A request for the WAVE call `call` with `grants`.
pub fn request(call: &str, grants: &[&str]) -> RunRequest {
    let mut request = RunRequest::new(Call::Wave(call.to_owned()));
    request.grants = grants
        .iter()
        .map(|g| g.parse::<Grant>().expect("grant"))
        .collect();
    request
}

/// Runs a WAVE call and returns the report (`Err` if refused before running).
pub async fn run(
    host: &Host,
    child: &Child,
    call: &str,
    grants: &[&str],
) -> Result<RunReport, RunRefused> {
    host.run(child, &request(call, grants)).await
}

/// Runs a WAVE call that must return, and gives its result as WAVE text.
pub async fn wave(host: &Host, child: &Child, call: &str) -> String {
    let report = run(host, child, call, &[])
        .await
        .unwrap_or_else(|e| panic!("{call}: refused: {e}"));
    match &report.outcome {
        Ok(_) => report.wave().unwrap_or_default(),
        Err(e) => panic!("{call}: failed: {e}"),
    }
}

/// Runs a command child with `args` and `grants`.
pub async fn command(host: &Host, child: &Child, args: &[&str], grants: &[&str]) -> RunReport {
    let mut request = RunRequest::new(Call::Command {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
    });
    request.grants = grants
        .iter()
        .map(|g| g.parse::<Grant>().expect("grant"))
        .collect();
    host.run(child, &request).await.expect("command run starts")
}

/// The captured stdout of a report, as text.
pub fn stdout(report: &RunReport) -> String {
    String::from_utf8_lossy(&report.stdout).into_owned()
}

/// The captured stderr of a report, as text.
pub fn stderr(report: &RunReport) -> String {
    String::from_utf8_lossy(&report.stderr).into_owned()
}

/// Runs a WAVE call that must return, from synchronous code.
pub fn wave_sync(host: &Host, child: &Child, call: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(wave(host, child, call))
}

/// The identity of the file at `path` (its inode on unix). Every artifact
/// write is a fresh file renamed into place, so it changes exactly when a file
/// is written again — even with the same bytes.
#[cfg(unix)]
pub fn file_identity(path: &std::path::Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).expect("file exists"))
}

/// The identity of the file at `path` (its modification time elsewhere).
#[cfg(not(unix))]
pub fn file_identity(path: &std::path::Path) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("file exists")
}
