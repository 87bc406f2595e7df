//! The TaskFlow HTTP API on warp.
//!
//! [`routes`] gives a filter that anyone can mount in their own warp server, and [`serve`] runs
//! it on an already-bound listener until a shutdown signal. The filters (in `filters`) only
//! read the request (context, body within the limit, path id, query) and the handlers (in
//! `handlers`) call the shared endpoints of `taskflow-http`, which own every behaviour of the
//! API; so this adapter answers byte-for-byte what the axum adapter answers.

use std::future::Future;

use taskflow_http::App;

mod filters;
mod handlers;

pub use filters::routes;
pub use taskflow_http;

/// Serves the API over `app` on `listener` until `shutdown` resolves, then stops accepting
/// and waits for the requests in flight (graceful shutdown).
///
/// warp 0.4 handles connection errors itself (it logs them), so there is nothing to return.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    warp::serve(routes(app))
        .incoming(listener)
        .graceful(shutdown)
        .run()
        .await;
}
