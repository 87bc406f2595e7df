//! The TaskFlow API on warp: configuration from the environment (see README), the embedded
//! in-memory store unless `TASKFLOW_MONGODB_URI` is set, graceful shutdown on SIGINT/SIGTERM.
//!
//! `cargo run --release --example warp_server`

use std::process::ExitCode;

use taskflow::http::config::Config;
use taskflow::server::{build_app, init_tracing, shutdown_signal};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("taskflow: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.profile);
    let app = match build_app(&config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("taskflow: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.bind).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("taskflow: cannot listen on {}: {e}", config.bind);
            return ExitCode::from(1);
        }
    };
    let address = listener.local_addr().map_or(config.bind, |a| a);
    tracing::info!(%address, profile = ?config.profile, "TaskFlow (warp) listening on http://{address}");
    taskflow::warp::serve(app, listener, shutdown_signal()).await;
    ExitCode::SUCCESS
}
