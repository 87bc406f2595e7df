//! The TaskFlow API on axum: configuration from the environment (see README), the embedded
//! in-memory store unless `TASKFLOW_MONGODB_URI` is set, graceful shutdown on SIGINT/SIGTERM.
//!
//! `cargo run --release --example axum_server`

use std::process::ExitCode;

use taskflow::server::run;

#[tokio::main]
async fn main() -> ExitCode {
    run("axum", taskflow::axum::serve).await
}
