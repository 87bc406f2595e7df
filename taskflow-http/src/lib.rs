//! TaskFlow's HTTP API, independent of the web framework: the endpoints of the contract
//! (`../shared/api.md`) on `http` types, problem+json, cookies, ETags and header rules.
//!
//! The axum and warp adapters route requests to [`endpoints`] and render with
//! [`endpoints::finish`]; that is how both serve byte-for-byte the same API.
//! Both run behind the guard of [`layers`] (load shedding, request timeout, panics as 500,
//! handlers run to completion, compression), which TaskFlow's own server (`taskflow-server`)
//! applies and an embedder applies to the router it mounts, so they behave alike on the wire
//! too.

pub mod app;
pub mod client_ip;
pub mod context;
pub mod cookies;
pub mod cors;
pub mod csrf;
pub mod dispatch;
pub mod endpoints;
pub mod headers;
pub mod identity;
pub mod input;
pub mod layers;
pub mod metrics;
pub mod openapi;
#[cfg(test)]
mod parser_props;
pub mod problem;
pub mod routes;
pub mod views;

pub use app::{App, AppBuilder, BuildError, MetricsAccess, Settings, Stores};
pub use context::{PeerAddr, RequestContext};
pub use problem::Problem;
