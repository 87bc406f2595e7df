#![doc = include_str!("../README.md")]

pub mod config;
#[cfg(feature = "sentry")]
pub mod error_tracking;
pub mod log_writer;
pub mod runtime;
pub mod serve;

pub use config::{Config, ConfigError, Profile, VARIABLES};
pub use runtime::{
    LogGuard, Shutdown, build_app, init_tracing, run, run_until, serve_then_close, shutdown_signal,
};
pub use serve::{RequestBody, Tls, TlsError, Transport, serve};
