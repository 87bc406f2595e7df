//! The TaskFlow HTTP API on warp.
//!
//! [`routes`] gives a filter that anyone can mount in their own warp server, and [`serve`] runs
//! it on an already-bound listener until a shutdown signal. The one filter (in `filters`)
//! only reads the request, the dispatch (in `dispatch`) routes it with one decision, and the
//! handlers (in `handlers`) call the shared endpoints of `taskflow-http`, which own every
//! behaviour of the API; so this adapter answers byte-for-byte what the axum adapter answers.

use std::future::Future;

use taskflow_http::App;

mod dispatch;
mod filters;
mod handlers;

pub use filters::routes;
pub use taskflow_http;

/// Serves the API over `app` on `listener` on the shared server of `taskflow-http`
/// ([`taskflow_http::serve::serve`]: TLS, timeouts, load shedding, connection limits, as the
/// app's settings say) until `shutdown` resolves, then drains the requests in flight.
///
/// Connection errors are logged by the server, so there is nothing to return.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let service = warp::service(routes(app.clone()));
    taskflow_http::serve::serve(app, listener, service, shutdown).await;
}
