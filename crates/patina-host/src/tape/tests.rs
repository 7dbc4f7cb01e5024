//! Unit tests of the tape: its recording budget, and large byte lists
//! written aside.

use super::spill::SPILL_MIN;
use super::*;

#[test]
fn the_recording_budget_is_enforced_and_sticky() {
    let mut state = State::default();
    assert!(state.admit(100));
    assert!(!state.admit(MAX_RECORDED_BYTES as usize));
    assert!(state.full);
    assert!(!state.admit(1), "once full, nothing more is recorded");
    let tape = Tape::new(&RunMode::Record, true, None);
    let (toy, put) = (Text::from("acme:big/toy"), Text::from("put"));
    tape.record(&toy, &put, &[Val::U32(1)], Ok(&[]));
    assert!(!tape.full());
    tape.lock().bytes = MAX_RECORDED_BYTES;
    tape.record(&toy, &put, &[Val::U32(2)], Ok(&[]));
    assert!(tape.full());
    let recorded = tape.finish().unwrap();
    assert!(recorded.full);
    assert_eq!(
        recorded.events.len(),
        1,
        "the event past the budget was not recorded"
    );
}
/// A large byte list of a typed call is written aside, not copied into
/// the call's blobs; the transcript still gets it, whole, when the run
/// ends, once however often it crossed.
#[test]
fn large_byte_lists_are_written_aside_and_come_back_whole() {
    use patina_toy::typed::{CallTape, tape_encode};

    let dir = tempfile::tempdir().unwrap();
    let tape = Tape::new(&RunMode::Record, true, Some(dir.path()));
    let big: Vec<u8> = (0..SPILL_MIN + 7).map(|i| (i % 251) as u8).collect();
    let small = vec![1u8; SPILL_MIN - 1];
    let put = tape_encode(&(big.clone(),), &tape);
    assert!(put.blobs.is_empty(), "the large list was taken, not copied");
    CallTape::record(
        &tape,
        "acme:big/toy",
        "put",
        put,
        Ok(tape_encode(&(), &tape)),
    );
    // The same bytes again, as a result: referred to, not kept twice.
    let get = tape_encode(&(Some(big.clone()),), &tape);
    assert!(get.blobs.is_empty());
    CallTape::record(
        &tape,
        "acme:big/toy",
        "get",
        tape_encode(&(), &tape),
        Ok(get),
    );
    // Below the threshold, the bytes go with the call as before.
    let kept = tape_encode(&(small.clone(),), &tape);
    assert_eq!(kept.blobs.len(), 1);
    CallTape::record(
        &tape,
        "acme:big/toy",
        "put",
        kept,
        Ok(tape_encode(&(), &tape)),
    );

    let recorded = tape.finish().unwrap();
    assert_eq!(recorded.events.len(), 3);
    let mut blobs: Vec<_> = recorded.blobs.iter().map(|b| b.bytes.len()).collect();
    blobs.sort_unstable();
    assert_eq!(blobs, [small.len(), big.len()]);
    let aside = recorded
        .blobs
        .iter()
        .find(|b| b.bytes.len() == big.len())
        .unwrap();
    assert_eq!(aside.bytes, big);
    assert!(aside.is_intact());
}
