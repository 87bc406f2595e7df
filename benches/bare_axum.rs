//! The load harness' floor: one route answering `ok` on a plain `axum::serve`, with no
//! TaskFlow code at all (no middleware, no request log, no metrics), on the same runtime and
//! allocator as the example servers. `scripts/load.sh` runs it beside them and reports
//! TaskFlow's `/health/live` and its authenticated list as a share of this server's rate.
//!
//! `cargo bench --bench bare_axum --no-run` builds it (release profile); the harness runs
//! the binary with `--bind 127.0.0.1:PORT`. Started by `cargo bench` (which passes only
//! `--bench`), it exits at once instead of serving forever.

use std::process::ExitCode;

/// As in the example servers, so that the allocator is not a difference.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(bind) = args
        .windows(2)
        .find(|w| w[0] == "--bind")
        .map(|w| w[1].clone())
    else {
        // `cargo bench` without a filter runs every bench target: nothing to measure here.
        return ExitCode::SUCCESS;
    };
    let listener = match tokio::net::TcpListener::bind(&bind).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("bare_axum: bind {bind}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    match axum::serve(listener, app)
        .with_graceful_shutdown(taskflow::server::shutdown_signal())
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bare_axum: {e}");
            ExitCode::FAILURE
        }
    }
}
