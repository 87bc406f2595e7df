//! The per-request guard of the shared server, in front of the adapter's routes:
//!
//! - **HTTPS behind a proxy** (production profile only): a request whose TCP peer is a
//!   trusted proxy (`TASKFLOW_TRUSTED_PROXIES`) and whose `X-Forwarded-Proto` is `http` reached
//!   the proxy in clear text. `GET` and `HEAD` are redirected with 308 to
//!   `https://{Host}{path}{?query}`; any other method is refused with 403 `https_required`,
//!   so a client does not learn to resend a body with credentials after a redirect.
//!   `/health/*` is exempt: load balancers probe over plain HTTP.
//! - **Load shedding**: at most `TASKFLOW_MAX_CONCURRENT_REQUESTS` requests are handled at
//!   once; one more is answered at once 503 `overloaded` with `Retry-After: 1`, never queued.
//!   `/health/live` is exempt, so an orchestrator does not restart a busy but healthy
//!   instance; readiness is not, so a saturated instance can be taken out of rotation.
//! - **Request timeout**: a request whose handler is still running after
//!   `TASKFLOW_REQUEST_TIMEOUT_SECS` (a stuck storage call) is answered 504 `timeout`. A body
//!   trickling in is cut off sooner, by its own deadline (see [`super::RequestBody`]), so
//!   its handler ends and releases its permit.
//! - **Panics**: a panicking handler is answered 500 `internal` instead of a dropped
//!   connection.
//! - **No cancellation midway**: each handler runs as its own task, which neither the
//!   timeout nor a client hanging up cancels. A storage operation dropped halfway leaves a
//!   write's outcome unknown to the client and costs the MongoDB driver the connection (under
//!   load, the pool and the server's availability with it); so every operation that started
//!   ends. The handler keeps its concurrency permit until then: stuck work still counts
//!   toward the limit, and sheds load rather than piling up.
//!
//! The guard's own answers go through [`endpoints::finish`] like every response (request id,
//! common headers, CORS, metrics, the one log line).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HOST, HeaderName, HeaderValue, LOCATION};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt as _;
use hyper::body::Bytes;
use taskflow_core::error::ErrorCode;
use tokio::sync::Semaphore;

use super::{ApiBody, ApiService, ResponseBody, Transport};
use crate::app::App;
use crate::context::RequestContext;
use crate::endpoints::{self, Reply};
use crate::problem::Problem;

/// `X-Forwarded-Proto`.
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// The guard of one server: the app, its concurrency permits and its timeout.
pub(super) struct Guard {
    app: App,
    permits: Arc<Semaphore>,
    request_timeout: Duration,
    require_forwarded_https: bool,
}

/// What the guard keeps of a request to answer it itself.
struct Head {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    peer: SocketAddr,
}

impl Guard {
    pub(super) fn new(app: App, transport: &Transport) -> Self {
        Self {
            app,
            permits: Arc::new(Semaphore::new(transport.max_concurrent_requests)),
            request_timeout: transport.request_timeout,
            require_forwarded_https: transport.require_forwarded_https,
        }
    }

    /// Answers `request`: through `service` when the guard lets it pass, else itself.
    pub(super) async fn handle<S, B>(
        self: Arc<Self>,
        request: Request<super::RequestBody>,
        mut service: S,
        peer: SocketAddr,
    ) -> Response<ResponseBody>
    where
        S: ApiService<B>,
        B: ApiBody,
    {
        let head = Head {
            method: request.method().clone(),
            uri: request.uri().clone(),
            headers: request.headers().clone(),
            peer,
        };
        if let Some(reply) = self.https_rule(&head) {
            return self.finish(&head, reply);
        }
        let permit = if head.uri.path() == "/health/live" {
            None
        } else if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            Some(permit)
        } else {
            self.app.metrics().load_shed();
            return self.finish(&head, Err(overloaded()));
        };
        let call = async move {
            let _permit = permit;
            std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
            service.call(request).await
        };
        // Detached: dropping the handle on timeout or hang-up lets the handler finish.
        let handler = tokio::spawn(call);
        match tokio::time::timeout(self.request_timeout, handler).await {
            Ok(Ok(Ok(mut response))) => {
                super::compress::weaken_etag(response.headers_mut());
                response.map(|body| body.map_err(Into::into).boxed_unsync())
            }
            Ok(Ok(Err(never))) => match never {},
            Ok(Err(_panicked)) => {
                tracing::error!(
                    method = crate::metrics::method_label(&head.method),
                    route = crate::routes::template(head.uri.path()),
                    "handler panicked"
                );
                let problem = Problem::new(ErrorCode::Internal, "An internal error occurred.");
                self.finish(&head, Err(problem))
            }
            Err(_elapsed) => {
                self.app.metrics().request_timed_out();
                let problem = Problem::new(
                    ErrorCode::Timeout,
                    "The request took too long and was abandoned; retry later.",
                );
                self.finish(&head, Err(problem))
            }
        }
    }

    /// The answer to a request a trusted proxy forwarded over plain HTTP, in production.
    fn https_rule(&self, head: &Head) -> Option<Reply> {
        let forwarded_http = head
            .headers
            .get(&X_FORWARDED_PROTO)
            .and_then(|v| v.to_str().ok())
            // A chain of proxies appends; the first hop is the client's.
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("http"));
        let applies = self.require_forwarded_https
            && forwarded_http
            && !head.uri.path().starts_with("/health/")
            && self.app.settings().trusted_proxies.trusts(head.peer.ip());
        if !applies {
            return None;
        }
        let safe = head.method == Method::GET || head.method == Method::HEAD;
        match https_location(head).filter(|_| safe) {
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

    /// Renders the guard's own answer like any other response.
    fn finish(&self, head: &Head, reply: Reply) -> Response<ResponseBody> {
        let ctx = RequestContext::new(
            &self.app,
            &head.method,
            head.uri.path(),
            &head.headers,
            head.peer,
        );
        let response = endpoints::finish(&self.app, &ctx, reply);
        response.map(|body| {
            http_body_util::Full::new(Bytes::from(body))
                .map_err(|never| match never {})
                .boxed_unsync()
        })
    }
}

/// `https://{Host}{path}{?query}`, when the `Host` header is a valid authority.
fn https_location(head: &Head) -> Option<HeaderValue> {
    let host = head.headers.get(HOST)?.to_str().ok()?;
    if host.contains('@') {
        // A valid authority, but user info has no place in a redirect target.
        return None;
    }
    let authority: http::uri::Authority = host.parse().ok()?;
    let path = head.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri = Uri::builder()
        .scheme("https")
        .authority(authority)
        .path_and_query(path)
        .build()
        .ok()?;
    HeaderValue::from_str(&uri.to_string()).ok()
}

fn overloaded() -> Problem {
    Problem::new(
        ErrorCode::Overloaded,
        "The server is at capacity; retry in a moment.",
    )
}
