//! Panics as 500 problems rather than dropped connections.

use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};

use futures_util::FutureExt as _;
use http::{Request, Response};
use taskflow_core::error::ErrorCode;
use tower_service::Service;

use super::{Body, Head, inner};
use crate::app::App;
use crate::problem::Problem;

/// Answers 500 `internal` when the inner service panics (while called, or while its future
/// runs; with [`RunToCompletionLayer`](super::RunToCompletionLayer) inside, in the handler's
/// task), and logs the method and route of the request, never more of it.
#[derive(Debug, Clone)]
pub struct CatchPanicLayer {
    app: App,
}

impl CatchPanicLayer {
    /// Answers with `app`'s headers and metrics.
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

impl<S> tower_layer::Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CatchPanic {
            inner,
            app: self.app.clone(),
        }
    }
}

/// The service of [`CatchPanicLayer`].
#[derive(Debug, Clone)]
pub struct CatchPanic<S> {
    inner: S,
    app: App,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for CatchPanic<S>
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

    fn call(&mut self, mut request: Request<ReqB>) -> Self::Future {
        let head = Head::shared(&mut request);
        let app = self.app.clone();
        let called = std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request)));
        Box::pin(async move {
            let outcome = match called {
                Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
                Err(payload) => Err(payload),
            };
            match outcome {
                Ok(response) => response.map(inner),
                Err(_payload) => {
                    tracing::error!(
                        method = crate::metrics::method_label(&head.method),
                        route = app.routes().label_of(head.uri.path()),
                        "handler panicked"
                    );
                    let problem = Problem::new(ErrorCode::Internal, "An internal error occurred.");
                    Ok(head.answer(&app, Err(problem)))
                }
            }
        })
    }
}
