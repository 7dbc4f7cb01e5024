//! `mother mcp` spoken to by the official SDK's own client (rmcp's
//! `ClientHandler` over the process's pipes), not by the hand-written one:
//! what an MCP host built on the SDK sees — the handshake it negotiates,
//! tools/list with schemas, a call whose result names its receipt, and a
//! grant in the role's ask list put to its person by the SDK's elicitation
//! path: approved (the run happens, the approval recorded) and declined
//! (refused with the grant named, nothing runs).

use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, ErrorData, Implementation, JsonObject,
};
use rmcp::service::{RequestContext, RoleClient, RunningService};
use rmcp::{ClientHandler, ServiceExt};
use serde_json::{Value, json};
use tokio::net::unix::pipe;

use super::{install, policy, receipt_count, start_mcp, validator};

/// How long any one exchange may take.
const WITHIN: Duration = Duration::from_secs(120);

/// The person at the client: answers every question the same way, and
/// counts them.
#[derive(Clone)]
struct Person {
    approve: bool,
    asked: Arc<AtomicUsize>,
}

impl ClientHandler for Person {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new("patina-sdk-test", "0.1.0"),
        )
    }

    async fn create_elicitation(
        &self,
        _request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Ok(if self.approve {
            ElicitResult::new(ElicitationAction::Accept).with_content(json!({"approve": true}))
        } else {
            ElicitResult::new(ElicitationAction::Decline)
        })
    }
}

/// `mother mcp`, killed when the test ends.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `mother mcp --name NAME` in `home`, connected to an SDK client (its
/// pipes handed to tokio as non-blocking Unix pipes).
async fn connect(
    home: &Path,
    name: &str,
    person: Person,
) -> (RunningService<RoleClient, Person>, Served) {
    let mut child = start_mcp(home, &["--name", name]);
    let stdout = child.stdout.take().expect("stdout");
    let stdin = child.stdin.take().expect("stdin");
    let served = Served(child);
    let stdout = pipe::Receiver::from_owned_fd(OwnedFd::from(stdout)).expect("stdout as a pipe");
    let stdin = pipe::Sender::from_owned_fd(OwnedFd::from(stdin)).expect("stdin as a pipe");
    let client = tokio::time::timeout(WITHIN, person.serve((stdout, stdin)))
        .await
        .expect("the handshake within the bound")
        .expect("the SDK client connects");
    (client, served)
}

/// One `tools/call` through the SDK (it drives any input rounds itself).
async fn call(
    client: &RunningService<RoleClient, Person>,
    name: &'static str,
    arguments: Value,
) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments are an object");
    };
    let params = CallToolRequestParams::new(name).with_arguments(JsonObject::from(arguments));
    tokio::time::timeout(WITHIN, client.call_tool(params))
        .await
        .expect("an answer within the bound")
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `indexer.index` over the notes folder, a grant the role only asks for.
async fn index(client: &RunningService<RoleClient, Person>, notes_grant: &str) -> CallToolResult {
    call(
        client,
        "indexer.index",
        json!({"_grants": [notes_grant, "kv"]}),
    )
    .await
}

fn structured(result: &CallToolResult) -> Value {
    result
        .structured_content
        .clone()
        .unwrap_or_else(|| panic!("no structuredContent in {result:?}"))
}

#[test]
fn the_official_sdk_client_lists_calls_and_answers_approvals() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let notes = dir.path().join("notes");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(notes.join("a.md"), "receipts replay\n").unwrap();
    install(&home, "calc");
    install(&home, "indexer");
    let notes_grant = format!("fs:{}:ro", notes.display());
    policy(
        &home,
        &format!(
            "[roles.agent]\nmethods = [\"runtime.list\", \"runtime.describe\", \"runtime.run\", \"receipts.get\"]\n\
             children = [\"calc\", \"indexer\"]\ngrants = [\"kv\"]\nask = [\"{notes_grant}\"]\n"
        ),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let approving = Person {
            approve: true,
            asked: Arc::default(),
        };
        let (client, _child) = connect(&home, "sdk", approving.clone()).await;
        let server = client.peer_info().expect("the server introduced itself");
        assert_eq!(
            server.server_info.as_ref().map(|i| i.name.as_str()),
            Some("patina-mother")
        );

        let tools = tokio::time::timeout(WITHIN, client.list_all_tools())
            .await
            .expect("tools within the bound")
            .expect("tools/list");
        let add = tools
            .iter()
            .find(|t| t.name == "calc.add")
            .unwrap_or_else(|| panic!("calc.add in {tools:?}"));
        let input = validator(&Value::Object((*add.input_schema).clone()));
        assert!(input.is_valid(&json!({"a": 1, "b": 2})));
        assert!(!input.is_valid(&json!({"a": 1.5, "b": 2})));

        let added = call(&client, "calc.add", json!({"a": 20, "b": 22})).await;
        let content = structured(&added);
        assert_eq!(content["result"], 42, "{content}");
        let output = add.output_schema.as_ref().expect("an output schema");
        validator(&Value::Object((**output).clone()))
            .validate(&content)
            .unwrap();
        let receipt = content["receipt"]
            .as_str()
            .expect("a receipt id")
            .to_owned();
        let got = call(&client, "get_receipt", json!({"receipt": receipt})).await;
        let got = structured(&got);
        assert_eq!(got["receipt"]["caller"]["id"], "local:sdk");
        assert_eq!(got["receipt"]["caller"]["door"], "mcp");

        // A grant in the ask list: the SDK puts it to its person, who approves.
        let indexed = index(&client, &notes_grant).await;
        assert_eq!(approving.asked.load(Ordering::SeqCst), 1);
        let content = structured(&indexed);
        assert_eq!(content["result"]["ok"]["files"], 1, "{content}");
        assert_eq!(content["approvals"], json!([notes_grant]));
        client.cancel().await.expect("the client closes");

        // Another person declines: refused with the grant named, no run.
        let declining = Person {
            approve: false,
            asked: Arc::default(),
        };
        let (client, _child) = connect(&home, "sdk-declined", declining.clone()).await;
        let refused = index(&client, &notes_grant).await;
        assert_eq!(declining.asked.load(Ordering::SeqCst), 1);
        assert_eq!(refused.is_error, Some(true), "{refused:?}");
        let error = &structured(&refused)["error"];
        assert_eq!(error["kind"], "approval-declined", "{error}");
        assert_eq!(error["grant"], notes_grant.as_str());
        client.cancel().await.expect("the client closes");
    });
    assert_eq!(
        receipt_count(&home, "local:sdk-declined"),
        0,
        "nothing ran for the declined call"
    );
}
