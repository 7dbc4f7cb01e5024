//! [`Divergence`]: the first place where a replayed run differs from its
//! receipt — a different call, different arguments, an extra or a missing
//! call, a different answer, outcome or fuel.

use crate::{Event, Outcome, OutcomeStatus, Transcript};

/// Where a replay first differed from the recorded transcript.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("divergence at event {index}: expected {}, got {}", expected.as_deref().unwrap_or("no event"), got.as_deref().unwrap_or("no event"))]
pub struct Divergence {
    /// Index of the first differing event; `events.len()` for the outcome,
    /// `events.len() + 1` for fuel.
    pub index: u64,
    /// What the receipt recorded there (`None`: nothing — the replay made an extra call).
    pub expected: Option<String>,
    /// What the replay did there (`None`: nothing — the replay made a call too few).
    pub got: Option<String>,
}

impl Divergence {
    /// A divergence at event `index` between two (optional) events.
    pub fn at_event(index: usize, expected: Option<&Event>, got: Option<&Event>) -> Self {
        Self {
            index: index as u64,
            expected: expected.map(Event::describe),
            got: got.map(Event::describe),
        }
    }
}

fn same_call(a: &Event, b: &Event) -> bool {
    a.toy == b.toy && a.function == b.function && a.args == b.args && a.result == b.result
}

/// An outcome in one line, for people: status, then stdout and stderr (cut).
fn describe_outcome(outcome: &Outcome) -> String {
    let cut = |text: String| {
        let mut shown: String = text.chars().take(120).collect();
        if shown.len() < text.len() {
            shown.push('…');
        }
        format!("{shown:?}")
    };
    let status = match &outcome.status {
        OutcomeStatus::Returned {
            results,
            exit_code: Some(code),
        } => format!("returned {} (exit {code})", results.display()),
        OutcomeStatus::Returned {
            results,
            exit_code: None,
        } => format!("returned {}", results.display()),
        OutcomeStatus::Failed { kind, message } => format!("failed[{kind}]: {message}"),
    };
    format!(
        "outcome {status}; stdout {}; stderr {}",
        cut(outcome.stdout.display()),
        cut(outcome.stderr.display())
    )
}

/// The first difference between a recorded transcript and a replayed one, or
/// `None` when they match (then their transcript hashes match too).
pub fn first_divergence(recorded: &Transcript, replayed: &Transcript) -> Option<Divergence> {
    let n = recorded.events.len().max(replayed.events.len());
    for index in 0..n {
        let (expected, got) = (recorded.events.get(index), replayed.events.get(index));
        match (expected, got) {
            (Some(a), Some(b)) if same_call(a, b) => {}
            _ => return Some(Divergence::at_event(index, expected, got)),
        }
    }
    divergence_past_events(recorded, replayed)
}

/// The first difference between a recorded transcript and a replayed one
/// outside their events (the outcome, the fuel, then the child, call and
/// grants), or `None`: for a replay whose events were already checked one
/// by one as it made them.
pub fn divergence_past_events(recorded: &Transcript, replayed: &Transcript) -> Option<Divergence> {
    let at = recorded.events.len() as u64;
    if recorded.outcome != replayed.outcome {
        return Some(Divergence {
            index: at,
            expected: Some(describe_outcome(&recorded.outcome)),
            got: Some(describe_outcome(&replayed.outcome)),
        });
    }
    if recorded.fuel != replayed.fuel {
        return Some(Divergence {
            index: at + 1,
            expected: Some(format!("fuel {}", recorded.fuel)),
            got: Some(format!("fuel {}", replayed.fuel)),
        });
    }
    let header =
        |t: &Transcript| crate::canonical::encode(&(&t.child, &t.call, &t.grants, &t.unrecorded));
    // Equal fields encode alike (the usual case, checked without encoding);
    // unequal ones are compared as the hash sees them.
    let same = recorded.child == replayed.child
        && recorded.call == replayed.call
        && recorded.grants == replayed.grants
        && recorded.unrecorded == replayed.unrecorded;
    if !same && header(recorded) != header(replayed) {
        return Some(Divergence {
            index: 0,
            expected: Some("the recorded child, call and grants".into()),
            got: Some("a different child, call or grants".into()),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::tests_support::transcript;
    use crate::{EventResult, Payload};

    #[test]
    fn identical_transcripts_do_not_diverge() {
        assert_eq!(first_divergence(&transcript(), &transcript()), None);
    }

    #[test]
    fn each_kind_of_difference_is_located() {
        let recorded = transcript();
        let mut other = transcript();
        other.events[0].args = Payload::Text("(info, \"other\")".into());
        let d = first_divergence(&recorded, &other).unwrap();
        assert_eq!(d.index, 0);
        assert!(d.got.unwrap().contains("other"));

        let mut extra = transcript();
        let mut event = extra.events[0].clone();
        event.seq = 1;
        extra.events.push(event);
        let d = first_divergence(&recorded, &extra).unwrap();
        assert_eq!((d.index, d.expected), (1, None));

        let mut missing = transcript();
        missing.events.clear();
        let d = first_divergence(&recorded, &missing).unwrap();
        assert_eq!((d.index, d.got), (0, None));

        let mut answer = transcript();
        answer.events[0].result = EventResult::Denied;
        assert_eq!(first_divergence(&recorded, &answer).unwrap().index, 0);

        let mut fuel = transcript();
        fuel.fuel += 1;
        assert_eq!(first_divergence(&recorded, &fuel).unwrap().index, 2);

        let mut outcome = transcript();
        outcome.outcome.stdout = Payload::Text("x".into());
        assert_eq!(first_divergence(&recorded, &outcome).unwrap().index, 1);
    }
}
