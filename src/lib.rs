//! TaskFlow: an embeddable task-management backend.
//!
//! This facade re-exports the workspace crates so that applications depend on one package and
//! pick what they need with features: `http` (the framework-neutral HTTP API), `axum` and
//! `warp` (the adapters), `mongo` (the MongoDB store), `server` (TaskFlow's own server: the
//! configuration from the environment and the connection server the example servers run on)
//! and `sentry` (error tracking in that server).

#[cfg(feature = "axum")]
pub use taskflow_axum as axum;
pub use taskflow_core as core;
#[cfg(feature = "http")]
pub use taskflow_http as http;
#[cfg(feature = "mongo")]
pub use taskflow_mongo as mongo;
#[cfg(feature = "server")]
pub use taskflow_server as server;
#[cfg(feature = "warp")]
pub use taskflow_warp as warp;
