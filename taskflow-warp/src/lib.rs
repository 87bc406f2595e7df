//! The TaskFlow HTTP API on warp.
//!
//! [`routes`] gives a filter that anyone can mount in their own warp server, under a path
//! prefix if they like: it rejects every path that is not TaskFlow's, so the host's other
//! filters and its own fallback still answer. [`fallback`] is the 404 problem a standalone
//! server answers unknown paths with, and [`service`] the two together as a tower service
//! (what TaskFlow's own server runs). The one filter (in `filters`)
//! only reads the request, the dispatch (in `dispatch`) routes it with one decision, and the
//! handlers (in `handlers`) call the shared endpoints of `taskflow-http`, which own every
//! behaviour of the API; so this adapter answers byte-for-byte what the axum adapter answers.

use std::convert::Infallible;

use taskflow_http::App;
use warp::{Filter as _, Rejection};

mod dispatch;
mod filters;
mod handlers;

pub use filters::{fallback, routes};
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
    let net = app.clone();
    let api = routes(app.clone())
        .or(fallback(app))
        // The safety net: nothing gets past the fallback, as the filters are built.
        .recover(move |rejection: Rejection| {
            std::future::ready(Ok::<_, Infallible>(handlers::rejection(&net, &rejection)))
        });
    warp::service(api)
}
