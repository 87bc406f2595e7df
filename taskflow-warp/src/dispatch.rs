//! The one route decision of a request: a CORS preflight is answered first (on any path, as
//! the axum adapter answers them); otherwise the request's context is built once and the
//! endpoint its route template and method name (`taskflow_http::routes::endpoint`, the table
//! the `Allow` of a 405 agrees with) gets it; no endpoint is a 404, or a 405 on a known path.

use std::net::SocketAddr;

use taskflow_http::headers::settle_request_id;
use taskflow_http::routes::{self, Endpoint};
use taskflow_http::{App, RequestContext, cors};
use warp::http::{HeaderMap, Method};
use warp::path::FullPath;

use crate::handlers::{self as h, Body, Response};

/// A request as the filter read it.
pub(crate) struct Request<B> {
    /// The method.
    pub(crate) method: Method,
    /// The path (its query is in `query`).
    pub(crate) path: FullPath,
    /// The headers, the one copy of them.
    pub(crate) headers: HeaderMap,
    /// The TCP peer.
    pub(crate) peer: SocketAddr,
    /// The raw query string, empty when absent.
    pub(crate) query: String,
    /// The body, not read yet.
    pub(crate) body: B,
}

/// Answers `request`: the preflight, the endpoint's answer, or the 404/405 problem.
pub(crate) async fn dispatch(app: App, request: Request<impl Body>) -> Response {
    let Request {
        method,
        path,
        mut headers,
        peer,
        query,
        body,
    } = request;
    if cors::is_preflight(&method, &headers) {
        return h::preflight(&app, &headers);
    }
    settle_request_id(&mut headers);
    let ctx = RequestContext::new(&app, &method, path.as_str(), &headers, peer);
    let endpoint = match routes::endpoint(ctx.route, &method) {
        Ok(endpoint) => endpoint,
        Err(miss) => return h::fallback(&app, &ctx, miss).await,
    };
    let (app, ctx, id) = (&app, &ctx, routes::task_id(path.as_str()));
    match endpoint {
        Endpoint::Register => h::register(app, ctx, body).await,
        Endpoint::Login => h::login(app, ctx, body).await,
        Endpoint::Token => h::token(app, ctx, body).await,
        Endpoint::Refresh => h::refresh(app, ctx).await,
        Endpoint::Csrf => h::csrf(app, ctx).await,
        Endpoint::Logout => h::logout(app, ctx).await,
        Endpoint::LogoutAll => h::logout_all(app, ctx).await,
        Endpoint::Me => h::me(app, ctx).await,
        Endpoint::ListTasks => h::list_tasks(app, ctx, &query).await,
        Endpoint::CreateTask => h::create_task(app, ctx, body).await,
        Endpoint::TaskStats => h::task_stats(app, ctx).await,
        Endpoint::GetTask => h::get_task(app, ctx, id).await,
        Endpoint::UpdateTask => h::update_task(app, ctx, id, body).await,
        Endpoint::DeleteTask => h::delete_task(app, ctx, id).await,
        Endpoint::Live => h::live(app, ctx).await,
        Endpoint::Ready => h::ready(app, ctx).await,
        Endpoint::OpenApi => h::openapi(app, ctx).await,
        Endpoint::Metrics => h::metrics(app, ctx).await,
    }
}
