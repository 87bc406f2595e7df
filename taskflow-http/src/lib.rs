#![doc = include_str!("../README.md")]

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
