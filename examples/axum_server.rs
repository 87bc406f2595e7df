//! The TaskFlow API on axum: configuration from the environment (see README), the embedded
//! in-memory store unless `TASKFLOW_MONGODB_URI` is set, graceful shutdown on SIGINT/SIGTERM.
//!
//! `cargo run --release --example axum_server`

use std::net::SocketAddr;
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
    tracing::info!(%address, profile = ?config.profile, "TaskFlow (axum) listening on http://{address}");
    let service = taskflow::axum::router(app).into_make_service_with_connect_info::<SocketAddr>();
    match axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("taskflow: server error: {e}");
            ExitCode::from(1)
        }
    }
}
