//! The one connection server both adapters run on, so that both behave identically on the
//! wire: HTTP/1.1 on hyper, optional TLS (rustls), slow and idle connections reaped, request
//! bodies that must arrive within a deadline (see [`RequestBody`]), a cap on connections per
//! client address (see `peers`) and on requests per connection, graceful shutdown with a
//! bounded drain; and, in front of the adapter's service, the per-request guard of
//! [`taskflow_http::layers`] (load shedding, request timeout, panics as 500, handlers run to
//! completion, HTTPS behind a proxy, compression of large pages of tasks).
//!
//! An adapter hands [`serve()`] its whole API as a tower `Service` (`taskflow_axum::service`,
//! `taskflow_warp::service`) of requests with a [`RequestBody`]. Every request it gets carries
//! the TCP peer as a [`PeerAddr`] extension, which the adapters read for client-IP resolution.
//!
//! Connection timing is this module's own watchdog (in `conn`) rather than hyper's
//! `header_read_timeout`: hyper starts that timer whenever it waits for a request head, idle
//! keep-alive included, so it cannot give slow headers 10 s and idle connections longer.
//!
//! HTTP/2 is not offered (ALPN announces `http/1.1` only): the watchdog's notion of a request
//! head, the `Connection: close` cap and the drain are HTTP/1.1 semantics, and the proxies
//! in front of such a service speak HTTP/1.1 to it anyway.

mod body;
mod conn;
mod peers;
pub mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Bytes;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use body::RequestBody;
pub use taskflow_http::PeerAddr;
use taskflow_http::{App, layers};
pub use tls::{Tls, TlsError};

/// The body of every response the server writes: the adapter's, or the guard's own.
pub type ResponseBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// A boxed error of a response body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What an adapter hands [`serve`]: its whole API as a cloneable tower service (axum's
/// `Router`, warp's `warp::service(filter)`), each request its own task.
pub trait ApiService<B>:
    tower_service::Service<
        Request<RequestBody>,
        Response = Response<B>,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S, B> ApiService<B> for S where
    S: tower_service::Service<
            Request<RequestBody>,
            Response = Response<B>,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + Sync
        + 'static
{
}

/// A response body the server can write (and compress).
pub trait ApiBody:
    http_body::Body<Data = Bytes, Error: Into<BoxError> + Send + Sync> + Send + 'static
{
}

impl<B> ApiBody for B where
    B: http_body::Body<Data = Bytes, Error: Into<BoxError> + Send + Sync> + Send + 'static
{
}

/// How the server treats connections and requests. Each field names its variable in
/// [`Config`](crate::config::Config); the defaults are those of [`Transport::default`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Transport {
    /// `TASKFLOW_TLS_CERT` / `TASKFLOW_TLS_KEY`: serve HTTPS with this identity; `None`
    /// serves plain HTTP (behind a TLS-terminating proxy). Default: none.
    pub tls: Option<Tls>,
    /// `TASKFLOW_TLS_HANDSHAKE_TIMEOUT_SECS`: longest TLS handshake. Default 10 s.
    pub tls_handshake_timeout: Duration,
    /// `TASKFLOW_HEADER_READ_TIMEOUT_SECS`: longest time from the first byte of a request
    /// (or from the opening of the connection, for its first request) to the end of its
    /// headers, after which the connection is closed (slowloris). Default 10 s.
    pub header_read_timeout: Duration,
    /// `TASKFLOW_BODY_READ_TIMEOUT_SECS`: longest time from the end of a request's head to the
    /// end of its body; a body not in by then fails to read, and the request is answered 408
    /// `request_timeout` and its connection closed (see [`RequestBody`]). Default 10 s.
    pub body_read_timeout: Duration,
    /// `TASKFLOW_KEEP_ALIVE_TIMEOUT_SECS`: how long an idle connection waits for its next
    /// request. Default 75 s (above the 60 s idle timeout of common load balancers, so the
    /// balancer, not the server, closes an idle connection first).
    pub keep_alive_timeout: Duration,
    /// `TASKFLOW_MAX_REQUESTS_PER_CONNECTION`: the response to the Nth request of a connection
    /// carries `Connection: close`, so long-lived connections rebalance. Default 1000.
    pub max_requests_per_connection: NonZeroU32,
    /// `TASKFLOW_MAX_CONNECTIONS_PER_IP`: connections one client address (an IPv6 client by its
    /// /64) may have open at once; a connection over the cap is closed as soon as it is
    /// accepted. Trusted proxies (`TASKFLOW_TRUSTED_PROXIES`) are exempt: all their clients
    /// share their address. Default 256.
    pub max_connections_per_ip: usize,
    /// `TASKFLOW_DRAIN_TIMEOUT_SECS`: on shutdown, how long requests in flight may take to
    /// finish before their connections are dropped. Default 30 s.
    pub drain_timeout: Duration,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            tls: None,
            tls_handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(75),
            max_requests_per_connection: NonZeroU32::new(1000).unwrap_or(NonZeroU32::MIN),
            max_connections_per_ip: 256,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `service` (the adapter's whole API over `app`) on `listener`, behind the guard of
/// [`taskflow_http::layers::guard`], until `shutdown` resolves; then stops accepting (the
/// listener is closed at once), lets requests in flight finish within the drain timeout, drops
/// what is left and returns. Accept errors (out of file descriptors) are logged and retried.
///
/// The connection settings are the [`Transport`] the app carries as an extension
/// ([`Config::app`](crate::Config::app) attaches the configured one), the defaults without one.
pub async fn serve<S, B>(
    app: App,
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()> + Send,
) where
    S: ApiService<B>,
    B: ApiBody,
{
    let transport = Arc::new(app.extension::<Transport>().cloned().unwrap_or_default());
    let service = tower_layer::Layer::layer(&layers::guard(&app), service);
    #[cfg(feature = "sentry")]
    let service = tower_layer::Layer::layer(
        &crate::error_tracking::ErrorTrackingLayer::new(app.clone()),
        service,
    );
    let peers = peers::Peers::new(
        transport.max_connections_per_ip,
        app.settings().trusted_proxies.clone(),
    );
    let acceptor = transport.tls.as_ref().map(Tls::acceptor);
    let (stop, stopped) = watch::channel(());
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    // Out of descriptors, say: give the open connections time to end.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let Ok(slot) = peers.admit(peer.ip()) else {
            // Dropped unanswered; at debug level, since a flood of them must not flood the log.
            app.metrics().connection_refused();
            tracing::debug!(%peer, "connection refused: too many open from this address");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = conn::Connection {
            service: service.clone(),
            transport: transport.clone(),
            peer,
            stop: stopped.clone(),
        };
        let acceptor = acceptor.clone();
        connections.spawn(async move {
            let _slot = slot;
            accept(connection, stream, acceptor).await;
        });
    }
    drop(listener);
    let _ = stop.send(());
    drain(&mut connections, transport.drain_timeout).await;
}

/// Runs one connection, after its TLS handshake when TLS is on.
async fn accept<S, B>(
    mut connection: conn::Connection<S>,
    stream: TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) where
    S: ApiService<B>,
    B: ApiBody,
{
    let Some(acceptor) = acceptor else {
        return connection.run(stream).await;
    };
    let handshake = tokio::time::timeout(
        connection.transport.tls_handshake_timeout,
        acceptor.accept(stream),
    );
    let stream = tokio::select! {
        result = handshake => match result {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return tracing::debug!(peer = %connection.peer, error = %e, "TLS handshake failed"),
            Err(_) => return tracing::debug!(peer = %connection.peer, "TLS handshake timed out"),
        },
        // Shutting down: a connection without a request yet has nothing to finish.
        _ = connection.stop.changed() => return,
    };
    connection.run(stream).await;
}

/// Waits for the connections to end, at most `timeout`; then drops the rest.
async fn drain(connections: &mut JoinSet<()>, timeout: Duration) {
    let all = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(timeout, all).await.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "drain timeout reached; dropping the connections still open"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
}
