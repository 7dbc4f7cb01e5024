//! The routes, each a `#[utoipa::path]` handler registered with
//! `utoipa_axum`'s `routes!`: the path and method a handler is routed at
//! and the OpenAPI document's entry for it come from the same attribute,
//! so the document lists exactly what is routed (a test holds them
//! together). Every route but the document itself takes the caller's
//! [`crate::Caller`] and asks its `Access`; none decides anything.
//!
//! Mounts (`wasi:http` bridge children under a path prefix) get their own
//! place, [`crate::mount`], merged last.

mod call;
mod children;
mod metrics;
mod receipts;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) use call::failed_call;

use crate::api::JsonAnswer;
use crate::{ApiError, Bridge};

/// The document's fixed parts; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Patina Mother",
        description = "A Patina Mother over HTTP: its children, their typed commands (JSON Schema 2020-12 of each command's arguments and result), runs with signed receipts, replay and metrics. Every request but this document needs a bearer token (`mother token create --role R`); what it may do is its role's, decided by the Mother's policy."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "children", description = "Installed children and their commands"),
        (name = "runs", description = "Calling a child's command"),
        (name = "receipts", description = "Signed receipts of runs, and replay"),
        (name = "metrics", description = "Run counters and children's metrics"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The `bearer` security scheme every operation names.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("patina_<id>_<secret>")
                    .build(),
            ),
        );
    }
}

/// The routes and their OpenAPI document.
pub(crate) fn build(bridge: &Bridge) -> (Router<Bridge>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(children::list))
        .routes(routes!(children::describe))
        .routes(routes!(call::call))
        .routes(routes!(receipts::export))
        .routes(routes!(receipts::replay))
        .routes(routes!(metrics::metrics))
        .routes(routes!(openapi))
        .layer(from_fn_with_state(bridge.clone(), crate::limits::headers))
        .layer(from_fn(trace))
        .split_for_parts()
}

/// The OpenAPI 3.1 document of these routes. Needs no token: it names no
/// child, receipt or caller, only the shape of the API.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn openapi(State(bridge): State<Bridge>) -> Response {
    match bridge.openapi() {
        Some(document) => JsonAnswer(document).into_response(),
        None => ApiError::new("error", "the document was not built").into_response(),
    }
}

/// Answers a path no route has.
pub(crate) async fn unknown_route(request: Request) -> ApiError {
    ApiError::new(
        "unknown-route",
        format!(
            "no route {} {} (GET /v1/openapi.json lists them)",
            request.method(),
            request.uri().path()
        ),
    )
}

/// Answers a method a route does not take.
pub(crate) async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        "method-not-allowed",
        format!(
            "{} does not take {} (GET /v1/openapi.json lists the routes)",
            request.uri().path(),
            request.method()
        ),
    )
}

/// A `tracing` span for every request.
pub(crate) async fn trace(request: Request, next: Next) -> Response {
    use tracing::Instrument;
    let span = tracing::info_span!(
        "request",
        door = "http",
        method = %request.method(),
        path = %request.uri().path(),
        status = tracing::field::Empty,
    );
    async move {
        let response = next.run(request).await;
        tracing::Span::current().record("status", response.status().as_u16());
        tracing::debug!("answered");
        response
    }
    .instrument(span)
    .await
}
