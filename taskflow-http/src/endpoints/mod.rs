//! The endpoints of the contract on plain `http` types: each takes the app, the request
//! context and (where there is one) the body or query, and answers a response or a
//! [`Problem`]. Adapters route to these and render with [`finish`]; nothing about the API's
//! behaviour lives in an adapter.

pub mod auth;
pub mod ops;
pub mod tasks;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde::Serialize;
use taskflow_core::auth::RateDecision;
use taskflow_core::error::ErrorCode;
use taskflow_core::service::Principal;

use crate::app::App;
use crate::context::RequestContext;
use crate::cookies::CookieKind;
use crate::headers::{set_common_headers, set_rate_limit_headers};
use crate::metrics::AuthEvent;
use crate::problem::Problem;
use crate::routes::Endpoint;
use tracing::Instrument as _;

/// What an endpoint answers.
pub type Reply = Result<Response<Vec<u8>>, Problem>;

/// The response extension by which an endpoint asks for compression (pages of tasks; see
/// [`layers::compress`](crate::layers::compress)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressible;

/// Runs `endpoint` inside the request's span (so every event of its services and storage
/// calls belongs to the request) and renders its reply with [`finish`]. Adapters pass the
/// whole of their handler's work, body reading included.
pub async fn run(
    app: &App,
    ctx: &RequestContext,
    endpoint: impl Future<Output = Reply>,
) -> Response<Vec<u8>> {
    let reply = endpoint.instrument(ctx.span().clone()).await;
    finish(app, ctx, reply)
}

/// Renders a reply for the request, with the headers every response carries (request id,
/// `nosniff`, HSTS in production, CORS), and records its metrics and its log line (in the
/// request's span).
pub fn finish(app: &App, ctx: &RequestContext, reply: Reply) -> Response<Vec<u8>> {
    let _entered = ctx.span().enter();
    let mut response = reply.unwrap_or_else(|problem| {
        if let Some(policy) = problem.rate_limit_policy() {
            app.0.metrics.rate_limited(policy);
        }
        let event = problem
            .auth_event()
            .or_else(|| AuthEvent::of_rejection(ctx.endpoint, problem.code()));
        if let Some(event) = event {
            app.0.metrics.auth_event(event);
        }
        app.0.metrics.failure(problem.code());
        problem.into_response(&ctx.request_id)
    });
    set_common_headers(response.headers_mut(), &ctx.request_id, app.0.settings.hsts);
    crate::cors::decorate(app, ctx.headers(), response.headers_mut());
    if ctx.template.is_some_and(crate::routes::Template::is_auth) {
        // Every auth answer, errors included, is about credentials: never stored.
        crate::headers::set_cache_control(response.headers_mut(), crate::headers::NO_STORE);
    }
    let status = response.status().as_u16();
    let elapsed = ctx.started.elapsed();
    app.0
        .metrics
        .observe(ctx.route, &ctx.method, status, elapsed);
    // To the microsecond: finer is noise, and a short number is cheaper to write on every line.
    #[allow(
        clippy::cast_precision_loss,
        reason = "microseconds fit an f64 exactly"
    )]
    let latency_ms = elapsed.as_micros() as f64 / 1000.0;
    ctx.span().record("status", status);
    ctx.span().record("latency_ms", latency_ms);
    // One line per request; never an email, token or password (the user by id only).
    tracing::info!(
        request_id = %ctx.request_id,
        method = ctx.method_label(),
        route = ctx.route,
        status,
        latency_ms,
        user_id = ctx.user().map(tracing::field::display),
        "request"
    );
    response
}

/// A JSON response.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Vec<u8>> {
    json_body(status, serde_json::to_vec(value).unwrap_or_default())
}

/// A response with a JSON body already written.
pub(crate) fn json_body(status: StatusCode, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An empty response.
pub(crate) fn empty(status: StatusCode) -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = status;
    response
}

/// The authenticated caller of a request and the rate-limit state it consumed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller {
    pub(crate) principal: Principal,
    pub(crate) limit: RateDecision,
}

/// Authenticates a request: `Authorization: Bearer` for API clients, else the access cookie
/// with the CSRF check on unsafe methods; then the per-user API rate limit.
pub(crate) async fn authenticate(app: &App, ctx: &RequestContext) -> Result<Caller, Problem> {
    let principal = if let Some(header) = ctx.authorization() {
        let token = bearer(header).ok_or_else(unauthorized)?;
        app.0.auth.authenticate(token).await?
    } else {
        let token = app
            .0
            .cookies
            .get(ctx.headers(), CookieKind::Access)
            .ok_or_else(unauthorized)?;
        let principal = app.0.auth.authenticate(&token).await?;
        check_csrf(app, ctx, &principal.session_id)?;
        principal
    };
    let limit = app
        .0
        .limits
        .check_api_user(&principal.user_id)
        .into_result()?;
    ctx.set_user(principal.user_id);
    Ok(Caller { principal, limit })
}

/// The user a task endpoint works for and the rate-limit state it consumed: the host's
/// identity when the app has one (see [`identity`](crate::identity)), else TaskFlow's own
/// authentication ([`authenticate`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct User {
    pub(crate) user_id: taskflow_core::domain::UserId,
    pub(crate) limit: RateDecision,
}

/// The user of a task endpoint's request; see [`User`].
pub(crate) async fn user(app: &App, ctx: &RequestContext) -> Result<User, Problem> {
    let Some(identity) = &app.0.identity else {
        let caller = authenticate(app, ctx).await?;
        return Ok(User {
            user_id: caller.principal.user_id,
            limit: caller.limit,
        });
    };
    let user_id = match identity.identify(ctx).await? {
        Some(user_id) => user_id,
        // TaskFlow's own credentials, where its auth endpoints are mounted beside the host's.
        None if app
            .routes()
            .iter()
            .any(|route| route.endpoint == Endpoint::Login) =>
        {
            let caller = authenticate(app, ctx).await?;
            return Ok(User {
                user_id: caller.principal.user_id,
                limit: caller.limit,
            });
        }
        None => return Err(unauthorized()),
    };
    let limit = app.0.limits.check_api_user(&user_id).into_result()?;
    ctx.set_user(user_id);
    Ok(User { user_id, limit })
}

pub(crate) fn check_csrf(
    app: &App,
    ctx: &RequestContext,
    session: &taskflow_core::domain::SessionId,
) -> Result<(), Problem> {
    let cookie = app.0.cookies.get(ctx.headers(), CookieKind::Csrf);
    app.0.csrf.check(
        ctx.method.as_str(),
        session,
        cookie.as_deref(),
        ctx.csrf_header(),
        ctx.origin(),
    )?;
    Ok(())
}

/// The token of an `Authorization: Bearer <token>` value (scheme in any case), if that is what
/// it is.
pub(crate) fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

pub(crate) fn unauthorized() -> Problem {
    Problem::new(ErrorCode::Unauthorized, "Valid credentials are required.")
}

/// Checks that a body is declared JSON and decodes it into `T` (one JSON object).
pub(crate) fn body<T: serde::de::DeserializeOwned>(
    ctx: &RequestContext,
    bytes: &[u8],
) -> Result<T, Problem> {
    if !ctx.is_json() {
        return Err(Problem::new(
            ErrorCode::UnsupportedMediaType,
            "The body must be application/json.",
        ));
    }
    Ok(crate::input::from_json_object(bytes)?)
}

/// Adds the rate-limit headers of an admitted request.
pub(crate) fn with_limit(
    mut response: Response<Vec<u8>>,
    limit: &RateDecision,
) -> Response<Vec<u8>> {
    set_rate_limit_headers(response.headers_mut(), limit);
    response
}
