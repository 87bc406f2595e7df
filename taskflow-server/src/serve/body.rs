//! The request body every adapter reads: hyper's, with a deadline for its arrival.
//!
//! The watchdog of `conn` only times request heads: once a head is in, the request holds a
//! concurrency permit, and its handler (which is never cancelled, see [`super::guard`]) would
//! wait for a body that trickles in, or never comes, for as long as the client keeps the
//! connection open. So the whole body must have arrived within
//! `TASKFLOW_BODY_READ_TIMEOUT_SECS` of the head; when it has not, the next read fails with
//! [`BodyReadTimeout`], which both adapters answer alike with
//! [`unreadable_body`](taskflow_http::endpoints::ops::unreadable_body) (408 `request_timeout`), and the
//! handler ends, releasing its permit. The 408 closes the connection (`conn`).
//!
//! A deadline for the whole body rather than for the gap between chunks: a byte every few
//! seconds would reset the latter indefinitely. Data already arrived is always handed over;
//! the deadline is checked only when a read would wait. A body-less request (most of them)
//! costs nothing here, and a timer is only set once a read would wait.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http_body::{Body, Frame, SizeHint};
use hyper::body::{Bytes, Incoming};
use tokio::time::{Instant, Sleep};

use super::BoxError;
use taskflow_http::endpoints::ops::BodyReadTimeout;

/// A request body as the shared server hands it to the adapter: hyper's [`Incoming`], failing
/// with [`BodyReadTimeout`] once its deadline has passed before its end.
#[derive(Debug)]
pub struct RequestBody {
    inner: Incoming,
    /// When the whole body must have arrived; `None` once it has (or when there is none).
    deadline: Option<Instant>,
    /// The time it was given, for the error.
    timeout: Duration,
    /// Set the first time a read has to wait.
    timer: Option<Pin<Box<Sleep>>>,
}

impl RequestBody {
    /// `inner`, which must have arrived whole within `timeout` from now.
    pub(super) fn new(inner: Incoming, timeout: Duration) -> Self {
        let deadline = (!inner.is_end_stream()).then(|| Instant::now() + timeout);
        Self {
            inner,
            deadline,
            timeout,
            timer: None,
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let Some(deadline) = this.deadline else {
            return Pin::new(&mut this.inner).poll_frame(cx).map_err(Into::into);
        };
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            if frame.is_none() || this.inner.is_end_stream() {
                // All in: nothing left to time.
                this.deadline = None;
                this.timer = None;
            }
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Some(Err(Box::new(BodyReadTimeout::new(this.timeout)))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
