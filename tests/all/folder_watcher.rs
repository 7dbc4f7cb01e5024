//! The `folder-watcher` child against the `fs-watch` toy on a real folder:
//! changes between runs through a cursor that outlives the run, an exact
//! replay that ignores the folder as it is now, and foreign cursors refused.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use patina_host::{Host, ReplaySource, RunRefused, RunReport, Val};
use patina_tests::{child, host_with, run};
use patina_toys::FsWatchToy;

fn host(state: &Path) -> Host {
    let mut toys = patina_toys::log_only();
    toys.register(Arc::new(FsWatchToy::new(state.to_path_buf())));
    host_with(toys)
}

#[derive(Debug, PartialEq, Eq)]
struct Report {
    added: Vec<String>,
    modified: Vec<String>,
    removed: Vec<String>,
    cursor: String,
}

fn strings(value: &Val) -> Vec<String> {
    let Val::List(items) = value else {
        panic!("not a list: {value:?}")
    };
    items
        .iter()
        .map(|item| match item {
            Val::String(s) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// The child's answer: `Ok(report)` or the `err` message.
fn answer(report: &RunReport) -> Result<Report, String> {
    let returned = report
        .outcome
        .as_ref()
        .unwrap_or_else(|e| panic!("the run failed: {e}"));
    match &returned.results[..] {
        [Val::Result(Ok(Some(record)))] => {
            let Val::Record(fields) = &**record else {
                panic!("{record:?}")
            };
            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["added", "modified", "removed", "cursor"]);
            let Val::String(cursor) = &fields[3].1 else {
                panic!()
            };
            Ok(Report {
                added: strings(&fields[0].1),
                modified: strings(&fields[1].1),
                removed: strings(&fields[2].1),
                cursor: cursor.clone(),
            })
        }
        [Val::Result(Err(Some(message)))] => match &**message {
            Val::String(message) => Err(message.clone()),
            other => panic!("{other:?}"),
        },
        other => panic!("unexpected results {other:?}"),
    }
}

fn folder() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let canon = std::fs::canonicalize(dir.path()).unwrap();
    (dir, format!("fs:{}:ro", canon.display()))
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn reports_changes_between_runs_and_replays_exactly() {
    let state = tempfile::tempdir().unwrap();
    let (dir, grant) = folder();
    let root = dir.path();
    std::fs::create_dir(root.join("notes")).unwrap();
    std::fs::write(root.join("a.txt"), b"alpha").unwrap();
    std::fs::write(root.join("same-size.txt"), b"12345").unwrap();
    std::fs::write(root.join("gone.txt"), b"bye").unwrap();
    std::fs::write(root.join("notes/todo.md"), b"- one").unwrap();

    let host = host(state.path());
    let watcher = child(&host, "folder-watcher");
    let first = run(&host, &watcher, "changes(none)", &[&grant])
        .await
        .unwrap();
    let first = answer(&first).unwrap();
    assert_eq!(
        first.added,
        owned(&["a.txt", "gone.txt", "notes/todo.md", "same-size.txt"])
    );
    assert!(first.modified.is_empty() && first.removed.is_empty());

    std::fs::write(root.join("a.txt"), b"alpha, longer").unwrap();
    std::fs::write(root.join("same-size.txt"), b"54321").unwrap();
    std::fs::File::options()
        .write(true)
        .open(root.join("same-size.txt"))
        .unwrap()
        .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000))
        .unwrap();
    std::fs::remove_file(root.join("gone.txt")).unwrap();
    std::fs::write(root.join("notes/new.md"), b"new").unwrap();

    let call = format!("changes(some(\"{}\"))", first.cursor);
    let second_run = run(&host, &watcher, &call, &[&grant]).await.unwrap();
    let second = answer(&second_run).unwrap();
    assert_eq!(second.added, owned(&["notes/new.md"]));
    assert_eq!(second.modified, owned(&["a.txt", "same-size.txt"]));
    assert_eq!(second.removed, owned(&["gone.txt"]));
    assert_ne!(second.cursor, first.cursor);

    // A third run from the second cursor sees nothing new.
    let call3 = format!("changes(some(\"{}\"))", second.cursor);
    let third = answer(&run(&host, &watcher, &call3, &[&grant]).await.unwrap()).unwrap();
    assert!(third.added.is_empty() && third.modified.is_empty() && third.removed.is_empty());

    // Replay the second run after the folder changed again: the answer is the
    // recorded one, not the folder as it is now.
    let (transcript, blobs) = second_run.transcript().expect("recorded");
    assert!(
        transcript.unrecorded.is_empty(),
        "every access went through the toy: {:?}",
        transcript.unrecorded
    );
    std::fs::write(root.join("after.txt"), b"after").unwrap();
    std::fs::remove_file(root.join("a.txt")).unwrap();
    let replay = host
        .replay(&watcher, ReplaySource { transcript, blobs })
        .await
        .unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert!(replay.exact);
    assert_eq!(answer(&replay.report).unwrap(), second);
    assert_eq!(replay.report.wave(), second_run.wave());

    // A live run from the same cursor does see the new changes.
    let live = answer(&run(&host, &watcher, &call, &[&grant]).await.unwrap()).unwrap();
    assert_eq!(live.added, owned(&["after.txt", "notes/new.md"]));
    assert_eq!(live.removed, owned(&["a.txt", "gone.txt"]));

    // Even with the folder gone altogether (a replay on another machine), the
    // replay needs nothing its grant names and still returns the recording.
    let (transcript, blobs) = second_run.transcript().expect("recorded");
    let gone = root.to_path_buf();
    drop(dir);
    assert!(!gone.exists());
    let replay = host
        .replay(&watcher, ReplaySource { transcript, blobs })
        .await
        .unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert_eq!(replay.report.wave(), second_run.wave());
}

#[tokio::test]
async fn a_cursor_of_another_folder_is_an_error_answer() {
    let state = tempfile::tempdir().unwrap();
    let (one, grant_one) = folder();
    let (two, grant_two) = folder();
    // The same content in both: the cursors must still differ.
    std::fs::write(one.path().join("x"), b"x").unwrap();
    std::fs::write(two.path().join("x"), b"x").unwrap();
    let host = host(state.path());
    let watcher = child(&host, "folder-watcher");
    let of_two = answer(
        &run(&host, &watcher, "changes(none)", &[&grant_two])
            .await
            .unwrap(),
    )
    .unwrap();
    let call = format!("changes(some(\"{}\"))", of_two.cursor);
    let refused = answer(&run(&host, &watcher, &call, &[&grant_one]).await.unwrap()).unwrap_err();
    assert!(refused.contains("unknown cursor"), "{refused}");
    let malformed = answer(
        &run(&host, &watcher, "changes(some(\"../../x\"))", &[&grant_one])
            .await
            .unwrap(),
    )
    .unwrap_err();
    assert!(malformed.contains("malformed cursor"), "{malformed}");
    // The cursor still works for its own folder.
    let own = answer(&run(&host, &watcher, &call, &[&grant_two]).await.unwrap()).unwrap();
    assert!(own.added.is_empty() && own.modified.is_empty() && own.removed.is_empty());
}

#[tokio::test]
async fn the_run_needs_the_fs_grant() {
    let state = tempfile::tempdir().unwrap();
    let host = host(state.path());
    let watcher = child(&host, "folder-watcher");
    let err = run(&host, &watcher, "changes(none)", &[])
        .await
        .unwrap_err();
    let RunRefused::MissingGrants { missing } = &err else {
        panic!("{err}")
    };
    assert!(
        missing.iter().all(|m| m.grant.as_deref() == Some("fs")),
        "{err}"
    );
}
