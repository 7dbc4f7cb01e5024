//! [`Mother::handle_http`]: one HTTP request served by a bridge child — a
//! child that exports `wasi:http/incoming-handler` — as an ordinary run of
//! this Mother: its grants checked by the host, its limits (fuel, deadline,
//! memory) enforced, and, recorded, its receipt signed and stored before
//! the answer comes back.
//!
//! This is the API an HTTP server (the bridge crate) mounts children with;
//! it takes and gives plain values ([`HttpCall`], [`HttpReply`]), never a
//! server's types. It must never decide who may call (the membrane and the
//! server's policy do), and never answer with a response the run did not
//! produce.

use patina_host::{Call, HttpCall, HttpReply, RunFailure, RunRequest};
use patina_receipts::Attribution;
use tracing::Instrument;

use crate::{ChildRef, LimitsSpec, Mother, MotherError, RunOutput, parse_grants};

/// What serving one HTTP request gave.
#[derive(Debug)]
pub struct HttpOutput {
    /// The child's response, or why its run ended without one (a trap, a
    /// limit, no response set, ...): a server answers that with a 5xx.
    pub reply: Result<HttpReply, RunFailure>,
    /// The run: its report (without the request, which the receipt holds,
    /// and the response, moved into [`Self::reply`]) and its receipt,
    /// already stored.
    pub run: RunOutput,
}

impl Mother {
    /// Serves `request` with the bridge child `child`, granted `grants`
    /// (text form, as `mother run --grant`) under `limits`. The run is
    /// recorded: its transcript's call is the request and its outcome the
    /// response (`docs/receipts.md`), so `mother replay` reproduces it.
    ///
    /// `Err` means nothing ran: [`MotherError::Refused`] for a child that is
    /// not a bridge child, a malformed request (`bad-http-call`), a grant
    /// that does not cover an import, ...; a run that started is `Ok`, with
    /// its [`HttpOutput::reply`].
    pub async fn handle_http(
        &self,
        child: &ChildRef,
        request: HttpCall,
        grants: &[String],
        limits: LimitsSpec,
    ) -> Result<HttpOutput, MotherError> {
        self.handle_http_as(
            child,
            request,
            (grants, false),
            limits,
            &Attribution::default(),
        )
        .await
    }

    /// [`Self::handle_http`] for a caller a door let in: the receipt's
    /// header names `attribution` (the membrane decides, before it calls
    /// this, whether the caller may). `grants` come with whether their paths
    /// are fixed as they were checked ([`RunSpec::grants_fixed`](crate::RunSpec::grants_fixed)).
    pub async fn handle_http_as(
        &self,
        child: &ChildRef,
        request: HttpCall,
        (grants, grants_fixed): (&[String], bool),
        limits: LimitsSpec,
        attribution: &Attribution,
    ) -> Result<HttpOutput, MotherError> {
        let span = tracing::info_span!(
            "mother_http",
            child = %child,
            method = %request.method,
            path = %request.path_with_query
        );
        async {
            let grants = parse_grants(grants)?;
            let child = self.load(child).await?;
            let mut run = RunRequest::new(Call::Http(request));
            run.grants = grants;
            run.grants_fixed = grants_fixed;
            run.limits = limits.limits();
            let mut run = self.runner().run(&child, &run, attribution).await?;
            let report = &mut run.report;
            report.http_call = None;
            let reply = match &report.outcome {
                Err(failure) => Err(failure.clone()),
                Ok(_) => report.http_reply.take().ok_or(RunFailure::HttpReply {
                    reason: "the run returned no response".into(),
                }),
            };
            match &reply {
                Ok(reply) => tracing::info!(status = reply.status, "served"),
                Err(failure) => tracing::info!(kind = failure.kind(), "not served"),
            }
            Ok(HttpOutput { reply, run })
        }
        .instrument(span)
        .await
    }
}
