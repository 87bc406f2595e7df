//! The per-request guard as tower layers, in front of an adapter's routes; the shared
//! connection server applies them, and an embedder applies them to the router it mounts, so
//! TaskFlow behaves alike whoever serves it. Each is a [`Layer`](tower_layer::Layer) and
//! [`Service`](tower_service::Service) pair, generic over the request and response bodies;
//! [`guard`] stacks them all in the order they need:
//!
//! - **HTTPS behind a proxy** ([`HttpsRuleLayer`], production profile only): a request whose
//!   TCP peer ([`PeerAddr`]) is a trusted proxy (`TASKFLOW_TRUSTED_PROXIES`)
//!   and whose `X-Forwarded-Proto` is `http` reached the proxy in clear text. `GET` and `HEAD`
//!   are redirected with 308 to `https://{Host}{path}{?query}`; any other method is refused
//!   with 403 `https_required`, so a client does not learn to resend a body with credentials
//!   after a redirect. `/health/*` is exempt: load balancers probe over plain HTTP.
//! - **Load shedding** ([`LoadShedLayer`]): at most `TASKFLOW_MAX_CONCURRENT_REQUESTS` requests
//!   are handled at once; one more is answered at once 503 `overloaded` with `Retry-After: 1`,
//!   never queued. `/health/live` is exempt, so an orchestrator does not restart a busy but
//!   healthy instance; readiness is not, so a saturated instance can be taken out of rotation.
//! - **Request timeout** ([`TimeoutLayer`]): a request whose handler is still running after
//!   `TASKFLOW_REQUEST_TIMEOUT_SECS` (a stuck storage call) is answered 504 `timeout`. A body
//!   trickling in is cut off sooner by the connection server's own deadline, so its handler
//!   ends and releases its permit.
//! - **Panics** ([`CatchPanicLayer`]): a panicking handler is answered 500 `internal` instead
//!   of a dropped connection.
//! - **No cancellation midway** ([`RunToCompletionLayer`]): each handler runs as its own task,
//!   which neither the timeout nor a client hanging up cancels. A storage operation dropped
//!   halfway leaves a write's outcome unknown to the client and costs the MongoDB driver the
//!   connection (under load, the pool and the server's availability with it); so every
//!   operation that started ends. The handler keeps its concurrency permit until then (see
//!   [`Permit`]): stuck work still counts toward the limit, and sheds load rather than piling
//!   up.
//! - **Compression** ([`CompressionLayer`]): large pages of tasks are compressed when the client
//!   accepts it, and their `ETag` made weak (see [`compress`]).
//!
//! The guard's own answers go through [`endpoints::finish`] like every response (request id,
//! common headers, CORS, metrics, the one log line).
//!
//! What the guard cannot do, because it happens before a request exists, is the connection
//! server's: the deadline for a whole request body to arrive, the cap on connections per client
//! address, the header and keep-alive timeouts, TLS and the drain on shutdown. A host that
//! serves TaskFlow with its own server should bound those there (hyper's and its proxy's
//! timeouts, a connection limit in front).

pub mod compress;
mod https;
mod panic;
mod shed;
mod spawn;
mod timeout;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, Uri};
use http_body_util::{Either, Full};

pub use compress::{CompressedBody, Compressible, Compression, CompressionLayer};
pub use https::{HttpsRule, HttpsRuleLayer};
pub use panic::{CatchPanic, CatchPanicLayer};
pub use shed::{LoadShed, LoadShedLayer, Permit};
pub use spawn::{RunToCompletion, RunToCompletionLayer};
pub use timeout::{Timeout, TimeoutLayer};

use crate::app::App;
pub use crate::app::GuardSettings;
use crate::context::PeerAddr;
use crate::endpoints::{self, Reply};

/// The body of a guarded response: the inner service's, or the guard's own answer.
pub type Body<B> = Either<B, Full<Bytes>>;

/// The whole guard over `app`'s [`GuardSettings`], outermost first: the HTTPS rule, load
/// shedding, the request timeout, panics as 500, handlers run to completion, compression.
pub fn guard(app: &App) -> Guard {
    Guard {
        https: HttpsRuleLayer::new(app.clone()),
        shed: LoadShedLayer::new(app.clone()),
        timeout: TimeoutLayer::new(app.clone()),
        panic: CatchPanicLayer::new(app.clone()),
    }
}

/// The layer [`guard`] returns: every layer of this module, in order.
#[derive(Debug, Clone)]
pub struct Guard {
    https: HttpsRuleLayer,
    shed: LoadShedLayer,
    timeout: TimeoutLayer,
    panic: CatchPanicLayer,
}

/// The service [`Guard`] makes of `S`.
pub type Guarded<S> = HttpsRule<LoadShed<Timeout<CatchPanic<RunToCompletion<Compression<S>>>>>>;

impl<S> tower_layer::Layer<S> for Guard {
    type Service = Guarded<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let inner = CompressionLayer::new().layer(inner);
        let inner = RunToCompletionLayer::new().layer(inner);
        let inner = self.panic.layer(inner);
        let inner = self.timeout.layer(inner);
        let inner = self.shed.layer(inner);
        self.https.layer(inner)
    }
}

/// What a layer keeps of a request to answer it itself once the request is gone.
#[derive(Debug, Clone)]
struct Head {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    peer: SocketAddr,
}

/// The address used when the server did not record the peer's.
const UNKNOWN_PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// The TCP peer the connection server recorded on `request`, if it did.
fn peer<B>(request: &Request<B>) -> SocketAddr {
    request
        .extensions()
        .get::<PeerAddr>()
        .map_or(UNKNOWN_PEER, |peer| peer.0)
}

/// A request's [`Head`] as the layers that may answer it share it (in its extensions).
#[derive(Debug, Clone)]
struct SharedHead(Arc<Head>);

impl Head {
    /// The head of `request`, copied once per request: the first layer that may have to answer
    /// it itself (the timeout, the panic handler) stores it in the request's extensions, and
    /// the next takes it from there instead of copying the headers again.
    fn shared<B>(request: &mut Request<B>) -> Arc<Self> {
        if let Some(SharedHead(head)) = request.extensions().get::<SharedHead>() {
            return Arc::clone(head);
        }
        let head = Arc::new(Self::of(request));
        request
            .extensions_mut()
            .insert(SharedHead(Arc::clone(&head)));
        head
    }

    fn of<B>(request: &Request<B>) -> Self {
        Self {
            method: request.method().clone(),
            uri: request.uri().clone(),
            headers: request.headers().clone(),
            peer: peer(request),
        }
    }

    /// The guard's own answer to this request, rendered like any other response.
    fn answer<B>(&self, app: &App, reply: Reply) -> Response<Body<B>> {
        let ctx = app.request_context(&self.method, self.uri.path(), &self.headers, self.peer);
        own(endpoints::finish(app, &ctx, reply))
    }
}

/// A response of the guard's own as a guarded response.
fn own<B>(response: Response<Vec<u8>>) -> Response<Body<B>> {
    response.map(|body| Either::Right(Full::new(Bytes::from(body))))
}

/// The inner service's response as a guarded response.
fn inner<B>(response: Response<B>) -> Response<Body<B>> {
    response.map(Either::Left)
}
