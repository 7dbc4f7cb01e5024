//! What a tool call answers: a [`CallToolResult`] whose `structuredContent`
//! an agent routes on without parsing prose — `{result, receipt, ...}` for a
//! run that returned, `{error: {kind, message, grant?}, receipt?}` (with
//! `isError`) for one that was refused, failed, or whose approval was
//! declined.
//!
//! Every error keeps the stable kind the membrane or the Mother gave it
//! (`child-denied`, `grant-above-ceiling`, `approval-required`,
//! `out-of-fuel`, `bad-arguments`, ...); this module never invents a kind
//! for an error that has one. The few of its own: `unknown-tool`,
//! `bad-arguments` (the input object itself), `approval-declined`,
//! `bad-request-state`.

use patina_core::Grant;
use patina_membrane::MembraneError;
use patina_mother::{ReplayOutput, RunOutcome, RunOutput};
use rmcp::ErrorData;
use rmcp::model::{CallToolResult, ContentBlock, ErrorCode};
use serde_json::{Value, json};

use crate::approval::Answer;

/// The schema of an error answer (one arm of every child tool's output
/// schema, and the fixed tools').
pub(crate) fn error_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string"},
                    "message": {"type": "string"},
                    "grant": {"type": "string"},
                },
                "required": ["kind", "message"],
            },
            "receipt": {"type": ["string", "null"]},
        },
        "required": ["error"],
    })
}

/// A refused or failed call whose error may name a grant.
pub(crate) fn refused(error: &MembraneError) -> CallToolResult {
    let message = match error {
        MembraneError::Mother(mother) => patina_mother::chain_message(mother),
        other => other.to_string(),
    };
    let grant = match error {
        MembraneError::GrantAboveCeiling { grant, .. }
        | MembraneError::ApprovalRequired { grant, .. }
        | MembraneError::NotApprovable { grant, .. } => Some(grant.as_str()),
        _ => None,
    };
    failed(error.kind(), &message, grant, None)
}

/// A failed call: its kind, message, the grant it is about and the receipt
/// of a run that was recorded.
pub(crate) fn failed(
    kind: &str,
    message: &str,
    grant: Option<&str>,
    receipt: Option<String>,
) -> CallToolResult {
    let mut error = json!({ "kind": kind, "message": message });
    if let Some(grant) = grant {
        error["grant"] = json!(grant);
    }
    let value = json!({ "error": error, "receipt": receipt });
    let mut result = CallToolResult::structured_error(value);
    result.content = vec![ContentBlock::text(format!("error[{kind}]: {message}"))];
    result
}

/// The answer to a child's command: its result or its typed failure, and
/// the receipt id of the recorded run either way.
pub(crate) fn run(output: &RunOutput) -> CallToolResult {
    let summary = output.summary();
    let receipt = summary.receipt.as_ref().map(ToString::to_string);
    let approvals: Vec<String> = output
        .receipt
        .as_ref()
        .map(|r| r.approvals.iter().map(|a| a.grant.clone()).collect())
        .unwrap_or_default();
    match &summary.outcome {
        RunOutcome::Returned {
            result,
            wave,
            exit_code,
        } => {
            let mut value = json!({
                "result": result,
                "wave": wave,
                "receipt": receipt,
                "child": summary.child.to_string(),
                "call": summary.call,
                "fuel": summary.fuel,
                "logs": summary.logs,
                "approvals": approvals,
            });
            let text = match exit_code {
                Some(code) => {
                    value["exit_code"] = json!(code);
                    value["stdout"] = json!(summary.stdout);
                    value["stderr"] = json!(summary.stderr);
                    format!("{}(exit {code})", summary.stdout)
                }
                None => wave.clone(),
            };
            let text = match &receipt {
                Some(id) => format!("{text}\nreceipt {id}"),
                None => text,
            };
            let mut answer = CallToolResult::structured(value);
            answer.content = vec![ContentBlock::text(text)];
            answer
        }
        RunOutcome::Failed { error } => failed(&error.kind, &error.message, None, receipt),
    }
}

/// The answer to `replay`: match or the first divergence.
pub(crate) fn replay(output: &ReplayOutput) -> CallToolResult {
    let summary = output.summary();
    let outcome = match &summary.run.outcome {
        RunOutcome::Returned { result, .. } => json!({ "result": result }),
        RunOutcome::Failed { error } => json!({ "error": error }),
    };
    let value = json!({
        "replay_of": summary.replay_of.to_string(),
        "matched": summary.matched,
        "exact": summary.exact,
        "transcript_hash": summary.transcript_hash.to_string(),
        "recorded_transcript_hash": summary.recorded_transcript_hash.to_string(),
        "divergence": summary.divergence,
        "outcome": outcome,
    });
    let text = match &summary.divergence {
        None => format!("replay of {} matched", summary.replay_of),
        Some(divergence) => format!(
            "replay of {} diverged at event {}: expected {}, got {}",
            summary.replay_of,
            divergence.index,
            divergence.expected.as_deref().unwrap_or("none"),
            divergence.got.as_deref().unwrap_or("none"),
        ),
    };
    let mut answer = CallToolResult::structured(value);
    answer.content = vec![ContentBlock::text(text)];
    answer
}

/// Any JSON answer of a fixed tool, with `text` for people.
pub(crate) fn value(value: Value, text: String) -> CallToolResult {
    let mut answer = CallToolResult::structured(value);
    answer.content = vec![ContentBlock::text(text)];
    answer
}

/// `approval-required` for a client that cannot ask a person.
pub(crate) fn cannot_ask(error: &MembraneError) -> CallToolResult {
    let mut answer = refused(error);
    if let Some(Value::Object(value)) = answer.structured_content.as_mut()
        && let Some(Value::Object(error)) = value.get_mut("error")
        && let Some(Value::String(message)) = error.get_mut("message")
    {
        message.push_str(
            "; this client cannot ask a person (it declared no elicitation capability), \
             so the call is refused",
        );
    }
    answer
}

/// A grant the person did not approve.
pub(crate) fn declined(grant: &Grant, answer: &Answer) -> CallToolResult {
    let how = match answer {
        Answer::Declined(how) => (*how).to_owned(),
        Answer::Unavailable(why) => why.clone(),
        Answer::Approved => "approved".to_owned(),
    };
    failed(
        "approval-declined",
        &format!("the grant `{grant}` was not approved for this call ({how})"),
        Some(&grant.to_string()),
        None,
    )
}

/// A failure of a list or of the caller itself, as a JSON-RPC error whose
/// `data` carries the kind.
pub(crate) fn protocol_error(error: &MembraneError) -> ErrorData {
    let code = match error {
        MembraneError::Unauthenticated(_) | MembraneError::StaleEpoch { .. } => {
            ErrorCode::INVALID_REQUEST
        }
        _ => ErrorCode::INTERNAL_ERROR,
    };
    ErrorData::new(
        code,
        error.to_string(),
        Some(json!({"kind": error.kind(), "message": error.to_string()})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_its_kind_and_names_its_grant() {
        let answer = refused(&MembraneError::GrantAboveCeiling {
            grant: "fs:/etc:ro".into(),
            role: "agent".into(),
            ceiling: "no grants".into(),
        });
        assert_eq!(answer.is_error, Some(true));
        let value = answer.structured_content.unwrap_or_default();
        assert_eq!(value["error"]["kind"], "grant-above-ceiling");
        assert_eq!(value["error"]["grant"], "fs:/etc:ro");
        assert!(
            value["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("fs:/etc:ro") && m.contains("agent"))
        );
        assert_eq!(value["receipt"], Value::Null);
    }

    #[test]
    fn a_failed_run_names_its_receipt() {
        let answer = failed("out-of-fuel", "ran out of fuel", None, Some("r1".into()));
        let value = answer.structured_content.unwrap_or_default();
        assert_eq!(value["error"]["kind"], "out-of-fuel");
        assert_eq!(value["receipt"], "r1");
        assert!(value["error"].get("grant").is_none());
    }
}
