//! The TaskFlow HTTP API on axum.
//!
//! [`router`] gives a `Router` that anyone can nest in their own axum service. Handlers only
//! read the request (context, body within the limit, path, query) and call the shared
//! endpoints of `taskflow-http`, which own every behaviour of the API; so the warp adapter
//! answers byte-for-byte the same.

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use taskflow_http::cors;
use taskflow_http::endpoints::{self, Reply, auth, ops, tasks};
use taskflow_http::headers::{X_REQUEST_ID, set_common_headers, settle_request_id};
use taskflow_http::{App, PeerAddr, RequestContext};

pub use taskflow_http;

/// The whole API over `app` as the service TaskFlow's own server runs (see [`router`]).
pub fn service(app: App) -> Router {
    router(app)
}

/// The whole API (`/api/v1/...`, `/health/...`) with CORS and request ids, over `app`.
pub fn router(app: App) -> Router {
    let api = Router::new()
        .route("/api/v1/auth/register", post(register))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/token", post(token))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/csrf", get(csrf))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/logout-all", post(logout_all))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/tasks", get(list_tasks).post(create_task))
        .route("/api/v1/tasks/stats", get(task_stats))
        .route(
            "/api/v1/tasks/{id}",
            get(get_task).patch(update_task).delete(delete_task),
        )
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(app.clone());
    // The edge wraps the router rather than each route, so what it answers itself (CORS
    // preflights) carries nothing of the route it would have matched (axum's own `Allow`).
    Router::new()
        .fallback_service(api)
        .layer(middleware::from_fn_with_state(app, edge))
}

/// What every request goes through: the request id is settled first (so every handler and
/// the response agree on it) and CORS preflights are answered. Handlers' responses get their
/// headers in the shared `finish`; this only backs them up for anything axum answers itself.
async fn edge(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let id = settle_request_id(request.headers_mut());
    let mut response = if cors::is_preflight(request.method(), request.headers()) {
        cors::preflight(&app, request.headers()).map(Body::from)
    } else {
        next.run(request).await
    };
    if !response.headers().contains_key(&X_REQUEST_ID) {
        set_common_headers(response.headers_mut(), &id, app.settings().hsts);
    }
    response
}

/// The request's context. The peer comes from the shared server; mounted in another axum
/// server, from its `ConnectInfo` when it records one.
fn context(app: &App, request: &Request) -> RequestContext {
    let extensions = request.extensions();
    let peer = extensions
        .get::<PeerAddr>()
        .map(|peer| peer.0)
        .or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0)
        })
        .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
    RequestContext::new(
        app,
        request.method(),
        request.uri().path(),
        request.headers(),
        peer,
    )
}

/// Runs the handler's work in the request's span and renders its reply.
async fn respond(app: &App, ctx: &RequestContext, work: impl Future<Output = Reply>) -> Response {
    endpoints::run(app, ctx, work).await.map(Body::from)
}

/// Reads the body within the configured limit; over it, the 413 problem, and past the
/// shared server's body read deadline, the 408 one ([`ops::unreadable_body`]).
async fn read_body(app: &App, request: Request) -> Result<Bytes, taskflow_http::Problem> {
    let limit = app.settings().body_limit;
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|e| ops::unreadable_body(app, &e))
}

macro_rules! with_body {
    ($app:ident, $request:ident, |$ctx:ident, $body:ident| $call:expr) => {{
        let $ctx = context(&$app, &$request);
        let work = async {
            match read_body(&$app, $request).await {
                Ok($body) => $call.await,
                Err(problem) => Err(problem),
            }
        };
        respond(&$app, &$ctx, work).await
    }};
}

async fn register(State(app): State<App>, request: Request) -> Response {
    with_body!(app, request, |ctx, body| auth::register(&app, &ctx, &body))
}

async fn login(State(app): State<App>, request: Request) -> Response {
    with_body!(app, request, |ctx, body| auth::login(&app, &ctx, &body))
}

async fn token(State(app): State<App>, request: Request) -> Response {
    with_body!(app, request, |ctx, body| auth::token(&app, &ctx, &body))
}

async fn refresh(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, auth::refresh(&app, &ctx)).await
}

async fn csrf(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, auth::csrf(&app, &ctx)).await
}

async fn logout(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, auth::logout(&app, &ctx)).await
}

async fn logout_all(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, auth::logout_all(&app, &ctx)).await
}

async fn me(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, auth::me(&app, &ctx)).await
}

async fn create_task(State(app): State<App>, request: Request) -> Response {
    with_body!(app, request, |ctx, body| tasks::create(&app, &ctx, &body))
}

async fn list_tasks(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    let query = request.uri().query().unwrap_or_default();
    respond(&app, &ctx, tasks::list(&app, &ctx, query)).await
}

async fn task_stats(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, tasks::stats(&app, &ctx)).await
}

/// The `{id}` segment as sent: axum's `Path` would reject what is not UTF-8 in its own format,
/// and an id that cannot be one is simply a missing task (404).
fn task_id(request: &Request) -> String {
    taskflow_http::routes::task_id(request.uri().path()).to_owned()
}

async fn get_task(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, tasks::get(&app, &ctx, &task_id(&request))).await
}

async fn update_task(State(app): State<App>, request: Request) -> Response {
    let id = task_id(&request);
    with_body!(app, request, |ctx, body| tasks::update(
        &app, &ctx, &id, &body
    ))
}

async fn delete_task(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, tasks::delete(&app, &ctx, &task_id(&request))).await
}

async fn live(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, async { ops::live() }).await
}

async fn ready(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, ops::ready(&app)).await
}

async fn openapi(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, async { ops::openapi() }).await
}

async fn metrics(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, async { ops::metrics(&app, &ctx) }).await
}

async fn not_found(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, async { Err(ops::route_not_found()) }).await
}

async fn method_not_allowed(State(app): State<App>, request: Request) -> Response {
    let ctx = context(&app, &request);
    respond(&app, &ctx, async {
        Err(ops::method_not_allowed(ctx.route))
    })
    .await
}
