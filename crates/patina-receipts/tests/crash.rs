//! Crash tests of the receipt stores: a writer process appends receipts as
//! fast as it can and says `ACK <id>` after each `append` returns; the test
//! kills it with SIGKILL at a moment that depends on the clock, reopens the
//! store and demands that it opens, that the chain verifies and that every
//! ACKed receipt is there. Three rounds on one store, so recovery is also
//! followed by more appends.
//!
//! The writer is this test binary run again (`crash_writer`, ignored unless
//! `PATINA_CRASH_DIR` is set). The tests must never leave a writer running
//! (a guard kills it on every path) and never wait without a bound.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use patina_core::ChildId;
use patina_receipts::store::{ReceiptStore, open_sqlite};
use patina_receipts::{
    Blob, CallRecord, Identity, Outcome, OutcomeStatus, Payload, ReceiptId, Transcript,
};

const DIR_VAR: &str = "PATINA_CRASH_DIR";
const BACKEND_VAR: &str = "PATINA_CRASH_BACKEND";
/// ACKs a writer must give before it may be killed.
const MIN_ACKS: usize = 30;
/// Kill/reopen rounds on one store.
const ROUNDS: usize = 3;
/// Longest a whole crash test may take.
const LIMIT: Duration = Duration::from_secs(60);

fn open(backend: &str, dir: &Path) -> Box<dyn ReceiptStore> {
    match backend {
        "sqlite" => Box::new(open_sqlite(dir).unwrap()),
        #[cfg(feature = "sled")]
        "sled" => Box::new(patina_receipts::store::open_sled(dir).unwrap()),
        other => panic!("no receipt store backend `{other}` in this build"),
    }
}

fn identity() -> Identity {
    Identity::from_seed([42; 32])
}

/// Run `n`'s transcript; every fifth one's stdout is a blob.
fn transcript(n: u64, blobs: &mut Vec<Blob>) -> Transcript {
    let stdout = if n.is_multiple_of(5) {
        Payload::of_text(&format!("line {n}\n").repeat(1000), blobs)
    } else {
        Payload::Text(format!("line {n}\n").into())
    };
    Transcript {
        child: ChildId::of(b"crash test child"),
        call: CallRecord {
            function: "run".into(),
            args: vec![n.to_string()],
            argv: None,
            limits: patina_core::Limits::default(),
            deny_missing: false,
        },
        grants: vec![],
        unrecorded: vec![],
        events: vec![],
        outcome: Outcome {
            status: OutcomeStatus::Returned {
                results: Payload::Text(format!("({n})").into()),
                exit_code: None,
            },
            stdout,
            stderr: Payload::Text(Default::default()),
        },
        fuel: n,
    }
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// The writer process: appends forever, ACKing each durable append.
#[test]
#[ignore = "helper process for the crash tests"]
fn crash_writer() {
    let (Some(dir), Ok(backend)) = (std::env::var_os(DIR_VAR), std::env::var(BACKEND_VAR)) else {
        return;
    };
    let store = open(&backend, Path::new(&dir));
    let me = identity();
    let mut out = std::io::stdout();
    for n in 0u64.. {
        let mut blobs = Vec::new();
        let transcript = transcript(n, &mut blobs);
        let ms = now().as_millis() as u64;
        let mut seal =
            |head| patina_receipts::canonical::seal(transcript.clone(), &me, ms, ms, head);
        let receipt = store.append(&me.id(), &mut seal, &blobs).unwrap();
        writeln!(out, "ACK {}", receipt.id).unwrap();
        out.flush().unwrap();
    }
}

/// A running writer, killed whatever happens to the test.
struct Writer {
    child: Child,
    lines: Receiver<String>,
}

impl Writer {
    fn start(backend: &str, dir: &Path) -> Self {
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new(exe)
            .args([
                "--exact",
                "crash_writer",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DIR_VAR, dir)
            .env(BACKEND_VAR, backend)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next ACKed id, `None` once the writer's output ended.
    fn next_ack(&mut self, deadline: Instant) -> Option<ReceiptId> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(id) = line.strip_prefix("ACK ") {
                        return Some(id.parse().unwrap());
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) => panic!("the writer gave no ACK within {LIMIT:?}"),
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Kills a writer mid-stream `ROUNDS` times; after each, everything ACKed is
/// there and the chain verifies.
fn survives_sigkill(backend: &str) {
    let dir = tempfile::tempdir().unwrap();
    let deadline = Instant::now() + LIMIT;
    let mut acked: Vec<ReceiptId> = Vec::new();
    for round in 0..ROUNDS {
        let jitter = now().subsec_nanos() as usize;
        let target = MIN_ACKS + jitter % 20;
        let mut writer = Writer::start(backend, dir.path());
        for n in 0..target {
            match writer.next_ack(deadline) {
                Some(id) => acked.push(id),
                None => {
                    let status = writer.child.wait().unwrap();
                    panic!("round {round}: the writer stopped after {n} ACKs ({status})");
                }
            }
        }
        // Land the kill somewhere inside the next appends.
        std::thread::sleep(Duration::from_micros((jitter % 3000) as u64));
        writer.child.kill().unwrap();
        let status = writer.child.wait().unwrap();
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "{status}"
        );
        // ACKs written before the kill count too.
        while let Some(id) = writer.next_ack(deadline) {
            acked.push(id);
        }
        drop(writer);

        let store = open(backend, dir.path());
        let count = store.verify_chain(&identity().id()).unwrap();
        assert!(
            count as usize >= acked.len(),
            "round {round}: {count} receipts, {} ACKed",
            acked.len()
        );
        eprintln!(
            "{backend} round {round}: killed the writer; {count} receipts in the chain, {} ACKed",
            acked.len()
        );
        for id in &acked {
            let receipt = store.get(id).unwrap();
            let receipt =
                receipt.unwrap_or_else(|| panic!("round {round}: ACKed receipt {id} is gone"));
            for digest in receipt.references() {
                assert!(
                    store.blob(&digest).unwrap().is_some(),
                    "round {round}: blob {digest} of {id} is gone"
                );
            }
        }
    }
}

#[test]
fn sqlite_store_survives_sigkill() {
    survives_sigkill("sqlite");
}

#[cfg(feature = "sled")]
#[test]
fn sled_store_survives_sigkill() {
    survives_sigkill("sled");
}
