//! Handlers run to completion: each as its own task, which dropping the request's future (a
//! timeout, a client hanging up) does not cancel.

use std::task::{Context, Poll};

use http::Request;
use tower_service::Service;

use super::Permit;

/// Runs each call of the inner service as its own tokio task and awaits it: dropping the
/// returned future detaches the task rather than cancelling it. The request's
/// [`Permit`] moves into the task, so the work counts toward the concurrency limit until it
/// ends. A panic in the task is resumed in the awaiting future, for
/// [`CatchPanicLayer`](super::CatchPanicLayer) outside to answer; so is a task the runtime
/// cancelled (it is shutting down), as a panic without a message.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunToCompletionLayer;

impl RunToCompletionLayer {
    /// The layer.
    pub const fn new() -> Self {
        Self
    }
}

impl<S> tower_layer::Layer<S> for RunToCompletionLayer {
    type Service = RunToCompletion<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RunToCompletion { inner }
    }
}

/// The service of [`RunToCompletionLayer`].
#[derive(Debug, Clone)]
pub struct RunToCompletion<S> {
    inner: S,
}

impl<S, ReqB> Service<Request<ReqB>> for RunToCompletion<S>
where
    S: Service<Request<ReqB>>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures_util::future::BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqB>) -> Self::Future {
        let permit = request.extensions_mut().remove::<Permit>();
        let future = self.inner.call(request);
        // Detached: dropping the handle on timeout or hang-up lets the handler finish.
        let handler = tokio::spawn(async move {
            let _permit = permit;
            future.await
        });
        Box::pin(async move {
            match handler.await {
                Ok(result) => result,
                Err(failed) => match failed.try_into_panic() {
                    Ok(payload) => std::panic::resume_unwind(payload),
                    Err(_cancelled) => std::panic::resume_unwind(Box::new(())),
                },
            }
        })
    }
}
