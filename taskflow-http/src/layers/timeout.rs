//! The request timeout: a handler still running after it is answered 504.

use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use taskflow_core::error::ErrorCode;
use tower_service::Service;

use super::{Body, Head, inner};
use crate::app::App;
use crate::problem::Problem;

/// Answers 504 `timeout` to a request whose inner service has not answered within
/// [`GuardSettings::request_timeout`](super::GuardSettings::request_timeout). The inner
/// future is dropped then: put [`RunToCompletionLayer`](super::RunToCompletionLayer) inside
/// so that the handler still finishes.
#[derive(Debug, Clone)]
pub struct TimeoutLayer {
    app: App,
    after: Duration,
}

impl TimeoutLayer {
    /// The timeout of `app`'s guard settings.
    pub fn new(app: App) -> Self {
        let after = app.settings().guard.request_timeout;
        Self { app, after }
    }
}

impl<S> tower_layer::Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            app: self.app.clone(),
            after: self.after,
        }
    }
}

/// The service of [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    app: App,
    after: Duration,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for Timeout<S>
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
        let future = self.inner.call(request);
        let (app, after) = (self.app.clone(), self.after);
        Box::pin(async move {
            match tokio::time::timeout(after, future).await {
                Ok(response) => response.map(inner),
                Err(_elapsed) => {
                    app.metrics().request_timed_out();
                    let problem = Problem::new(
                        ErrorCode::Timeout,
                        "The request took too long and was abandoned; retry later.",
                    );
                    Ok(head.answer(&app, Err(problem)))
                }
            }
        })
    }
}
