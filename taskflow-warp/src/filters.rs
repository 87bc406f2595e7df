//! The warp filters of the API, composed as in warp's own examples: one filter per route,
//! each ending in a [`handlers`](crate::handlers) function; then a catch-all fallback that
//! answers 404 or 405 with the request's context (echoed request id, CORS, common headers);
//! then one `recover` as the safety net for any rejection that would still get through.
//!
//! Paths are matched on the route templates of `taskflow_http::routes` rather than with
//! `warp::path!`: warp reads a trailing slash as the end of the path (`/api/v1/tasks/` would
//! match `/api/v1/tasks`), axum does not, and both adapters must route every path alike.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;

use futures_util::{Stream, StreamExt as _};
use taskflow_http::headers::{X_REQUEST_ID, request_id};
use taskflow_http::serve::PeerAddr;
use taskflow_http::{App, RequestContext, cors};
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, HeaderValue, Method};
use warp::hyper::body::Bytes;
use warp::path::FullPath;
use warp::{Buf, Filter, Rejection, Reply};

use crate::handlers::{self, Response};

/// The address used when the server does not know the peer's.
const UNKNOWN_PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// The whole API (`/api/v1/...`, `/health/...`, `/metrics`) with CORS and request ids, over
/// `app`: mount it in a warp server, or run it with [`serve`](crate::serve).
pub fn routes(app: App) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let net = app.clone();
    preflight(app.clone())
        .or(auth(&app))
        .unify()
        .or(tasks(&app))
        .unify()
        .or(operations(&app))
        .unify()
        .or(fallback(app))
        .unify()
        .recover(move |rejection: Rejection| {
            std::future::ready(Ok::<_, Infallible>(handlers::rejection(&net, &rejection)))
        })
        .unify()
}

/// `/api/v1/auth/*`.
fn auth(app: &App) -> BoxedFilter<(Response,)> {
    let register = at("/api/v1/auth/register")
        .and(warp::post())
        .and(context(app.clone()))
        .and(body())
        .then(handlers::register);
    let login = at("/api/v1/auth/login")
        .and(warp::post())
        .and(context(app.clone()))
        .and(body())
        .then(handlers::login);
    let token = at("/api/v1/auth/token")
        .and(warp::post())
        .and(context(app.clone()))
        .and(body())
        .then(handlers::token);
    let refresh = at("/api/v1/auth/refresh")
        .and(warp::post())
        .and(context(app.clone()))
        .then(handlers::refresh);
    let logout = at("/api/v1/auth/logout")
        .and(warp::post())
        .and(context(app.clone()))
        .then(handlers::logout);
    let logout_all = at("/api/v1/auth/logout-all")
        .and(warp::post())
        .and(context(app.clone()))
        .then(handlers::logout_all);
    let me = at("/api/v1/auth/me")
        .and(get())
        .and(context(app.clone()))
        .then(handlers::me);
    register
        .or(login)
        .unify()
        .or(token)
        .unify()
        .or(refresh)
        .unify()
        .or(logout)
        .unify()
        .or(logout_all)
        .unify()
        .or(me)
        .unify()
        .boxed()
}

/// `/api/v1/tasks*`.
fn tasks(app: &App) -> BoxedFilter<(Response,)> {
    let list = at("/api/v1/tasks")
        .and(get())
        .and(context(app.clone()))
        .and(query())
        .then(handlers::list_tasks);
    let create = at("/api/v1/tasks")
        .and(warp::post())
        .and(context(app.clone()))
        .and(body())
        .then(handlers::create_task);
    let stats = at("/api/v1/tasks/stats")
        .and(get())
        .and(context(app.clone()))
        .then(handlers::task_stats);
    let one = || at("/api/v1/tasks/{id}");
    let get_one = one()
        .and(get())
        .and(context(app.clone()))
        .and(task_id())
        .then(handlers::get_task);
    let update = one()
        .and(warp::patch())
        .and(context(app.clone()))
        .and(task_id())
        .and(body())
        .then(handlers::update_task);
    let delete = one()
        .and(warp::delete())
        .and(context(app.clone()))
        .and(task_id())
        .then(handlers::delete_task);
    list.or(create)
        .unify()
        .or(stats)
        .unify()
        .or(get_one)
        .unify()
        .or(update)
        .unify()
        .or(delete)
        .unify()
        .boxed()
}

/// Health, the OpenAPI document and the metrics.
fn operations(app: &App) -> BoxedFilter<(Response,)> {
    let live = at("/health/live")
        .and(get())
        .and(context(app.clone()))
        .then(handlers::live);
    let ready = at("/health/ready")
        .and(get())
        .and(context(app.clone()))
        .then(handlers::ready);
    let openapi = at("/api/v1/openapi.json")
        .and(get())
        .and(context(app.clone()))
        .then(handlers::openapi);
    let metrics = at("/metrics")
        .and(get())
        .and(context(app.clone()))
        .then(handlers::metrics);
    live.or(ready)
        .unify()
        .or(openapi)
        .unify()
        .or(metrics)
        .unify()
        .boxed()
}

/// CORS preflights, on any path, before routing (as the axum adapter answers them).
fn preflight(app: App) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::options()
        .and(warp::header::headers_cloned())
        .and_then(async |headers: HeaderMap| {
            if cors::is_preflight(&Method::OPTIONS, &headers) {
                Ok(headers)
            } else {
                Err(warp::reject::not_found())
            }
        })
        .and(with_app(app))
        .map(|headers: HeaderMap, app: App| handlers::preflight(&app, &headers))
}

/// Every request that no route took: 405 on a known path, 404 otherwise, with the request's
/// context. It never rejects; its error type is what lets the `recover` sit behind it.
fn fallback(app: App) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    context(app).and_then(handlers::fallback)
}

/// Requests whose path has the route template `template` (`taskflow_http::routes::template`,
/// which the axum adapter's router agrees with).
fn at(template: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Copy {
    warp::path::full()
        .and_then(move |path: FullPath| {
            std::future::ready(
                if taskflow_http::routes::template(path.as_str()) == template {
                    Ok(())
                } else {
                    Err(warp::reject::not_found())
                },
            )
        })
        .untuple_one()
}

/// `GET`, and `HEAD` answered like it (as axum routes them).
fn get() -> impl Filter<Extract = (), Error = Rejection> + Copy {
    warp::get().or(warp::head()).unify()
}

/// The app, for the handlers.
fn with_app(app: App) -> impl Filter<Extract = (App,), Error = Infallible> + Clone {
    warp::any().map(move || app.clone())
}

/// The app and the request context. The request id is settled first and written into the
/// headers the context reads, so the context, the problem bodies and the response header
/// agree on it even when it is generated.
fn context(app: App) -> impl Filter<Extract = (App, RequestContext), Error = Infallible> + Clone {
    with_app(app)
        .and(warp::method())
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and(peer())
        .map(
            |app: App, method: Method, path: FullPath, mut headers: HeaderMap, peer: SocketAddr| {
                let id = request_id(&headers);
                if let Ok(value) = HeaderValue::from_str(&id) {
                    headers.insert(X_REQUEST_ID.clone(), value);
                }
                let ctx = RequestContext::new(&app, &method, path.as_str(), &headers, peer);
                (app, ctx)
            },
        )
        .untuple_one()
}

/// The TCP peer: from the shared server, or from warp's own server when the routes are
/// mounted in one.
fn peer() -> impl Filter<Extract = (SocketAddr,), Error = Infallible> + Copy {
    warp::ext::optional::<PeerAddr>()
        .and(warp::addr::remote())
        .map(|shared: Option<PeerAddr>, warp: Option<SocketAddr>| {
            shared.map(|peer| peer.0).or(warp).unwrap_or(UNKNOWN_PEER)
        })
}

/// The raw query string; an absent one is empty (`warp::query::raw` rejects it).
fn query() -> impl Filter<Extract = (String,), Error = Infallible> + Copy {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

/// The `{id}` segment of `/api/v1/tasks/{id}`, as sent (as the axum adapter reads it).
fn task_id() -> impl Filter<Extract = (String,), Error = Infallible> + Copy {
    warp::path::full()
        .map(|path: FullPath| taskflow_http::routes::task_id(path.as_str()).to_owned())
}

/// A request body, not read yet: handlers read it within the limit.
pub(crate) struct Body(Pin<Box<dyn Stream<Item = Result<Bytes, warp::Error>> + Send>>);

impl Body {
    /// Boxes warp's stream of `Buf` chunks as a stream of `Bytes`.
    fn new<S, B>(stream: S) -> Self
    where
        S: Stream<Item = Result<B, warp::Error>> + Send + 'static,
        B: Buf,
    {
        let chunks = stream.map(|chunk| chunk.map(|mut buf| buf.copy_to_bytes(buf.remaining())));
        Self(Box::pin(chunks))
    }

    /// The next chunk, if any.
    pub(crate) async fn next(&mut self) -> Option<Result<Bytes, warp::Error>> {
        self.0.next().await
    }
}

/// The body as a stream of chunks (never `warp::body::json`, which has no size limit, nor
/// `content_length_limit`, which refuses chunked bodies with 411).
fn body() -> impl Filter<Extract = (Body,), Error = Rejection> + Copy {
    warp::body::stream().map(Body::new)
}
