//! The one warp filter of the API: it reads what any endpoint may need (method, path, headers,
//! peer, raw query, and the body as a stream not read yet) and hands it to
//! [`dispatch`](crate::dispatch), which makes the request's one route decision; then one
//! `recover` as the safety net for any rejection that would still get through.
//!
//! Not one filter per route, as in warp's own examples: warp tries such routes in turn, so a
//! request paid, for every route before its own, a path match, a copy of its headers and a
//! rejection combined with the others (14 of each for `/health/live`), some 15% of warp's
//! throughput against axum's. Here a request is read once and routed by one `match`.
//!
//! Paths are matched on the route templates of `taskflow_http::routes` rather than with
//! `warp::path!`: warp reads a trailing slash as the end of the path (`/api/v1/tasks/` would
//! match `/api/v1/tasks`), axum does not, and both adapters must route every path alike.

use std::convert::Infallible;
use std::net::SocketAddr;

use taskflow_http::{App, PeerAddr};
use warp::http::{HeaderMap, Method};
use warp::path::FullPath;
use warp::{Filter, Rejection, Reply};

use crate::dispatch::{Request, dispatch};
use crate::handlers;

/// The address used when the server does not know the peer's.
const UNKNOWN_PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// The whole API (`/api/v1/...`, `/health/...`, `/metrics`) with CORS and request ids, over
/// `app`: mount it in a warp server, or run it with [`serve`](crate::serve).
pub fn routes(app: App) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let net = app.clone();
    warp::method()
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and(peer())
        .and(query())
        // The stream only: the routes that take a body read it within the limit (never
        // `warp::body::json`, which has no size limit, nor `content_length_limit`, which
        // refuses chunked bodies with 411).
        .and(warp::body::stream())
        .then(
            move |method: Method, path: FullPath, headers: HeaderMap, peer, query, body| {
                let request = Request {
                    method,
                    path,
                    headers,
                    peer,
                    query,
                    body,
                };
                // Boxed: the dispatch future holds every handler's state (about 6 KB), and
                // unboxed it was copied whole each time the server moved the request's future.
                Box::pin(dispatch(app.clone(), request))
            },
        )
        .recover(move |rejection: Rejection| {
            std::future::ready(Ok::<_, Infallible>(handlers::rejection(&net, &rejection)))
        })
        .unify()
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
