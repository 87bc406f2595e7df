//! The warp filters of the API: [`routes`] reads what any endpoint may need (method, path,
//! headers, peer, raw query, and the body as a stream not read yet) of a request for one of
//! TaskFlow's paths and hands it to [`dispatch`](crate::dispatch), which makes the request's
//! one route decision; any other path is rejected (`not_found`) before anything else is read,
//! so a host's `.or(...)` gets it. [`fallback`] answers those in a standalone server.
//!
//! Not one filter per route, as in warp's own examples: warp tries such routes in turn, so a
//! request paid, for every route before its own, a path match, a copy of its headers and a
//! rejection combined with the others (14 of each for `/health/live`), some 15% of warp's
//! throughput against axum's. Here a request is read once and routed by one `match` on the
//! route table.
//!
//! Paths are matched on the route table of `taskflow_http::routes` rather than with
//! `warp::path!`: warp reads a trailing slash as the end of the path (`/api/v1/tasks/` would
//! match `/api/v1/tasks`), axum does not, and both adapters must route every path alike. The
//! path is the one that remains after whatever the host matched (`warp::path::tail`), so the
//! routes work under `warp::path("prefix")`.

use std::convert::Infallible;
use std::net::SocketAddr;

use taskflow_http::{App, PeerAddr};
use warp::http::{HeaderMap, Method};
use warp::path::{FullPath, Tail};
use warp::{Filter, Rejection, Reply};

use crate::dispatch::{Request, dispatch};

/// The address used when the server does not know the peer's.
const UNKNOWN_PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// TaskFlow's routes over `app`: its API under the app's base path (`/api/v1` by default)
/// and its operations endpoints (`/health/live`, `/health/ready`, `/metrics`), on the path
/// that remains after whatever the host matched; every other path is rejected with
/// `warp::reject::not_found()`, so the host's other filters (and its own 404) get it.
///
/// Apply [`taskflow_http::layers::guard`] to the service the host builds (`warp::service`)
/// for load shedding, the request timeout, panics as 500, handlers run to completion and
/// compression.
pub fn routes(app: App) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let paths = app.clone();
    warp::path::tail()
        .and_then(move |tail: Tail| {
            let path = format!("/{}", tail.as_str());
            let found = taskflow_http::dispatch::is_route(&paths, &path);
            std::future::ready(if found {
                Ok(path)
            } else {
                Err(warp::reject::not_found())
            })
        })
        .and(request_parts())
        .then(move |path: String, method, headers, peer, query, body| {
            let request = Request {
                method,
                path,
                headers,
                peer,
                query,
                body,
            };
            // Boxed: the dispatch future holds every endpoint's state (a few KB), and unboxed
            // it was copied whole each time the server moved the request's future.
            Box::pin(dispatch(app.clone(), request))
        })
}

/// The answer of a standalone TaskFlow server to what [`routes`] rejects: the 404 problem, or
/// the answer to a CORS preflight. Nothing it reads can reject.
pub fn fallback(app: App) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path::full().and(request_parts()).then(
        move |path: FullPath, method, headers, peer, query, body| {
            let request = Request {
                method,
                path: path.as_str().to_owned(),
                headers,
                peer,
                query,
                body,
            };
            Box::pin(dispatch(app.clone(), request))
        },
    )
}

/// Method, headers, peer, raw query and the body stream of a request. The stream only: the
/// routes that take a body read it within the limit (never `warp::body::json`, which has no
/// size limit, nor `content_length_limit`, which refuses chunked bodies with 411).
fn request_parts() -> impl Filter<
    Extract = (
        Method,
        HeaderMap,
        SocketAddr,
        String,
        impl crate::handlers::Body + use<>,
    ),
    Error = Rejection,
> + Clone {
    warp::method()
        .and(warp::header::headers_cloned())
        .and(peer())
        .and(query())
        .and(warp::body::stream())
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
