//! TaskFlow's own server, what the example servers (`cargo run --example axum_server` or
//! `warp_server`) are made of; an application that embeds TaskFlow in its own service needs
//! none of it.
//!
//! - [`config`]: the configuration of the contract from the environment and the `.env`
//!   files, validated once at start-up, mapped onto `taskflow_http::AppBuilder`.
//! - [`serve`]: the one hyper connection server both adapters run on (HTTP/1.1, TLS, slow and
//!   idle connections reaped, body deadlines, connections per client address, graceful
//!   shutdown), behind the guard layers of `taskflow_http::layers`.
//! - `error_tracking` (feature `sentry`): 5xx answers and panics reported to Sentry.
//! - [`runtime`]: logging, the store (MongoDB with the `mongo` feature), binding, shutdown
//!   signals and exit codes.

pub mod config;
#[cfg(feature = "sentry")]
pub mod error_tracking;
pub mod runtime;
pub mod serve;

pub use config::{Config, ConfigError, Profile, VARIABLES};
pub use runtime::{
    Shutdown, build_app, init_tracing, run, run_until, serve_then_close, shutdown_signal,
};
pub use serve::{RequestBody, Tls, TlsError, Transport, serve};
