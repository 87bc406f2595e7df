//! The HTTPS rule behind a proxy (production): what a trusted proxy forwarded over plain HTTP
//! is redirected (safe methods) or refused (others).

use std::task::{Context, Poll};

use http::header::{HOST, HeaderName, HeaderValue, LOCATION};
use http::{Method, Request, Response, StatusCode, Uri};
use taskflow_core::error::ErrorCode;
use tower_service::Service;

use super::{Body, Head, inner, peer};
use crate::app::App;
use crate::endpoints::Reply;
use crate::problem::Problem;

/// `X-Forwarded-Proto`.
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// With [`GuardSettings::require_forwarded_https`](super::GuardSettings::require_forwarded_https)
/// (the production profile), a request from a trusted proxy with `X-Forwarded-Proto: http` is
/// answered 308 to its `https://` URL (`GET`, `HEAD`) or 403 `https_required` (any other
/// method), never passed on; `/health/*` is exempt. The peer is the
/// [`PeerAddr`](crate::PeerAddr) the connection server records: without one, no request is
/// from a trusted proxy and the rule never applies.
#[derive(Debug, Clone)]
pub struct HttpsRuleLayer {
    app: App,
}

impl HttpsRuleLayer {
    /// The rule as `app`'s settings say.
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

impl<S> tower_layer::Layer<S> for HttpsRuleLayer {
    type Service = HttpsRule<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpsRule {
            inner,
            app: self.app.clone(),
        }
    }
}

/// The service of [`HttpsRuleLayer`].
#[derive(Debug, Clone)]
pub struct HttpsRule<S> {
    inner: S,
    app: App,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for HttpsRule<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResB: Send + 'static,
{
    type Response = Response<Body<ResB>>;
    type Error = S::Error;
    type Future = futures_util::future::BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        if let Some(reply) = self.rule(&request) {
            let answer = Head::of(&request).answer(&self.app, reply);
            return Box::pin(std::future::ready(Ok(answer)));
        }
        let future = self.inner.call(request);
        Box::pin(async move { future.await.map(inner) })
    }
}

impl<S> HttpsRule<S> {
    /// The answer to a request a trusted proxy forwarded over plain HTTP, when the rule is on.
    fn rule<B>(&self, request: &Request<B>) -> Option<Reply> {
        if !self.app.settings().guard.require_forwarded_https {
            return None;
        }
        let forwarded_http = request
            .headers()
            .get(&X_FORWARDED_PROTO)
            .and_then(|v| v.to_str().ok())
            // A chain of proxies appends; the first hop is the client's.
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("http"));
        let applies = forwarded_http
            && !request.uri().path().starts_with("/health/")
            && self
                .app
                .settings()
                .trusted_proxies
                .trusts(peer(request).ip());
        if !applies {
            return None;
        }
        let safe = request.method() == Method::GET || request.method() == Method::HEAD;
        match https_location(request).filter(|_| safe) {
            Some(location) => {
                let mut response = Response::new(Vec::new());
                *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
                response.headers_mut().insert(LOCATION, location);
                Some(Ok(response))
            }
            None => Some(Err(Problem::new(
                ErrorCode::HttpsRequired,
                "This API is served over HTTPS only; send the request to its https:// URL.",
            ))),
        }
    }
}

/// `https://{Host}{path}{?query}`, when the `Host` header is a valid authority.
fn https_location<B>(request: &Request<B>) -> Option<HeaderValue> {
    let host = request.headers().get(HOST)?.to_str().ok()?;
    if host.contains('@') {
        // A valid authority, but user info has no place in a redirect target.
        return None;
    }
    let authority: http::uri::Authority = host.parse().ok()?;
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let uri = Uri::builder()
        .scheme("https")
        .authority(authority)
        .path_and_query(path)
        .build()
        .ok()?;
    HeaderValue::from_str(&uri.to_string()).ok()
}
