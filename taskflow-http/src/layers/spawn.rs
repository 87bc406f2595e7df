//! Handlers run to completion: a handler that has to wait continues as its own task, which
//! dropping the request's future (a timeout, a client hanging up) does not cancel.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Request;
use tokio::task::JoinHandle;
use tower_service::Service;

use super::Permit;

/// Runs each call of the inner service to its end, whatever becomes of the returned future.
///
/// The handler is polled first where the request is (most answers, a health check or a page
/// from memory, are ready then, and a task per request would cost a wake-up of another worker
/// thread and a move of the request across threads). The first time it has to wait, it moves
/// into a tokio task of its own with the request's [`Permit`], and the returned future awaits
/// that task: dropping the returned future from then on detaches the task rather than
/// cancelling it, so an operation that started ends, and it counts toward the concurrency
/// limit until it does. A handler dropped before its first poll has not started anything.
///
/// A panic in the task is resumed in the awaiting future, for
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
    type Future = Completion<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqB>) -> Self::Future {
        let permit = request.extensions_mut().remove::<Permit>();
        let future = Box::pin(self.inner.call(request));
        Completion(State::Inline { future, permit })
    }
}

/// The future of [`RunToCompletion`]: the handler polled in place until it first waits, then
/// its task awaited.
pub struct Completion<F: Future>(State<F>);

enum State<F: Future> {
    Inline {
        future: Pin<Box<F>>,
        permit: Option<Permit>,
    },
    Spawned(JoinHandle<F::Output>),
    Done,
}

impl<F: Future> std::fmt::Debug for Completion<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.0 {
            State::Inline { .. } => "inline",
            State::Spawned(_) => "spawned",
            State::Done => "done",
        };
        f.debug_tuple("Completion").field(&state).finish()
    }
}

impl<F> Future for Completion<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Every field is boxed or `Unpin`: the state moves freely.
        let this = &mut self.0;
        loop {
            match this {
                State::Inline { future, .. } => {
                    if let Poll::Ready(output) = future.as_mut().poll(cx) {
                        *this = State::Done;
                        return Poll::Ready(output);
                    }
                    // It waits: from here on it runs as a task that nothing cancels. The box
                    // moves, the future in it does not; polled in the task, it registers the
                    // task's waker in place of this one.
                    let State::Inline { future, permit } = std::mem::replace(this, State::Done)
                    else {
                        unreachable!("matched above");
                    };
                    *this = State::Spawned(tokio::spawn(async move {
                        let _permit = permit;
                        future.await
                    }));
                }
                State::Spawned(handle) => {
                    let joined = ready!(Pin::new(handle).poll(cx));
                    *this = State::Done;
                    return Poll::Ready(match joined {
                        Ok(output) => output,
                        Err(failed) => match failed.try_into_panic() {
                            Ok(payload) => std::panic::resume_unwind(payload),
                            Err(_cancelled) => std::panic::resume_unwind(Box::new(())),
                        },
                    });
                }
                State::Done => panic!("Completion polled after it completed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::panic::AssertUnwindSafe;
    use std::time::Duration;

    use futures_util::FutureExt as _;
    use tokio::sync::oneshot;
    use tower::ServiceExt as _;
    use tower_layer::Layer as _;

    use super::*;

    /// A handler that waits for `go`, then reports on `done`.
    fn waiting(
        go: oneshot::Receiver<()>,
        done: oneshot::Sender<&'static str>,
    ) -> impl Service<Request<()>, Response = (), Error = (), Future: Send + 'static> {
        let mut slot = Some((go, done));
        tower::service_fn(move |_: Request<()>| {
            let (go, done) = slot.take().expect("called once");
            async move {
                let _ = go.await;
                let _ = done.send("finished");
                Ok::<(), ()>(())
            }
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_handler_dropped_while_it_waits_still_finishes() {
        let (go, go_rx) = oneshot::channel();
        let (done_tx, done) = oneshot::channel();
        let mut service = RunToCompletionLayer::new().layer(waiting(go_rx, done_tx));
        let mut call = service.call(Request::new(()));
        // Polled once it waits, and the caller gives up on it (a timeout, a hang-up).
        assert!((&mut call).now_or_never().is_none());
        drop(call);
        go.send(()).expect("the handler is still there to be told");
        let outcome = tokio::time::timeout(Duration::from_secs(10), done).await;
        assert_eq!(outcome.expect("finished in time"), Ok("finished"));
    }

    #[tokio::test]
    async fn a_handler_dropped_before_it_ran_never_starts() {
        let (_go, go_rx) = oneshot::channel();
        let (done_tx, done) = oneshot::channel();
        let mut service = RunToCompletionLayer::new().layer(waiting(go_rx, done_tx));
        drop(service.call(Request::new(())));
        assert!(
            done.await.is_err(),
            "nothing ran, and nothing is left to run"
        );
    }

    #[tokio::test]
    async fn a_ready_answer_and_a_panic_come_back_to_the_caller() {
        let ready = RunToCompletionLayer::new()
            .layer(tower::service_fn(|_: Request<()>| async { Ok::<_, ()>(7) }));
        assert_eq!(ready.oneshot(Request::new(())).await, Ok(7));
        let panics = RunToCompletionLayer::new().layer(tower::service_fn(|_: Request<()>| async {
            tokio::task::yield_now().await;
            panic!("in the task");
            #[allow(unreachable_code)]
            Ok::<u8, ()>(0)
        }));
        let caught = AssertUnwindSafe(panics.oneshot(Request::new(())))
            .catch_unwind()
            .await;
        assert!(caught.is_err(), "the task's panic resumed in the caller");
    }
}
