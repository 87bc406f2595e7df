//! What the endpoints need to know about a request, read once from its method, headers and
//! peer address, whichever framework received it; and the request's tracing span.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use http::header::{
    AUTHORIZATION, CONTENT_TYPE, HeaderName, IF_MATCH, IF_NONE_MATCH, ORIGIN, USER_AGENT,
};
use http::{HeaderMap, Method};
use taskflow_core::auth::session::ClientMeta;
use taskflow_core::domain::UserId;

use crate::client_ip::TrustedProxies;
use crate::headers::{X_CSRF_TOKEN, X_FORWARDED_FOR_NAME, request_id};
use crate::routes::{Endpoint, Routes, Template};

/// The TCP peer of a request (the proxy's address behind a proxy): the shared connection
/// server inserts it into every request's extensions, and the adapters and
/// [`layers`](crate::layers) read it for client-IP resolution and the HTTPS rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The client's address: the peer's, or from `X-Forwarded-For` when the peer is a trusted
/// proxy (the header is not even read otherwise).
fn client_ip(proxies: &TrustedProxies, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if !proxies.trusts(peer.ip().to_canonical()) {
        return proxies.client_ip(peer.ip(), None);
    }
    let forwarded: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR_NAME)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
    proxies.client_ip(peer.ip(), forwarded.as_deref())
}

/// One request, as the endpoints see it.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The request id (echoed or generated).
    pub request_id: String,
    /// The method.
    pub method: Method,
    /// The client's address (the peer, or from `X-Forwarded-For` behind a trusted proxy).
    pub client_ip: IpAddr,
    /// The route's label for metrics and logs: its routed template (`/api/v1/tasks/{id}`),
    /// or `other` when the path is no route.
    pub route: &'static str,
    /// The route template the path matched, if any.
    pub template: Option<Template>,
    /// The endpoint the template and method name, if any.
    pub endpoint: Option<Endpoint>,
    /// When the request arrived (for the latency histogram).
    pub started: Instant,
    /// The authenticated user, once known (for the request's log line).
    user: std::sync::OnceLock<UserId>,
    headers: HeaderMap,
    /// What the host's middleware attached to the request (see [`Self::extensions`]).
    pub(crate) extensions: http::Extensions,
    span: tracing::Span,
}

impl RequestContext {
    /// Reads a request whose path matched `template` in `routes` (`None`: no route), received
    /// from `peer`, with the client's address behind `proxies`. (The public way in is
    /// [`App::request_context`](crate::App::request_context).)
    pub(crate) fn read(
        routes: &Routes,
        proxies: &TrustedProxies,
        method: &Method,
        template: Option<Template>,
        headers: HeaderMap,
        peer: SocketAddr,
    ) -> Self {
        let client_ip = client_ip(proxies, &headers, peer);
        let request_id = request_id(&headers);
        let route = routes.label(template);
        let endpoint = template
            .and_then(|template| routes.route(template, method).ok())
            .map(|route| route.endpoint);
        // The template, never the raw path (ids), and the method's label, never a made-up
        // method (of any length); no header, cookie or body ever goes in.
        let span = tracing::info_span!(
            "http.request",
            request_id = %request_id,
            method = crate::metrics::method_label(method),
            route,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
            user_id = tracing::field::Empty,
        );
        Self {
            request_id,
            method: method.clone(),
            client_ip,
            route,
            template,
            endpoint,
            started: Instant::now(),
            user: std::sync::OnceLock::new(),
            headers,
            extensions: http::Extensions::new(),
            span,
        }
    }

    /// The request's `http.request` span: the adapters run the endpoint in it (see
    /// [`crate::endpoints::run`]), so every event of the request's services and storage
    /// calls carries its request id, route and user.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// The method as metrics and logs show it: a standard method, or `other`
    /// ([`method_label`](crate::metrics::method_label)).
    pub fn method_label(&self) -> &'static str {
        crate::metrics::method_label(&self.method)
    }

    /// A header as text, if present and visible ASCII.
    pub fn header(&self, name: &HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The request's extensions, as the adapter passed them on (axum's: what the host's
    /// middleware inserted, its authenticated user say); empty for warp.
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// Records who made the request, once authenticated.
    pub(crate) fn set_user(&self, user: UserId) {
        if self.user.set(user).is_ok() {
            self.span.record("user_id", tracing::field::display(user));
        }
    }

    /// The authenticated user, if the request was authenticated.
    pub fn user(&self) -> Option<UserId> {
        self.user.get().copied()
    }

    pub(crate) fn authorization(&self) -> Option<&str> {
        self.header(&AUTHORIZATION)
    }

    pub(crate) fn origin(&self) -> Option<&str> {
        self.header(&ORIGIN)
    }

    pub(crate) fn csrf_header(&self) -> Option<&str> {
        self.header(&X_CSRF_TOKEN)
    }

    pub(crate) fn if_match(&self) -> Option<&str> {
        self.header(&IF_MATCH)
    }

    pub(crate) fn if_none_match(&self) -> Option<&str> {
        self.header(&IF_NONE_MATCH)
    }

    /// Whether the body is declared JSON (`application/json`, any parameters).
    pub(crate) fn is_json(&self) -> bool {
        self.header(&CONTENT_TYPE).is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
        })
    }

    pub(crate) fn client_meta(&self) -> ClientMeta {
        ClientMeta {
            user_agent: self.header(&USER_AGENT).map(str::to_owned),
            ip: Some(self.client_ip),
        }
    }
}
