//! One HTTP/1.1 connection and its watchdog: a connection waiting for its first request, or
//! for the rest of a request head, longer than the header read timeout (slowloris), or idle
//! between requests longer than the keep-alive timeout, is closed; a request's body gets its
//! own deadline (see [`RequestBody`]); the Nth response of a connection, and a 408 (a body
//! that did not arrive in time, whose rest would be read as the next request), say
//! `Connection: close`; on shutdown the connection finishes its request in flight, then
//! closes.
//!
//! The watchdog sees the connection through [`Watched`], which notes the first bytes of each
//! request, and through the service wrapper, which notes requests starting and ending.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use http::header::{CONNECTION, HeaderValue};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use http_body_util::BodyExt as _;

use super::{ApiBody, ApiService, PeerAddr, RequestBody, ResponseBody, Transport};

/// What a connection task needs.
pub(super) struct Connection<S> {
    pub(super) service: S,
    pub(super) transport: Arc<Transport>,
    pub(super) peer: SocketAddr,
    pub(super) stop: watch::Receiver<()>,
}

impl<S> Connection<S> {
    /// Serves the connection until it closes, times out or is told to stop.
    pub(super) async fn run<IO, B>(mut self, io: IO)
    where
        S: ApiService<B>,
        B: ApiBody,
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched {
            io,
            activity: activity.clone(),
        });
        let service = request_service(
            self.service.clone(),
            activity.clone(),
            self.peer,
            &self.transport,
        );
        let mut builder = hyper::server::conn::http1::Builder::new();
        // The watchdog times heads; hyper's timer would also cut idle keep-alive short.
        builder.keep_alive(true).header_read_timeout(None);
        let connection = builder.serve_connection(io, service);
        let mut connection = std::pin::pin!(connection);
        let mut stopping = false;
        loop {
            let deadline = activity.deadline(&self.transport);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(peer = %self.peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = self.stop.changed(), if !stopping => {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
                () = activity.changed.notified() => {}
                () = sleep_until(deadline) => {
                    if activity.deadline(&self.transport).is_some_and(|d| d <= Instant::now()) {
                        tracing::debug!(peer = %self.peer, "closing a slow or idle connection");
                        return;
                    }
                }
            }
        }
    }
}

/// The hyper service of a connection: each request, its body on a deadline, through the
/// guard, counted; the `max`th response, and a 408, close the connection.
fn request_service<S, B>(
    service: S,
    activity: Arc<Activity>,
    peer: SocketAddr,
    transport: &Transport,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<ResponseBody>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<ResponseBody>, Infallible>> + Send,
>
where
    S: ApiService<B>,
    B: ApiBody,
{
    let max = transport.max_requests_per_connection.get();
    let body_read_timeout = transport.body_read_timeout;
    hyper::service::service_fn(move |request: Request<Incoming>| {
        let in_flight = InFlight::start(&activity);
        let last = in_flight.served >= max;
        let mut request = request.map(|body| RequestBody::new(body, body_read_timeout));
        request.extensions_mut().insert(PeerAddr(peer));
        let mut service = service.clone();
        async move {
            let answer = async {
                std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
                service.call(request).await
            };
            let mut response = match answer.await {
                Ok(response) => response.map(|body| body.map_err(Into::into).boxed_unsync()),
                Err(never) => match never {},
            };
            if last || response.status() == StatusCode::REQUEST_TIMEOUT {
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            drop(in_flight);
            Ok(response)
        }
    })
}

/// Sleeps until `deadline`; forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// What the watchdog knows of a connection.
struct Activity {
    state: Mutex<State>,
    /// Woken when the state changes what the deadline is.
    changed: Notify,
}

struct State {
    in_flight: usize,
    /// Whether bytes of a request head arrived since the connection went idle.
    reading_head: bool,
    /// When the connection went idle, or started reading a head.
    since: Instant,
    /// Requests started on this connection.
    served: u32,
}

impl Activity {
    fn new() -> Self {
        Self {
            state: Mutex::new(State {
                in_flight: 0,
                // A new connection owes its first request head at once: one that opens and
                // says nothing is as slow as one that trickles its headers.
                reading_head: true,
                since: Instant::now(),
                served: 0,
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a few counters, consistent after any panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the connection must have made progress by, if it is waiting on the client.
    fn deadline(&self, transport: &Transport) -> Option<Instant> {
        let state = self.state();
        (state.in_flight == 0).then(|| {
            state.since
                + if state.reading_head {
                    transport.header_read_timeout
                } else {
                    transport.keep_alive_timeout
                }
        })
    }

    /// Bytes arrived: between requests, they start a request head.
    fn read(&self) {
        let mut state = self.state();
        if state.in_flight == 0 && !state.reading_head {
            state.reading_head = true;
            state.since = Instant::now();
            drop(state);
            self.changed.notify_one();
        }
    }
}

/// A request in flight on a connection; ending it (or dropping its future) makes the
/// connection idle again once no other is in flight.
struct InFlight {
    activity: Arc<Activity>,
    served: u32,
}

impl InFlight {
    fn start(activity: &Arc<Activity>) -> Self {
        let mut state = activity.state();
        state.in_flight += 1;
        state.reading_head = false;
        state.served = state.served.saturating_add(1);
        let served = state.served;
        drop(state);
        activity.changed.notify_one();
        Self {
            activity: activity.clone(),
            served,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.activity.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0 {
            state.reading_head = false;
            state.since = Instant::now();
        }
        drop(state);
        self.activity.changed.notify_one();
    }
}

/// A connection's byte stream, reporting reads to the watchdog.
struct Watched<IO> {
    io: IO,
    activity: Arc<Activity>,
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        result
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
