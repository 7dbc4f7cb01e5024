//! Judging one host's answer to one case: against the case's expectations
//! (refusal kind; result, events, outcome, stdout, stderr), the receipt's own
//! integrity (it verifies, its meter is the host's, a tampered copy fails),
//! its replay on a wasmtime Mother, and against the other hosts' answers
//! (events and outcome identical; fuel and the full transcript hash too
//! among metered hosts; the portable hash for the rest). Every failure
//! names what differs first.

use patina_receipts::{
    Blob, Digest, EventResult, Meter, OutcomeStatus, Payload, Receipt, ReceiptError, Tampered,
    Transcript, first_divergence, portable_hash, verify,
};

use crate::case::{Case, ExpectedEvent, ExpectedOutcome, ExpectedResult, is_ambient};

/// The text of a payload, references looked up in `blobs`.
pub fn text(payload: &Payload, blobs: &[Blob]) -> String {
    let bytes = payload.bytes(|d| {
        blobs
            .iter()
            .find(|b| b.digest == *d)
            .map(|b| b.bytes.clone())
    });
    match bytes {
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        None => payload.display(),
    }
}

fn event_shown(toy: &str, function: &str, args: &str, result: &str) -> String {
    format!("{toy}#{function}{args} -> {result}")
}

fn expected_shown(e: &ExpectedEvent) -> String {
    let result = match &e.result {
        ExpectedResult::Ok(t) => t.shown(),
        ExpectedResult::Denied => "denied".into(),
        ExpectedResult::Failed(t) => format!("failed: {}", t.shown()),
    };
    event_shown(&e.toy, &e.function, &e.args.shown(), &result)
}

/// Checks `transcript` against the case's expectations; the first thing
/// that differs, in words, if any.
pub fn expectations(case: &Case, transcript: &Transcript, blobs: &[Blob]) -> Result<(), String> {
    let expect = &case.expect;
    if let Some(events) = &expect.events {
        let own = own_events(case, transcript);
        let got = &own.events;
        for index in 0..events.len().max(got.len()) {
            let want = events.get(index);
            let have = got.get(index);
            let (args, result) = match have {
                Some(e) => (
                    text(&e.args, blobs),
                    match &e.result {
                        EventResult::Ok(p) => text(p, blobs),
                        EventResult::Denied => "denied".into(),
                        EventResult::Failed(m) => format!("failed: {m}"),
                    },
                ),
                None => (String::new(), String::new()),
            };
            let same = match (want, have) {
                (Some(w), Some(h)) => {
                    w.toy == h.toy
                        && w.function == h.function
                        && w.args.matches(&args)
                        && match (&w.result, &h.result) {
                            (ExpectedResult::Ok(t), EventResult::Ok(p)) => {
                                t.matches(&text(p, blobs))
                            }
                            (ExpectedResult::Denied, EventResult::Denied) => true,
                            (ExpectedResult::Failed(t), EventResult::Failed(m)) => t.matches(m),
                            _ => false,
                        }
                }
                _ => false,
            };
            if !same {
                let wanted = want.map_or("no event".into(), expected_shown);
                let had = have.map_or("no event".into(), |h| {
                    event_shown(&h.toy, &h.function, &args, &result)
                });
                return Err(format!(
                    "event {index} differs: expected {wanted}, got {had} ({} events expected, {} recorded)",
                    events.len(),
                    got.len()
                ));
            }
        }
    }
    match (&expect.outcome, &transcript.outcome.status) {
        (None, _) => {}
        (
            Some(ExpectedOutcome::Returned { exit_code }),
            OutcomeStatus::Returned { exit_code: got, .. },
        ) => {
            if exit_code.is_some() && exit_code != got {
                return Err(format!("exit status: expected {exit_code:?}, got {got:?}"));
            }
        }
        (
            Some(ExpectedOutcome::Failed { kind, message }),
            OutcomeStatus::Failed {
                kind: got,
                message: said,
            },
        ) => {
            if kind != got {
                return Err(format!(
                    "outcome: expected failed[{kind}], got failed[{got}]: {said}"
                ));
            }
            if let Some(message) = message
                && !message.matches(said)
            {
                return Err(format!(
                    "failure message: expected {}, got {said:?}",
                    message.shown()
                ));
            }
        }
        (Some(want), got) => {
            return Err(format!(
                "outcome: expected {want:?}, got {}",
                status_shown(got, blobs)
            ));
        }
    }
    if let Some(want) = &expect.result {
        let got = match &transcript.outcome.status {
            OutcomeStatus::Returned { results, .. } => text(results, blobs),
            failed => {
                return Err(format!(
                    "result: expected {}, got {}",
                    want.shown(),
                    status_shown(failed, blobs)
                ));
            }
        };
        if !want.matches(&got) {
            return Err(format!("result: expected {}, got {got}", want.shown()));
        }
    }
    for (name, want, payload) in [
        ("stdout", &expect.stdout, &transcript.outcome.stdout),
        ("stderr", &expect.stderr, &transcript.outcome.stderr),
    ] {
        if let Some(want) = want {
            let got = text(payload, blobs);
            if !want.matches(&got) {
                return Err(format!("{name}: expected {:?}, got {got:?}", want.shown()));
            }
        }
    }
    Ok(())
}

fn status_shown(status: &OutcomeStatus, blobs: &[Blob]) -> String {
    match status {
        OutcomeStatus::Returned { results, exit_code } => {
            format!("returned {} (exit {exit_code:?})", text(results, blobs))
        }
        OutcomeStatus::Failed { kind, message } => format!("failed[{kind}]: {message}"),
    }
}

/// The receipt is intact, says the host's meter, and (metered or not) its
/// fuel fits that meter.
pub fn integrity(receipt: &Receipt, metered: bool) -> Result<(), String> {
    verify(receipt).map_err(|e| format!("the receipt does not verify: {e}"))?;
    if receipt.version != 2 {
        return Err(format!("receipt version {}, not 2", receipt.version));
    }
    match (metered, receipt.meter, receipt.transcript.fuel) {
        (true, Meter::Fuel, _) => Ok(()),
        (false, Meter::None, 0) => Ok(()),
        (_, meter, fuel) => Err(format!(
            "the receipt says meter {meter:?} with fuel {fuel}; this host {} fuel",
            if metered { "counts" } else { "counts no" }
        )),
    }
}

/// A copy with its transcript changed, and one with its header changed,
/// both fail verification with the tampering named.
pub fn tampering(receipt: &Receipt) -> Result<(), String> {
    let mut edited = receipt.clone();
    edited.transcript.outcome.stdout = Payload::Text("tampered".into());
    match verify(&edited) {
        Err(ReceiptError::Tampered {
            what: Tampered::Transcript { .. },
            ..
        }) => {}
        other => return Err(format!("a receipt with its stdout edited: {other:?}")),
    }
    let mut edited = receipt.clone();
    edited.transcript_hash = patina_receipts::canonical::transcript_hash(&{
        let mut t = edited.transcript.clone();
        t.grants.clear();
        t
    });
    edited.transcript.grants.clear();
    match verify(&edited) {
        Err(ReceiptError::Tampered {
            what: Tampered::Header { .. },
            ..
        }) => {}
        other => {
            return Err(format!(
                "a receipt with its grants removed and rehashed: {other:?}"
            ));
        }
    }
    Ok(())
}

/// The portable form of a transcript (fuel 0).
fn portable(transcript: &Transcript) -> Transcript {
    let mut t = transcript.clone();
    t.fuel = 0;
    t
}

/// The transcript without the reads of clocks and random sources the
/// child's language runtime makes by itself (for a row whose runtime does,
/// and whose expected events name none).
pub fn own_events(case: &Case, transcript: &Transcript) -> Transcript {
    let expects_ambient = case
        .expect
        .events
        .iter()
        .flatten()
        .any(|e| is_ambient(&e.toy));
    let mut t = transcript.clone();
    if case.runtime_reads_ambient() && !expects_ambient {
        t.events.retain(|e| !is_ambient(&e.toy));
    }
    t
}

/// How `receipt` compares with the reference host's receipt of the same
/// case: identical events and outcome (the portable hash), and, when both
/// hosts are metered, the same fuel and full transcript hash.
pub fn agreement(
    case: &Case,
    reference: (&str, &Receipt),
    receipt: &Receipt,
    both_metered: bool,
) -> Result<(), String> {
    let (name, theirs) = reference;
    let (ours, theirs_t) = (
        portable(&own_events(case, &receipt.transcript)),
        portable(&own_events(case, &theirs.transcript)),
    );
    if portable_hash(&theirs_t) != portable_hash(&ours) {
        let why = first_divergence(&theirs_t, &ours)
            .map_or_else(|| "the call or grants differ".into(), |d| d.to_string());
        return Err(format!("differs from {name}: {why}"));
    }
    if case.runtime_reads_ambient() {
        // The runtime's own reads differ run by run, and so may its fuel.
        return Ok(());
    }
    if both_metered && theirs.transcript.fuel != receipt.transcript.fuel {
        return Err(format!(
            "fuel {} here, {} on {name}",
            receipt.transcript.fuel, theirs.transcript.fuel
        ));
    }
    if both_metered && theirs.transcript_hash != receipt.transcript_hash {
        return Err(format!("the transcript hash differs from {name}'s"));
    }
    Ok(())
}

/// The hashes a cell reports.
pub fn hashes(receipt: &Receipt) -> (Digest, Digest) {
    (receipt.transcript_hash, portable_hash(&receipt.transcript))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use patina_receipts::{CallRecord, Event, Identity, Outcome, canonical};

    use super::*;
    use crate::case::{CaseLimits, Expect, Text};

    fn event(seq: u64, toy: &str, args: &str, result: &str) -> Event {
        Event {
            seq,
            toy: toy.into(),
            function: "log".into(),
            args: Payload::Text(args.into()),
            result: EventResult::Ok(Payload::Text(result.into())),
        }
    }

    fn transcript(events: Vec<Event>, fuel: u64) -> Transcript {
        Transcript {
            child: patina_core::ChildId::of(b"child"),
            call: CallRecord {
                function: "greet".into(),
                args: vec!["\"ann\"".into()],
                argv: None,
                limits: patina_core::Limits::default(),
                deny_missing: false,
            },
            grants: vec!["log".parse().unwrap()],
            unrecorded: vec![],
            events,
            outcome: Outcome {
                status: OutcomeStatus::Returned {
                    results: Payload::Text("\"hello, ann!\"".into()),
                    exit_code: None,
                },
                stdout: Payload::Text(Default::default()),
                stderr: Payload::Text(Default::default()),
            },
            fuel,
        }
    }

    fn case(language: &str, events: Vec<ExpectedEvent>) -> Case {
        Case {
            name: "hello".into(),
            about: String::new(),
            child: "x.wasm".into(),
            language: language.into(),
            call: Some("greet(\"ann\")".into()),
            argv: None,
            grants: vec!["log".into()],
            installed: Vec::new(),
            deny_missing: false,
            limits: CaseLimits::default(),
            not_applicable: BTreeMap::new(),
            varies: None,
            tamper: false,
            expect: Expect {
                result: Some(Text::Exact("\"hello, ann!\"".into())),
                events: Some(events),
                ..Expect::default()
            },
        }
    }

    fn expected(args: &str) -> ExpectedEvent {
        ExpectedEvent {
            toy: "patina:toys/log@0.1.0".into(),
            function: "log".into(),
            args: Text::Exact(args.into()),
            result: ExpectedResult::Ok(Text::Exact("()".into())),
        }
    }

    const LOG: &str = "patina:toys/log@0.1.0";

    #[test]
    fn the_first_differing_event_is_named_with_both_sides() {
        let t = transcript(vec![event(0, LOG, "(info, \"greeting ann\")", "()")], 1);
        let ok = case("rust", vec![expected("(info, \"greeting ann\")")]);
        expectations(&ok, &t, &[]).unwrap();
        let edited = case("rust", vec![expected("(info, \"greeting bob\")")]);
        let why = expectations(&edited, &t, &[]).unwrap_err();
        assert!(why.starts_with("event 0 differs"), "{why}");
        assert!(
            why.contains("expected patina:toys/log@0.1.0#log(info, \"greeting bob\") -> ()"),
            "{why}"
        );
        assert!(
            why.contains("got patina:toys/log@0.1.0#log(info, \"greeting ann\") -> ()"),
            "{why}"
        );
        let missing = case(
            "rust",
            vec![
                expected("(info, \"greeting ann\")"),
                expected("(info, \"x\")"),
            ],
        );
        let why = expectations(&missing, &t, &[]).unwrap_err();
        assert!(
            why.contains("event 1 differs: expected") && why.contains("got no event"),
            "{why}"
        );
    }

    #[test]
    fn a_runtimes_own_clock_and_random_reads_are_not_the_cases_events() {
        let t = transcript(
            vec![
                event(0, "wasi:random/random", "(256)", "(\"00\")"),
                event(1, LOG, "(info, \"greeting ann\")", "()"),
            ],
            1,
        );
        let expect = vec![expected("(info, \"greeting ann\")")];
        assert!(expectations(&case("rust", expect.clone()), &t, &[]).is_err());
        expectations(&case("python", expect), &t, &[]).unwrap();
    }

    #[test]
    fn hosts_agree_on_the_portable_hash_and_metered_hosts_on_fuel() {
        let identity = Identity::from_seed([1; 32]);
        let seal = |t: Transcript| canonical::seal(t, &identity, 1, 2, None);
        let events = || vec![event(0, LOG, "(info, \"greeting ann\")", "()")];
        let reference = seal(transcript(events(), 10));
        let c = case("rust", vec![]);
        agreement(
            &c,
            ("embedded", &reference),
            &seal(transcript(events(), 10)),
            true,
        )
        .unwrap();
        agreement(
            &c,
            ("embedded", &reference),
            &seal(transcript(events(), 0)),
            false,
        )
        .unwrap();
        let why = agreement(
            &c,
            ("embedded", &reference),
            &seal(transcript(events(), 11)),
            true,
        )
        .unwrap_err();
        assert!(why.contains("fuel 11 here, 10 on embedded"), "{why}");
        let other = vec![event(0, LOG, "(info, \"greeting bob\")", "()")];
        let why = agreement(
            &c,
            ("embedded", &reference),
            &seal(transcript(other, 0)),
            false,
        )
        .unwrap_err();
        assert!(
            why.contains("differs from embedded: divergence at event 0"),
            "{why}"
        );
    }

    #[test]
    fn a_receipt_of_the_wrong_meter_or_tampered_is_caught() {
        let identity = Identity::from_seed([1; 32]);
        let metered = canonical::seal(transcript(vec![], 5), &identity, 1, 2, None);
        integrity(&metered, true).unwrap();
        let why = integrity(&metered, false).unwrap_err();
        assert!(why.contains("meter Fuel with fuel 5"), "{why}");
        tampering(&metered).unwrap();
        let mut broken = metered.clone();
        broken.ended_at_ms = 3;
        assert!(
            integrity(&broken, true)
                .unwrap_err()
                .contains("does not verify")
        );
    }
}
