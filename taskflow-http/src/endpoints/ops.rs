//! Operations endpoints: liveness, readiness, and the problems for unknown routes, wrong
//! methods, oversized bodies and bodies that arrive too slowly that the adapters' routers
//! produce.

use std::time::Duration;

use http::StatusCode;
use taskflow_core::error::ErrorCode;

use secrecy::ExposeSecret as _;
use subtle::ConstantTimeEq as _;

use super::{Reply, json};
use crate::app::{App, MetricsAccess};
use crate::context::RequestContext;
use crate::problem::Problem;
use crate::routes::Template;

/// How long readiness waits for storage before calling it unavailable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The body of the health answers.
#[derive(serde::Serialize)]
struct Status {
    status: &'static str,
}

/// `{"status": "ok"}` (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Live {
    /// Always `ok`.
    #[schema(schema_with = ok)]
    status: String,
}

/// `{"status": "ready"}` (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Ready {
    /// Always `ready`.
    #[schema(schema_with = ready_value)]
    status: String,
}

fn one_string(value: &'static str) -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some([value]))
        .build()
}

fn ok() -> utoipa::openapi::schema::Object {
    one_string("ok")
}

fn ready_value() -> utoipa::openapi::schema::Object {
    one_string("ready")
}

/// `GET /health/live`: 200 while the process serves.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(get, path = "/health/live", tag = "operations", security(), responses((status = 200, description = "Serving", body = Live)))]
pub fn live() -> Reply {
    Ok(json(StatusCode::OK, &Status { status: "ok" }))
}

/// `GET /health/ready`: 200 when storage answers within two seconds, 503 otherwise.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(get, path = "/health/ready", tag = "operations", security(), responses((status = 200, description = "Storage answers", body = Ready), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json")))]
pub async fn ready(app: &App) -> Reply {
    match tokio::time::timeout(READY_TIMEOUT, app.0.health.ping()).await {
        Ok(Ok(())) => Ok(json(StatusCode::OK, &Status { status: "ready" })),
        _ => Err(Problem::new(
            ErrorCode::StorageUnavailable,
            "Storage is not answering.",
        )),
    }
}

/// No route matched.
pub fn route_not_found() -> Problem {
    Problem::new(ErrorCode::RouteNotFound, "No such route.")
}

/// The route `template` exists, not with this method; `Allow` lists the methods it has.
pub fn method_not_allowed(app: &App, template: Template) -> Problem {
    Problem::new(
        ErrorCode::MethodNotAllowed,
        "This method is not allowed here.",
    )
    .with_allow(app.routes().allowed(template))
}

/// The body is over the limit.
pub fn payload_too_large(app: &App) -> Problem {
    let limit = app.0.settings.body_limit;
    Problem::new(
        ErrorCode::PayloadTooLarge,
        format!("The body must be at most {limit} bytes."),
    )
}

/// Why a request body could not be read: it had not fully arrived when the connection
/// server's body read deadline (`TASKFLOW_BODY_READ_TIMEOUT_SECS`) passed. The server's
/// request body fails with this error; an adapter's body read that fails answers
/// [`unreadable_body`], which finds it among the error's sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request body was not received within the body read timeout")]
pub struct BodyReadTimeout {
    timeout: Duration,
}

impl BodyReadTimeout {
    /// The error of a body that did not arrive within `timeout`.
    pub const fn new(timeout: Duration) -> Self {
        Self { timeout }
    }

    /// The deadline the body missed.
    pub const fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// The problem for a request body an adapter could not read, whatever its framework wrapped
/// the cause in: 408 `request_timeout` when the body read deadline passed (the response then
/// closes the connection), else 413 [`payload_too_large`] (over the limit, or broken off).
pub fn unreadable_body(app: &App, error: &(dyn std::error::Error + 'static)) -> Problem {
    let timed_out = std::iter::successors(Some(error), |e| e.source())
        .find_map(<dyn std::error::Error>::downcast_ref::<BodyReadTimeout>);
    let Some(timed_out) = timed_out else {
        return payload_too_large(app);
    };
    let secs = timed_out.timeout().as_secs();
    Problem::new(
        ErrorCode::RequestTimeout,
        format!("The request body must arrive within {secs} seconds."),
    )
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations", security(), responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
/// `GET /api/v1/openapi.json`: the OpenAPI 3.1 document.
///
/// # Errors
/// Never; the signature matches the other endpoints.
pub fn openapi(document: &[u8]) -> Reply {
    // The document of this app (its base path, mount prefix and routes): `openapi::json`.
    let mut response = http::Response::new(document.to_vec());
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// `GET /metrics`: Prometheus text exposition, to whom [`MetricsAccess`] lets read it.
///
/// # Errors
/// The 404 problem of an unknown route ([`route_not_found`]) to anyone else.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    security((), ("metricsToken" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition: request counts and latency histograms by route and status, auth outcomes, rate-limit rejections, storage errors, pool use", body = String, content_type = "text/plain"),
        (status = 404, description = "Production without `TASKFLOW_METRICS_TOKEN`, or without that token presented", body = crate::problem::Body<'static>, content_type = "application/problem+json"),
    )
)]
pub fn metrics(app: &App, ctx: &RequestContext) -> Reply {
    let allowed = match &app.0.settings.metrics {
        MetricsAccess::Open => true,
        MetricsAccess::Bearer(token) => ctx
            .authorization()
            .and_then(super::bearer)
            // Constant time in the token's bytes; only its length can be told apart.
            .is_some_and(|presented| {
                bool::from(presented.as_bytes().ct_eq(token.expose_secret().as_bytes()))
            }),
        MetricsAccess::Hidden => false,
    };
    if !allowed {
        return Err(route_not_found());
    }
    let mut response = http::Response::new(app.0.metrics.render().into_bytes());
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
