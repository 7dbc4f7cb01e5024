//! Asking the person at the client to approve one grant for one call (MCP
//! elicitation), in both shapes the protocol has:
//!
//! - up to protocol `2025-11-25` the server sends `elicitation/create` to
//!   the client while the call waits ([`ask_now`]);
//! - from `2026-07-28` (no server-to-client requests) the call answers an
//!   `InputRequiredResult` holding the elicitation and an opaque
//!   `requestState`; the client retries the same call with the person's
//!   answer ([`Pending`]). The state is only a random handle into
//!   [`PendingApprovals`], kept here, bound to the caller, the tool and the
//!   exact arguments, used once, and forgotten after [`PENDING_TTL`].
//!
//! Only the membrane decides whether a grant may be approved at all (the
//! role's `ask` list: `approval-required` comes from it) and records the
//! approval; this module only asks and reads the answer. A person's answer
//! counts only when it is `accept` with `approve: true`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use patina_core::Grant;
use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequests, InputRequiredResult, InputResponses, JsonObject,
};
use rmcp::service::ElicitationMode;
use rmcp::{Peer, RoleServer};
use serde_json::{Value, json};

/// How long an `InputRequiredResult` waits for its retry.
pub(crate) const PENDING_TTL: Duration = Duration::from_secs(600);

/// Approvals waiting for a retry, at most.
const MAX_PENDING: usize = 1024;

/// What the person answered, or why nobody could be asked.
#[derive(Debug)]
pub(crate) enum Answer {
    /// Approved for this call.
    Approved,
    /// Declined, cancelled or not approved: how.
    Declined(&'static str),
    /// The client cannot ask (no elicitation capability), or asking failed.
    Unavailable(String),
}

/// The question put to the person.
pub(crate) fn message(grant: &Grant, tool: &str, caller: &str, role: &str) -> String {
    format!(
        "The agent {caller} (role `{role}`) asks for the grant `{grant}` for one call of \
         `{tool}`. Approve it for this one call? The approval is recorded in the run's receipt."
    )
}

/// The form: one boolean, `approve`, false unless the person sets it.
fn schema() -> ElicitationSchema {
    let schema = json!({
        "type": "object",
        "properties": {
            "approve": {
                "type": "boolean",
                "title": "Approve this grant for this one call",
                "default": false,
            }
        },
        "required": ["approve"],
    });
    let Value::Object(object) = schema else {
        return ElicitationSchema::new(Default::default());
    };
    ElicitationSchema::from_json_schema(object)
        .unwrap_or_else(|_| ElicitationSchema::new(Default::default()))
}

fn params(message: String) -> ElicitRequestParams {
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message,
        requested_schema: schema(),
    }
}

/// Reads a person's answer.
pub(crate) fn read(result: &ElicitResult) -> Answer {
    match result.action {
        ElicitationAction::Accept => {
            let approved = result
                .content
                .as_ref()
                .and_then(|c| c.get("approve"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if approved {
                Answer::Approved
            } else {
                Answer::Declined("not approved")
            }
        }
        ElicitationAction::Decline => Answer::Declined("declined"),
        ElicitationAction::Cancel => Answer::Declined("cancelled"),
        _ => Answer::Declined("answered with an action this server does not know"),
    }
}

/// Whether a client that negotiated before `2026-07-28` can be asked.
pub(crate) fn can_ask_now(peer: &Peer<RoleServer>) -> bool {
    peer.supported_elicitation_modes()
        .contains(&ElicitationMode::Form)
}

/// Asks the person at `peer` now (`elicitation/create`), waiting at most `timeout`.
pub(crate) async fn ask_now(peer: &Peer<RoleServer>, message: String, timeout: Duration) -> Answer {
    match peer
        .create_elicitation_with_timeout(params(message), Some(timeout))
        .await
    {
        Ok(result) => read(&result),
        Err(error) => Answer::Unavailable(format!("asking the person failed: {error}")),
    }
}

/// An approval asked for with an `InputRequiredResult`, waiting for the retry.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// Who asked (`local:NAME`, `token:ID`).
    pub caller: String,
    /// The tool.
    pub tool: String,
    /// blake3 of the call's arguments (canonical JSON text).
    pub arguments: [u8; 32],
    /// Grants already approved for this call.
    pub approved: Vec<Grant>,
    /// The grant asked about.
    pub asking: Grant,
    /// The key of the elicitation in `inputRequests`.
    pub key: String,
    at: Instant,
}

impl Pending {
    /// A pending approval of `asking` for the call of `tool` with `arguments` by `caller`.
    pub fn new(
        caller: String,
        tool: String,
        arguments: &JsonObject,
        approved: Vec<Grant>,
        asking: Grant,
    ) -> Self {
        let key = format!("approve-{}", approved.len());
        Self {
            caller,
            tool,
            arguments: arguments_hash(arguments),
            approved,
            asking,
            key,
            at: Instant::now(),
        }
    }

    /// Whether the retry is the call this was asked for.
    pub fn is_for(&self, caller: &str, tool: &str, arguments: &JsonObject) -> bool {
        self.caller == caller && self.tool == tool && self.arguments == arguments_hash(arguments)
    }

    /// The answer in a retry's `inputResponses`.
    pub fn answer(&self, responses: Option<&InputResponses>) -> Answer {
        let Some(value) = responses.and_then(|r| r.get(&self.key)) else {
            return Answer::Declined("not answered");
        };
        match serde_json::from_value::<ElicitResult>(value.clone()) {
            Ok(result) => read(&result),
            Err(_) => Answer::Declined("answered with something that is not an elicitation result"),
        }
    }
}

/// The arguments' hash; serde_json objects are sorted maps, so equal
/// objects give equal text.
fn arguments_hash(arguments: &JsonObject) -> [u8; 32] {
    let text = serde_json::to_vec(arguments).unwrap_or_default();
    *blake3::hash(&text).as_bytes()
}

/// Approvals waiting for a retry, by their random handle.
#[derive(Debug, Default)]
pub(crate) struct PendingApprovals {
    map: Mutex<HashMap<String, Pending>>,
}

impl PendingApprovals {
    /// Keeps `pending`; the `InputRequiredResult` that asks for it.
    pub fn ask(&self, pending: Pending, message: String) -> Result<InputRequiredResult, String> {
        let mut handle = [0u8; 16];
        getrandom::fill(&mut handle).map_err(|e| format!("no randomness: {e}"))?;
        let state = format!("patina-approval-{}", hex::encode(handle));
        let mut requests = InputRequests::new();
        requests.insert(
            pending.key.clone(),
            InputRequest::Elicitation(ElicitRequest::new(params(message))),
        );
        let mut map = self.map.lock().map_err(|_| "approval table poisoned")?;
        map.retain(|_, p| p.at.elapsed() < PENDING_TTL);
        if map.len() >= MAX_PENDING {
            return Err(format!("{MAX_PENDING} approvals are waiting already"));
        }
        map.insert(state.clone(), pending);
        Ok(InputRequiredResult::new(Some(requests), Some(state)))
    }

    /// Takes the pending approval `state` names (once), if it is still fresh.
    pub fn take(&self, state: &str) -> Option<Pending> {
        let mut map = self.map.lock().ok()?;
        let pending = map.remove(state)?;
        (pending.at.elapsed() < PENDING_TTL).then_some(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(action: ElicitationAction, content: Option<Value>) -> ElicitResult {
        let mut result = ElicitResult::new(action);
        result.content = content;
        result
    }

    #[test]
    fn only_an_accept_that_approves_counts() {
        assert!(matches!(
            read(&result(
                ElicitationAction::Accept,
                Some(json!({"approve": true}))
            )),
            Answer::Approved
        ));
        for (action, content) in [
            (ElicitationAction::Accept, Some(json!({"approve": false}))),
            (ElicitationAction::Accept, Some(json!({"approve": "yes"}))),
            (ElicitationAction::Accept, None),
            (ElicitationAction::Decline, Some(json!({"approve": true}))),
            (ElicitationAction::Cancel, None),
        ] {
            assert!(
                matches!(read(&result(action, content.clone())), Answer::Declined(_)),
                "{content:?}"
            );
        }
    }

    #[test]
    fn a_pending_approval_is_used_once_and_only_for_its_call() {
        let approvals = PendingApprovals::default();
        let grant: Grant = "fs:/tmp:ro".parse().unwrap();
        let mut arguments = JsonObject::new();
        arguments.insert("query".into(), json!("x"));
        let pending = Pending::new("local:a".into(), "t".into(), &arguments, vec![], grant);
        let asked = approvals.ask(pending, "?".into()).unwrap();
        let state = asked.request_state.clone().unwrap();
        let taken = approvals.take(&state).unwrap();
        assert!(taken.is_for("local:a", "t", &arguments));
        assert!(!taken.is_for("local:b", "t", &arguments));
        let mut other = arguments.clone();
        other.insert("query".into(), json!("y"));
        assert!(!taken.is_for("local:a", "t", &other));
        assert!(approvals.take(&state).is_none(), "used once");
        assert!(approvals.take("patina-approval-00").is_none());
    }
}
