//! Committing receipts, pipelined (the default: group commit) and inline
//! (a one-command process): 64 runs in flight at once all end on one
//! chain, and a run whose caller stops waiting still gets its receipt. A
//! Mother opened for one command does its work on the calling thread, and
//! fails to open when its receipt store does.

use std::collections::HashSet;
use std::time::Duration;

use patina_mother::{CommitMode, RunOutcome};

use super::{call, named, open_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_runs_at_once_are_all_recorded_on_one_chain() {
    sixty_four_runs_at_once(CommitMode::Pipelined).await;
}

/// Inline commits (no committer threads) of runs in flight at once still
/// make one chain: each append finds the head inside its own write.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_inline_commits_at_once_keep_one_chain() {
    sixty_four_runs_at_once(CommitMode::Inline).await;
}

async fn sixty_four_runs_at_once(commit: CommitMode) {
    let dir = tempfile::tempdir().unwrap();
    let mother = open_with(&dir, commit);
    mother
        .install(children_artifacts::CALC_BYTES.to_vec(), named("calc"))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let mother = mother.clone();
            tokio::spawn(async move { mother.run(call("calc", &format!("add({i}, 1)"))).await })
        })
        .collect();
    let mut ids = HashSet::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let run = task.await.unwrap().unwrap();
        let summary = run.summary();
        assert_eq!(
            summary.outcome,
            RunOutcome::Returned {
                result: serde_json::json!(i + 1),
                wave: (i + 1).to_string(),
                exit_code: None
            }
        );
        let receipt = run.receipt.expect("a recorded run has a receipt");
        patina_receipts::verify(&receipt).unwrap();
        assert_eq!(summary.receipt, Some(receipt.id));
        ids.insert(receipt.id);
    }
    assert_eq!(ids.len(), 64);

    let stored = mother.receipts_of(None, Some(1000)).await.unwrap();
    assert_eq!(stored.len(), 64);
    // One chain: exactly one first receipt, every other links to a stored
    // one, and no two share a previous receipt (no fork).
    let firsts = stored.iter().filter(|r| r.previous.is_none()).count();
    assert_eq!(firsts, 1);
    let previous: HashSet<_> = stored.iter().filter_map(|r| r.previous).collect();
    assert_eq!(previous.len(), 63);
    assert!(previous.iter().all(|p| ids.contains(p)));
    for receipt in &stored {
        assert!(ids.contains(&receipt.id));
        patina_receipts::verify(receipt).unwrap();
    }
    let id = mother.identity().id();
    assert_eq!(mother.receipts().verify_chain(&id).unwrap(), 64);
}

/// A caller that stops waiting (a timeout here; a client gone later) detaches
/// from the run, never cancels it half-way: the run ends at its own deadline
/// and its receipt is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_caller_stops_waiting_still_gets_its_receipt() {
    a_caller_stops_waiting(CommitMode::Pipelined).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_commit_whose_caller_stops_waiting_still_gets_its_receipt() {
    a_caller_stops_waiting(CommitMode::Inline).await;
}

async fn a_caller_stops_waiting(commit: CommitMode) {
    let dir = tempfile::tempdir().unwrap();
    let mother = open_with(&dir, commit);
    mother
        .install(children_artifacts::LIMITS_BYTES.to_vec(), named("limits"))
        .await
        .unwrap();
    let mut spec = call("limits", "spin()");
    spec.limits.timeout_ms = Some(300);
    let waited = tokio::time::timeout(Duration::from_millis(50), mother.run(spec)).await;
    assert!(waited.is_err(), "spin() returned within 50 ms: {waited:?}");
    let mut stored = Vec::new();
    for _ in 0..200 {
        stored = mother
            .receipts_of(Some("limits".into()), None)
            .await
            .unwrap();
        if !stored.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let [receipt] = stored.as_slice() else {
        panic!(
            "expected the abandoned run's one receipt, found {}",
            stored.len()
        );
    };
    patina_receipts::verify(receipt).unwrap();
    assert!(
        matches!(
            &receipt.transcript.outcome.status,
            patina_receipts::OutcomeStatus::Failed { kind, .. } if kind == "deadline-exceeded"
        ),
        "the run should end at its own deadline: {:?}",
        receipt.transcript.outcome.status
    );
}

/// A Mother opened for one command (`MotherConfig::short_lived`: inline
/// commits, blocking work on the awaiting thread) on a current-thread
/// runtime, as `mother run` uses it: runs, installs and replays all finish
/// without the runtime starting a single thread (no blocking thread), and
/// each recorded run's receipt is on the chain before its answer.
#[test]
fn a_one_command_mother_does_its_work_on_the_calling_thread() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let started = Arc::new(AtomicUsize::new(0));
    let counted = started.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_start(move || {
            counted.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    runtime.block_on(one_command_mother_work());
    assert_eq!(
        started.load(Ordering::SeqCst),
        0,
        "the runtime started a thread (a blocking one) for the Mother's work"
    );
}

async fn one_command_mother_work() {
    let dir = tempfile::tempdir().unwrap();
    let mother = patina_mother::Mother::open(patina_mother::MotherConfig::short_lived(
        dir.path().join("home"),
    ))
    .unwrap();
    assert_eq!(
        mother.runner().blocking_work(),
        patina_mother::BlockingWork::Caller
    );
    mother
        .install(children_artifacts::CALC_BYTES.to_vec(), named("calc"))
        .await
        .unwrap();
    let first = mother.run(call("calc", "add(2, 3)")).await.unwrap();
    let second = mother.run(call("calc", "add(4, 5)")).await.unwrap();
    let (first, second) = (first.receipt.unwrap(), second.receipt.unwrap());
    assert_eq!(second.previous, Some(first.id));
    let stored = mother.receipts_of(None, Some(10)).await.unwrap();
    assert_eq!(stored.len(), 2);
    let replay = mother
        .replay(&patina_mother::ReceiptRef::Stored(first.id.hex()))
        .await
        .unwrap();
    assert!(replay.replay.matched(), "{:?}", replay.replay.divergence);
}

/// A receipt store that cannot be opened fails the open, with the store's
/// own reason, before anything could run unrecorded.
#[test]
fn a_receipt_store_that_cannot_be_opened_fails_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("receipts.sqlite3"), vec![0x5a; 8192]).unwrap();
    let error = patina_mother::Mother::open(patina_mother::MotherConfig::short_lived(&home))
        .expect_err("a receipt log that is not a database");
    let text = patina_mother::chain_message(&error);
    assert!(text.contains("not a database"), "{text}");
}
