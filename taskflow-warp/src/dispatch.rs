//! The request as the filter read it, handed to the one dispatch of `taskflow-http`
//! (`taskflow_http::dispatch::answer`: the preflight, the endpoint its route and method name,
//! or the 404/405 problem), and its answer rendered for warp.

use std::net::SocketAddr;

use taskflow_http::App;
use taskflow_http::dispatch::{Head, answer};
use warp::http::{HeaderMap, Method};

use crate::handlers::{Body, Response, read_body, render};

/// A request as the filter read it.
pub(crate) struct Request<B> {
    /// The method.
    pub(crate) method: Method,
    /// The path as this filter sees it (after any prefix the host matched); its query is in
    /// `query`.
    pub(crate) path: String,
    /// The headers, the one copy of them.
    pub(crate) headers: HeaderMap,
    /// The TCP peer.
    pub(crate) peer: SocketAddr,
    /// The raw query string, empty when absent.
    pub(crate) query: String,
    /// The body, not read yet.
    pub(crate) body: B,
}

/// Answers `request`.
pub(crate) async fn dispatch(app: App, request: Request<impl Body>) -> Response {
    let Request {
        method,
        path,
        headers,
        peer,
        query,
        body,
    } = request;
    let declared = headers
        .get(warp::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let head = Head::new(&method, &path, &query, headers, peer);
    let response = answer(&app, head, read_body(&app, declared, body)).await;
    render(&method, response)
}
