//! Load shedding: a fixed number of requests in flight, the rest answered 503 at once.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use taskflow_core::error::ErrorCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_service::Service;

use super::{Body, Head, inner};
use crate::app::App;
use crate::problem::Problem;

/// The path exempt from shedding: an orchestrator must not restart a busy but healthy
/// instance.
const LIVE: &str = "/health/live";

/// Answers 503 `overloaded` (`Retry-After: 1`) at once to a request over
/// [`GuardSettings::max_concurrent_requests`](super::GuardSettings::max_concurrent_requests);
/// `/health/live` is exempt. Clones share the limit.
#[derive(Debug, Clone)]
pub struct LoadShedLayer {
    app: App,
    permits: Arc<Semaphore>,
}

impl LoadShedLayer {
    /// The limit of `app`'s guard settings.
    pub fn new(app: App) -> Self {
        let permits = Arc::new(Semaphore::new(app.settings().guard.max_concurrent_requests));
        Self { app, permits }
    }
}

impl<S> tower_layer::Layer<S> for LoadShedLayer {
    type Service = LoadShed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LoadShed {
            inner,
            app: self.app.clone(),
            permits: self.permits.clone(),
        }
    }
}

/// The service of [`LoadShedLayer`].
#[derive(Debug, Clone)]
pub struct LoadShed<S> {
    inner: S,
    app: App,
    permits: Arc<Semaphore>,
}

/// A request's share of the concurrency limit, in its extensions while it is handled: it is
/// released when the last holder lets go. [`RunToCompletion`](super::RunToCompletion) takes
/// it into the handler's task, so a handler that outlives its answer (after a timeout) keeps
/// counting toward the limit until it ends.
#[derive(Debug, Clone)]
pub struct Permit(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

impl<S, ReqB, ResB> Service<Request<ReqB>> for LoadShed<S>
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
        let held = if request.uri().path() == LIVE {
            None
        } else if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            let permit = Permit(Arc::new(permit));
            request.extensions_mut().insert(permit.clone());
            Some(permit)
        } else {
            self.app.metrics().load_shed();
            let answer = Head::of(&request).answer(&self.app, Err(overloaded()));
            return Box::pin(std::future::ready(Ok(answer)));
        };
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await;
            drop(held);
            response.map(inner)
        })
    }
}

fn overloaded() -> Problem {
    Problem::new(
        ErrorCode::Overloaded,
        "The server is at capacity; retry in a moment.",
    )
}
