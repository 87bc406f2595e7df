#![doc = include_str!("../README.md")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http;
use axum::response::Response;
use taskflow_http::dispatch::{self, Head};
use taskflow_http::endpoints::ops;
use taskflow_http::{App, PeerAddr, Problem};

pub use taskflow_http;

/// TaskFlow's routes over `app`: its API under the app's base path (`/api/v1` by default)
/// and its operations endpoints (`/health/live`, `/health/ready`, `/metrics`), relative to
/// wherever the host mounts the router. No fallback: unknown paths are the host's.
///
/// Apply [`taskflow_http::layers::guard`] to it (`router.layer(guard(&app))`) for load
/// shedding, the request timeout, panics as 500, handlers run to completion and compression.
pub fn router<S>(app: App) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let api = Api(app);
    let mut router = Router::new();
    for template in api.0.routes().templates() {
        let path = api.0.routes().routed_path(template);
        router = router.route_service(&path, api.clone());
    }
    router
}

/// The answer of a standalone TaskFlow server to a path that is none of its routes (for
/// `Router::fallback_service`): the 404 problem, or the answer to a CORS preflight.
pub fn fallback(app: App) -> Api {
    Api(app)
}

/// The whole API over `app` as TaskFlow's own server runs it: [`router`] with [`fallback`].
pub fn service(app: App) -> Router {
    router(app.clone()).fallback_service(fallback(app))
}

/// The service behind every TaskFlow route (and the [`fallback`]): the request's dispatch.
#[derive(Debug, Clone)]
pub struct Api(App);

impl tower_service::Service<Request> for Api {
    type Response = Response;
    type Error = Infallible;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let app = self.0.clone();
        Box::pin(async move { Ok(handle(app, request).await) })
    }
}

/// Reads the request and dispatches it.
async fn handle(app: App, request: Request) -> Response {
    let peer = peer(&request);
    let (parts, body) = request.into_parts();
    let http::request::Parts {
        method,
        uri,
        headers,
        extensions,
        ..
    } = parts;
    let path = uri.path();
    let query = uri.query().unwrap_or_default();
    let head = Head::new(&method, path, query, headers, peer).with_extensions(extensions);
    dispatch::answer(&app, head, read_body(&app, body))
        .await
        .map(Body::from)
}

/// The TCP peer: from TaskFlow's server, else from the `ConnectInfo` a host's axum server
/// records (`into_make_service_with_connect_info`), else unknown.
fn peer(request: &Request) -> SocketAddr {
    let extensions = request.extensions();
    extensions
        .get::<PeerAddr>()
        .map(|peer| peer.0)
        .or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0)
        })
        .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// Reads the body within the configured limit; over it, the 413 problem, and past the
/// connection server's body read deadline, the 408 one ([`ops::unreadable_body`]).
async fn read_body(app: &App, body: Body) -> Result<axum::body::Bytes, Problem> {
    let limit = app.settings().body_limit;
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|e| ops::unreadable_body(app, &e))
}
