//! The load harness' floor: one route answering `ok` on a plain `axum::serve`, with no
//! TaskFlow code at all (no middleware, no request log, no metrics), on the same runtime and
//! allocator as the example servers. `scripts/load.sh` runs it beside them and reports
//! TaskFlow's `/health/live` and its authenticated list as a share of this server's rate.
//!
//! With `--body FILE`, `/body` answers that file's bytes as JSON: the harness passes it
//! TaskFlow's own list of 20, so that the cost of sending that response (mostly the
//! kernel's, on loopback) is measured apart from the work of making it.
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
    let mut app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    if let Some(path) = args.windows(2).find(|w| w[0] == "--body").map(|w| &w[1]) {
        let body = match std::fs::read(path) {
            Ok(body) => axum::body::Bytes::from(body),
            Err(e) => {
                eprintln!("bare_axum: read {path}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let json = [(axum::http::header::CONTENT_TYPE, "application/json")];
        app = app.route(
            "/body",
            axum::routing::get(move || std::future::ready((json, body.clone()))),
        );
    }
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
