//! The REST bridge host (`crates/patina-bridge`): a real `mother serve
//! --http 127.0.0.1:0` process (the one the served and peer hosts share,
//! `front.rs`); the home's owner installs each child
//! through the socket (the bridge has no install route), and each case is a
//! `POST /v1/children/{id}/call/{function}` with a bearer token of the
//! `admin` role, its arguments the case's WAVE call as JSON (`json_call`),
//! its grants, limits and `deny_missing` in the query as `docs/bridge.md`
//! says. The receipt the answer names is fetched with `GET
//! /v1/receipts/{id}` (the canonical export) and read as strictly as any
//! receipt. A command child (argv) has no route on the bridge: those cases
//! are n/a with that reason. It only ever connects to 127.0.0.1.

use std::rc::Rc;

use anyhow::{Context, Result, bail};
use patina_receipts::ExportedReceipt;
use tokio::sync::Mutex;

use super::json_call::{JsonCall, translate};
use super::served::Served;
use super::{Embedded, HostUnderTest, Prepared, Ran, Setup, is_refusal, limits};
use crate::case::{Case, Named};

/// A `mother serve --http` and a token for its bridge.
pub struct Bridge {
    served: Rc<Mutex<Served>>,
    base: url::Url,
    token: String,
    /// One HTTP client (its connections kept) for every request.
    agent: ureq::Agent,
    embedded: Embedded,
}

/// Starts the bridge host (the shared `mother serve`, if no other host has).
pub async fn start(setup: &Setup<'_>) -> Result<Box<dyn HostUnderTest>> {
    let front = setup.front("bridge").await?;
    Ok(Box::new(Bridge {
        served: front.served,
        base: front.http,
        token: front.token,
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent(),
        embedded: setup.embedded.clone(),
    }))
}

impl Bridge {
    /// The bridge's URL with `segments` as its path, each percent-encoded.
    fn url(&self, segments: &[&str]) -> Result<url::Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow::anyhow!("{} cannot take a path", self.base))?
            .extend(segments);
        Ok(url)
    }

    /// The URL of `POST /v1/children/{id}/call/{function}?…` for `case`.
    fn call_url(&self, case: &Case, child: &str, function: &str) -> Result<url::Url> {
        let mut url = self.url(&["v1", "children", child, "call", function])?;
        {
            let mut query = url.query_pairs_mut();
            for grant in &case.grants {
                query.append_pair("grant", grant);
            }
            let limits = limits(case);
            let pairs = [
                ("fuel", limits.fuel),
                ("timeout_ms", limits.timeout_ms),
                ("memory", limits.memory),
                ("output", limits.output),
            ];
            for (key, value) in pairs {
                if let Some(value) = value {
                    query.append_pair(key, &value.to_string());
                }
            }
            if case.deny_missing {
                query.append_pair("deny_missing", "true");
            }
        }
        Ok(url)
    }

    /// The receipt `id` and its blobs, as `GET /v1/receipts/{id}` exports them.
    async fn receipt(&self, id: &str) -> Result<Ran> {
        let url = self.url(&["v1", "receipts", id])?;
        let (status, body) = self.request("GET", url, None).await?;
        if status != 200 {
            bail!("GET /v1/receipts/{id} answered {status}: {body}");
        }
        let (receipt, blobs) = ExportedReceipt::decode(body.as_bytes())
            .context("the bridge's receipt export does not decode")?;
        Ok(Ran::Recorded {
            receipt: Box::new(receipt),
            blobs,
        })
    }

    /// One HTTP request with the bearer token (blocking, off the
    /// runtime's thread): its status and body.
    async fn request(
        &self,
        method: &'static str,
        url: url::Url,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, String)> {
        let auth = format!("Bearer {}", self.token);
        let what = format!("{method} {}", url.path());
        let agent = self.agent.clone();
        tokio::task::spawn_blocking(move || {
            let answer = match body {
                Some(body) => agent
                    .post(url.as_str())
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .send(&body[..]),
                None => agent
                    .get(url.as_str())
                    .header("Authorization", &auth)
                    .call(),
            };
            let mut answer = answer.with_context(|| format!("{what}: no answer"))?;
            let status = answer.status().as_u16();
            let text = answer
                .body_mut()
                .with_config()
                .limit(256 << 20)
                .read_to_string()
                .with_context(|| format!("{what}: reading the body"))?;
            Ok((status, text))
        })
        .await
        .context("the HTTP request's thread")?
    }
}

#[async_trait::async_trait(?Send)]
impl HostUnderTest for Bridge {
    fn name(&self) -> &'static str {
        "bridge"
    }

    fn metered(&self) -> bool {
        true
    }

    fn not_applicable(&self, case: &Case) -> Option<String> {
        case.argv.is_some().then(|| {
            "a command child's argv has no route on the REST bridge (it calls exported functions: docs/bridge.md)".to_owned()
        })
    }

    /// Through the socket, as the home's owner (the bridge has no install
    /// route): the Mother behind the bridge resolves the case's `invoke`
    /// names.
    async fn install_named(&mut self, named: &Named, child: &Prepared) -> Result<Option<String>> {
        self.served.lock().await.install_named(named, child).await?;
        Ok(None)
    }

    async fn run(&mut self, case: &Case, child: &Prepared) -> Result<Ran> {
        let call = case.call.as_deref().context("a case with no call")?;
        let Some(JsonCall { function, args }) = translate(&self.embedded, child, call)? else {
            return Ok(Ran::NotApplicable {
                reason: format!("the call `{call}` has no JSON form for the REST bridge"),
            });
        };
        self.served.lock().await.install(child).await?;
        let url = self.call_url(case, &child.id, &function)?;
        let body = serde_json::to_vec(&args)?;
        let (status, text) = self.request("POST", url, Some(body)).await?;
        let answer: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("the bridge answered {status} with no JSON: {text}"))?;
        if let Some(id) = answer["receipt"]["id"].as_str() {
            return self.receipt(id).await;
        }
        let kind = answer["error"]["kind"].as_str().unwrap_or_default();
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        if is_refusal(kind) {
            return Ok(Ran::Refused {
                kind: kind.to_owned(),
                message: message.to_owned(),
            });
        }
        bail!("the bridge answered {status}: {text}")
    }
}
