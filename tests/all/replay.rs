//! Record and replay across the crates: a run's transcript is sealed into a
//! signed receipt, and replaying the same child bytes against it reproduces the
//! run exactly — clocks, random bytes and toy answers included — or names the
//! first divergence.

use patina_host::{Call, ReplaySource, RunFailure, RunMode, RunRequest};
use patina_receipts::{EventResult, Identity, Payload, ReceiptError, Tampered, canonical, verify};
use patina_tests::{child, host, stdout};

async fn record(
    host: &patina_host::Host,
    child: &patina_host::Child,
    request: RunRequest,
) -> ReplaySource {
    let report = host.run(child, &request).await.expect("run starts");
    let (transcript, blobs) = report.transcript().expect("recorded");
    ReplaySource { transcript, blobs }
}

fn command() -> RunRequest {
    let mut request = RunRequest::new(Call::Command { args: vec![] });
    request.program_name = Some("clock-random".into());
    request
}

#[tokio::test]
async fn clocks_and_random_replay_byte_for_byte() {
    let host = host();
    let clock = child(&host, "clock-random");
    let recorded = record(&host, &clock, command()).await;
    let toys: Vec<&str> = recorded
        .transcript
        .events
        .iter()
        .map(|e| e.toy.as_str())
        .collect();
    assert!(toys.contains(&"wasi:clocks/wall-clock"), "{toys:?}");
    assert!(toys.contains(&"wasi:clocks/monotonic-clock"), "{toys:?}");
    assert!(toys.contains(&"wasi:random/random"), "{toys:?}");
    assert!(toys.contains(&"wasi:random/insecure"), "{toys:?}");
    let random = recorded
        .transcript
        .events
        .iter()
        .filter(|e| e.toy == "wasi:random/random")
        .count();
    assert_eq!(
        random, 1,
        "16 random bytes are one recorded chunk, not one event per byte"
    );

    // A fresh run differs (new time, new random bytes) ...
    let again = host.run(&clock, &command()).await.unwrap();
    let Payload::Text(first) = &recorded.transcript.outcome.stdout else {
        panic!()
    };
    assert_ne!(&stdout(&again), first);

    // ... but the replay prints exactly what was recorded.
    let replay = host.replay(&clock, recorded.clone()).await.unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert!(replay.exact);
    assert_eq!(&stdout(&replay.report), first);
    assert_eq!(
        replay.transcript_hash,
        canonical::transcript_hash(&recorded.transcript)
    );
}

#[tokio::test]
async fn a_toy_call_is_recorded_and_answered_from_the_receipt() {
    let host = host();
    let hello = child(&host, "hello-log");
    let mut request = RunRequest::new(Call::Wave("chatter(3)".into()));
    request.grants.push("log".parse().unwrap());
    let recorded = record(&host, &hello, request).await;
    let events = &recorded.transcript.events;
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].toy, "patina:toys/log@0.1.0");
    assert_eq!(events[1].function, "log");
    assert_eq!(events[1].args, Payload::Text("(debug, \"line 1\")".into()));
    assert_eq!(
        events[1].result,
        EventResult::Ok(Payload::Text("()".into()))
    );
    let replay = host.replay(&hello, recorded).await.unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert!(
        replay.report.logs.is_empty(),
        "the log backend is not called in replay"
    );
}

#[tokio::test]
async fn an_edited_event_makes_the_replay_diverge_and_the_receipt_fail_verification() {
    let host = host();
    let hello = child(&host, "hello-log");
    let mut request = RunRequest::new(Call::Wave("chatter(3)".into()));
    request.grants.push("log".parse().unwrap());
    let recorded = record(&host, &hello, request).await;
    let receipt = canonical::seal(
        recorded.transcript.clone(),
        &Identity::from_seed([9; 32]),
        1,
        2,
        None,
    );
    verify(&receipt).unwrap();

    let mut edited = receipt.clone();
    edited.transcript.events[1].args = Payload::Text("(debug, \"line 9\")".into());
    assert!(
        matches!(
            verify(&edited),
            Err(ReceiptError::Tampered {
                what: Tampered::Transcript { .. },
                ..
            })
        ),
        "{:?}",
        verify(&edited)
    );
    let replay = host
        .replay(
            &hello,
            ReplaySource {
                transcript: edited.transcript.clone(),
                blobs: vec![],
            },
        )
        .await
        .unwrap();
    let divergence = replay.divergence.expect("diverges");
    assert_eq!(divergence.index, 1);
    assert!(divergence.expected.unwrap().contains("line 9"));
    assert!(divergence.got.unwrap().contains("line 1"));
    assert!(matches!(
        replay.report.outcome,
        Err(RunFailure::Diverged(_))
    ));

    let mut fewer = recorded.clone();
    fewer.transcript.events.pop();
    let replay = host.replay(&hello, fewer).await.unwrap();
    let divergence = replay.divergence.expect("an extra call diverges");
    assert_eq!((divergence.index, divergence.expected), (2, None));
}

#[tokio::test]
async fn other_bytes_are_refused_and_denials_replay() {
    let host = host();
    let hello = child(&host, "hello-log");
    let calc = child(&host, "calc");
    let mut request = RunRequest::new(Call::Wave("greet(\"x\")".into()));
    request.deny_missing = true;
    let recorded = record(&host, &hello, request).await;
    assert_eq!(recorded.transcript.events[0].result, EventResult::Denied);
    let err = host.replay(&calc, recorded.clone()).await.unwrap_err();
    assert_eq!(err.kind(), "replay-child-mismatch");
    let replay = host.replay(&hello, recorded).await.unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert!(matches!(
        replay.report.outcome,
        Err(RunFailure::Denied { .. })
    ));
}

#[tokio::test]
async fn deterministic_runs_hash_the_same_on_two_mothers() {
    let (one, two) = (host(), host());
    let mut request = RunRequest::new(Call::Wave("types.echo-point({x: 1, y: 2})".into()));
    request.mode = RunMode::Record;
    let a = record(&one, &child(&one, "calc"), request.clone()).await;
    let b = record(&two, &child(&two, "calc"), request).await;
    assert_eq!(
        canonical::transcript_hash(&a.transcript),
        canonical::transcript_hash(&b.transcript)
    );
    let ra = canonical::seal(a.transcript, &Identity::from_seed([1; 32]), 10, 11, None);
    let rb = canonical::seal(b.transcript, &Identity::from_seed([2; 32]), 10, 11, None);
    assert_eq!(ra.transcript_hash, rb.transcript_hash);
    assert_ne!(ra.id, rb.id);

    // With toy events and a command's argv in the transcript too.
    let mut chatter = RunRequest::new(Call::Wave("chatter(2)".into()));
    chatter.grants.push("log".parse().unwrap());
    let a = record(&one, &child(&one, "hello-log"), chatter.clone()).await;
    let b = record(&two, &child(&two, "hello-log"), chatter).await;
    assert_eq!(a.transcript.events.len(), 2);
    assert_eq!(
        canonical::transcript_hash(&a.transcript),
        canonical::transcript_hash(&b.transcript)
    );
    let args = RunRequest::new(Call::Command {
        args: vec!["x".into(), "y".into()],
    });
    let a = record(&one, &child(&one, "hello-cmd"), args.clone()).await;
    let b = record(&two, &child(&two, "hello-cmd"), args).await;
    assert!(a.transcript.call.argv.is_some());
    assert_eq!(
        canonical::transcript_hash(&a.transcript),
        canonical::transcript_hash(&b.transcript)
    );
}

#[tokio::test]
async fn a_live_run_records_nothing() {
    let host = host();
    let calc = child(&host, "calc");
    let mut request = RunRequest::new(Call::Wave("add(1, 2)".into()));
    request.mode = RunMode::Live;
    let report = host.run(&calc, &request).await.unwrap();
    assert!(report.transcript().is_none());
    assert_eq!(report.wave().as_deref(), Some("3"));
}

#[tokio::test]
async fn a_preopened_directory_is_named_and_its_replay_is_not_called_exact() {
    let host = host();
    let cmd = child(&host, "hello-cmd");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("note.txt"), "hello\n").unwrap();
    let canon = std::fs::canonicalize(dir.path())
        .unwrap()
        .display()
        .to_string();
    let mut request = RunRequest::new(Call::Command {
        args: vec!["--cat".into(), format!("{canon}/note.txt")],
    });
    request
        .grants
        .push(format!("fs:{canon}:ro").parse().unwrap());
    let recorded = record(&host, &cmd, request).await;
    assert_eq!(
        recorded.transcript.unrecorded,
        vec![format!("fs:{canon}:ro")]
    );
    let Payload::Text(recorded_out) = recorded.transcript.outcome.stdout.clone() else {
        panic!("small stdout is inline")
    };
    assert!(recorded_out.ends_with("hello\n"));
    let replay = host.replay(&cmd, recorded).await.unwrap();
    assert!(
        !replay.exact,
        "file reads through a preopen are not in the transcript"
    );
    // The receipt is evidence, not authority: the replay does not get the
    // directory back, so the file cannot be read and the replay diverges.
    assert!(
        !stdout(&replay.report).contains("hello"),
        "the replay read the file"
    );
    assert!(replay.divergence.is_some());
}

#[tokio::test]
async fn large_output_is_kept_by_reference_and_still_replays() {
    let host = host();
    let cmd = child(&host, "hello-cmd");
    let args: Vec<String> = (0..400).map(|i| format!("argument-{i:04}")).collect();
    let recorded = record(&host, &cmd, RunRequest::new(Call::Command { args })).await;
    let Payload::Ref { digest, len } = recorded.transcript.outcome.stdout.clone() else {
        panic!(
            "stdout over the inline limit is a reference: {:?}",
            recorded.transcript.outcome.stdout
        )
    };
    assert!(len as usize > patina_receipts::INLINE_LIMIT);
    assert!(
        recorded
            .blobs
            .iter()
            .any(|b| b.digest == digest && b.is_intact())
    );
    let replay = host.replay(&cmd, recorded).await.unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert_eq!(replay.report.stdout.len() as u64, len);
}

#[tokio::test]
async fn a_replay_never_reconnects_to_a_recorded_address() {
    let host = host();
    let cmd = child(&host, "hello-cmd");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut request = RunRequest::new(Call::Command {
        args: vec!["--connect".into(), addr.clone()],
    });
    request.grants.push(format!("net:{addr}").parse().unwrap());
    let recorded = record(&host, &cmd, request).await;
    assert_eq!(recorded.transcript.unrecorded, vec![format!("net:{addr}")]);
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_ok(), "the recorded run connected");
    let replay = host.replay(&cmd, recorded).await.unwrap();
    assert!(!replay.exact, "socket traffic is not in the transcript");
    assert!(
        replay.divergence.is_some(),
        "without the socket the run differs"
    );
    assert!(
        listener.accept().is_err(),
        "the replay connected to the recorded address"
    );
}
