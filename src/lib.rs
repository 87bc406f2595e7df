//! TaskFlow: an embeddable task-management backend.
//!
//! This facade re-exports the workspace crates so that applications depend on one package and
//! pick the storage and HTTP adapters they need with features (`mongo`, `axum`, `warp`, and
//! `sentry` for error tracking);
//! [`server`] holds what the example servers share.

#[cfg(feature = "axum")]
pub use taskflow_axum as axum;
pub use taskflow_core as core;
#[cfg(feature = "server")]
pub use taskflow_http as http;
#[cfg(feature = "mongo")]
pub use taskflow_mongo as mongo;
#[cfg(feature = "warp")]
pub use taskflow_warp as warp;

#[cfg(feature = "server")]
pub mod server;
