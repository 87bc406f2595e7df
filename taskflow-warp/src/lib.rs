#![doc = include_str!("../README.md")]

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
