//! The TaskFlow HTTP API on warp.
//!
//! [`routes`] gives a filter that anyone can mount in their own warp server, and [`service`]
//! the same as a tower service (what TaskFlow's own server runs). The one filter (in `filters`)
//! only reads the request, the dispatch (in `dispatch`) routes it with one decision, and the
//! handlers (in `handlers`) call the shared endpoints of `taskflow-http`, which own every
//! behaviour of the API; so this adapter answers byte-for-byte what the axum adapter answers.

use std::convert::Infallible;

use taskflow_http::App;

mod dispatch;
mod filters;
mod handlers;

pub use filters::routes;
pub use taskflow_http;

/// The whole API over `app` as a tower service, for a server that runs tower services (the
/// connection server of `taskflow-server`, hyper with `hyper-util`).
pub fn service<B>(
    app: App,
) -> impl tower_service::Service<
    http::Request<B>,
    Response = warp::reply::Response,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static
where
    B: http_body::Body + Send + Sync + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    warp::service(routes(app))
}
