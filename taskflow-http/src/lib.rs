//! TaskFlow's HTTP API, independent of the web framework: the endpoints of the contract
//! (`../shared/api.md`) on `http` types, problem+json, cookies, ETags and header rules.
//!
//! The axum and warp adapters route requests to [`endpoints`] and render with
//! [`endpoints::finish`]; that is how both serve byte-for-byte the same API.
//! Both also run on the one connection server of [`serve`] (TLS, timeouts, graceful
//! shutdown) behind the guard of [`layers`] (load shedding, request timeout, panics as 500),
//! so they behave alike on the wire too.

pub mod app;
pub mod config;
pub mod context;
pub mod cookies;
pub mod cors;
pub mod endpoints;
#[cfg(feature = "sentry")]
pub mod error_tracking;
pub mod headers;
pub mod layers;
pub mod metrics;
pub mod openapi;
#[cfg(test)]
mod parser_props;
pub mod problem;
pub mod routes;
pub mod serve;
pub mod views;

pub use app::{App, AppBuilder, BuildError, MetricsAccess, Settings, Stores};
pub use context::{PeerAddr, RequestContext};
pub use problem::Problem;
