//! The one dispatch of a request both adapters share: a CORS preflight is answered first (on
//! any path); otherwise the request id is settled, the request's context read once, and the
//! endpoint its path and method name (in the app's [`Routes`](crate::routes::Routes)) called
//! with what it needs; no endpoint is a 404 problem, or a 405 one on a known path. Adapters only
//! read the request (and its body, when the endpoint asks for it) and write the response.

use std::net::SocketAddr;

use http::{Extensions, HeaderMap, Method, Response};

use crate::app::App;
use crate::context::RequestContext;
use crate::endpoints::{self, Reply, auth, ops, tasks};
use crate::headers::{set_common_headers, settle_request_id};
use crate::problem::Problem;
use crate::routes::Endpoint;

/// A request as an adapter read it, body aside.
#[derive(Debug)]
#[non_exhaustive]
pub struct Head<'a> {
    /// The method.
    pub method: &'a Method,
    /// The path as the adapter sees it (after any prefix a host mounted TaskFlow under), not
    /// percent-decoded.
    pub path: &'a str,
    /// The raw query string, empty when absent.
    pub query: &'a str,
    /// The headers.
    pub headers: HeaderMap,
    /// The TCP peer (the unspecified address when the server does not tell).
    pub peer: SocketAddr,
    /// The request's extensions (what a host's middleware attached, for its
    /// [`Identity`](crate::identity::Identity) to read); empty by default.
    pub extensions: Extensions,
}

impl<'a> Head<'a> {
    /// The head of a request for `method` and `path` (with its raw `query`, empty when
    /// absent) from `peer`, without extensions.
    pub fn new(
        method: &'a Method,
        path: &'a str,
        query: &'a str,
        headers: HeaderMap,
        peer: SocketAddr,
    ) -> Self {
        Self {
            method,
            path,
            query,
            headers,
            peer,
            extensions: Extensions::new(),
        }
    }

    /// The same head with the request's `extensions`.
    #[must_use]
    pub fn with_extensions(mut self, extensions: Extensions) -> Self {
        self.extensions = extensions;
        self
    }
}

/// Answers a request: the preflight, the endpoint's answer, or the 404/405 problem. `body` is
/// the request body within the app's limit (or the problem of a body that could not be read);
/// it is awaited only by the endpoints that take one, inside the request's span.
pub async fn answer<B: AsRef<[u8]>>(
    app: &App,
    head: Head<'_>,
    body: impl Future<Output = Result<B, Problem>>,
) -> Response<Vec<u8>> {
    let Head {
        method,
        path,
        query,
        mut headers,
        peer,
        extensions,
    } = head;
    let request_id = settle_request_id(&mut headers);
    if crate::cors::is_preflight(method, &headers) {
        // Not an API request: no metric, no log line; the headers every response carries.
        let mut response = crate::cors::preflight(app, &headers);
        set_common_headers(response.headers_mut(), &request_id, app.settings().hsts);
        return response;
    }
    let found = app.routes().find(path);
    let template = found.map(|(template, _)| template);
    let proxies = &app.settings().trusted_proxies;
    let mut ctx = RequestContext::read(app.routes(), proxies, method, template, headers, peer);
    ctx.extensions = extensions;
    let id = found.and_then(|(_, id)| id).unwrap_or_default();
    let work = async {
        match (template, ctx.endpoint) {
            (_, Some(endpoint)) => call(app, &ctx, endpoint, id, query, body).await,
            (Some(template), None) => Err(ops::method_not_allowed(app, template)),
            (None, None) => Err(ops::route_not_found()),
        }
    };
    endpoints::run(app, &ctx, work).await
}

/// Whether `path` (as the adapter sees it) is one of the app's routes: an adapter that must
/// leave other paths to its host (warp's filter) asks before reading anything else.
pub fn is_route(app: &App, path: &str) -> bool {
    app.routes().find(path).is_some()
}

/// Calls `endpoint`, reading the body first for those that take one.
///
/// Each endpoint's future is boxed: inline, the request's future would be as large as the
/// largest of them (kilobytes), and it is moved and copied whole on every request, a health
/// check included.
async fn call<B: AsRef<[u8]>>(
    app: &App,
    ctx: &RequestContext,
    endpoint: Endpoint,
    id: &str,
    query: &str,
    body: impl Future<Output = Result<B, Problem>>,
) -> Reply {
    match endpoint {
        Endpoint::Register => Box::pin(auth::register(app, ctx, body.await?.as_ref())).await,
        Endpoint::Login => Box::pin(auth::login(app, ctx, body.await?.as_ref())).await,
        Endpoint::Token => Box::pin(auth::token(app, ctx, body.await?.as_ref())).await,
        Endpoint::Refresh => Box::pin(auth::refresh(app, ctx)).await,
        Endpoint::Csrf => Box::pin(auth::csrf(app, ctx)).await,
        Endpoint::Logout => Box::pin(auth::logout(app, ctx)).await,
        Endpoint::LogoutAll => Box::pin(auth::logout_all(app, ctx)).await,
        Endpoint::Me => Box::pin(auth::me(app, ctx)).await,
        Endpoint::ListTasks => Box::pin(tasks::list(app, ctx, query)).await,
        Endpoint::CreateTask => Box::pin(tasks::create(app, ctx, body.await?.as_ref())).await,
        Endpoint::TaskStats => Box::pin(tasks::stats(app, ctx)).await,
        Endpoint::GetTask => Box::pin(tasks::get(app, ctx, id)).await,
        Endpoint::UpdateTask => Box::pin(tasks::update(app, ctx, id, body.await?.as_ref())).await,
        Endpoint::DeleteTask => Box::pin(tasks::delete(app, ctx, id)).await,
        Endpoint::OpenApi => ops::openapi(crate::openapi::json(app)),
        Endpoint::Live => ops::live(),
        Endpoint::Ready => Box::pin(ops::ready(app)).await,
        Endpoint::Metrics => ops::metrics(app, ctx),
    }
}
