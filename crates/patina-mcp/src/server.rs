//! [`McpServer`]: the rmcp handler. `tools/list` is the fixed tools plus
//! the caller's catalogue; `tools/call` of a child tool is one run through
//! the caller's [`Access`] — with the grants the call asks for in
//! `_grants`, and any grant a person approved (see `approval`) — and
//! answers the run (its receipt id in `structuredContent`) or a typed
//! error.
//!
//! The caller is fixed for a stdio server (the `local:NAME` the home's
//! owner started) and per request over HTTP (the bearer token's access,
//! put in the request by `http`). This module must never make a call the
//! caller's `Access` would not make for it, and never offer a tool that
//! grants, installs or changes a policy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use patina_core::Grant;
use patina_membrane::{Access, MembraneError, MembraneServer, Principal};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, InitializeResult, ListToolsResult,
    PaginatedRequestParams, ProtocolVersion, ServerCapabilities, SubscriptionFilter,
};
use rmcp::service::{RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tracing::Instrument;

use crate::McpError;
use crate::answer::{self, cannot_ask, declined, protocol_error};
use crate::approval::{self, Answer, Pending, PendingApprovals};
use crate::catalog::{Catalog, Command, Descriptions};
use crate::fixed;
use crate::spec::spec_of;

/// How an [`McpServer`] behaves.
#[derive(Clone, Debug)]
pub struct McpConfig {
    /// How long a catalogue is reused, and how often the children are
    /// looked at again to tell the client its tool list changed.
    pub poll: Duration,
    /// How long a person has to answer an approval asked for while the
    /// call waits (`elicitation/create`).
    pub approval_timeout: Duration,
    /// Whether the server may send `elicitation/create` to a client while
    /// a call waits (a connection both ways: stdio, not stateless HTTP).
    pub ask_during_call: bool,
}

impl Default for McpConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            approval_timeout: Duration::from_secs(300),
            ask_during_call: true,
        }
    }
}

/// Where a call's caller comes from.
#[derive(Clone, Debug)]
enum Caller {
    /// Always the same.
    Fixed(Access),
    /// One local caller (stdio) under a role of the membrane's policy,
    /// looked up again for every request: a policy reloaded or an epoch
    /// advanced applies at the next request, as for every other door.
    Local {
        membrane: MembraneServer,
        principal: Principal,
        role: String,
    },
    /// The `Access` the HTTP layer put in each request.
    PerRequest,
}

struct Inner {
    caller: Caller,
    config: McpConfig,
    descriptions: Descriptions,
    pending: PendingApprovals,
    /// Catalogues by caller (principal and role), with when they were built.
    catalogs: Mutex<HashMap<String, (Instant, Arc<Catalog>)>>,
}

/// The MCP server of a Mother. Cheap to clone.
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("caller", &self.inner.caller)
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// The server of one caller (`mother mcp`: a `local:NAME` under a role).
    pub fn for_access(access: Access, config: McpConfig) -> Self {
        Self::new(Caller::Fixed(access), config)
    }

    /// The server of one local caller (`mother mcp`: `local:NAME` under the
    /// role `role`), whose access is taken from `membrane` afresh for each
    /// request (so `mother epoch bump` and a changed `policy.toml`, once the
    /// membrane has seen them, apply at once). Fails when the policy has no
    /// role `role`.
    pub fn for_local(
        membrane: MembraneServer,
        principal: Principal,
        role: &str,
        config: McpConfig,
    ) -> Result<Self, McpError> {
        membrane.access_as(principal.clone(), role, "mcp")?;
        let caller = Caller::Local {
            membrane,
            principal,
            role: role.to_owned(),
        };
        Ok(Self::new(caller, config))
    }

    /// A server whose caller is the [`Access`] each request carries in its
    /// `http::request::Parts` extensions (put there by the HTTP layer
    /// after checking the bearer token).
    pub(crate) fn per_request(config: McpConfig) -> Self {
        Self::new(Caller::PerRequest, config)
    }

    fn new(caller: Caller, config: McpConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                caller,
                config,
                descriptions: Descriptions::default(),
                pending: PendingApprovals::default(),
                catalogs: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The caller of a server of one caller (fixed or local) as it is now;
    /// `None` for one whose caller comes with each request.
    pub fn access(&self) -> Option<Result<Access, MembraneError>> {
        match &self.inner.caller {
            Caller::Fixed(access) => Some(Ok(access.clone())),
            Caller::Local {
                membrane,
                principal,
                role,
            } => Some(membrane.access_as(principal.clone(), role, "mcp")),
            Caller::PerRequest => None,
        }
    }

    fn caller(&self, context: &RequestContext<RoleServer>) -> Result<Access, ErrorData> {
        match &self.inner.caller {
            Caller::Fixed(access) => Ok(access.clone()),
            Caller::Local { .. } => match self.access() {
                Some(Ok(access)) => Ok(access),
                Some(Err(error)) => Err(protocol_error(&error)),
                None => Err(protocol_error(&MembraneError::Unauthenticated(
                    "no caller".into(),
                ))),
            },
            Caller::PerRequest => context
                .extensions
                .get::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Access>())
                .cloned()
                .ok_or_else(|| protocol_error(&MembraneError::Unauthenticated("no caller".into()))),
        }
    }

    /// `access`'s catalogue: the one built less than `poll` ago, or a new one.
    pub(crate) async fn catalog(
        &self,
        access: &Access,
        fresh: bool,
    ) -> Result<Arc<Catalog>, MembraneError> {
        let key = format!(
            "{}\0{}\0{}",
            access.principal(),
            access.role().name,
            access.epoch()
        );
        if !fresh
            && let Ok(map) = self.inner.catalogs.lock()
            && let Some((at, catalog)) = map.get(&key)
            && at.elapsed() < self.inner.config.poll
        {
            return Ok(catalog.clone());
        }
        let catalog = Arc::new(Catalog::build(access, &self.inner.descriptions).await?);
        if let Ok(mut map) = self.inner.catalogs.lock() {
            if map.len() >= 1024 {
                map.clear();
            }
            map.insert(key, (Instant::now(), catalog.clone()));
        }
        Ok(catalog)
    }

    /// Resolves when `access`'s tool list differs from `before` (looking
    /// every `poll`), with the new fingerprint; or when the catalogue
    /// cannot be built any more (the caller's access went stale).
    pub(crate) async fn changed(
        &self,
        access: &Access,
        before: &mut Vec<(String, patina_core::ChildId)>,
    ) -> Result<(), MembraneError> {
        loop {
            tokio::time::sleep(self.inner.config.poll).await;
            let catalog = self.catalog(access, true).await?;
            let now = owned(&catalog);
            if now != *before {
                *before = now;
                return Ok(());
            }
        }
    }

    async fn call_command(
        &self,
        access: &Access,
        command: &Command,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResponse {
        let tool = request.name.as_ref();
        let original = request.arguments.clone().unwrap_or_default();
        let spec = match spec_of(command, &original) {
            Ok(spec) => spec,
            Err(message) => return answer::failed("bad-arguments", &message, None, None).into(),
        };
        let caller = access.principal().to_string();
        let mut approved: Vec<Grant> = Vec::new();
        if let Some(state) = &request.request_state {
            let Some(pending) = self.inner.pending.take(state) else {
                return answer::failed(
                    "bad-request-state",
                    "this requestState is unknown, used or expired: call the tool again",
                    None,
                    None,
                )
                .into();
            };
            if !pending.is_for(&caller, tool, &original) {
                return answer::failed(
                    "bad-request-state",
                    "this requestState was given for another call (caller, tool or arguments)",
                    None,
                    None,
                )
                .into();
            }
            match pending.answer(request.input_responses.as_ref()) {
                Answer::Approved => {
                    approved = pending.approved;
                    approved.push(pending.asking);
                }
                other => return declined(&pending.asking, &other).into(),
            }
        }
        // Each refusal names one grant; a call asks for a few at most.
        for _ in 0..=spec.grants.len() {
            let error = match access
                .run_approved(spec.clone(), &approved, crate::APPROVED_BY)
                .await
            {
                Ok(output) => return answer::run(&output).into(),
                Err(error) => error,
            };
            let MembraneError::ApprovalRequired { grant, .. } = &error else {
                return answer::refused(&error).into();
            };
            let Ok(grant) = grant.parse::<Grant>() else {
                return answer::refused(&error).into();
            };
            if approved.contains(&grant) {
                return answer::refused(&error).into();
            }
            let message = approval::message(&grant, tool, &caller, &access.role().name);
            if speaks_2026(context) {
                let declared = context
                    .client_capabilities()
                    .is_some_and(|c| c.elicitation.is_some());
                if !declared {
                    return cannot_ask(&error).into();
                }
                let pending = Pending::new(caller, tool.to_owned(), &original, approved, grant);
                return match self.inner.pending.ask(pending, message) {
                    Ok(input) => CallToolResponse::InputRequired(input),
                    Err(why) => answer::failed("busy", &why, None, None).into(),
                };
            }
            if !(self.inner.config.ask_during_call && approval::can_ask_now(&context.peer)) {
                return cannot_ask(&error).into();
            }
            match approval::ask_now(&context.peer, message, self.inner.config.approval_timeout)
                .await
            {
                Answer::Approved => approved.push(grant),
                other => return declined(&grant, &other).into(),
            }
        }
        answer::failed(
            "approval-required",
            "more approvals were asked for than the call has grants",
            None,
            None,
        )
        .into()
    }
}

fn owned(catalog: &Catalog) -> Vec<(String, patina_core::ChildId)> {
    catalog
        .fingerprint()
        .into_iter()
        .map(|(name, id)| (name.to_owned(), *id))
        .collect()
}

/// Whether the request speaks protocol `2026-07-28` or later (no requests
/// from server to client: approvals go through `InputRequiredResult`).
fn speaks_2026(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> InitializeResult {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .build();
        InitializeResult::new(capabilities)
            .with_server_info(Implementation::new(
                "patina-mother",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Each tool `<child>.<function>` is a typed command of a WebAssembly child; \
                 every call is a recorded run whose `receipt` id comes back in \
                 `structuredContent` (`get_receipt` shows it, `replay` re-runs it). A child \
                 that needs a capability (a folder, a repository) gets it only through \
                 grants asked for in the `_grants` input and allowed by this Mother's \
                 policy for you; a person may be asked to approve one for one call. \
                 Errors are `{error: {kind, message, grant?}}` with isError.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let access = self.caller(&context)?;
        let span = tracing::info_span!("tools_list", caller = %access.principal());
        async {
            let catalog = self
                .catalog(&access, false)
                .await
                .map_err(|e| protocol_error(&e))?;
            let mut tools = fixed::tools();
            tools.extend(catalog.tools().cloned());
            Ok(ListToolsResult::with_all_items(tools))
        }
        .instrument(span)
        .await
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let access = self.caller(&context)?;
        let name = request.name.to_string();
        let span = tracing::info_span!(
            "tool_call",
            tool = %name,
            caller = %access.principal(),
            role = %access.role().name
        );
        async {
            let catalog = match self.catalog(&access, false).await {
                Ok(catalog) => catalog,
                Err(error) => return Ok(answer::refused(&error).into()),
            };
            if fixed::is_fixed(&name) {
                let arguments = request.arguments.clone().unwrap_or_default();
                return Ok(fixed::call(&access, &catalog, &name, &arguments)
                    .await
                    .into());
            }
            let mut command = catalog.command(&name).cloned();
            if command.is_none() {
                // Installed a moment ago?
                command = match self.catalog(&access, true).await {
                    Ok(catalog) => catalog.command(&name).cloned(),
                    Err(error) => return Ok(answer::refused(&error).into()),
                };
            }
            let Some(command) = command else {
                return Ok(answer::failed(
                    "unknown-tool",
                    &format!("no tool `{name}` for this caller (tools/list shows its tools)"),
                    None,
                    None,
                )
                .into());
            };
            let response = self
                .call_command(&access, &command, &request, &context)
                .await;
            if let CallToolResponse::Complete(result) = &response {
                tracing::info!(error = result.is_error.unwrap_or(false), "answered");
            }
            Ok(response)
        }
        .instrument(span)
        .await
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let mut accepted = SubscriptionFilter::new();
        accepted.tools_list_changed = requested.tools_list_changed;
        Some(accepted)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        if context.accepted().tools_list_changed != Some(true) {
            context.cancelled().await;
            return Ok(());
        }
        let access = self.caller(context.request_context())?;
        let catalog = self
            .catalog(&access, true)
            .await
            .map_err(|e| protocol_error(&e))?;
        let mut before = owned(&catalog);
        loop {
            tokio::select! {
                () = context.cancelled() => return Ok(()),
                changed = self.changed(&access, &mut before) => {
                    changed.map_err(|e| protocol_error(&e))?;
                    if context.sink().notify_tool_list_changed().await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}
